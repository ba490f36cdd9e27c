"""The training stages' work: train or fit one model, evaluate it, measure it, track it, publish it.

`stages.train` and `stages.baseline` read the inputs and decide the output paths; the functions here
do the rest, in the same order for every model: a tracked MLflow run holds the parameters, the
per-epoch curves, the test metrics, the plots and the model; the files are staged and published only
once all of that succeeded (see `model_outputs`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from sentiment import baseline as count_baseline
from sentiment import embeddings, evaluation, tracking
from sentiment.atomic import write_json, write_text
from sentiment.config import Params, VariantConfig
from sentiment.errors import ConfigError
from sentiment.model_outputs import (
    ModelOutputs,
    staged,
    write_gradient_profile,
    write_learning_curves,
    write_metrics,
    write_test_plots,
)
from sentiment.vocabulary import Vocabulary

BASELINE = "baseline"
VARIANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def variant_config(params: Params, name: str, source: str = "params.yaml") -> VariantConfig:
    """The variant `name` of params.yaml's `models`, refusing names that cannot be file or stage names."""
    if name not in params.models:
        raise ConfigError(
            f"{source}: no variant {name!r} under `models`; expected one of {sorted(params.models)}"
        )
    if name == BASELINE or not VARIANT_NAME.match(name):
        raise ConfigError(
            f"{source}: models.{name}: a variant name must be lowercase letters, digits, '-' or '_' and not "
            f"{BASELINE!r}"
        )
    return params.models[name]


def _data_parameters(arrays: Mapping[str, np.ndarray], vocabulary_size: int) -> dict[str, int]:
    counts = {f"{split}_reviews": len(arrays[f"y_{split}"]) for split in ("train", "validation", "test")}
    return {**counts, "sequence_length": int(arrays["x_train"].shape[1]), "vocabulary_size": vocabulary_size}


def _log_outcome(
    metrics: Mapping[str, Mapping[str, float | None]], staged_outputs: ModelOutputs, model_uri: str
) -> None:
    mlflow.log_metrics(tracking.finite_metrics(metrics), model_id=tracking.model_id(model_uri))
    mlflow.log_artifacts(str(staged_outputs.plots_dir), artifact_path="plots")
    if staged_outputs.embeddings_dir is not None:
        mlflow.log_artifacts(str(staged_outputs.embeddings_dir), artifact_path="embeddings")
    mlflow.log_artifact(str(staged_outputs.metrics), artifact_path="metrics")


def _run_record(
    run: mlflow.ActiveRun, root: Path, lineage: tracking.Lineage, outputs: ModelOutputs, model_uri: str
) -> dict[str, str]:
    return {
        "mlflow_run_id": run.info.run_id,
        "experiment_id": run.info.experiment_id,
        "tracking_uri": tracking.tracking_uri(root),
        "pipeline_run": lineage.pipeline_run,
        "model_path": outputs.model.resolve().relative_to(root.resolve()).as_posix(),
        "model_uri": model_uri,
    }


def train_variant(
    root: Path,
    params: Params,
    name: str,
    arrays: Mapping[str, np.ndarray],
    vocabulary: Vocabulary,
    outputs: ModelOutputs,
    lineage: tracking.Lineage,
) -> Path:
    """Train, evaluate, diagnose and track the recurrent variant `name`; returns the model file."""
    from sentiment import gradients, training  # TensorFlow: imported only when a model is trained

    variant = variant_config(params, name)
    outputs.remove()
    parameters = tracking.run_parameters(
        params,
        {
            "variant": name,
            "model": variant,
            "training": params.training,
            "diagnostics": params.diagnostics,
            "data": _data_parameters(arrays, vocabulary.size),
        },
    )
    tags = {"variant": name, "model_family": "recurrent", "cell": variant.cell}
    with staged(outputs) as staging, tracking.tracked_run(root, name, lineage, parameters, tags) as run:
        files = staging.staged
        trained = training.train(
            variant, params.training, arrays, vocabulary.size, params.seed, name=name,
            callbacks=[training.EpochLogCallback(tracking.log_epoch)],
        )  # fmt: skip
        model = trained.model
        started = time.perf_counter()
        test_probabilities = training.predict_probabilities(model, arrays["x_test"])
        predict_seconds = time.perf_counter() - started
        validation_probabilities = training.predict_probabilities(model, arrays["x_validation"])

        write_learning_curves(files.plots_dir, name, trained.history)
        test_scores = write_test_plots(files.plots_dir, name, arrays["y_test"], test_probabilities)
        probe = gradients.longest_reviews(arrays["x_validation"], params.diagnostics.gradient_reviews)
        profile = gradients.gradient_profile(
            model, arrays["x_validation"][probe], arrays["y_validation"][probe]
        )
        write_gradient_profile(files.plots_dir, name, profile)

        matrix = np.asarray(model.get_layer(gradients.EMBEDDING_LAYER).get_weights()[0])
        neighbours = embeddings.nearest_neighbours(
            matrix, vocabulary, params.diagnostics.probe_words, params.diagnostics.neighbours
        )
        vectors, words = embeddings.projector_tsv(matrix, vocabulary, params.diagnostics.projector_words)
        assert files.embeddings_dir is not None
        write_json(files.embeddings_dir / "neighbours.json", neighbours)
        write_text(files.embeddings_dir / "vectors.tsv", vectors)
        write_text(files.embeddings_dir / "metadata.tsv", words)

        validation_scores = evaluation.binary_metrics(arrays["y_validation"], validation_probabilities)
        metrics: dict[str, dict[str, float]] = {
            # the kept model's validation loss: the best epoch's, or that of the averaged weights
            "validation": {"loss": validation_scores["log_loss"], **validation_scores},
            "test": test_scores,
            "training": {
                "epochs_run": trained.epochs_run,
                "best_epoch": trained.best_epoch,
                "averaged_epochs": trained.averaged_epochs,
                "parameters": trained.parameters,
            },
            "gradients": gradients.profile_summary(profile, params.diagnostics.gradient_distance),
            # timings: the only figures that differ between two runs with the same params and seed
            "speed": {
                "train_seconds": trained.seconds,
                "train_samples_per_second": trained.samples_per_second,
                "predict_samples_per_second": len(test_probabilities) / max(predict_seconds, 1e-9),
            },
        }
        write_metrics(files.metrics, metrics)
        model.save(files.model)

        mlflow.log_text(_summary(model), "model_summary.txt")
        model_uri = tracking.log_keras_model(
            model, arrays["x_test"][:2], test_probabilities[:2].reshape(-1, 1)
        )
        _log_outcome(metrics, files, model_uri)
        write_json(files.run_record, _run_record(run, root, lineage, outputs, model_uri))
        staging.publish()
    return outputs.model


def _summary(model: object) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))  # type: ignore[attr-defined]
    return "\n".join(lines) + "\n"


def train_baseline(
    root: Path,
    params: Params,
    texts: Mapping[str, list[str]],
    labels: Mapping[str, np.ndarray],
    outputs: ModelOutputs,
    lineage: tracking.Lineage,
) -> Path:
    """Fit and evaluate the TF-IDF + logistic regression baseline on the same splits, tracked the same way."""
    import joblib

    outputs.remove()
    data = {f"{split}_reviews": len(labels[split]) for split in ("train", "validation", "test")}
    parameters = tracking.run_parameters(
        params, {"variant": BASELINE, "baseline": params.baseline, "data": data}
    )
    tags = {"variant": BASELINE, "model_family": "count-based"}
    with staged(outputs) as staging, tracking.tracked_run(root, BASELINE, lineage, parameters, tags) as run:
        files = staging.staged
        started = time.perf_counter()
        model = count_baseline.fit_baseline(texts["train"], labels["train"], params.baseline, params.seed)
        fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        test_probabilities = count_baseline.baseline_probabilities(model, texts["test"])
        predict_seconds = time.perf_counter() - started
        validation_probabilities = count_baseline.baseline_probabilities(model, texts["validation"])

        test_scores = write_test_plots(files.plots_dir, BASELINE, labels["test"], test_probabilities)
        validation_scores = evaluation.binary_metrics(labels["validation"], validation_probabilities)
        metrics: dict[str, dict[str, float]] = {
            "validation": {"loss": validation_scores["log_loss"], **validation_scores},
            "test": test_scores,
            "training": {"features": count_baseline.vocabulary_size(model)},
            "speed": {
                "train_seconds": fit_seconds,
                "train_samples_per_second": len(labels["train"]) / max(fit_seconds, 1e-9),
                "predict_samples_per_second": len(test_probabilities) / max(predict_seconds, 1e-9),
            },
        }
        write_metrics(files.metrics, metrics)
        joblib.dump(model, files.model)

        example = pd.DataFrame({count_baseline.TEXT_COLUMN: texts["test"][:2]})
        model_uri = tracking.log_sklearn_model(
            model, example, model.predict_proba(example), count_baseline.TRUSTED_TYPES
        )
        _log_outcome(metrics, files, model_uri)
        write_json(files.run_record, _run_record(run, root, lineage, outputs, model_uri))
        staging.publish()
    return outputs.model
