"""Training stages: one per variant, and the TF-IDF baseline (TensorFlow imported only when one runs)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment.errors import DataError
from sentiment.stages.preprocessing import (
    read_clean,
    read_sequences,
    read_vocabulary,
)
from sentiment.stages.workspace import RAW_DVC_FILE, SPLIT_NAMES, Workspace

if TYPE_CHECKING:
    from sentiment.model_outputs import ModelOutputs
    from sentiment.tracking import Lineage

logger = logging.getLogger(__name__)


PLOTS_DIR = "plots"  # under paths.reports_dir: plots/<model>/ (DVC plots, also MLflow artifacts)
EMBEDDINGS_DIR = "embeddings"  # under paths.reports_dir: embeddings/<variant>/ (projector TSVs, neighbours)
BASELINE = "baseline"


def model_outputs(workspace: Workspace, name: str) -> ModelOutputs:
    """Every file the training stage of model `name` (a variant, or "baseline") writes."""
    from sentiment.model_outputs import ModelOutputs

    files = training_outputs(workspace, name)
    reports = workspace.path(workspace.params.paths.reports_dir)
    recurrent = name != BASELINE
    return ModelOutputs(
        model=files["model"] if recurrent else files["model"].with_suffix(".joblib"),
        metrics=files["metrics"],
        plots_dir=reports / PLOTS_DIR / name,
        run_record=files["run"],
        embeddings_dir=reports / EMBEDDINGS_DIR / name if recurrent else None,
    )


def _lineage(workspace: Workspace, data_files: dict[str, Path]) -> Lineage:
    from sentiment import tracking

    return tracking.lineage(workspace.root, workspace.params, data_files, workspace.path(RAW_DVC_FILE))


def train(workspace: Workspace, variant: str) -> Path:
    """Stage `train@<variant>`: train, evaluate, diagnose and track one variant of params.yaml `models`."""
    from sentiment import experiments

    params = workspace.params
    experiments.variant_config(params, variant)  # an unknown variant fails before any work
    arrays = read_sequences(workspace)
    lineage = _lineage(workspace, {"sequences": workspace.path(params.paths.sequences)})
    outputs = model_outputs(workspace, variant)
    return experiments.train_variant(
        workspace.root, params, variant, arrays, read_vocabulary(workspace), outputs, lineage
    )


def baseline(workspace: Workspace) -> Path:
    """Stage `baseline`: TF-IDF + logistic regression on the cleaned text of the sequences' splits."""
    from sentiment import experiments

    params = workspace.params
    arrays = read_sequences(workspace)
    text_by_id = read_clean(workspace).set_index("review_id")["text"]
    texts: dict[str, list[str]] = {}
    for split in SPLIT_NAMES:
        found = text_by_id.reindex(arrays[f"ids_{split}"])
        if found.isna().any():
            raise DataError(
                f"{int(found.isna().sum())} reviews of the sequences' {split} split are missing from the "
                "cleaned reviews: re-run the sequences stage",
                workspace.path(params.paths.clean_table),
            )
        texts[split] = found.tolist()
    labels = {split: arrays[f"y_{split}"] for split in SPLIT_NAMES}
    lineage = _lineage(
        workspace,
        {
            "sequences": workspace.path(params.paths.sequences),
            "clean": workspace.path(params.paths.clean_table),
        },
    )
    return experiments.train_baseline(
        workspace.root, params, texts, labels, model_outputs(workspace, BASELINE), lineage
    )


def training_outputs(workspace: Workspace, variant: str) -> dict[str, Path]:
    """The files the train stage writes for `variant`: network, metrics and MLflow run record."""
    reports = workspace.path(workspace.params.paths.reports_dir)
    return {
        "model": workspace.path(workspace.params.paths.models_dir) / f"{variant}.keras",
        "metrics": reports / "metrics" / f"{variant}.json",
        "run": reports / "runs" / f"{variant}.json",
    }
