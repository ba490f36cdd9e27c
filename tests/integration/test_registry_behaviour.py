"""The behavioural gate in the real register stage: real train and baseline stages on easy reviews, a
real temporary SQLite registry, the project's behavioural suite and thresholds.

The easy reviews' models know a dozen sentiment words and no negation ("not boring" is "boring" to
them), so they fail the suite's negation tests: the model best on validation is registered, but never
made champion, and the reason names the tests it failed. With the thresholds of params.yaml set to 0,
the same training run becomes champion: the thresholds, not the code, decide.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from mlflow import MlflowClient

from conftest import project_params
from sentiment import cli
from sentiment.config import BASELINE
from sentiment.config.workspace import Workspace
from sentiment.stages import model_registry
from support.serving import (
    BEHAVIOUR_GATE_OFF,
    easy_workspace,
    registry_snapshot,
    set_validation_score,
    train,
    train_baseline,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def no_tracking_server() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        yield


def set_behaviour(workspace: Workspace, behaviour: dict[str, Any]) -> Workspace:
    data = yaml.safe_load(workspace.params_file.read_text(encoding="utf-8"))
    data["behaviour"] = behaviour
    workspace.params_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return Workspace.load(workspace.root)


def report_of(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, Any], dict[str, Any]]:
    """A network best on validation (and right on every test review), the baseline, the project's
    thresholds; returns the workspace, the register report and the network's training record."""
    workspace = easy_workspace(tmp_path_factory.mktemp("behaviour") / "project")
    network = train(workspace)
    train_baseline(workspace)
    set_validation_score(workspace, BASELINE, 0.5)  # the network is the best on validation

    workspace = set_behaviour(workspace, project_params()["behaviour"])
    return workspace, report_of(model_registry.register(workspace)), network


def test_a_candidate_that_fails_the_suite_is_never_champion(gated: tuple[Workspace, Any, Any]) -> None:
    workspace, decision, network = gated
    results = decision["behaviour"]
    assert set(results) == {"tiny", "baseline"} and not any(result["passed"] for result in results.values())
    failed = results["tiny"]["failed_tests"]
    assert "negated_negative" in failed  # "not boring" is "boring" to a model that never saw "not"
    assert network["test"]["accuracy"] == 1.0  # right on every test review, all the same

    assert decision["candidate"]["variant"] == "tiny" and decision["candidate"]["behaviour_passed"] is False
    assert decision["decision"] == "challenger" and decision["champion_after"] is None
    assert "failed the behavioural tests" in decision["reason"]
    assert all(name in decision["reason"] for name in failed)
    snapshot = registry_snapshot(workspace)
    assert snapshot["aliases"] == {"challenger": "1"}
    tags, description = snapshot["versions"]["1"]
    assert tags["behaviour.passed"] == "false" and tags["behaviour.failed_tests"] == ",".join(failed)
    assert float(tags["behaviour.negated_negative"]) == results["tiny"]["pass_rates"]["negated_negative"]
    assert "negated_negative" in description

    assert decision["candidates"]["baseline"]["behaviour_passed"] is False
    uri = model_registry.mlflow_uri(workspace)
    for name, result in results.items():
        run_id = json.loads(workspace.run_record(name).read_text(encoding="utf-8"))["mlflow_run_id"]
        metrics = MlflowClient(uri).get_run(run_id).data.metrics
        assert metrics["behaviour.passed"] == 0.0
        assert metrics["behaviour.type.mft"] == result["type_rates"]["mft"]
        assert {f"behaviour.{test}" for test in result["pass_rates"]} <= set(metrics)


def test_sentiment_behave_prints_the_failing_cases_and_exits_1(
    gated: tuple[Workspace, Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    workspace, decision, _ = gated
    root = ["--root", str(workspace.root)]
    assert cli.main([*root, "behave", "--model", "models:/imdb-sentiment@challenger"]) == 1
    printed = capsys.readouterr().out
    assert "FAIL\tmft\tnegated_negative\t" in printed and printed.count("\n[negated_negative] ") >= 1
    assert "expected: positive" in printed
    rate = decision["behaviour"]["tiny"]["pass_rates"]["negated_negative"]
    assert f"negated_negative\t{rate:.2f}\t(threshold 0.8" in printed
    assert cli.main([*root, "behave"]) == 2  # no champion to run it on: a user error, named
    assert "cannot load models:/imdb-sentiment@champion" in capsys.readouterr().err


def test_with_the_thresholds_at_zero_the_same_run_becomes_champion(
    gated: tuple[Workspace, Any, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    workspace, first, _ = gated
    workspace = set_behaviour(workspace, {**project_params()["behaviour"], **BEHAVIOUR_GATE_OFF})
    decision = report_of(model_registry.register(workspace))
    assert decision["candidate"]["run_id"] == first["candidate"]["run_id"]
    assert decision["decision"] == "promoted" and decision["champion_after"] == "1"
    assert registry_snapshot(workspace)["versions"]["1"][0]["behaviour.passed"] == "true"
    assert cli.main(["--root", str(workspace.root), "behave"]) == 0
    assert "passed: mft " in capsys.readouterr().out
