"""The register stage and the commands that use the registered model (MLflow imported only when used)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sentiment.atomic import write_json
from sentiment.stages.data_validation import validation_gate_path, validation_report_path
from sentiment.stages.model_training import training_outputs
from sentiment.stages.preprocessing import read_sequences
from sentiment.stages.raw import read_raw
from sentiment.stages.workspace import RAW_DVC_FILE, Workspace

logger = logging.getLogger(__name__)


REGISTRY_REPORT = "registry.json"  # under paths.reports_dir: the last register decision
VALIDATIONS = ("text", "sequences")


def mlflow_uri(workspace: Workspace) -> str:
    """MLFLOW_TRACKING_URI when set, else the SQLite store at the workspace root (as training uses)."""
    from sentiment import tracking

    return tracking.tracking_uri(workspace.root)


def register(workspace: Workspace) -> Path:
    """Stage `register`: the best variant by validation metric becomes a new version of the registered
    model; champion if it beats the champion on the test split by the margin, else challenger.

    Refuses, writing nothing, when a data validation failed or a variant's training is missing or failed.
    """
    from sentiment import registration, tracking

    params = workspace.params
    reports = {name: validation_report_path(workspace, name) for name in VALIDATIONS}
    registration.require_validation_passed(reports, validation_gate_path(workspace))
    records = {
        variant: registration.read_training_record(variant, **training_outputs(workspace, variant))
        for variant in params.models
    }
    raw = read_raw(workspace)
    provenance = {
        "git_commit": tracking.git_commit(workspace.root),
        "data_version": tracking.recorded_md5(workspace.path(RAW_DVC_FILE)) or tracking.UNKNOWN,
    }
    report = registration.register_best(
        records,
        params,
        mlflow_uri(workspace),
        workspace.path(params.paths.vocabulary),
        raw[raw["split"] == "test"].reset_index(drop=True),
        read_sequences(workspace),
        provenance,
    )
    target = workspace.path(params.paths.reports_dir) / REGISTRY_REPORT
    write_json(target, report)
    logger.info("register: %s (%s)", report["decision"], report["reason"])
    return target


def rollback(workspace: Workspace, reason: str = "manual rollback") -> dict[str, object]:
    """`sentiment rollback`: give the champion alias back to the previous champion."""
    from mlflow import MlflowClient

    from sentiment import registry

    uri = mlflow_uri(workspace)
    return registry.rollback(MlflowClient(uri, registry_uri=uri), workspace.params.registry, reason)


def champion_uri(workspace: Workspace) -> str:
    config = workspace.params.registry
    return f"models:/{config.model_name}@{config.champion_alias}"


def predict(workspace: Workspace, reviews: list[object], model_uri: str | None = None) -> pd.DataFrame:
    """`sentiment predict`: the registered model's prediction rows for raw reviews."""
    from sentiment import scoring

    model = scoring.load_model(model_uri or champion_uri(workspace), mlflow_uri(workspace))
    return scoring.predict_reviews(model, reviews)


def score(
    workspace: Workspace, source: Path, target: Path, column: str, model_uri: str | None = None
) -> Path:
    """`sentiment score`: a CSV or Parquet file of reviews -> the same rows with predictions."""
    from sentiment import scoring

    model = scoring.load_model(model_uri or champion_uri(workspace), mlflow_uri(workspace))
    scoring.score_file(model, source, target, column)
    return target
