"""The training stages' work, in the same order for every model: fit, evaluate, diagnose, report, log.

`model_training.train` and `model_training.baseline` read the inputs and name the output files; the
functions here do the rest. A tracked MLflow run holds the parameters, the per-epoch curves, the test
metrics, the plots and the model; the files are staged and published only once all of that succeeded
(`evaluation.outputs.staged`), so a failure never leaves a model beside another run's metrics. A
network's metrics are those of its saved file, the one the registry serves (`modeling.storage`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd

from sentiment.config import BASELINE, Params, VariantConfig, model_family
from sentiment.config.workspace import Workspace
from sentiment.core.files import write_json, write_text
from sentiment.data.sequences import SPLITS
from sentiment.data.splits import SPLIT_KEY, recorded_method
from sentiment.data.vocabulary import Vocabulary
from sentiment.evaluation import buckets, word_order
from sentiment.evaluation.outputs import (
    ModelOutputs,
    staged,
    write_gradient_profile,
    write_learning_curves,
    write_reports,
)
from sentiment.modeling import baseline as count_baseline
from sentiment.modeling import embeddings
from sentiment.stages import split_predictions
from sentiment.stages.synthetic_profile import distance_accuracy, training_config, variant_for
from sentiment.tracking import runs as tracking
from sentiment.tracking.lineage import Lineage
from sentiment.tracking.orphans import process_tags


def _data_parameters(
    arrays: Mapping[str, np.ndarray], vocabulary_size: int, validation_split: str
) -> dict[str, int | str]:
    counts = {f"{split}_reviews": len(arrays[f"y_{split}"]) for split in SPLITS}
    return {
        **counts,
        "sequence_length": int(arrays["x_train"].shape[1]),
        "vocabulary_size": vocabulary_size,
        SPLIT_KEY: validation_split,
    }


# --- the networks: the recurrent variants and the bag of words ---------------------------------


def _fit_variant(
    params: Params,
    name: str,
    variant: VariantConfig,
    arrays: Mapping[str, np.ndarray],
    vocabulary_size: int,
    word_vectors: np.ndarray | None,
) -> Any:
    from sentiment.modeling import training  # TensorFlow: imported only when a model is trained

    callbacks = [training.EpochLogCallback(tracking.log_epoch)]
    return training.train(
        variant, training_config(params, arrays), arrays, vocabulary_size, params.seed, name=name,
        callbacks=callbacks, word_vectors=word_vectors,
    )  # fmt: skip


@dataclass(frozen=True)
class Distilled:
    """What a student learned from (`stages.distillation`): its run's params (`settings`: teachers,
    targets, unlabeled reviews) and the figures its evaluation report adds (the teachers' accuracy)."""

    settings: Mapping[str, Any]
    figures: Mapping[str, Any]


def _diagnose(
    files: ModelOutputs, params: Params, name: str, model: Any, arrays: Mapping[str, np.ndarray],
    vocabulary: Vocabulary,
) -> dict[str, float]:  # fmt: skip
    """Gradient norms by distance (vanishing gradients) and the learned embedding's neighbours."""
    from sentiment.modeling import gradients

    diagnostics = params.diagnostics
    probe = gradients.longest_reviews(arrays["x_validation"], diagnostics.gradient_reviews)
    profile = gradients.gradient_profile(model, arrays["x_validation"][probe], arrays["y_validation"][probe])
    write_gradient_profile(files.plots_dir, name, profile)

    matrix = np.asarray(model.get_layer(gradients.EMBEDDING_LAYER).get_weights()[0])
    neighbours = embeddings.nearest_neighbours(
        matrix, vocabulary, diagnostics.probe_words, diagnostics.neighbours
    )
    vectors, words = embeddings.projector_tsv(matrix, vocabulary, diagnostics.projector_words)
    assert files.embeddings_dir is not None
    write_json(files.embeddings_dir / "neighbours.json", neighbours)
    write_text(files.embeddings_dir / "vectors.tsv", vectors)
    write_text(files.embeddings_dir / "metadata.tsv", words)
    return gradients.profile_summary(profile, diagnostics.gradient_distance)


def _summary(model: Any) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    return "\n".join(lines) + "\n"


def train_variant(
    workspace: Workspace,
    name: str,
    arrays: Mapping[str, np.ndarray],
    vocabulary: Vocabulary,
    outputs: ModelOutputs,
    lineage: Lineage,
    word_vectors: np.ndarray | None = None,
    distilled: Distilled | None = None,
) -> Path:
    """Train, evaluate, diagnose, report and track the network `name`; returns the model file.
    `word_vectors`: the pretrain stage's word table, for a variant with `pretrained` (else None);
    `distilled`: a student's teachers, when `arrays` hold the unlabeled reviews it learns from."""
    from sentiment.modeling import storage
    from sentiment.modeling.inference import predict_probabilities

    params = workspace.params
    variant = variant_for(params, name, arrays)
    validation_split = recorded_method(arrays, workspace.sequences_file)
    outputs.remove()
    parameters = tracking.run_parameters(
        params,
        {
            "variant": name,
            "model": variant,
            "training": training_config(params, arrays),
            "diagnostics": params.diagnostics,
            "data": _data_parameters(arrays, vocabulary.size, validation_split),
            **({"pretraining": params.pretraining} if word_vectors is not None else {}),
            **({"distillation": distilled.settings} if distilled is not None else {}),
        },
    )
    tags = {
        "variant": name,
        "model_family": model_family(name, params.networks),
        "cell": variant.cell,
        **process_tags(workspace),
    }
    tags[SPLIT_KEY] = validation_split
    with staged(outputs) as staging, tracking.tracked_run(workspace, name, lineage, parameters, tags) as run:
        files = staging.staged
        trained = _fit_variant(params, name, variant, arrays, vocabulary.size, word_vectors)
        write_learning_curves(files.plots_dir, name, trained.history)
        gradient_summary = _diagnose(files, params, name, trained.model, arrays, vocabulary)  # as trained
        # Every metric below (accuracy, loss, speed) is the saved network's, loaded back from its file.
        served = storage.save_served_network(trained.model, files.model, params.training.embedding_storage)
        predictions = split_predictions.predict_splits(
            lambda tokens: predict_probabilities(served, tokens),
            {"validation": arrays["x_validation"], "test": arrays["x_test"]},
            lambda tokens: word_order.shuffle_tokens(tokens, params.seed),
        )
        by_length = buckets.accuracy_by_bucket(
            arrays["y_test"], predictions.test, arrays["lengths_test"], params.diagnostics.length_buckets
        )  # for the claims stage: the simple RNN against the gated cells on long reviews
        metrics: dict[str, dict[str, Any]] = {
            "validation": split_predictions.validation_metrics(arrays["y_validation"], predictions),
            "test": {
                **split_predictions.test_metrics(files.plots_dir, name, arrays["y_test"], predictions),
                buckets.LENGTH_METRIC: by_length,
                **distance_accuracy(params, arrays, predictions.test),
            },
            "training": {
                "epochs_run": trained.epochs_run,
                "best_epoch": trained.best_epoch,
                "averaged_epochs": trained.averaged_epochs,
                "parameters": trained.parameters,
                # the saved weights (the file's size also counts its config, which names ops by process)
                "weights_megabytes": sum(np.asarray(weight).nbytes for weight in served.weights) / 1e6,
            },
            "gradients": gradient_summary,
            "speed": {
                **split_predictions.speed(trained.seconds, len(arrays["y_train"]), predictions),
                "train_samples_per_second": trained.samples_per_second,
            },
            **({"distillation": dict(distilled.figures)} if distilled is not None else {}),
        }
        write_reports(files, {**metrics, SPLIT_KEY: validation_split})

        mlflow.log_text(_summary(served), "model_summary.txt")
        example = arrays["x_test"][:2]
        model_uri = tracking.log_keras_model(served, example, predictions.test[:2].reshape(-1, 1))
        _log_and_publish(staging, workspace, run, lineage, metrics, model_uri)
    return outputs.model


# --- the count-based baseline ----------------------------------------------------------------------


def train_baseline(
    workspace: Workspace,
    texts: Mapping[str, list[str]],
    labels: Mapping[str, np.ndarray],
    outputs: ModelOutputs,
    lineage: Lineage,
    validation_split: str,
    arrays: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Fit and evaluate the TF-IDF + logistic regression baseline on the same splits, tracked the same way.

    `validation_split` is how the sequences' validation split was drawn ("movie" or "random");
    `arrays`, the sequences, give the test reviews' verdict distances where they record them.
    """
    import joblib

    params = workspace.params
    outputs.remove()
    data: dict[str, int | str] = {f"{split}_reviews": len(labels[split]) for split in SPLITS}
    data[SPLIT_KEY] = validation_split
    parameters = tracking.run_parameters(
        params, {"variant": BASELINE, "baseline": params.baseline, "data": data}
    )
    tags = {
        "variant": BASELINE,
        "model_family": model_family(BASELINE, workspace.params.networks),
        **process_tags(workspace),
    }
    tags[SPLIT_KEY] = validation_split
    with (
        staged(outputs) as staging,
        tracking.tracked_run(workspace, BASELINE, lineage, parameters, tags) as run,
    ):
        files = staging.staged
        started = time.perf_counter()
        model = count_baseline.fit_baseline(texts["train"], labels["train"], params.baseline, params.seed)
        fit_seconds = time.perf_counter() - started
        predictions = split_predictions.predict_splits(
            lambda split_texts: count_baseline.baseline_probabilities(model, split_texts),
            texts,
            lambda split_texts: word_order.shuffle_words(split_texts, params.seed),
        )
        metrics: dict[str, dict[str, Any]] = {
            "validation": split_predictions.validation_metrics(labels["validation"], predictions),
            "test": {
                **split_predictions.test_metrics(files.plots_dir, BASELINE, labels["test"], predictions),
                **distance_accuracy(params, arrays or {}, predictions.test),
            },
            "training": {"features": count_baseline.vocabulary_size(model)},
            "speed": split_predictions.speed(fit_seconds, len(labels["train"]), predictions),
        }
        write_reports(files, {**metrics, SPLIT_KEY: validation_split})
        joblib.dump(model, files.model)

        example = pd.DataFrame({count_baseline.TEXT_COLUMN: texts["test"][:2]})
        model_uri = tracking.log_sklearn_model(
            model, example, model.predict_proba(example), count_baseline.TRUSTED_TYPES
        )
        _log_and_publish(staging, workspace, run, lineage, metrics, model_uri)
    return outputs.model


# --- tracking and publishing, shared ----------------------------------------------------------------


def _log_and_publish(
    staging: Any,
    workspace: Workspace,
    run: mlflow.ActiveRun,
    lineage: Lineage,
    metrics: Mapping[str, Mapping[str, Any]],
    model_uri: str,
) -> None:
    """Log the metrics and staged files to the run, write the run record, then publish every file."""
    files: ModelOutputs = staging.staged
    mlflow.log_metrics(tracking.finite_metrics(metrics), model_id=tracking.model_id(model_uri))
    mlflow.log_artifacts(str(files.plots_dir), artifact_path="plots")
    if files.embeddings_dir is not None:
        mlflow.log_artifacts(str(files.embeddings_dir), artifact_path="embeddings")
    mlflow.log_artifact(str(files.evaluation), artifact_path="metrics")
    record = {
        "mlflow_run_id": run.info.run_id,
        "experiment_id": run.info.experiment_id,
        "tracking_uri": tracking.redacted(tracking.tracking_uri(workspace)),  # never its credentials
        "pipeline_run": lineage.pipeline_run,
        "model_path": staging.outputs.model.resolve().relative_to(workspace.root.resolve()).as_posix(),
        "model_uri": model_uri,
    }
    write_json(files.run_record, record)
    staging.publish()
