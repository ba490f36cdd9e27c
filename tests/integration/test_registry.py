"""Champion/challenger gating on a real, temporary SQLite registry: promotion, challenger, history,
rollback, and runs that must not touch the registry."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from conftest import run_command
from sentiment import cli
from sentiment.config import params_from_mapping
from sentiment.config.workspace import Workspace
from sentiment.core.errors import ConfigError, DataError, ValidationFailed
from sentiment.registry import champion as registry
from sentiment.registry import registration, served
from sentiment.stages import data_validation, model_registry
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages
from sentiment.tracking.runs import experiment_name
from support.serving import (
    CRIPPLED_TRAINING,
    EASY_ARCHIVE,
    TINY_VARIANT,
    InjectedCrash,
    crash_after_publishing,
    crash_while_fitting,
    easy_archive,
    easy_workspace,
    losing_baseline,
    prepare_data,
    registry_snapshot,
    train,
    training_files,
)

pytestmark = pytest.mark.slow

BAD = {"pos": 5, "neg": 2}  # a positive review rated 5 of 10: the ratings no longer agree with the labels


@pytest.fixture()
def registry_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return easy_workspace(tmp_path / "project", {"tiny": TINY_VARIANT})


def report(path: Path) -> dict[str, object]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("margin", -0.01, "registry.margin: expected >= 0"),
        ("alpha", 0.0, "registry.alpha: expected in \\(0, 1\\)"),
        ("baseline_margin", 1.0, "registry.baseline_margin: expected"),
        ("comparison_metric", "log_loss", "registry.comparison_metric: 'log_loss' is not one of"),
        ("threshold", 1.5, "registry.threshold: expected in \\(0, 1\\)"),
        ("model_name", "bad name'", "registry.model_name: expected letters"),
        ("challenger_alias", "champion", "must differ"),
        ("unknown_key", 1, "unknown key"),
    ],
)
def test_registry_settings_are_checked(
    params_data: dict[str, Any], key: str, value: object, message: str
) -> None:
    params_data["registry"][key] = value
    with pytest.raises(ConfigError, match=message):
        params_from_mapping(params_data)


def test_better_candidate_promoted_worse_one_challenger_and_rollback_restores(
    registry_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = registry_workspace
    losing_baseline(workspace)  # every model competes; here the networks are the candidates
    untrained = train(workspace, **CRIPPLED_TRAINING)
    first = report(model_registry.register(workspace))
    assert first["decision"] == "promoted" and first["champion_after"] == "1"
    assert first["candidate"]["variant"] == "tiny" and "first registered model" in first["reason"]
    assert first["paired_test"] is None
    # Run again on the champion's own training run: no write, the same decision reported.
    snapshot = registry_snapshot(workspace)
    assert report(model_registry.register(workspace)) == first and registry_snapshot(workspace) == snapshot

    # The champion is scored again, through its registered pyfunc on the raw test reviews, review by
    # review beside the candidate: it scores what its training measured on the pipeline's sequences.
    trained = train(workspace)
    trained_outputs = {name: path.read_bytes() for name, path in training_files(workspace, "tiny").items()}
    second = report(model_registry.register(workspace))
    assert second["decision"] == "promoted" and second["champion_after"] == "2"
    assert second["champion_before"]["version"] == "1"
    assert second["champion_before"]["test_accuracy"] == pytest.approx(untrained["test"]["accuracy"])
    assert second["candidate"]["test_accuracy"] == pytest.approx(trained["test"]["accuracy"])
    paired = second["paired_test"]
    reviews = paired["test_reviews"]
    assert paired["candidate_correct"] == round(trained["test"]["accuracy"] * reviews)
    assert paired["gain"] == paired["candidate_right_only"] - paired["champion_right_only"]
    assert paired["gain"] >= paired["required_gain"] and paired["p_value"] < workspace.params.registry.alpha

    worse = train(workspace, **CRIPPLED_TRAINING)
    assert worse["run_id"] != untrained["run_id"]
    third = report(model_registry.register(workspace))
    assert third["decision"] == "challenger" and third["champion_after"] == "2"
    snapshot = registry_snapshot(workspace)
    assert snapshot["aliases"] == {"champion": "2", "challenger": "3"}
    tags, description = snapshot["versions"]["3"]
    assert tags["training_run_id"] == worse["run_id"] and tags["decision"] == "challenger"
    assert tags["variant"] == "tiny" and tags["model_family"] == "recurrent"
    assert float(tags["test_accuracy"]) == pytest.approx(worse["test"]["accuracy"])
    assert float(tags["validation_accuracy"]) == pytest.approx(worse["validation"]["accuracy"])
    assert float(tags["champion_test_accuracy"]) == pytest.approx(trained["test"]["accuracy"])
    worse_paired = third["paired_test"]
    assert int(tags["candidate_right_only"]) == worse_paired["candidate_right_only"]
    assert int(tags["champion_right_only"]) == worse_paired["champion_right_only"]
    assert float(tags["p_value"]) == worse_paired["p_value"]
    assert (tags["margin"], tags["alpha"]) == ("0.002", "0.05")
    assert {"git_commit", "data_version", "test_data_hash", "experiment_id"} <= set(tags)
    assert "below the margin" in tags["decision_reason"]
    assert (
        f"{worse['test']['accuracy']:.4f}" in description
        and f"{trained['test']['accuracy']:.4f}" in description
    )

    # The same training outputs again: no new version, same decision.
    again = report(model_registry.register(workspace))
    assert again["candidate"]["version"] == "3" and len(registry_snapshot(workspace)["versions"]) == 3

    assert cli.main(["--root", str(workspace.root), "rollback", "--reason", "bad reviews in production"]) == 0
    assert "champion is version 1 again" in capsys.readouterr().out
    snapshot = registry_snapshot(workspace)
    assert snapshot["aliases"]["champion"] == "1"
    history = json.loads(snapshot["tags"][registry.HISTORY_TAG])
    assert [(event["event"], event["version"], event["previous_version"]) for event in history] == [
        ("promoted", "1", None),
        ("promoted", "2", "1"),
        ("rollback", "1", "2"),
    ]
    assert history[-1]["reason"] == "bad reviews in production"
    promotion = history[1]  # the gate's figures travel with the promotion
    assert promotion["variant"] == "tiny" and promotion["decision"] == "promoted"
    assert {key: promotion[key] for key in paired} == paired
    assert promotion["validation_accuracy"] == pytest.approx(trained["validation"]["accuracy"])
    assert "champion_until" in snapshot["versions"]["2"][0]

    # A rolled-back version is not promoted again when the stage re-runs on its training outputs
    # (restored as `dvc checkout` would restore them)...
    for name, path in training_files(workspace, "tiny").items():
        path.write_bytes(trained_outputs[name])
    rejected = report(model_registry.register(workspace))
    assert rejected["decision"] == "rejected" and rejected["candidate"]["version"] == "2"
    assert registry_snapshot(workspace)["aliases"]["champion"] == "1"
    # ...and the first champion has no predecessor to roll back to.
    assert cli.main(["--root", str(workspace.root), "rollback"]) == cli.EXIT_USER_ERROR
    assert "first champion" in capsys.readouterr().err


def test_failed_validation_or_training_leaves_the_registry_as_it_was(
    dvc_project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    workspace = easy_workspace(dvc_project, {"tiny": TINY_VARIANT})
    train(workspace, **CRIPPLED_TRAINING)
    losing_baseline(workspace)

    # A trained model, but the data validation of the next pipeline run failed: new reviews whose
    # ratings contradict their labels.
    raw_stages.fetch_raw(workspace, archive=easy_archive(dvc_project / "archive" / "bad.tar.gz", ratings=BAD))
    preprocessing_stages.clean(workspace)
    with pytest.raises(ValidationFailed, match="ratings agree with labels"):
        data_validation.validate_text(workspace)
    assert report(workspace.validation_report("text"))["success"] is False
    assert not workspace.validation_gate.exists()
    with pytest.raises(DataError, match="data validation 'text' failed"):
        model_registry.register(workspace)
    assert registry_snapshot(workspace) == {} and not workspace.registry_report.exists()

    # The reviews that passed are back; the stage as dvc.yaml defines it registers the model.
    prepare_data(workspace, workspace.path(EASY_ARCHIVE))
    run_command(dvc_project, "dvc", "repro", "--single-item", "register")
    assert "reports/registry.json" in (dvc_project / "dvc.lock").read_text(encoding="utf-8")
    decision_file = workspace.registry_report
    assert report(decision_file)["decision"] == "promoted"
    before, decision_before = registry_snapshot(workspace), decision_file.read_text(encoding="utf-8")
    served_before = _served_models(workspace)
    assert len(served_before) == 1

    # A better model whose training run failed: the stage died after publishing its files.
    with crash_after_publishing(), pytest.raises(InjectedCrash):
        train(workspace)
    assert training_files(workspace, "tiny")["run"].is_file()
    with pytest.raises(DataError, match="is FAILED, not FINISHED"):
        model_registry.register(workspace)

    # A training that failed while fitting leaves no outputs (through the CLI, as dvc.yaml runs it).
    with crash_while_fitting(), pytest.raises(InjectedCrash):
        train(workspace)
    assert not training_files(workspace, "tiny")["model"].exists()
    assert cli.main(["--root", str(workspace.root), "stage", "register"]) == cli.EXIT_USER_ERROR
    assert "model of variant 'tiny' not found" in capsys.readouterr().err

    assert registry_snapshot(workspace) == before
    assert decision_file.read_text(encoding="utf-8") == decision_before
    assert _served_models(workspace) == served_before


def _client(workspace: Workspace):  # type: ignore[no-untyped-def]
    from mlflow import MlflowClient

    uri = model_registry.mlflow_uri(workspace)
    return MlflowClient(uri, registry_uri=uri)


def _served_models(workspace: Workspace) -> list[str]:
    """The served models logged by the register stage (the train stage logs its own networks)."""
    client = _client(workspace)
    experiment = client.get_experiment_by_name(experiment_name())
    models = client.search_logged_models([experiment.experiment_id])
    return sorted(model.model_id for model in models if model.name == served.SERVED_MODEL_NAME)


def test_a_training_run_left_open_by_a_killed_register_is_closed_by_the_next(tmp_path: Path) -> None:
    """The register stage reopens the candidate's finished training run to log the served model; killed
    there, the run stays RUNNING. The next register sees the reopening process is gone, closes the run
    again and registers, instead of refusing the run for good."""
    from mlflow import MlflowClient

    from sentiment.tracking import orphans

    workspace = easy_workspace(tmp_path / "project", {"tiny": TINY_VARIANT})
    run_id = train(workspace)["run_id"]
    losing_baseline(workspace)
    client = MlflowClient(model_registry.mlflow_uri(workspace))
    # What a register killed inside its log step leaves: the run reopened, marked by a process now gone.
    client.set_tag(run_id, registration.REOPENED_TAG, "true")
    client.set_tag(run_id, orphans.PID_TAG, "999999999")
    client.set_tag(run_id, orphans.HOST_TAG, orphans.host_name())
    client.update_run(run_id, status="RUNNING")
    assert client.get_run(run_id).info.status == "RUNNING"

    decision = json.loads(model_registry.register(workspace).read_text(encoding="utf-8"))

    assert decision["decision"] == "promoted"
    assert client.get_run(run_id).info.status == "FINISHED"
    # A run RUNNING because its own training still runs (a live process) is still refused.
    client.set_tag(run_id, orphans.PID_TAG, str(os.getpid()))
    client.update_run(run_id, status="RUNNING")
    with pytest.raises(DataError, match="is RUNNING, not FINISHED"):
        model_registry.register(workspace)
