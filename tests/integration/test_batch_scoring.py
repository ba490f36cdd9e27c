"""The batch-scoring flow (flows/scoring.py) under Prefect's test harness, scoring with a real champion:
the baseline stage's model, logged as the register stage logs it and given the champion alias in a
SQLite MLflow store (no network to train). Unchanged reviews show no drift; reviews in another
language, or much shorter, drift, end in the state "Drift" and emit the event prefect.yaml's
retraining trigger listens for; bad input fails naming the file and writes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import PROJECT_ROOT
from sentiment.config.workspace import Workspace
from sentiment.core.errors import DataError
from support.serving import easy_review, easy_workspace, train_baseline

pytestmark = pytest.mark.usefixtures("prefect_harness")

GERMAN = (
    "der film war leider sehr langweilig und die musik viel zu laut",
    "ich habe mich im kino gelangweilt obwohl die schauspieler gut waren",
    "eine schöne geschichte aber das ende kam viel zu schnell für mich",
    "die kamera wackelt ständig und der ton ist kaum zu verstehen",
)


@pytest.fixture(scope="module")
def champion(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """An easy workspace whose registered model's champion is its trained baseline."""
    import mlflow
    from mlflow import MlflowClient

    from sentiment.registry.registration import serving_config
    from sentiment.serving.baseline_pyfunc import log_baseline_serving_model
    from sentiment.stages.model_registry import mlflow_uri
    from sentiment.tracking.runs import using_tracking_uri

    previous = os.environ.pop("MLFLOW_TRACKING_URI", None)
    workspace = easy_workspace(tmp_path_factory.mktemp("scoring") / "project")
    train_baseline(workspace)
    workspace = Workspace.load(workspace.root)
    uri = mlflow_uri(workspace)
    config = workspace.params.registry
    with using_tracking_uri(uri), mlflow.start_run():
        info = log_baseline_serving_model(workspace.model_file("baseline"), serving_config(workspace.params))
        version = mlflow.register_model(info.model_uri, config.model_name).version
    MlflowClient(uri, registry_uri=uri).set_registered_model_alias(
        config.model_name, config.champion_alias, version
    )
    if previous is not None:
        os.environ["MLFLOW_TRACKING_URI"] = previous
    return workspace


def write_csv(path: Path, reviews: list[str]) -> Path:
    pd.DataFrame({"id": range(len(reviews)), "review": reviews}).to_csv(path, index=False)
    return path


def easy_reviews(count: int, seed: int) -> list[str]:
    """New reviews from the training reviews' generator (other draws: other reviews)."""
    generator = np.random.default_rng(seed)
    return [easy_review(generator, label % 2) for label in range(count)]


def run(workspace: Workspace, source: Path, target: Path, batch: str) -> Any:
    from flows.scoring import batch_scoring

    return batch_scoring(str(source), str(target), root=str(workspace.root), batch=batch, return_state=True)


def test_unchanged_reviews_show_no_drift(champion: Workspace, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "today.csv", easy_reviews(150, seed=11))
    target = tmp_path / "out" / "scored.parquet"
    state = run(champion, source, target, "unchanged")
    assert state.is_completed() and state.name == "Completed"
    summary = state.result()
    assert summary["verdict"] == "no drift" and summary["drifted"] == []
    scored = pd.read_parquet(target)
    assert list(scored["id"]) == list(range(150)) and scored["error"].isna().all()
    labels = np.array([label % 2 for label in range(150)])
    assert ((scored["label"] == "positive").to_numpy() == labels).mean() > 0.8  # the champion predicted them
    html, record = champion.drift_report("unchanged")
    assert json.loads(record.read_text(encoding="utf-8"))["verdict"] == "no drift"
    assert "batch unchanged: no drift" in html.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("reviews", "drifted"),
    [
        ([GERMAN[i % 4] for i in range(120)], {"oov", "words"}),
        ([" ".join(review.split()[:2]) for review in easy_reviews(120, seed=12)], {"length"}),
    ],
    ids=["german", "much-shorter"],
)
def test_other_language_or_much_shorter_reviews_drift_and_announce_it(
    champion: Workspace, tmp_path: Path, reviews: list[str], drifted: set[str]
) -> None:
    from flows.tasks import DRIFT_EVENT
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    state = run(champion, write_csv(tmp_path / "today.csv", reviews), tmp_path / "scored.csv", "drifted")
    assert state.is_completed() and state.name == "Drift"
    summary = state.result()
    assert summary["verdict"] == "drift" and drifted <= set(summary["drifted"])
    assert len(pd.read_csv(tmp_path / "scored.csv")) == len(reviews)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
            )
        )
        task_runs = {run.name for run in client.read_task_runs()}
    by_key = {artifact.key: artifact for artifact in artifacts}
    assert "batch drifted: drift in" in str(by_key["drift-report"].data)
    assert {row["verdict"] for row in json.loads(str(by_key["drift-statistics"].data))} >= {"drift"}
    assert any(name.startswith("drift-event") for name in task_runs)
    assert DRIFT_EVENT == "sentiment.drift.detected"


def test_the_retraining_trigger_matches_the_drift_event(champion: Workspace) -> None:
    """prefect.yaml's trigger, parsed as `prefect deploy` parses it, fires on the flow's event."""
    from flows.tasks import BATCH_RESOURCE, DRIFT_EVENT
    from prefect.cli.deploy._triggers import _initialize_deployment_triggers
    from prefect.events.schemas.events import Resource

    deployments = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]
    by_name = {deployment["name"]: deployment for deployment in deployments}
    assert by_name["daily-scoring"]["entrypoint"] == "flows/scoring.py:batch_scoring"
    assert by_name["daily-scoring"]["schedules"][0]["cron"] == "0 6 * * *"
    (trigger,) = _initialize_deployment_triggers(
        "weekly-retraining", by_name["weekly-retraining"]["triggers"]
    )
    assert trigger.expect == {DRIFT_EVENT}
    assert trigger.match.matches(Resource({"prefect.resource.id": f"{BATCH_RESOURCE}.2026-12-01"}))
    assert not trigger.match.matches(Resource({"prefect.resource.id": "prefect.flow-run.1"}))


def test_a_folder_of_text_files_is_scored_in_name_order(champion: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    for number, review in enumerate(easy_reviews(120, seed=13)):
        (folder / f"{number:03d}.txt").write_text(review, encoding="utf-8")
    (folder / "notes.md").write_text("not a review", encoding="utf-8")
    state = run(champion, folder, tmp_path / "scored.parquet", "folder")
    assert state.is_completed() and state.result()["verdict"] == "no drift"
    scored = pd.read_parquet(tmp_path / "scored.parquet")
    assert list(scored["file"]) == [f"{number:03d}.txt" for number in range(120)]


def _folder_with(tmp_path: Path, bad: str) -> tuple[Path, Path]:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "001.txt").write_text("the film was great", encoding="utf-8")
    if bad == "not-utf8":
        (folder / "002.txt").write_bytes(b"caf\xe9 ok")
    else:
        secret = tmp_path / "secret.txt"
        secret.write_text("outside", encoding="utf-8")
        (folder / "002.txt").symlink_to(secret)
    return folder, folder / "002.txt"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("column", "no 'review' column"),
        ("not-utf8", "the review file is not UTF-8 text"),
        ("link-outside", "is a link to .*outside the folder"),
    ],
)
def test_bad_input_fails_naming_the_file_and_writes_nothing(
    champion: Workspace, tmp_path: Path, bad: str, message: str
) -> None:
    if bad == "column":
        source = tmp_path / "today.csv"
        pd.DataFrame({"text": ["the film was great"]}).to_csv(source, index=False)
        named = source
    else:
        source, named = _folder_with(tmp_path, bad)
    target = tmp_path / "out" / "scored.parquet"
    state = run(champion, source, target, f"bad-{bad}")
    assert state.is_failed()
    with pytest.raises(DataError, match=message) as error:
        state.result()
    assert str(named) in str(error.value)
    assert not target.parent.exists()
    assert not any(champion.drift_report(f"bad-{bad}")[index].exists() for index in (0, 1))
