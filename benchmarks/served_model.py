"""The model benchmarks/serving.py measures: a registered version, or a trained model's pyfunc as the
register stage logs it (into a scratch MLflow store); and the size of its files as MLflow holds them."""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sentiment.config import BASELINE, ConfigError, model_family
from sentiment.config.workspace import Workspace
from sentiment.serving.scoring import ModelNotFound
from sentiment.stages import model_registry, readers
from sentiment.tracking.runs import using_tracking_uri

REGISTERED_URI = re.compile(r"models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))")


@dataclass(frozen=True)
class ServedModel:
    uri: str  # what mlflow.pyfunc.load_model and both servers are given
    tracking_uri: str
    variant: str  # the params.yaml model it was trained as (a variant, or the baseline)
    how: str  # which version, or how it was logged
    test_accuracy: float | None  # as `recorded_by` measured it, on the same test reviews
    recorded_by: str


def registered_model(workspace: Workspace, uri: str) -> ServedModel:
    """A version of the workspace's registry: `models:/NAME@ALIAS` or `models:/NAME/VERSION`."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    match = REGISTERED_URI.fullmatch(uri)
    if match is None:
        raise ConfigError(f"--model-uri: expected models:/NAME@ALIAS or models:/NAME/VERSION, got {uri!r}")
    store = model_registry.mlflow_uri(workspace)
    client = MlflowClient(store, registry_uri=store)
    name, alias = match["name"], match["alias"]
    try:
        version = (
            client.get_model_version_by_alias(name, alias)
            if alias
            else client.get_model_version(name, match["version"])
        )
    except MlflowException as error:
        raise ModelNotFound(f"no {uri} in the MLflow store {store}: {error.message}") from None
    recorded = version.tags.get("test_accuracy")  # the register stage's, through the served pyfunc
    return ServedModel(
        uri, store, version.tags.get("variant", "unknown"), f"version {version.version}",
        None if recorded is None else float(recorded), "the register stage (raw test reviews, this version)",
    )  # fmt: skip


@contextlib.contextmanager
def candidate_model(workspace: Workspace, name: str) -> Iterator[ServedModel]:
    """The trained model `name` logged as the register stage logs its candidate (same pyfunc, same
    artifacts), into a scratch MLflow store that lasts for the block: the workspace's store is untouched."""
    import mlflow
    from mlflow import MlflowClient

    from sentiment.registry import registration, served

    params = workspace.params
    if name != BASELINE and name not in params.models:
        raise ConfigError(f"--candidate: {name!r} is not a model of {workspace.params_file}")
    record = registration.read_training_record(
        name, workspace.model_file(name), workspace.evaluation_file(name), workspace.run_record(name),
        model_family(name, params.models),
    )  # fmt: skip
    raw = readers.read_raw(workspace)
    data_hash = registration.test_split_hash(raw[raw["split"] == "test"].reset_index(drop=True))
    with tempfile.TemporaryDirectory(prefix="serving-candidate-") as directory:
        store = f"sqlite:///{Path(directory) / 'mlflow.db'}"
        artifacts = (Path(directory) / "artifacts").as_uri()
        experiment = MlflowClient(store).create_experiment("serving-benchmark", artifact_location=artifacts)
        with using_tracking_uri(store), mlflow.start_run(experiment_id=experiment):
            uri = served.log_served_model(
                record, workspace.vocabulary_file, registration.serving_config(params), data_hash
            )
        how = "the register stage's pyfunc of the trained model, logged into a scratch store, not registered"
        accuracy = float(record.metrics["test"]["accuracy"])  # of the saved model (`training_run`)
        yield ServedModel(uri, store, name, how, accuracy, "its training stage (the pipeline's sequences)")


def artifact_sizes(served: ServedModel) -> dict[str, int]:
    """Bytes of the served model's files: "total", and each pyfunc artifact's ("network (bilstm.keras)")."""
    import mlflow
    from mlflow.models import Model

    with using_tracking_uri(served.tracking_uri), tempfile.TemporaryDirectory() as directory:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=served.uri, dst_path=directory))
        sizes = {"total": sum(path.stat().st_size for path in local.rglob("*") if path.is_file())}
        artifacts = Model.load(str(local)).flavors.get("python_function", {}).get("artifacts", {})
        for name, entry in sorted(artifacts.items()):
            path = local / entry["path"]
            files = [path] if path.is_file() else [file for file in path.rglob("*") if file.is_file()]
            sizes[f"{name} ({path.name})"] = sum(file.stat().st_size for file in files)
    return sizes
