"""MLflow tracking: where runs go, and the lineage that groups the runs of one pipeline execution."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from conftest import command_environment
from sentiment.config import Params
from sentiment.config.workspace import Workspace
from sentiment.tracking import lineage as lineages
from sentiment.tracking import runs as tracking


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        tracking.TRACKING_URI_VARIABLE,
        lineages.PIPELINE_RUN_VARIABLE,
        tracking.EXPERIMENT_VARIABLE,
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture()
def data_files(tmp_path: Path) -> dict[str, Path]:
    sequences = tmp_path / "sequences.npz"
    sequences.write_bytes(b"some sequences")
    (tmp_path / "data.dvc").write_text("outs:\n- md5: abc123.dir\n  path: data/raw\n", encoding="utf-8")
    return {"sequences": sequences}


def test_runs_go_to_the_workspace_sqlite_store_unless_a_server_is_named(
    tmp_path: Path, project_config: Params, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (
        tracking.tracking_uri(Workspace(tmp_path.resolve(), project_config))
        == f"sqlite:///{tmp_path.resolve()}/mlflow.db"
    )
    assert tracking.experiment_name() == "imdb-sentiment"
    monkeypatch.setenv(tracking.TRACKING_URI_VARIABLE, "http://127.0.0.1:5000")
    monkeypatch.setenv(tracking.EXPERIMENT_VARIABLE, "other")
    assert tracking.tracking_uri(Workspace(tmp_path.resolve(), project_config)) == "http://127.0.0.1:5000"
    assert tracking.experiment_name() == "other"


def test_derived_pipeline_run_is_stable_and_follows_params_and_data(
    tmp_path: Path, data_files: dict[str, Path], project_config: Params
) -> None:
    first = lineages.lineage(Workspace(tmp_path, project_config), data_files)
    assert first == lineages.lineage(Workspace(tmp_path, project_config), data_files)
    assert first.raw_data_md5 == "abc123.dir" and first.git_commit == lineages.UNKNOWN
    assert first.data_md5 == {"sequences": lineages.file_md5(data_files["sequences"])}
    assert first.pipeline_run.startswith("repro-")

    changed = dataclasses.replace(project_config, seed=project_config.seed + 1)
    assert lineages.lineage(Workspace(tmp_path, changed), data_files).pipeline_run != first.pipeline_run
    data_files["sequences"].write_bytes(b"other sequences")
    assert (
        lineages.lineage(Workspace(tmp_path, project_config), data_files).pipeline_run != first.pipeline_run
    )


def test_the_flow_sets_the_pipeline_run_and_the_git_commit_is_recorded(
    tmp_path: Path, data_files: dict[str, Path], project_config: Params, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = command_environment()
    for command in (
        ["git", "init", "--quiet"],
        ["git", "add", "."],
        ["git", "commit", "--quiet", "-m", "data"],
    ):
        subprocess.run(command, cwd=tmp_path, env=environment, check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout
    monkeypatch.setenv(lineages.PIPELINE_RUN_VARIABLE, "flow-run-42")

    lineage = lineages.lineage(Workspace(tmp_path, project_config), data_files)
    assert lineage.pipeline_run == "flow-run-42"
    assert lineage.git_commit == commit.strip()
    tags = lineage.tags()
    assert tags["pipeline_run"] == "flow-run-42" and tags["mlflow.source.git.commit"] == commit.strip()
    assert tags["data.sequences_md5"] == lineage.data_md5["sequences"]


def test_parameters_flatten_every_setting(project_config: Params) -> None:
    settings = tracking.run_parameters(
        project_config, {"model": project_config.models["deep"], "training": project_config.training}
    )
    assert settings["model.units"] == ",".join(str(units) for units in project_config.models["deep"].units)
    assert settings["training.clipnorm"] == project_config.training.clipnorm
    assert settings["vocabulary.num_words"] == project_config.vocabulary.num_words
    assert settings["sequences.max_len"] == project_config.sequences.max_len
    assert settings["seed"] == project_config.seed and "cleaning.remove_stopwords" in settings


def test_metrics_are_flattened_without_missing_values() -> None:
    flat = tracking.finite_metrics(
        {"test": {"accuracy": 0.9, "roc_auc": float("nan")}, "gradients": {"x": None}}
    )
    assert flat == {"test_accuracy": 0.9}
    nested = tracking.finite_metrics({"test": {"accuracy_by_length": {"1-100": 0.8, "401-inf": None}}})
    assert nested == {"test_accuracy_by_length_1-100": 0.8}


def test_an_unreachable_tracking_server_is_named(
    tmp_path: Path, data_files: dict[str, Path], project_config: Params, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(tracking.TRACKING_URI_VARIABLE, "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    lineage = lineages.lineage(Workspace(tmp_path, project_config), data_files)
    with (
        pytest.raises(tracking.TrackingError, match=r"http://127\.0\.0\.1:9"),
        tracking.tracked_run(Workspace(tmp_path, project_config), "rnn", lineage, {}, {}),
    ):
        pass


def test_the_experiment_opens_on_its_training_runs_in_the_mlflow_ui(
    tmp_path: Path, data_files: dict[str, Path], project_config: Params
) -> None:
    """MLflow 3 shows an experiment without a kind in its GenAI view; ours is marked model development,
    also when it was made before (a kind someone chose is kept)."""
    from mlflow import MlflowClient

    workspace = Workspace(tmp_path.resolve(), project_config)
    uri = tracking.tracking_uri(workspace)
    client = MlflowClient(uri)
    made = client.get_experiment(tracking.experiment_id(workspace, uri))
    assert made.tags[tracking.EXPERIMENT_KIND_TAG] == "custom_model_development"

    client.delete_experiment_tag(made.experiment_id, tracking.EXPERIMENT_KIND_TAG)  # an older experiment
    tracking.experiment_id(workspace, uri)
    assert client.get_experiment(made.experiment_id).tags[tracking.EXPERIMENT_KIND_TAG] == (
        "custom_model_development"
    )
    client.set_experiment_tag(made.experiment_id, tracking.EXPERIMENT_KIND_TAG, "genai_development")
    tracking.experiment_id(workspace, uri)
    assert client.get_experiment(made.experiment_id).tags[tracking.EXPERIMENT_KIND_TAG] == "genai_development"
