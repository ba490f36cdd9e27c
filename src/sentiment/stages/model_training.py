"""Training stages: one per variant, and the TF-IDF baseline (TensorFlow imported only when one runs).

Each reads its inputs, names its outputs from the workspace, and hands both to `training_run`, which
trains, evaluates, diagnoses, reports and tracks the model in that order. Before that, each marks
FAILED the MLflow runs of its model that a killed training left RUNNING (`tracking.orphans`); the
staging directory such a training left is removed when the new one stages its files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment.config import BASELINE, variant_config
from sentiment.config.workspace import Workspace
from sentiment.core.errors import ConfigError, DataError
from sentiment.data.sequences import SPLITS
from sentiment.data.splits import recorded_method
from sentiment.stages.readers import read_clean, read_sequences, read_vocabulary, read_word_vectors

if TYPE_CHECKING:
    import numpy as np

    from sentiment.evaluation.outputs import ModelOutputs
    from sentiment.tracking.lineage import Lineage


def model_outputs(workspace: Workspace, name: str) -> ModelOutputs:
    """Every file the training stage of model `name` (a variant, or "baseline") writes."""
    from sentiment.evaluation.outputs import ModelOutputs

    return ModelOutputs(
        model=workspace.model_file(name),
        evaluation=workspace.evaluation_file(name),
        validation_metrics=workspace.metrics_file(name, "validation"),
        test_metrics=workspace.metrics_file(name, "test"),
        timings=workspace.timings_file(name),
        plots_dir=workspace.plots_dir(name),
        run_record=workspace.run_record(name),
        embeddings_dir=workspace.embeddings_dir(name),
    )


def run_lineage(workspace: Workspace, data_files: dict[str, Path]) -> Lineage:
    from sentiment.tracking.lineage import lineage

    return lineage(workspace, data_files)


def close_orphaned_runs(workspace: Workspace, name: str) -> None:
    """Mark FAILED the MLflow runs of model `name` that a killed training left RUNNING (before training)."""
    from sentiment.tracking.orphans import mark_orphaned_runs

    mark_orphaned_runs(workspace, name)


def train(workspace: Workspace, variant: str) -> Path:
    """Stage `train@<variant>`: train, evaluate, diagnose and track one variant of params.yaml `models`."""
    from sentiment.stages import training_run

    if variant in workspace.params.students:
        raise ConfigError(
            f"{variant!r} is a student (params.yaml `students`): its stage is distill@{variant}"
        )
    config = variant_config(workspace.params, variant)  # an unknown variant fails before any work
    close_orphaned_runs(workspace, variant)
    arrays = read_sequences(workspace)
    vocabulary = read_vocabulary(workspace)
    data_files = {"sequences": workspace.sequences_file}
    word_vectors = None
    if config.pretrained != "none":
        word_vectors = read_word_vectors(workspace, vocabulary.size, config.embedding_dim)
        data_files["word_vectors"] = workspace.word_vectors_file
    lineage = run_lineage(workspace, data_files)
    return training_run.train_variant(
        workspace, variant, arrays, vocabulary, model_outputs(workspace, variant), lineage, word_vectors
    )


def split_texts(workspace: Workspace, arrays: Mapping[str, np.ndarray]) -> dict[str, list[str]]:
    """The cleaned text of each review of the sequences' splits, in the sequences' order."""
    text_by_id = read_clean(workspace).set_index("review_id")["text"]
    texts: dict[str, list[str]] = {}
    for split in SPLITS:
        found = text_by_id.reindex(arrays[f"ids_{split}"])
        if found.isna().any():
            raise DataError(
                f"{int(found.isna().sum())} reviews of the sequences' {split} split are missing from the "
                "cleaned reviews: re-run the sequences stage",
                workspace.clean_table,
            )
        texts[split] = found.tolist()
    return texts


def baseline(workspace: Workspace) -> Path:
    """Stage `baseline`: TF-IDF + logistic regression on the cleaned text of the sequences' splits."""
    from sentiment.stages import training_run

    close_orphaned_runs(workspace, BASELINE)
    arrays = read_sequences(workspace)
    validation_split = recorded_method(arrays, workspace.sequences_file)
    texts = split_texts(workspace, arrays)
    labels = {split: arrays[f"y_{split}"] for split in SPLITS}
    lineage = run_lineage(workspace, {"sequences": workspace.sequences_file, "clean": workspace.clean_table})
    return training_run.train_baseline(
        workspace, texts, labels, model_outputs(workspace, BASELINE), lineage, validation_split, arrays
    )
