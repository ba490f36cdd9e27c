"""Helpers for the orchestration tests: a tiny project workspace in a temp git+DVC repository, and real
Prefect and MLflow servers on 127.0.0.1 started as subprocesses."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from conftest import keep_students_of
from support.rest_server import stop_process_group

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COPIED = ("dvc.yaml", "params.yaml", "prefect.yaml", ".dvcignore", "src/sentiment", "flows")

# The keys of params.yaml `training.synthetic`, the demo's profile for synthetic reviews.
TINY_PAIR_BUCKETS = 64
SYNTHETIC_PROFILE_KEYS = ("epochs", "learning_rate", "early_stopping_patience", "batch_size")


def as_synthetic_profile(training: Mapping[str, Any]) -> dict[str, Any]:
    """`training` with its `synthetic` profile set to the same values: tests train on synthetic reviews,
    where the stages use that profile (the demo's 4 epochs) instead of `training` itself."""
    # the whole profile, so that a test replacing `training` key by key still has every key of it
    project = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    profile = {**project["training"]["synthetic"]}
    profile.update({key: training[key] for key in SYNTHETIC_PROFILE_KEYS if key in training})
    # a variant that reads word pairs keeps them, in a table of a few rows (see tiny_pairs)
    profile["bigram_buckets"] = TINY_PAIR_BUCKETS
    return {**training, "synthetic": profile}


# Small enough that a pipeline run trains in seconds, big enough for the validation checks to pass.
TINY_PARAMS: dict[str, Any] = {
    "source": {"synthetic_reviews": 240},
    "vocabulary": {"num_words": 400},
    "sequences": {"max_len": 40},
    "training": as_synthetic_profile({"epochs": 1, "batch_size": 32, "early_stopping_patience": 0}),
    # the behavioural gate off: one-epoch models on synthetic reviews fail it, and the orchestration
    # tests expect the pipeline's model to become champion
    "behaviour": {"thresholds": {"mft": 0.0, "inv": 0.0, "dir": 0.0}},
    # nor is a one-epoch network tested against the baseline (that test: test_registry_baseline.py)
    "registry": {"baseline_margin": None},
}
TINY_VARIANT: dict[str, Any] = {"units": [4], "embedding_dim": 8}


def tiny_pairs(variant: Mapping[str, Any]) -> dict[str, int]:
    """A variant that reads word pairs keeps them, in a table of a few rows instead of a million."""
    return {"bigram_buckets": TINY_PAIR_BUCKETS} if variant.get("bigram_buckets") else {}


def _merge(base: dict[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def tiny_params(variants: tuple[str, ...] = ("rnn", "lstm"), **changes: Any) -> dict[str, Any]:
    """The project's params.yaml, shrunk: tiny data, `variants` only, each a few units, one epoch."""
    params = yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    params = _merge(params, {key: value for key, value in TINY_PARAMS.items() if key in params})
    if "models" in params:
        params["models"] = {
            name: _merge(params["models"][name], {**TINY_VARIANT, **tiny_pairs(params["models"][name])})
            for name in variants
        }
    return keep_students_of(_merge(params, changes))


def git(root: Path, *arguments: str) -> None:
    subprocess.run(["git", *arguments], cwd=root, check=True, capture_output=True)


def make_project(root: Path, params: Mapping[str, Any] | None = None, fetch: bool = True) -> Path:
    """A copy of the project (code, dvc.yaml, prefect.yaml) in a new git + DVC repo with synthetic reviews."""
    root.mkdir(parents=True, exist_ok=True)
    for relative in COPIED:
        source = PROJECT_ROOT / relative
        if source.is_dir():
            shutil.copytree(source, root / relative, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, root / relative)
    (root / ".gitignore").write_text(
        "/data/raw\n.cache/\n/mlflow.db\n/mlruns/\n/mlartifacts/\n__pycache__/\n", encoding="utf-8"
    )
    (root / "params.yaml").write_text(yaml.safe_dump(dict(params or tiny_params())), encoding="utf-8")
    git(root, "init", "--quiet")
    git(root, "config", "user.email", "test@example.invalid")
    git(root, "config", "user.name", "test")
    subprocess.run([BIN / "dvc", "init", "--quiet"], cwd=root, check=True)
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "--message", "workspace")
    if fetch:
        subprocess.run([BIN / "sentiment", "fetch", "--synthetic"], cwd=root, check=True, capture_output=True)
    return root


@contextlib.contextmanager
def prefect_api(api_url: str) -> Iterator[None]:
    """Point this process's Prefect client (and the flows it runs) at the server at `api_url`.

    Task-run states travel as events through a process-wide worker bound to the API it started with:
    drained on entry and exit, so that events go to this server, and later ones to the next.
    """
    from prefect.events.worker import EventsWorker
    from prefect.settings import PREFECT_API_URL, PREFECT_LOGGING_TO_API_ENABLED, temporary_settings

    EventsWorker.drain_all()
    # Logs stay local: shipped in the background, they could outlive the server at the session's end.
    settings = {PREFECT_API_URL: api_url, PREFECT_LOGGING_TO_API_ENABLED: False}
    with temporary_settings(updates=settings):
        try:
            yield
        finally:
            EventsWorker.drain_all()


def task_runs(flow_run_id: Any) -> list[Any]:
    """The task runs of a flow run and of its subflows, from the Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[flow_run_id]))
        )
        ids = [flow_run_id, *(run.id for run in runs)]
        return client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))


def runs_by_name(runs: list[Any]) -> dict[str, Any]:
    """Task runs by task name: Prefect names a run `<task>-<3 hex digits>` unless the task names it."""
    return {re.sub(r"-[0-9a-f]{3}$", "", run.name): run for run in runs}


def artifacts(flow_run_id: Any) -> dict[str, Any]:
    """The artifacts a flow run published, by key."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {artifact.key: artifact for artifact in found}


def metrics_without_timings(root: Path) -> dict[str, Any]:
    """Every model's evaluation report and headline metrics, by model name (the timings, the only
    figures allowed to differ, live in files of their own)."""
    reports = root / "reports"
    found: dict[str, Any] = {}
    for path in sorted((reports / "evaluation").glob("*.json")):
        found[path.stem] = {
            "evaluation": json.loads(path.read_text(encoding="utf-8")),
            **{
                split: json.loads((reports / "metrics" / split / path.name).read_text(encoding="utf-8"))
                for split in ("validation", "test")
            },
        }
    return found


def dvc_status(root: Path, *stages: str) -> str:
    """The text of `dvc status [STAGE...]`, run as a user would."""
    result = subprocess.run(
        [BIN / "dvc", "status", *stages], cwd=root, check=True, capture_output=True, text=True
    )
    return result.stdout.strip()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def prefect_environment(home: Path, api_url: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(
        PREFECT_HOME=str(home),
        PREFECT_API_URL=api_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
        PREFECT_CLI_PROMPT="false",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return environment


@contextlib.contextmanager
def spawn(arguments: list[str | Path], log: Path, **options: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A long-running subprocess in its own process group, logging to `log`, stopped on exit."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            arguments, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, **options
        )
    try:
        yield process
    finally:
        stop_process_group(process)


@dataclasses.dataclass(frozen=True)
class Services:
    prefect_home: Path
    prefect_api_url: str
    mlflow_uri: str


@contextlib.contextmanager
def services(directory: Path) -> Iterator[Services]:
    """`prefect server start` and `mlflow server` (SQLite backend) on free ports of 127.0.0.1.

    Both start at once (each takes tens of seconds on 2 busy cores), then both are awaited.
    """
    home, tracking = directory / "prefect", directory / "mlflow"
    home.mkdir(parents=True)
    tracking.mkdir(parents=True)
    prefect_port, mlflow_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{prefect_port}/api"
    mlflow_uri = f"http://127.0.0.1:{mlflow_port}"
    prefect_arguments: list[str | Path] = [
        BIN / "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(prefect_port)
    ]  # fmt: skip
    mlflow_arguments: list[str | Path] = [
        BIN / "mlflow", "server", "--host", "127.0.0.1", "--port", str(mlflow_port), "--workers", "1",
        "--backend-store-uri", f"sqlite:///{tracking / 'mlflow.db'}",
        "--artifacts-destination", str(tracking / "artifacts"),
    ]  # fmt: skip
    prefect_log, mlflow_log = home / "server.log", tracking / "server.log"
    with (
        spawn(prefect_arguments, prefect_log, env=prefect_environment(home, api_url)) as prefect,
        spawn(mlflow_arguments, mlflow_log) as mlflow,
    ):
        wait_for_http(f"{api_url}/health", prefect, timeout=240, log=prefect_log)
        wait_for_http(f"{mlflow_uri}/health", mlflow, timeout=240, log=mlflow_log)
        yield Services(home, api_url, mlflow_uri)
