"""The register stage and the commands that use the registered model (MLflow imported only when used)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sentiment.config import BASELINE, model_family
from sentiment.config.workspace import VALIDATIONS, Workspace
from sentiment.core.errors import DataError
from sentiment.core.files import read_json, write_json
from sentiment.stages.readers import read_raw, read_sequences

if TYPE_CHECKING:
    from sentiment.evaluation.behaviour import BehaviourResult
    from sentiment.evaluation.behaviour_suite import Case

logger = logging.getLogger(__name__)


def mlflow_uri(workspace: Workspace) -> str:
    """MLFLOW_TRACKING_URI when set, else the SQLite store at the workspace root (as training uses)."""
    from sentiment.tracking.runs import tracking_uri

    return tracking_uri(workspace)


def behaviour_cases(workspace: Workspace) -> list[Case]:
    """The behavioural suite's cases: its file's templates expanded as params.yaml `behaviour` says."""
    import yaml

    from sentiment.core.errors import ConfigError, DataError
    from sentiment.evaluation import behaviour_suite

    path = workspace.behaviour_suite
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("behavioural suite not found", path) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise DataError(f"cannot read the behavioural suite: {error}", path) from None
    try:
        suite = behaviour_suite.parse_suite(data)
    except ConfigError as error:
        raise ConfigError(f"{path}: {str(error).removeprefix(': ')}") from None
    return behaviour_suite.expand(suite, workspace.params.behaviour)


def register(workspace: Workspace) -> Path:
    """Stage `register`: the best trained model by validation metric (every variant and the baseline)
    becomes a new version of the registered model; champion if, on the same test reviews, it beats the
    champion by the margin and McNemar's test says the gain is significant, else challenger. Only models
    that pass the behavioural suite compete; when none does, the best is registered as challenger.

    Refuses, writing nothing, when a data validation failed or a model's training is missing or failed.
    """
    from sentiment.registry import registration
    from sentiment.tracking import lineage

    params = workspace.params
    cases = behaviour_cases(workspace)  # a broken suite file refuses before anything is read or written
    reports = {name: workspace.validation_report(name) for name in VALIDATIONS}
    registration.require_validation_passed(reports, workspace.validation_gate)
    records = {
        name: registration.read_training_record(
            name,
            workspace.model_file(name),
            workspace.evaluation_file(name),
            workspace.run_record(name),
            model_family(name, params.networks),
        )
        for name in [*params.networks, BASELINE]
    }
    raw = read_raw(workspace)
    provenance = {
        "git_commit": lineage.git_commit(workspace.root),
        "data_version": lineage.recorded_md5(workspace.raw_dvc_file) or lineage.UNKNOWN,
    }
    report = registration.register_best(
        records,
        params,
        mlflow_uri(workspace),
        workspace.vocabulary_file,
        raw[raw["split"] == "test"].reset_index(drop=True),
        read_sequences(workspace),
        provenance,
        cases,
        spread_record=_seed_spread_record(workspace),
    )
    target = workspace.registry_report
    write_json(target, report)
    logger.info("register: %s (%s)", report["decision"], report["reason"])
    return target


def _seed_spread_record(workspace: Workspace) -> tuple[dict[str, object], str] | None:
    """The committed seed-spread record and its file, if the benchmark wrote one (the card's source)."""
    path = workspace.seed_spread_record
    if not path.is_file():
        return None
    try:
        return read_json(path), workspace.shown(path)
    except ValueError as error:
        raise DataError(
            f"the seed-spread record is not valid JSON ({error}); nothing was registered", path
        ) from None


def rollback(workspace: Workspace, reason: str = "manual rollback") -> dict[str, object]:
    """`sentiment rollback`: give the champion alias back to the previous champion."""
    from mlflow import MlflowClient

    from sentiment.registry.rollback import rollback as roll_back

    uri = mlflow_uri(workspace)
    return roll_back(MlflowClient(uri, registry_uri=uri), workspace.params.registry, reason)


def champion_uri(workspace: Workspace) -> str:
    config = workspace.params.registry
    return f"models:/{config.model_name}@{config.champion_alias}"


def predict(workspace: Workspace, reviews: list[object], model_uri: str | None = None) -> pd.DataFrame:
    """`sentiment predict`: the registered model's prediction rows for raw reviews."""
    from sentiment.serving import scoring

    model = scoring.load_model(model_uri or champion_uri(workspace), mlflow_uri(workspace))
    return scoring.predict_reviews(model, reviews)


def score(
    workspace: Workspace, source: Path, target: Path, column: str, model_uri: str | None = None
) -> Path:
    """`sentiment score`: a CSV or Parquet file of reviews -> the same rows with predictions."""
    from sentiment.serving import scoring

    model = scoring.load_model(model_uri or champion_uri(workspace), mlflow_uri(workspace))
    scoring.score_file(model, source, target, column)
    return target


def behave(workspace: Workspace, model_uri: str | None = None) -> BehaviourResult:
    """`sentiment behave`: the behavioural suite run on a registered model (default: the champion)."""
    from sentiment.evaluation.behaviour import run_suite
    from sentiment.serving import scoring

    cases = behaviour_cases(workspace)
    model = scoring.load_model(model_uri or champion_uri(workspace), mlflow_uri(workspace))
    return run_suite(
        cases,
        lambda reviews: scoring.probabilities(model, reviews, description="behavioural suite"),
        workspace.params.behaviour,
        workspace.params.registry.threshold,
    )
