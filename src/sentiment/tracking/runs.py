"""MLflow tracking of the training stages: one experiment, one run per model, lineage on every run.

Where runs go: `MLFLOW_TRACKING_URI` when set (e.g. a tracking server), else a SQLite store in the
workspace (`sqlite:///<root>/mlflow.db`, artifacts in `<root>/mlruns`), which
`mlflow ui --backend-store-uri sqlite:///mlflow.db` opens from the project root. The experiment is
`MLFLOW_EXPERIMENT_NAME`, by default "imdb-sentiment".

Credentials never reach a file, tag, artifact or log: a user name and password in an http(s)
MLFLOW_TRACKING_URI move into MLflow's own MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD
(`tracking_uri`), so MLflow is only ever given the URI without them; whatever the project writes or
shows of a URI goes through `tracking.uris.redacted`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
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
from sentiment.tracking.uris import redacted, run_url, without_credentials

logger = logging.getLogger(__name__)

TRACKING_URI_VARIABLE = "MLFLOW_TRACKING_URI"
USERNAME_VARIABLE = "MLFLOW_TRACKING_USERNAME"
PASSWORD_VARIABLE = "MLFLOW_TRACKING_PASSWORD"
# MLflow prints "View run ... at <tracking URI>/#/..." when a run on a server ends; the project logs
# the redacted link itself instead.
SUPPRESS_URL_PRINTING_VARIABLE = "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"
EXPERIMENT_VARIABLE = "MLFLOW_EXPERIMENT_NAME"
DEFAULT_EXPERIMENT = "imdb-sentiment"
MODEL_ARTIFACT = "model"


class TrackingError(SentimentError):
    """The MLflow tracking store cannot be used (a server down, a store that cannot be written)."""


def tracking_uri(workspace: Workspace) -> str:
    """MLFLOW_TRACKING_URI when set (without credentials: `credentials_to_environment`), else the
    workspace's local SQLite store."""
    configured = os.environ.get(TRACKING_URI_VARIABLE)
    if not configured:
        return f"sqlite:///{workspace.local_tracking_store}"
    return credentials_to_environment(configured)


def credentials_to_environment(uri: str) -> str:
    """`uri` as MLflow is to be given it: without the user name and password of an http(s) URI.

    They go into MLflow's own variables, MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (unless
    both are already set: then those were used, as before), for this process and the processes it
    starts; MLFLOW_TRACKING_URI, when it held them, becomes the URI without them. MLflow sends them as
    the same basic authentication, and its links and error messages never hold them.
    """
    parts = without_credentials(uri)
    if parts is None:
        return uri
    clean, user, password = parts
    if not (os.environ.get(USERNAME_VARIABLE) and os.environ.get(PASSWORD_VARIABLE)):
        os.environ[USERNAME_VARIABLE], os.environ[PASSWORD_VARIABLE] = user, password
    if os.environ.get(TRACKING_URI_VARIABLE) == uri:
        os.environ[TRACKING_URI_VARIABLE] = clean
    return clean


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
    vocabulary, sequence and validation split settings."""
    settings: dict[str, Any] = {"seed": params.seed}
    for section in ("cleaning", "vocabulary", "sequences", "splits"):
        settings.update(flatten(section, getattr(params, section)))
    settings.update(flatten("", model))
    return settings


def finite_metrics(sections: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """{"test": {"accuracy": ...}} -> {"test_accuracy": ...}; a nested mapping's keys joined the same way
    ({"test": {"accuracy_by_length": {"1-100": ...}}} -> "test_accuracy_by_length_1-100"); missing and
    NaN values are left out."""
    flat: dict[str, float] = {}
    for section, values in sections.items():
        for name, value in values.items():
            if isinstance(value, Mapping):
                flat.update(finite_metrics({f"{section}_{name}": value}))
            elif value is not None and math.isfinite(value):
                flat[f"{section}_{name}"] = float(value)
    return flat


def _is_local(uri: str) -> bool:
    return uri.startswith(("sqlite:", "file:")) or "://" not in uri


# MLflow 3's UI opens an experiment without this tag in its GenAI view (traces, prompts); with it, on
# the runs table and the compare view. The value is the UI's own (its ExperimentKind enum, 3.17).
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"


def experiment_id(workspace: Workspace, uri: str) -> str:
    """The experiment's id, creating it (artifacts in <root>/mlruns for a local store) if needed,
    marked as model development (a kind someone set on it is left as it is)."""
    client = MlflowClient(uri)
    name = experiment_name()
    for _ in range(3):  # parallel stages may race to create it
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            if experiment.lifecycle_stage == "deleted":
                client.restore_experiment(experiment.experiment_id)
            if EXPERIMENT_KIND_TAG not in experiment.tags:  # an experiment made before this tag
                client.set_experiment_tag(experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
            return str(experiment.experiment_id)
        location = workspace.local_artifacts.as_uri() if _is_local(uri) else None
        with contextlib.suppress(MlflowException):
            return str(
                client.create_experiment(
                    name, artifact_location=location, tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND}
                )
            )
    raise MlflowException(f"cannot create or find the MLflow experiment {name!r} at {redacted(uri)}")


@contextlib.contextmanager
def using_tracking_uri(uri: str) -> Iterator[None]:
    """MLflow's global tracking URI set to `uri` (without credentials: `credentials_to_environment`)
    for the block, then put back as it was. MLflow prints no "View run" links in the block.

    mlflow.set_tracking_uri also exports MLFLOW_TRACKING_URI (for subprocesses): left set, it would
    send every later run in this process, e.g. of another workspace, to this store.
    """
    given = credentials_to_environment(uri)  # first: it may clean MLFLOW_TRACKING_URI itself
    previous = os.environ.get(TRACKING_URI_VARIABLE)
    mlflow.set_tracking_uri(given)
    try:
        with _mlflow_links_unprinted():
            yield
    finally:
        # None unsets both the global and the environment variable
        mlflow.set_tracking_uri(previous)  # type: ignore[arg-type]


@contextlib.contextmanager
def _mlflow_links_unprinted() -> Iterator[None]:
    previous = os.environ.get(SUPPRESS_URL_PRINTING_VARIABLE)
    os.environ[SUPPRESS_URL_PRINTING_VARIABLE] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(SUPPRESS_URL_PRINTING_VARIABLE, None)
        else:
            os.environ[SUPPRESS_URL_PRINTING_VARIABLE] = previous


@contextlib.contextmanager
def tracked_run(
    workspace: Workspace,
    run_name: str,
    run_lineage: Lineage,
    parameters: Mapping[str, Any],
    tags: Mapping[str, str],
) -> Iterator[mlflow.ActiveRun]:
    """An MLflow run with its lineage tags and parameters; marked FAILED if the block raises.

    Its link is logged (redacted) instead of MLflow's "View run" line.
    """
    uri = tracking_uri(workspace)
    try:
        experiment = experiment_id(workspace, uri)
    except (MlflowException, OSError) as error:
        first_line = (str(error).splitlines() or [type(error).__name__])[0]
        raise TrackingError(
            redacted(
                f"cannot use the MLflow tracking store {uri} ({TRACKING_URI_VARIABLE} when set, else the "
                f"workspace's {workspace.shown(workspace.local_tracking_store)}): {first_line}"
            )
        ) from None
    with (
        using_tracking_uri(uri),
        mlflow.start_run(
            experiment_id=experiment, run_name=run_name, tags={**run_lineage.tags(), **tags}
        ) as run,
    ):
        logger.info("MLflow run %s: %s", run_name, run_url(uri, experiment, run.info.run_id))
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
