"""The register stage's work, given its files by `stages.register`: check, choose, log, gate.

Everything that can refuse is checked before the first write, so a pipeline run whose validation
failed, or whose training failed or is missing, leaves the registry (and the tracking store) as it was.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sentiment.config import Params, RegistryConfig
from sentiment.core.errors import DataError
from sentiment.core.files import read_json
from sentiment.data.vocabulary import Vocabulary
from sentiment.registry import champion as registry
from sentiment.serving.inputs import ServingConfig, prepare_reviews
from sentiment.tracking import orphans

SERVED_MODEL_NAME = "serving_model"  # the logged model's name inside the training run
PREPROCESSING_SAMPLE = 200  # test reviews re-prepared by the served code and compared with the sequences


@dataclass(frozen=True)
class TrainingRecord:
    """One trained variant: its saved network, its metrics and its MLflow run."""

    variant: str
    model_path: Path
    metrics: Mapping[str, Mapping[str, float]]
    run: Mapping[str, str]


def _read_record(path: Path, what: str) -> Any:
    try:
        return read_json(path)
    except FileNotFoundError:
        raise DataError(f"{what} not found: the run is incomplete, nothing was registered", path) from None
    except json.JSONDecodeError as error:
        raise DataError(f"{what} is not valid JSON ({error}); nothing was registered", path) from None


def require_validation_passed(reports: Mapping[str, Path], gate: Path) -> None:
    """Every data validation report must exist and say `"success": true`, and the gate file must exist."""
    for name, path in reports.items():
        if _read_record(path, f"validation report '{name}'").get("success") is not True:
            raise DataError(f"data validation '{name}' failed: nothing is registered from this run", path)
    if not gate.is_file():
        raise DataError("data validation has not passed for these data: nothing is registered", gate)


def read_training_record(variant: str, model: Path, metrics: Path, run: Path) -> TrainingRecord:
    """A variant's training outputs, refusing any that are missing or incomplete."""
    if not model.is_file():
        raise DataError(f"model of variant '{variant}' not found (failed or missing training)", model)
    metric_data = _read_record(metrics, f"metrics of variant '{variant}'")
    run_data = _read_record(run, f"MLflow run record of variant '{variant}'")
    for split in ("validation", "test"):
        if not isinstance(metric_data.get(split), dict):
            raise DataError(f"no '{split}' metrics for variant '{variant}'", metrics)
    if not run_data.get("mlflow_run_id"):
        raise DataError(f"no mlflow_run_id for variant '{variant}'", run)
    return TrainingRecord(variant, model, metric_data, run_data)


def _score(record: TrainingRecord, split: str, metric: str, where: str) -> float:
    value = record.metrics[split].get(metric)
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise DataError(
            f"variant '{record.variant}': {split} {metric} is {value!r}, not a finite number "
            f"(set registry.{where} to a metric the training reports)"
        )
    return float(value)


REOPENED_TAG = "sentiment.reopened_for_serving"


def _reopened_by_a_killed_register(client: Any, run_id: str) -> bool:
    tags = client.get_run(run_id).data.tags
    return tags.get(REOPENED_TAG) == "true" and orphans.orphan_reason(tags) is not None


def require_finished_runs(client: Any, records: Mapping[str, TrainingRecord], tracking_uri: str) -> None:
    """Every variant's training run must exist in this tracking store and have finished."""
    from mlflow.exceptions import MlflowException

    for record in records.values():
        run_id = record.run["mlflow_run_id"]
        try:
            status = client.get_run(run_id).info.status
        except MlflowException:
            raise DataError(
                f"training run {run_id} of variant '{record.variant}' is not in the MLflow store "
                f"{tracking_uri} (it was recorded in {record.run.get('tracking_uri')}); register with the "
                "same MLFLOW_TRACKING_URI as training"
            ) from None
        if status == "RUNNING" and _reopened_by_a_killed_register(client, run_id):
            client.set_terminated(run_id, "FINISHED")  # it had finished before the register reopened it
            status = "FINISHED"
        if status != "FINISHED":
            raise DataError(
                f"training run {run_id} of variant '{record.variant}' is {status}, not FINISHED: "
                "nothing is registered from a failed training"
            )


def test_split_hash(test_reviews: pd.DataFrame) -> str:
    """SHA-256 of the test split's ids, labels and texts, in id order: equal hashes, same test reviews."""
    ordered = test_reviews.sort_values("review_id", kind="stable")
    digest = hashlib.sha256()
    for review_id, label, text in zip(ordered["review_id"], ordered["label"], ordered["text"], strict=True):
        digest.update(f"{review_id}\t{int(label)}\t{len(text)}\t".encode())
        digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def serving_config(params: Params) -> ServingConfig:
    config = params.registry
    return ServingConfig(
        params.cleaning, params.sequences, config.threshold, config.unreliable_oov_share, config.batch_size
    )


def require_same_preprocessing(
    config: ServingConfig,
    vocabulary: Vocabulary,
    test_reviews: pd.DataFrame,
    sequences: Mapping[str, np.ndarray],
) -> None:
    """The served code must turn raw test reviews into exactly the pipeline's test sequences."""
    ids = sequences["ids_test"][:PREPROCESSING_SAMPLE]
    texts = test_reviews.set_index("review_id")["text"].reindex(ids)
    if texts.isna().any():
        raise DataError("the sequences' test reviews are not in the raw reviews: run `dvc repro` first")
    prepared = prepare_reviews(texts.tolist(), vocabulary, config)
    expected = sequences["x_test"][: len(ids)]
    if len(prepared.valid_rows) != len(ids) or not np.array_equal(prepared.sequences, expected):
        raise DataError(
            "the served preprocessing does not reproduce the pipeline's test sequences (params or "
            "vocabulary changed since the sequences stage?): run `dvc repro` first"
        )


def _split_scores(
    records: Mapping[str, TrainingRecord], config: RegistryConfig
) -> tuple[dict[str, float], dict[str, float]]:
    """Each variant's selection metric on validation and comparison metric on test."""
    if not records:
        raise DataError("params.yaml lists no model variant (models:): nothing to register")
    validation = {
        name: _score(record, "validation", config.selection_metric, "selection_metric")
        for name, record in records.items()
    }
    test = {
        name: _score(record, "test", config.comparison_metric, "comparison_metric")
        for name, record in records.items()
    }
    return validation, test


def register_best(
    records: Mapping[str, TrainingRecord],
    params: Params,
    tracking_uri: str,
    vocabulary_path: Path,
    test_reviews: pd.DataFrame,
    test_sequences: Mapping[str, np.ndarray],
    provenance: Mapping[str, str],
) -> dict[str, Any]:
    """Choose the variant with the best validation metric and gate it against the champion."""
    import mlflow
    from mlflow import MlflowClient

    from sentiment.serving import scoring
    from sentiment.serving.pyfunc import log_serving_model
    from sentiment.tracking.runs import using_tracking_uri

    config = params.registry
    validation, test = _split_scores(records, config)
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    require_finished_runs(client, records, tracking_uri)
    served = serving_config(params)
    vocabulary = Vocabulary.from_dict(_read_record(vocabulary_path, "vocabulary"))
    require_same_preprocessing(served, vocabulary, test_reviews, test_sequences)

    best = records[registry.choose_candidate(validation, config.selection_metric)]
    data_hash = test_split_hash(test_reviews)
    candidate = registry.Candidate(
        variant=best.variant,
        run_id=best.run["mlflow_run_id"],
        validation_score=validation[best.variant],
        test_score=test[best.variant],
        test_data_hash=data_hash,
        provenance={"experiment_id": str(best.run.get("experiment_id", "")), **provenance},
    )

    def log_model() -> str:
        # The finished training run is reopened to hold the served model: it is marked first, with this
        # process, so that a register killed meanwhile leaves a run the next register can close again.
        client.set_tag(candidate.run_id, REOPENED_TAG, "true")
        for key, value in orphans.process_tags_of_this_process().items():
            client.set_tag(candidate.run_id, key, value)
        with mlflow.start_run(run_id=candidate.run_id):
            info = log_serving_model(
                best.model_path,
                vocabulary_path,
                served,
                SERVED_MODEL_NAME,
                {"variant": best.variant, "test_data_hash": data_hash},
            )
        return str(info.model_uri)

    def evaluate(model_uri: str) -> float:
        model = scoring.load_model(model_uri, tracking_uri)
        labels = test_reviews["label"].to_numpy()
        scores = scoring.evaluate(model, test_reviews["text"].tolist(), labels, config.threshold)
        return scores[config.comparison_metric]

    # MLflow resolves a new version's logged model through the global tracking URI (not the client's).
    with using_tracking_uri(tracking_uri):
        report = registry.register(client, config, candidate, log_model, evaluate)
    report["variants"] = {
        name: {
            f"validation_{config.selection_metric}": validation[name],
            f"test_{config.comparison_metric}": test[name],
        }
        for name in sorted(records)
    }
    report["provenance"] = dict(candidate.provenance)
    return report
