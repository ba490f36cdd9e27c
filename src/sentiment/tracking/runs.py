"""MLflow tracking of the training stages: one experiment, one run per model, lineage on every run.

Where runs go: `MLFLOW_TRACKING_URI` when set (e.g. a tracking server), else a SQLite store in the
workspace (`sqlite:///<root>/mlflow.db`, artifacts in `<root>/mlruns`), which
`mlflow ui --backend-store-uri sqlite:///mlflow.db` opens from the project root. The experiment is
`MLFLOW_EXPERIMENT_NAME`, by default "imdb-sentiment".
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from sentiment.config import Params
from sentiment.config.workspace import Workspace
from sentiment.core.errors import SentimentError
from sentiment.tracking.lineage import Lineage

TRACKING_URI_VARIABLE = "MLFLOW_TRACKING_URI"
EXPERIMENT_VARIABLE = "MLFLOW_EXPERIMENT_NAME"
DEFAULT_EXPERIMENT = "imdb-sentiment"
MODEL_ARTIFACT = "model"


class TrackingError(SentimentError):
    """The MLflow tracking store cannot be used (a server down, a store that cannot be written)."""


def tracking_uri(workspace: Workspace) -> str:
    """MLFLOW_TRACKING_URI when set, else the workspace's local SQLite store."""
    return os.environ.get(TRACKING_URI_VARIABLE) or f"sqlite:///{workspace.local_tracking_store}"


def experiment_name() -> str:
    return os.environ.get(EXPERIMENT_VARIABLE) or DEFAULT_EXPERIMENT


def flatten(prefix: str, value: Any) -> dict[str, Any]:
    """Dataclasses and mappings as dotted keys; lists as comma-separated strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, Mapping):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(flatten(f"{prefix}.{key}" if prefix else str(key), item))
        return flat
    if isinstance(value, list | tuple):
        return {prefix: ",".join(str(item) for item in value)}
    return {prefix: value}


def run_parameters(params: Params, model: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting a run depends on: `model` (model.*, training.*, ...), plus seed, cleaning,
    vocabulary and sequence settings."""
    settings: dict[str, Any] = {"seed": params.seed}
    for section in ("cleaning", "vocabulary", "sequences"):
        settings.update(flatten(section, getattr(params, section)))
    settings.update(flatten("", model))
    return settings


def finite_metrics(sections: Mapping[str, Mapping[str, float | None]]) -> dict[str, float]:
    """{"test": {"accuracy": ...}} -> {"test_accuracy": ...}; missing and NaN values are left out."""
    return {
        f"{section}_{name}": float(value)
        for section, values in sections.items()
        for name, value in values.items()
        if value is not None and math.isfinite(value)
    }


def _is_local(uri: str) -> bool:
    return uri.startswith(("sqlite:", "file:")) or "://" not in uri


def experiment_id(workspace: Workspace, uri: str) -> str:
    """The experiment's id, creating it (artifacts in <root>/mlruns for a local store) if needed."""
    client = MlflowClient(uri)
    name = experiment_name()
    for _ in range(3):  # parallel stages may race to create it
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            if experiment.lifecycle_stage == "deleted":
                client.restore_experiment(experiment.experiment_id)
            return str(experiment.experiment_id)
        location = workspace.local_artifacts.as_uri() if _is_local(uri) else None
        with contextlib.suppress(MlflowException):
            return str(client.create_experiment(name, artifact_location=location))
    raise MlflowException(f"cannot create or find the MLflow experiment {name!r} at {uri}")


@contextlib.contextmanager
def using_tracking_uri(uri: str) -> Iterator[None]:
    """MLflow's global tracking URI set to `uri` for the block, then put back as it was.

    mlflow.set_tracking_uri also exports MLFLOW_TRACKING_URI (for subprocesses): left set, it would
    send every later run in this process, e.g. of another workspace, to this store.
    """
    previous = os.environ.get(TRACKING_URI_VARIABLE)
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        # None unsets both the global and the environment variable
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]


@contextlib.contextmanager
def tracked_run(
    workspace: Workspace,
    run_name: str,
    run_lineage: Lineage,
    parameters: Mapping[str, Any],
    tags: Mapping[str, str],
) -> Iterator[mlflow.ActiveRun]:
    """An MLflow run with its lineage tags and parameters; marked FAILED if the block raises."""
    uri = tracking_uri(workspace)
    try:
        experiment = experiment_id(workspace, uri)
    except (MlflowException, OSError) as error:
        raise TrackingError(
            f"cannot use the MLflow tracking store {uri} ({TRACKING_URI_VARIABLE} when set, else the "
            f"workspace's {workspace.shown(workspace.local_tracking_store)}): {str(error).splitlines()[0]}"
        ) from None
    with (
        using_tracking_uri(uri),
        mlflow.start_run(
            experiment_id=experiment, run_name=run_name, tags={**run_lineage.tags(), **tags}
        ) as run,
    ):
        mlflow.log_params(dict(parameters))
        yield run


def log_epoch(epoch: int, logs: Mapping[str, float]) -> None:
    """Per-epoch metrics (loss, accuracy, val_loss, val_accuracy), logged without waiting."""
    mlflow.log_metrics(dict(logs), step=epoch, synchronous=False)


def log_keras_model(model: Any, example: Any, predictions: Any) -> str:
    """The Keras 3 model (native .keras inside) with a signature and input example; returns its URI.

    Through the `tensorflow` flavor: in MLflow 3.17 the `keras` flavor's save_model writes the input
    example before creating the model directory, so it fails whenever an example is given. This one
    saves a Keras 3 model in the .keras format too, with its registered custom layers, and loads it
    back (mlflow.tensorflow.load_model, or pyfunc) as the same Keras 3 model.
    """
    import keras
    import mlflow.tensorflow
    import tensorflow as tf
    from mlflow.models import infer_signature

    info = mlflow.tensorflow.log_model(
        model,
        name=MODEL_ARTIFACT,
        signature=infer_signature(example, predictions),
        input_example=example,
        # given, not inferred: inference would load the model again in a subprocess
        pip_requirements=[f"keras=={keras.__version__}", f"tensorflow=={tf.__version__}"],
    )
    return str(info.model_uri)


def log_sklearn_model(model: Any, example: Any, predictions: Any, trusted_types: Sequence[str] = ()) -> str:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    info = mlflow.sklearn.log_model(
        model,
        name=MODEL_ARTIFACT,
        signature=infer_signature(example, predictions),
        input_example=example,
        pyfunc_predict_fn="predict_proba",
        # skops (MLflow's safe format) loads only the types it is told to trust: our text selector
        skops_trusted_types=list(trusted_types),
        pip_requirements=mlflow.sklearn.get_default_pip_requirements(),
    )
    return str(info.model_uri)


def model_id(model_uri: str) -> str | None:
    """The LoggedModel id of a "models:/<id>" URI, to link metrics to the model."""
    return model_uri.removeprefix("models:/") if model_uri.startswith("models:/") else None
