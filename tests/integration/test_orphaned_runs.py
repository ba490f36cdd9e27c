"""Issue 13, case 12: a training process killed with SIGKILL leaves its MLflow run RUNNING and a
`models/.<variant>.*.staging/` directory behind; the next start of that model's stage marks the run
FAILED with the reason and removes the staging directory, and its own run finishes.

A run whose process is alive, or that ran on another host, of another model or another workspace, or
that carries no process tags, is left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

from conftest import SMALL_OVERRIDES, command_environment, merged, run_command, write_params
from sentiment.config.workspace import Workspace
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages
from sentiment.tracking import orphans
from sentiment.tracking.lineage import PIPELINE_RUN_VARIABLE
from sentiment.tracking.runs import TRACKING_URI_VARIABLE, experiment_id
from support.training import mlflow_client, runs_of, store_uri, tiny_training_overrides

pytestmark = pytest.mark.slow

VARIANT = "rnn"
# Long enough to be killed mid-training: many epochs, no early stop.
LONG_TRAINING = {"epochs": 500, "early_stopping_patience": 500}


def staging_dirs(root: Path, model: str) -> list[Path]:
    return sorted((root / "models").glob(f".{model}.*.staging"))


@pytest.fixture()
def preprocessed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Tiny preprocessed data in a workspace whose MLflow store is its own mlflow.db."""
    monkeypatch.delenv(TRACKING_URI_VARIABLE, raising=False)
    monkeypatch.delenv(PIPELINE_RUN_VARIABLE, raising=False)
    root = tmp_path / "workspace"
    root.mkdir()
    write_params(root, merged(SMALL_OVERRIDES, tiny_training_overrides(**LONG_TRAINING)))
    workspace = Workspace.load(root)
    raw_stages.fetch_raw(workspace, use_synthetic=True)
    preprocessing_stages.clean(workspace)
    preprocessing_stages.vocabulary(workspace)
    preprocessing_stages.sequences(workspace)
    # The store's tables, created here: the test reads the store while the stage's process writes it.
    experiment_id(workspace, store_uri(root))
    yield root


def wait_for_running_run_with_epochs(root: Path, process: subprocess.Popen[str], timeout: float) -> Any:
    """The RUNNING MLflow run of VARIANT once it has logged an epoch (so: mid-training)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"training ended ({process.returncode}) before it could be killed"
        for run in runs_of(root, VARIANT):
            if run.info.status == "RUNNING" and "loss" in run.data.metrics:
                return run
        time.sleep(0.5)
    raise AssertionError(f"no RUNNING run of {VARIANT} with an epoch logged within {timeout:.0f} s")


def test_a_killed_training_leaves_a_run_that_the_next_start_marks_failed(preprocessed: Path) -> None:
    root = preprocessed
    environment = command_environment()
    process = subprocess.Popen(
        ["sentiment", "stage", "train", "--variant", VARIANT],
        cwd=root, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        killed = wait_for_running_run_with_epochs(root, process, timeout=240)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert killed.data.tags[orphans.PID_TAG] == str(process.pid)
    assert killed.data.tags[orphans.HOST_TAG] == orphans.host_name()
    assert mlflow_client(root).get_run(killed.info.run_id).info.status == "RUNNING"
    assert staging_dirs(root, VARIANT), "the killed training left no staging directory"
    assert not (root / "models" / f"{VARIANT}.keras").exists()

    # The next start of the stage: a short training this time.
    write_params(root, merged(SMALL_OVERRIDES, tiny_training_overrides()))
    run_command(root, "sentiment", "stage", "train", "--variant", VARIANT)

    client = mlflow_client(root)
    old = client.get_run(killed.info.run_id)
    assert old.info.status == "FAILED" and old.info.end_time is not None
    reason = old.data.tags[orphans.FAILURE_REASON_TAG]
    assert reason.startswith(f"orphaned: its process {process.pid} on host {orphans.host_name()} is gone")
    assert staging_dirs(root, VARIANT) == []
    newer = [run for run in runs_of(root, VARIANT) if run.info.run_id != killed.info.run_id]
    assert [run.info.status for run in newer] == ["FINISHED"]
    assert orphans.FAILURE_REASON_TAG not in newer[0].data.tags
    assert (root / "models" / f"{VARIANT}.keras").is_file()


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    probe = subprocess.Popen(["true"])
    probe.wait()
    return probe.pid


def test_only_runs_whose_process_is_gone_on_this_host_are_marked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TRACKING_URI_VARIABLE, raising=False)
    root = tmp_path / "workspace"
    root.mkdir()
    write_params(root, SMALL_OVERRIDES)
    workspace = Workspace.load(root)
    here = orphans.process_tags(workspace)
    gone = {**here, orphans.PID_TAG: str(dead_pid()), orphans.PROCESS_START_TAG: ""}
    reused = {**here, orphans.PROCESS_START_TAG: "1"}  # a live pid, but not the process that started then
    runs = {
        "gone": {"variant": VARIANT, **gone},
        "pid reused": {"variant": VARIANT, **reused},
        "alive": {"variant": VARIANT, **here},
        "other host": {"variant": VARIANT, **gone, orphans.HOST_TAG: "elsewhere.invalid"},
        "other model": {"variant": "lstm", **gone},
        "other workspace": {"variant": VARIANT, **gone, orphans.WORKSPACE_TAG: str(tmp_path / "else")},
        "untagged": {"variant": VARIANT},
    }
    uri = store_uri(root)
    client = MlflowClient(uri)
    experiment = experiment_id(workspace, uri)
    ids = {name: client.create_run(experiment, tags=tags).info.run_id for name, tags in runs.items()}
    marked = orphans.mark_orphaned_runs(workspace, VARIANT)

    assert sorted(marked) == sorted([ids["gone"], ids["pid reused"]])
    for name, run_id in ids.items():
        run = client.get_run(run_id)
        if run_id in marked:
            assert run.info.status == "FAILED", name
            assert run.data.tags[orphans.FAILURE_REASON_TAG].startswith("orphaned: its process"), name
        else:
            assert run.info.status == "RUNNING", name
            assert orphans.FAILURE_REASON_TAG not in run.data.tags, name


def test_a_store_that_cannot_be_used_is_logged_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(TRACKING_URI_VARIABLE, "http://127.0.0.1:9")  # the discard port: nothing listens
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    write_params(tmp_path, SMALL_OVERRIDES)
    with caplog.at_level("WARNING", logger=orphans.__name__):
        assert orphans.mark_orphaned_runs(Workspace.load(tmp_path), VARIANT) == []
    assert "could not look for orphaned MLflow runs of rnn in http://127.0.0.1:9" in caplog.text
