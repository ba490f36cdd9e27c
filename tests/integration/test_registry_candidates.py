"""Every trained model is a candidate, chosen on validation, and promoted only by the paired gate: real
train, baseline and register stages on easy reviews, a real temporary SQLite registry.

Where a test needs one model to win the choice on validation whatever the tiny training gave, it
records that model's validation score in its metrics file (the file the register stage reads); the
models, their MLflow runs and the registration are real.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sentiment import cli
from sentiment.config.workspace import Workspace
from sentiment.serving import pyfunc
from sentiment.serving.inputs import OUTPUT_COLUMNS
from sentiment.stages import model_registry
from support import rest_server
from support.serving import (
    CRIPPLED_TRAINING,
    WEAK_BASELINE,
    easy_workspace,
    losing_baseline,
    registry_snapshot,
    set_validation_score,
    train,
    train_baseline,
)

pytestmark = pytest.mark.slow

CHAMPION = "models:/imdb-sentiment@champion"


@pytest.fixture(scope="module", autouse=True)
def no_tracking_server() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        yield


def report_of(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_registry_takes_the_model_validation_chooses_not_the_one_test_would(tmp_path: Path) -> None:
    workspace = easy_workspace(tmp_path / "project")
    network = train(workspace)
    baseline = train_baseline(workspace)
    assert network["test"]["accuracy"] > baseline["test"]["accuracy"]  # the test split would take it...
    set_validation_score(workspace, "tiny", baseline["validation"]["accuracy"] - 0.05)  # ...validation not

    decision = report_of(model_registry.register(workspace))
    assert decision["candidate"]["variant"] == "baseline" and decision["decision"] == "promoted"
    assert decision["candidate"]["run_id"] == baseline["run_id"]
    shown = decision["candidates"]
    assert shown["tiny"]["test_accuracy"] > shown["baseline"]["test_accuracy"]
    assert shown["tiny"]["validation_accuracy"] < shown["baseline"]["validation_accuracy"]
    tags = registry_snapshot(workspace)["versions"]["1"][0]
    assert tags["variant"] == "baseline" and tags["training_run_id"] == baseline["run_id"]


@pytest.fixture(scope="module")
def baseline_champion(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, Any]]:
    """A network champion (version 1), then the baseline trained well: it is the best on validation and
    beats the network on the test reviews (version 2). Returns the workspace and the second report."""
    workspace = easy_workspace(tmp_path_factory.mktemp("baseline-champion") / "project")
    train(workspace, **CRIPPLED_TRAINING)
    losing_baseline(workspace)
    assert report_of(model_registry.register(workspace))["candidate"]["variant"] == "tiny"
    train_baseline(workspace)
    return workspace, report_of(model_registry.register(workspace))


def test_the_baseline_becomes_champion_when_it_is_best(baseline_champion: tuple[Workspace, Any]) -> None:
    workspace, decision = baseline_champion
    assert decision["decision"] == "promoted" and decision["champion_after"] == "2"
    assert decision["candidate"]["variant"] == "baseline"
    assert decision["candidate"]["model_family"] == "count-based"
    assert decision["champion_before"] == {
        "version": "1",
        "variant": "tiny",
        "test_accuracy": decision["paired_test"]["champion_correct"]
        / decision["paired_test"]["test_reviews"],
    }
    snapshot = registry_snapshot(workspace)
    assert snapshot["aliases"]["champion"] == "2"
    tags = snapshot["versions"]["2"][0]
    assert tags["variant"] == "baseline" and tags["decision"] == "promoted"
    history = json.loads(snapshot["tags"]["champion_history"])
    assert [(event["version"], event["variant"]) for event in history] == [("1", "tiny"), ("2", "baseline")]


def test_a_baseline_champion_is_served_through_the_same_interface(
    baseline_champion: tuple[Workspace, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import mlflow

    from sentiment.tracking.runs import using_tracking_uri

    workspace, _ = baseline_champion
    store = model_registry.mlflow_uri(workspace)
    with using_tracking_uri(store):
        model = mlflow.pyfunc.load_model(CHAMPION)
    assert model.metadata.signature.to_dict() == pyfunc.signature().to_dict()
    assert model.metadata.saved_input_example_info is not None
    table = model.predict(pd.DataFrame({"review": ["a great and moving film", None]}))
    assert list(table.columns) == list(OUTPUT_COLUMNS)
    assert table["label"].tolist() == ["positive", None] and table["error"][1] == "review is missing (null)"

    root = ["--root", str(workspace.root)]
    assert cli.main([*root, "predict", "a superb and wonderful film"]) == 0
    label, probability = capsys.readouterr().out.strip().split("\t")
    assert label == "positive" and float(probability) >= 0.5
    source, target = tmp_path / "reviews.csv", tmp_path / "scored.csv"
    pd.DataFrame({"review": ["dull and clumsy", "brilliant"]}).to_csv(source, index=False)
    assert cli.main([*root, "score", str(source), str(target)]) == 0
    assert pd.read_csv(target)["label"].tolist() == ["negative", "positive"]

    with rest_server.serve(CHAMPION, store, tmp_path / "server.log", root=workspace.root) as server:
        status, answer = server.post(
            {"inputs": ["an awful boring plot", "great " * 2_000, "", "zorg blub film"]}
        )
    assert status == 200, answer
    rows = answer["predictions"]
    assert [row["label"] for row in rows] == ["negative", "positive", None, rows[3]["label"]]
    assert rows[1]["words"] == 2_000 and rows[1]["truncated"] is False  # the baseline reads whole reviews
    assert rows[2]["error"] == "review is empty"
    assert rows[3]["oov_share"] == pytest.approx(2 / 3) and "unreliable" in rows[3]["warning"]


def test_a_large_gain_that_is_not_significant_stays_challenger(tmp_path: Path) -> None:
    # A test split of 8 reviews: the weak baseline (champion) gets some wrong that the network gets
    # right, a gain far above the margin, but too few reviews for McNemar's test to tell it from luck.
    workspace = easy_workspace(tmp_path / "project", test_per_label=4)
    train(workspace, **CRIPPLED_TRAINING)
    set_validation_score(workspace, "tiny", 0.0)
    train_baseline(workspace, **WEAK_BASELINE)
    first = report_of(model_registry.register(workspace))
    assert first["candidate"]["variant"] == "baseline" and first["champion_after"] == "1"

    train(workspace)
    decision = report_of(model_registry.register(workspace))
    paired = decision["paired_test"]
    assert decision["candidate"]["variant"] == "tiny" and paired["test_reviews"] == 8
    assert paired["gain"] >= paired["required_gain"] and paired["gain"] / 8 >= 0.1
    assert paired["p_value"] >= workspace.params.registry.alpha
    assert decision["decision"] == "challenger" and decision["champion_after"] == "1"
    assert "not significant" in decision["reason"]
    assert registry_snapshot(workspace)["aliases"] == {"champion": "1", "challenger": "2"}
