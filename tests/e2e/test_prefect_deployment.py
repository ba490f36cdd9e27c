"""prefect.yaml's deployments on a real Prefect server on 127.0.0.1, run by a real process worker, as the
README shows: registered with their schedule, a `prefect deployment run` that completes and tracks its
models in MLflow, a training process killed mid-run, and two pipeline runs started at once."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import psutil
import pytest

from support.orchestration import (
    BIN,
    Services,
    artifacts,
    dvc_status,
    make_project,
    prefect_api,
    prefect_environment,
    spawn,
    tiny_params,
)

pytestmark = pytest.mark.slow

DEPLOYMENT = "pipeline/weekly-retraining"
UP_TO_DATE = "Data and pipelines are up to date."
FLOW_RUN_TIMEOUT = 300


@dataclasses.dataclass(frozen=True)
class Deployed:
    root: Path
    environment: dict[str, str]
    api_url: str
    worker: subprocess.Popen[bytes]

    def cli(self, *arguments: str, timeout: float = 180) -> str:
        completed = subprocess.run(
            [str(BIN / "prefect"), *arguments],
            cwd=self.root, env=self.environment, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        assert completed.returncode == 0, (
            f"prefect {' '.join(arguments)}:\n{completed.stdout}\n{completed.stderr}"
        )
        return completed.stdout

    def run_deployment(self, *parameters: str) -> str:
        """`prefect deployment run`, as a user triggers a run; returns the flow run's id."""
        options = [option for parameter in parameters for option in ("--param", parameter)]
        output = self.cli("deployment", "run", DEPLOYMENT, *options)
        found = re.search(r"UUID: ([0-9a-f-]{36})", output)
        assert found, output
        return found.group(1)

    def wait(self, flow_run_id: str, timeout: float = FLOW_RUN_TIMEOUT) -> Any:
        from prefect.client.orchestration import get_client

        deadline = time.monotonic() + timeout
        with prefect_api(self.api_url), get_client(sync_client=True) as client:
            while time.monotonic() < deadline:
                flow_run = client.read_flow_run(flow_run_id)
                if flow_run.state is not None and flow_run.state.is_final():
                    return flow_run
                time.sleep(1)
        log = (self.root.parent / "worker.log").read_text()[-4000:]
        raise AssertionError(f"flow run {flow_run_id} not finished after {timeout} s; worker log:\n{log}")


def mlflow_runs(root: Path, pipeline_run: str | None = None) -> list[Any]:
    from mlflow import MlflowClient

    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    experiments = [experiment.experiment_id for experiment in client.search_experiments()]
    query = f"tags.pipeline_run = '{pipeline_run}'" if pipeline_run else ""
    return list(client.search_runs(experiments, filter_string=query)) if experiments else []


def registry_versions(root: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    """(version, run id, aliases) of every version of the registered model."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = MlflowClient(uri, registry_uri=uri)
    versions = client.search_model_versions()
    full = [client.get_model_version(version.name, version.version) for version in versions]
    return sorted((version.version, version.run_id, tuple(sorted(version.aliases))) for version in full)


@pytest.fixture(scope="module")
def deployed(
    orchestration_services: Services, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployed]:
    """The README's steps: a process work pool, `prefect deploy --all` from the project root, a worker."""
    base = tmp_path_factory.mktemp("deployment")
    # One variant (and the baseline); patience high so that `epochs` sets how long training takes.
    params = tiny_params(variants=("rnn",), training={"epochs": 1, "early_stopping_patience": 50})
    root = make_project(base / "project", params)
    environment = prefect_environment(
        orchestration_services.prefect_home, orchestration_services.prefect_api_url
    )
    environment.update(PREFECT_WORKER_QUERY_SECONDS="1", PREFECT_WORKER_PREFETCH_SECONDS="5")
    for variable in ("MLFLOW_TRACKING_URI", "SENTIMENT_DASK_ADDRESS", "SENTIMENT_PIPELINE_RUN"):
        environment.pop(variable, None)
    deployment = Deployed(root, environment, orchestration_services.prefect_api_url, None)  # type: ignore[arg-type]
    deployment.cli("work-pool", "create", "sentiment", "--type", "process")
    deployment.cli("--no-prompt", "deploy", "--all")
    worker_command = [BIN / "prefect", "worker", "start", "--pool", "sentiment", "--limit", "2"]
    with spawn(worker_command, base / "worker.log", cwd=root, env=environment) as worker:
        yield dataclasses.replace(deployment, worker=worker)


def test_the_deployments_are_registered_with_their_schedule_and_parameters(deployed: Deployed) -> None:
    from prefect.client.orchestration import get_client

    with prefect_api(deployed.api_url), get_client(sync_client=True) as client:
        weekly = client.read_deployment_by_name(DEPLOYMENT)
        demo = client.read_deployment_by_name("pipeline/synthetic-demo")
        scoring = client.read_deployment_by_name("batch-scoring/daily-scoring")
        retraining_automations = client.read_automations_by_name("retrain-on-drift")
    assert weekly.work_pool_name == "sentiment" and weekly.entrypoint == "flows/pipeline.py:pipeline"
    (schedule,) = weekly.schedules
    assert schedule.active and schedule.schedule.cron == "0 3 * * 1" and schedule.schedule.timezone == "UTC"
    assert weekly.parameters == {"source": "tracked", "variants": None, "epochs": None, "dask_address": None}
    assert weekly.global_concurrency_limit is not None and weekly.global_concurrency_limit.limit == 1
    # The worker runs each flow run in the directory `prefect deploy` ran in: this checkout.
    assert weekly.pull_steps == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(deployed.root)}}
    ]
    assert demo.parameters == {"source": "synthetic"} and not demo.schedules
    # the daily scoring, and the automation `prefect deploy` made of weekly-retraining's drift trigger
    (daily,) = scoring.schedules
    assert daily.schedule.cron == "0 6 * * *" and scoring.entrypoint == "flows/scoring.py:batch_scoring"
    assert retraining_automations, "the drift trigger of weekly-retraining became an automation"


def test_a_triggered_run_completes_tracks_its_models_and_leaves_dvc_up_to_date(deployed: Deployed) -> None:
    flow_run_id = deployed.run_deployment()
    flow_run = deployed.wait(flow_run_id)
    assert flow_run.state.is_completed(), flow_run.state.message

    tracked = mlflow_runs(deployed.root, f"prefect-{flow_run_id}")
    runs = [run for run in tracked if "variant" in run.data.tags]  # the models' runs
    assert {run.data.tags["variant"]: run.info.status for run in runs} == {
        "rnn": "FINISHED",
        "baseline": "FINISHED",
    }
    # and the course's claims, checked on them, in a run of their own
    (claims_run,) = [run for run in tracked if run.data.tags.get("report") == "course-claims"]
    assert claims_run.info.status == "FINISHED"
    assert dvc_status(deployed.root) == UP_TO_DATE
    ((version, run_id, aliases),) = registry_versions(deployed.root)
    assert aliases == ("champion",)

    with prefect_api(deployed.api_url):
        published = artifacts(flow_run_id)
    assert "text: passed" in published["validation-summary"].data
    rows = {row["model"]: row for row in json.loads(published["model-comparison"].data)}
    assert set(rows) == {"rnn", "baseline"}
    run_ids = {run.data.tags["variant"]: run.info.run_id for run in runs}
    for model, row in rows.items():
        assert f"/runs/{run_ids[model]})" in row["MLflow run"]
        assert row["test accuracy"] != "–"
    registered = next(row for row in rows.values() if row["registry"])
    assert (
        registered["registry"] == f"imdb-sentiment v{version}: promoted"
        and run_ids[registered["model"]] == run_id
    )
    stages_table = {row["stage"]: row["outcome"] for row in json.loads(published["pipeline-stages"].data)}
    assert stages_table["train@rnn"] == "ran" and stages_table["register"] == "ran"
    assert stages_table["claims"] == "ran"
    claims = published["course-claims"].data
    assert "What the course claims, checked on this run" in claims and claims_run.info.run_id[:8] in claims


def training_processes(worker: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The processes training a model for the worker's flow runs (`sentiment stage train`, as dvc.yaml)."""
    found = []
    for process in psutil.Process(worker.pid).children(recursive=True):
        try:
            command = process.cmdline()
        except psutil.NoSuchProcess:
            continue
        if "sentiment.cli" in command and "train" in command:
            found.append(process)
    return found


def wait_for_training(deployed: Deployed, flow_run_id: str, timeout: float = 180) -> None:
    """Until the variant's MLflow run exists: its stage has started training."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = mlflow_runs(deployed.root, f"prefect-{flow_run_id}")
        if any(run.data.tags.get("variant") == "rnn" for run in runs):
            return
        with prefect_api(deployed.api_url), get_client(sync_client=True) as client:
            state = client.read_flow_run(flow_run_id).state
        assert state is None or not state.is_final(), f"the run ended before training: {state}"
        time.sleep(0.5)
    raise AssertionError(f"training of rnn did not start within {timeout} s")


def test_a_training_process_killed_mid_run_fails_the_run_clearly_and_a_rerun_completes(
    deployed: Deployed,
) -> None:
    if not (deployed.root / "reports/registry.json").exists():
        pytest.skip("needs the completed run of the previous test")
    registry_before = registry_versions(deployed.root)
    registry_report = (deployed.root / "reports/registry.json").read_bytes()

    # More epochs: a params change, so the variant trains again, long enough to be killed mid-run.
    flow_run_id = deployed.run_deployment("epochs=6")
    wait_for_training(deployed, flow_run_id)
    time.sleep(1.0)
    killed = training_processes(deployed.worker)
    assert killed, "no training process found"
    for process in killed:
        process.kill()
    flow_run = deployed.wait(flow_run_id)

    assert flow_run.state.is_failed(), flow_run.state
    assert "stage train@rnn was killed by SIGKILL" in (flow_run.state.message or ""), flow_run.state.message
    assert registry_versions(deployed.root) == registry_before
    assert (deployed.root / "reports/registry.json").read_bytes() == registry_report
    # No half-written model where DVC (dvc.yaml's out) or the registry would take it.
    assert not (deployed.root / "models/rnn.keras").exists()
    assert "models/rnn.keras" in dvc_status(deployed.root)  # DVC knows it is missing, not "modified"

    # The rerun, and another pipeline run started at the same moment on the same checkout: the
    # workspace lock lets one train while the other waits, then finds everything up to date.
    other = subprocess.Popen(
        [sys.executable, "-m", "flows.pipeline", "--epochs", "6"],
        cwd=deployed.root,
        env=deployed.environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    rerun_id = deployed.run_deployment("epochs=6")
    rerun = deployed.wait(rerun_id)
    other_output, _ = other.communicate(timeout=FLOW_RUN_TIMEOUT)
    assert rerun.state.is_completed(), rerun.state.message
    assert other.returncode == 0, other_output[-3000:]

    assert dvc_status(deployed.root) == UP_TO_DATE
    finished = [
        run
        for run in mlflow_runs(deployed.root)
        if run.data.tags.get("variant") == "rnn" and run.info.status == "FINISHED"
    ]
    assert len(finished) == 2  # the first test's run, and exactly one of the two concurrent runs
    import keras

    model = keras.models.load_model(deployed.root / "models/rnn.keras")
    assert model.count_params() > 0
    record = json.loads((deployed.root / "reports/runs/rnn.json").read_text())
    assert record["mlflow_run_id"] == max(finished, key=lambda run: run.info.start_time).info.run_id
    # The rerun registered its candidate (the best on validation of every model, the baseline included):
    # a new version, unless the candidate's training run already is the champion (the only version).
    decision = json.loads((deployed.root / "reports/registry.json").read_text())
    created = decision["candidate"]["version"] not in {version for version, _, _ in registry_before}
    assert created == (decision["decision"] in ("promoted", "challenger")), decision
    assert len(registry_versions(deployed.root)) == len(registry_before) + int(created)


def test_scheduled_runs_wait_for_their_time(deployed: Deployed) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    with prefect_api(deployed.api_url), get_client(sync_client=True) as client:
        scheduled = client.read_flow_runs(
            deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["weekly-retraining"]))
        )
    upcoming = [run for run in scheduled if run.state and run.state.is_scheduled()]
    assert upcoming, "the scheduler created no upcoming runs"
    for run in upcoming:
        start = run.expected_start_time.astimezone(UTC)
        assert (start.weekday(), start.hour, start.minute) == (0, 3, 0)  # Mondays at 03:00 UTC
