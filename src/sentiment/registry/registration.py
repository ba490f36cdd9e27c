"""The register stage's work, given its files by `stages.register`: check, choose, log, gate.

Every trained model is a candidate: the recurrent variants of params.yaml `models` and the TF-IDF
baseline, each served through the same raw-text pyfunc (`serving.pyfunc`, `serving.baseline_pyfunc`),
and each run on the behavioural suite through it (`registry.behaviour_gate`) before one is chosen.

Everything that can refuse is checked before the first write, so a pipeline run whose validation
failed, or whose training failed or is missing, leaves the registry (and the tracking store) as it was.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sentiment.config import BASELINE, Params, RegistryConfig
from sentiment.core.errors import DataError
from sentiment.core.files import read_json
from sentiment.data.vocabulary import Vocabulary
from sentiment.evaluation.behaviour_suite import Case
from sentiment.registry import behaviour_gate, card_facts, decision, gate
from sentiment.registry import champion as registry
from sentiment.registry.served import (
    TrainingRecord,
    log_served_model,
    review_predictions,
    served_model,
)
from sentiment.serving.inputs import ServingConfig, prepare_reviews
from sentiment.tracking import orphans

PREPROCESSING_SAMPLE = 200  # test reviews re-prepared by the served code and compared with the sequences


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


def _what(name: str) -> str:
    return "the baseline" if name == BASELINE else f"variant '{name}'"


def read_training_record(variant: str, model: Path, metrics: Path, run: Path, family: str) -> TrainingRecord:
    """A trained model's outputs (a variant's or the baseline's), refusing any missing or incomplete."""
    what = _what(variant)
    if not model.is_file():
        raise DataError(f"model of {what} not found (failed or missing training)", model)
    metric_data = _read_record(metrics, f"metrics of {what}")
    run_data = _read_record(run, f"MLflow run record of {what}")
    for split in ("validation", "test"):
        if not isinstance(metric_data.get(split), dict):
            raise DataError(f"no '{split}' metrics for {what}", metrics)
    if not run_data.get("mlflow_run_id"):
        raise DataError(f"no mlflow_run_id for {what}", run)
    return TrainingRecord(variant, model, metric_data, run_data, family)


def _score(record: TrainingRecord, split: str, metric: str, where: str) -> float:
    value = record.metrics[split].get(metric)
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise DataError(
            f"{_what(record.variant)}: {split} {metric} is {value!r}, not a finite number "
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
                f"training run {run_id} of {_what(record.variant)} is not in the MLflow store "
                f"{tracking_uri} (it was recorded in {record.run.get('tracking_uri')}); register with the "
                "same MLFLOW_TRACKING_URI as training"
            ) from None
        if status == "RUNNING" and _reopened_by_a_killed_register(client, run_id):
            client.set_terminated(run_id, "FINISHED")  # it had finished before the register reopened it
            status = "FINISHED"
        if status != "FINISHED":
            raise DataError(
                f"training run {run_id} of {_what(record.variant)} is {status}, not FINISHED: "
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
    """Each model's selection metric on validation (which chooses) and test accuracy (reported only)."""
    if not records:
        raise DataError("no trained model to register")
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
    behaviour_cases: Sequence[Case],
    spread_record: tuple[Mapping[str, Any], str] | None = None,
) -> dict[str, Any]:
    """Run every model on the behavioural suite's cases, choose the one with the best validation metric
    among those that pass (all of them when none does), and gate it against the champion.

    A new decision logs the version's model card (`registry.model_card`) with it: `spread_record` is a
    seed-spread record and its file (benchmarks/ablation.py --spread); absent, the card says so.
    """
    import mlflow
    from mlflow import MlflowClient

    from sentiment.tracking.runs import using_tracking_uri

    config = params.registry
    validation, test = _split_scores(records, config)
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    require_finished_runs(client, records, tracking_uri)
    served = serving_config(params)
    vocabulary = Vocabulary.from_dict(_read_record(vocabulary_path, "vocabulary"))
    require_same_preprocessing(served, vocabulary, test_reviews, test_sequences)

    behaviour = behaviour_gate.run_behaviour(
        list(records),
        lambda name: served_model(records[name], vocabulary_path, served),
        behaviour_cases,
        params.behaviour,
        config.threshold,
    )
    eligible = behaviour_gate.eligible(validation, behaviour)
    best = records[gate.choose_candidate(eligible, config.selection_metric, preferred=(BASELINE,))]
    data_hash = test_split_hash(test_reviews)
    candidate = registry.Candidate(
        variant=best.variant,
        family=best.family,
        run_id=best.run["mlflow_run_id"],
        validation_score=validation[best.variant],
        test_data_hash=data_hash,
        provenance={"experiment_id": str(best.run.get("experiment_id", "")), **provenance},
        behaviour=behaviour[best.variant],
    )

    def log_model() -> str:
        # The finished training run is reopened to hold the served model: it is marked first, with this
        # process, so that a register killed meanwhile leaves a run the next register can close again.
        client.set_tag(candidate.run_id, REOPENED_TAG, "true")
        for key, value in orphans.process_tags_of_this_process().items():
            client.set_tag(candidate.run_id, key, value)
        with mlflow.start_run(run_id=candidate.run_id):
            return log_served_model(best, vocabulary_path, served, data_hash)

    predictions = review_predictions(
        records, best, vocabulary_path, served, test_reviews, tracking_uri, config.baseline_margin is not None
    )
    card = card_facts.card_writer(
        best,
        records.get(BASELINE),
        params,
        provenance,
        data_hash,
        {split: len(test_sequences[f"y_{split}"]) for split in ("train", "validation", "test")},
        served_megabytes=best.model_path.stat().st_size / 1e6,
        spread_record=None if spread_record is None else spread_record[0],
        behaviour=behaviour[best.variant].to_dict(params.behaviour.examples),
        spread_where=card_facts.DEFAULT_SPREAD_WHERE if spread_record is None else spread_record[1],
    )
    # MLflow resolves a new version's logged model through the global tracking URI (not the client's).
    with using_tracking_uri(tracking_uri):
        report = decision.register(client, config, candidate, log_model, predictions, card)
    behaviour_gate.log_metrics(
        client, {name: r.run["mlflow_run_id"] for name, r in records.items()}, behaviour
    )
    report["candidates"] = {
        name: {
            "model_family": records[name].family,
            f"validation_{config.selection_metric}": validation[name],
            "test_accuracy": test[name],  # as its training stage measured it; never used to choose
            "behaviour_passed": behaviour[name].passed,
        }
        for name in sorted(records)
    }
    report["behaviour"] = behaviour_gate.report_section(behaviour, params.behaviour.examples)
    report["provenance"] = dict(candidate.provenance)
    return report
