"""The training and pipeline flows with real parts: a Dask LocalCluster of 2 worker processes tracking to
a real `mlflow server`, a tracking server briefly unreachable (retried), a failed validation (not retried).
Flows run in this process against a real Prefect server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sentiment.config.workspace import Workspace
from sentiment.orchestration import dvc_stages as orchestration
from sentiment.orchestration.stage_runner import stage_function
from support.orchestration import (
    Services,
    artifacts,
    dvc_status,
    make_project,
    metrics_without_timings,
    prefect_api,
    runs_by_name,
    task_runs,
    tiny_params,
)

pytestmark = pytest.mark.slow

UP_TO_DATE = "Data and pipelines are up to date."
MODELS = {"rnn", "lstm", "baseline", "student"}
TRAINING_STAGES = ("train@rnn", "train@lstm", "baseline", "distill@student")
# the rnn again, taught by the lstm and the baseline: the training flow runs it after them
STUDENTS = {"student": {"variant": "rnn", "teacher": "lstm", "targets": "soft"}}


@pytest.fixture(scope="module")
def preprocessed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with its data stages done (through DVC), ready for training."""
    root = make_project(tmp_path_factory.mktemp("flows") / "preprocessed", tiny_params(students=STUDENTS))
    workspace = Workspace.load(root)
    for name in ("clean", "validate_text", "vocabulary", "sequences", "validate_sequences"):
        orchestration.run_stage(root, name, lambda name=name: stage_function(name)(workspace))
    return root


@pytest.fixture(scope="module")
def trained(
    preprocessed: Path,
    orchestration_services: Services,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """The same project trained twice: one model at a time in this process with a local MLflow store,
    and on a 2-worker Dask LocalCluster tracking to the MLflow server."""
    from flows.training import training
    from prefect.task_runners import ThreadPoolTaskRunner

    from sentiment.orchestration.task_runners import training_task_runner

    base = tmp_path_factory.mktemp("trained")
    single, clustered = base / "single", base / "clustered"
    shutil.copytree(preprocessed, single)
    shutil.copytree(preprocessed, clustered)
    with prefect_api(orchestration_services.prefect_api_url):
        one_process = training.with_options(task_runner=ThreadPoolTaskRunner(max_workers=1))
        single_state = one_process(root=str(single), return_state=True)
        cluster = training.with_options(task_runner=training_task_runner("local"))
        cluster_state = cluster(
            root=str(clustered), tracking_uri=orchestration_services.mlflow_uri, return_state=True
        )
    return {
        "single": single,
        "clustered": clustered,
        "single_state": single_state,
        "cluster_state": cluster_state,
    }


def test_training_on_a_local_dask_cluster_gives_the_metrics_of_a_single_process_run(
    trained: dict[str, Any],
) -> None:
    assert trained["single_state"].is_completed(), trained["single_state"].message
    assert trained["cluster_state"].is_completed(), trained["cluster_state"].message
    single, clustered = (
        metrics_without_timings(trained["single"]),
        metrics_without_timings(trained["clustered"]),
    )
    assert set(clustered) == MODELS
    assert clustered == single
    assert dvc_status(trained["clustered"], *TRAINING_STAGES) == UP_TO_DATE


def test_the_cluster_run_is_tracked_on_the_mlflow_server(
    trained: dict[str, Any], orchestration_services: Services
) -> None:
    import json

    from mlflow import MlflowClient

    pipeline_run = f"prefect-{trained['cluster_state'].state_details.flow_run_id}"
    client = MlflowClient(orchestration_services.mlflow_uri)
    runs = client.search_runs(
        [experiment.experiment_id for experiment in client.search_experiments()],
        filter_string=f"tags.pipeline_run = '{pipeline_run}'",
    )
    assert {run.data.tags["variant"]: run.info.status for run in runs} == dict.fromkeys(MODELS, "FINISHED")
    for model in MODELS:
        record = json.loads((trained["clustered"] / f"reports/runs/{model}.json").read_text())
        assert record["tracking_uri"] == orchestration_services.mlflow_uri
    assert not (trained["clustered"] / "mlflow.db").exists()


class DelayedProxy:
    """A TCP port that refuses connections (a server that is down), then, once opened, forwards them to
    the real server: an MLflow tracking server briefly unreachable."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").split(":")
        self.target = (host, int(port))
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))  # bound but not listening: connections are refused
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def open(self) -> None:
        self.listener.listen()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for connection in (source, sink):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()


def test_a_tracking_server_briefly_down_is_retried_with_backoff_and_the_run_completes(
    trained: dict[str, Any], orchestration_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.training import training

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")  # fail fast: Prefect's retries are tested
    proxy = DelayedProxy(orchestration_services.mlflow_uri)
    opener = threading.Timer(3.0, proxy.open)  # "back up" after 3 s, before the first retry (10 s)
    try:
        opener.start()
        started = time.monotonic()
        with prefect_api(orchestration_services.prefect_api_url):
            state = training(root=str(trained["clustered"]), tracking_uri=proxy.url, return_state=True)
            runs = runs_by_name(task_runs(state.state_details.flow_run_id))
    finally:
        opener.cancel()
        proxy.close()
    assert state.is_completed(), state.message
    assert runs["tracking-store"].run_count == 2  # refused once, then retried after the backoff
    assert time.monotonic() - started >= 8
    # The models were up to date (DVC): the retried run trained nothing again.
    assert {runs[f"train@{variant}"].state_name for variant in ("rnn", "lstm")} == {"Completed"}
    assert dvc_status(trained["clustered"], *TRAINING_STAGES) == UP_TO_DATE


def test_a_failed_validation_fails_the_pipeline_at_once_and_nothing_is_trained(
    tmp_path: Path, orchestration_services: Services
) -> None:
    from flows.pipeline import pipeline

    params = tiny_params()
    params["validation"]["raw"]["min_words"] = 1000  # no synthetic review is that long
    root = make_project(tmp_path / "workspace", params)
    with prefect_api(orchestration_services.prefect_api_url):
        state = pipeline(root=str(root), return_state=True)
        flow_run_id = state.state_details.flow_run_id
        runs = runs_by_name(task_runs(flow_run_id))
        published = artifacts(flow_run_id)
    assert state.is_failed()
    assert "data validation (text) failed" in str(state.message)
    assert runs["validate_text"].state_name == "Failed"
    assert runs["validate_text"].run_count == 1  # deterministic: not retried
    assert "vocabulary" not in runs and not any(name.startswith("train@") for name in runs)
    summary = published["validation-summary"].data
    assert (
        "text: **FAILED**" in summary
        and "- failed: raw_reviews.words: reviews have 1000 to 3000 words" in summary
    )
    assert not (root / "models").exists() and not (root / "mlflow.db").exists()
    assert not (root / "reports/registry.json").exists()


def test_the_validation_flow_publishes_the_summary_of_validations_dvc_found_up_to_date(
    preprocessed: Path, tmp_path: Path, orchestration_services: Services
) -> None:
    from flows.validation import validation

    root = tmp_path / "workspace"
    shutil.copytree(preprocessed, root)
    with prefect_api(orchestration_services.prefect_api_url):
        state = validation(root=str(root), return_state=True)
        published = artifacts(state.state_details.flow_run_id)
    assert state.is_completed(), state.message
    assert state.result() == {"validate_text": "up to date", "validate_sequences": "up to date"}
    summary = published["validation-summary"].data
    assert "## text: passed" in summary and "## sequences: passed" in summary
