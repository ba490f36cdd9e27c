"""DVC agrees with stages run from the flows (sentiment.orchestration), the workspace lock, and which
failures are retried. Real DVC in temp git repositories, real MLflow client, real processes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from conftest import run_command
from sentiment.config import load_params
from sentiment.config.workspace import Workspace
from sentiment.core.errors import ConfigError, DataError, ValidationFailed
from sentiment.orchestration.dvc_stages import PipelineBusy, StageOutcome, pipeline_lock, run_stage
from sentiment.orchestration.retry_policy import is_transient
from sentiment.orchestration.stage_runner import stage_function
from sentiment.stages.table import UnknownStage
from support.orchestration import BIN, PROJECT_ROOT, dvc_status, free_port, make_project, tiny_params

# dvc.yaml's data stages before the sequences' validation (validate_text gates the vocabulary).
PREPROCESSING = ("clean", "validate_text", "vocabulary", "sequences")
UP_TO_DATE = "Data and pipelines are up to date."


def run_preprocessing(root: Path) -> dict[str, StageOutcome]:
    workspace = Workspace.load(root)
    return {
        name: run_stage(root, name, lambda name=name: stage_function(name)(workspace))
        for name in PREPROCESSING
    }


@pytest.fixture(scope="module")
def preprocessed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("orchestration") / "workspace", tiny_params())
    assert dvc_status(root, *PREPROCESSING) != UP_TO_DATE  # nothing has run yet
    outcomes = run_preprocessing(root)
    assert outcomes == dict.fromkeys(PREPROCESSING, StageOutcome.RAN)
    return root


def test_dvc_reports_the_stages_a_flow_ran_as_up_to_date(preprocessed: Path) -> None:
    assert dvc_status(preprocessed, *PREPROCESSING) == UP_TO_DATE
    repro = subprocess.run(
        [BIN / "dvc", "repro", "sequences"], cwd=preprocessed, check=True, capture_output=True, text=True
    ).stdout
    assert "didn't change, skipping" in repro and "Running stage" not in repro


def test_an_unchanged_stage_is_not_recomputed(preprocessed: Path) -> None:
    outputs = [preprocessed / "data" / name for name in ("clean", "vocabulary", "sequences")]
    before = [path.stat().st_mtime_ns for path in outputs]
    assert run_preprocessing(preprocessed) == dict.fromkeys(PREPROCESSING, StageOutcome.UP_TO_DATE)
    assert [path.stat().st_mtime_ns for path in outputs] == before


def test_a_param_change_reruns_only_the_stages_that_read_it_and_reverting_restores_from_cache(
    tmp_path: Path,
) -> None:
    root = make_project(tmp_path / "workspace", tiny_params())
    run_preprocessing(root)
    sequences_file = root / "data/sequences/sequences.npz"
    original = sequences_file.read_bytes()
    params_file = root / "params.yaml"
    params_text = params_file.read_text()
    params_file.write_text(params_text.replace("max_len: 40", "max_len: 20"))
    assert run_preprocessing(root) == {
        "clean": StageOutcome.UP_TO_DATE,
        "validate_text": StageOutcome.UP_TO_DATE,
        "vocabulary": StageOutcome.UP_TO_DATE,
        "sequences": StageOutcome.RAN,
    }
    assert sequences_file.read_bytes() != original
    assert dvc_status(root, *PREPROCESSING) == UP_TO_DATE

    # Back to the old value: DVC's run cache has those outputs, so the flow checks them out, as
    # `dvc repro` would, instead of computing them again.
    params_file.write_text(params_text)
    assert run_preprocessing(root)["sequences"] == StageOutcome.RESTORED
    assert sequences_file.read_bytes() == original
    assert dvc_status(root, *PREPROCESSING) == UP_TO_DATE


def test_outputs_of_dvc_repro_are_not_recomputed_by_the_flow(tmp_path: Path) -> None:
    root = make_project(tmp_path / "workspace", tiny_params())
    run_command(root, str(BIN / "dvc"), "repro", *PREPROCESSING)  # the stages call `sentiment`: venv on PATH
    assert run_preprocessing(root) == dict.fromkeys(PREPROCESSING, StageOutcome.UP_TO_DATE)


def test_an_unknown_stage_is_named_with_the_file(preprocessed: Path) -> None:
    with pytest.raises(UnknownStage, match=r"no stage named 'tokenize'.*dvc\.yaml"):
        run_stage(preprocessed, "tokenize", lambda: None)


def test_a_second_pipeline_run_waits_for_the_workspace_or_fails_clearly(tmp_path: Path) -> None:
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with pipeline_lock(tmp_path, timeout_seconds=5):
            entered.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert entered.wait(10)
    with (
        pytest.raises(PipelineBusy, match=r"held by a pipeline run \(process \d+, since .*pipeline\.lock"),
        pipeline_lock(tmp_path, 0.2),
    ):
        pass
    threading.Timer(0.3, release.set).start()
    started = time.monotonic()
    with pipeline_lock(tmp_path, timeout_seconds=10):  # waits for the first run, then proceeds
        assert time.monotonic() - started >= 0.2
    holder.join()


def test_the_workspace_lock_is_released_when_its_holder_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from sentiment.orchestration.dvc_stages import pipeline_lock
        with pipeline_lock(Path({str(tmp_path)!r}), timeout_seconds=0):
            print("locked", flush=True)
            time.sleep(60)
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    with pytest.raises(PipelineBusy), pipeline_lock(tmp_path, timeout_seconds=0):
        pass
    holder.kill()
    holder.wait()
    with pipeline_lock(tmp_path, timeout_seconds=0):
        pass


def test_an_unreachable_tracking_server_is_transient_and_bad_data_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import mlflow

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    client = mlflow.MlflowClient(tracking_uri=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(Exception) as server_down:
        client.search_experiments()
    assert is_transient(server_down.value)

    assert not is_transient(ValidationFailed("3 expectations failed", "reports/validation/summary.json"))
    assert not is_transient(DataError("sequences not found", "data/sequences/sequences.npz"))
    assert not is_transient(ValueError("a bug"))
    try:
        raise DataError("corrupt table") from ConnectionError("reset")
    except DataError as wrapped:  # a deterministic error raised from a transient one is still deterministic
        assert not is_transient(wrapped)


def test_tracked_raw_data_is_pulled_from_the_dvc_remote_on_a_machine_without_it(tmp_path: Path) -> None:
    from sentiment.orchestration.pipeline_inputs import bring_raw_data

    root = make_project(tmp_path / "workspace", tiny_params())
    remote = tmp_path / "remote"
    subprocess.run([BIN / "dvc", "remote", "add", "--default", "storage", str(remote)], cwd=root, check=True)
    subprocess.run([BIN / "dvc", "push", "--quiet"], cwd=root, check=True)
    raw_table = root / "data/raw/reviews.parquet"
    recorded = raw_table.read_bytes()
    workspace = Workspace.load(root)
    assert bring_raw_data(workspace, "tracked") == "raw reviews as recorded in data.dvc"

    # Another machine: the same commit, but neither the data nor DVC's cache.
    shutil.rmtree(root / "data/raw")
    shutil.rmtree(root / ".dvc/cache")
    assert bring_raw_data(workspace, "tracked") == "raw reviews restored from the DVC remote"
    assert raw_table.read_bytes() == recorded


def test_tracked_raw_data_that_was_changed_by_hand_is_not_overwritten(tmp_path: Path) -> None:
    from sentiment.orchestration.pipeline_inputs import bring_raw_data

    root = make_project(tmp_path / "workspace", tiny_params())
    source = root / "data/raw/source.json"
    source.write_text('{"edited": true}\n')
    with pytest.raises(DataError, match=r"differs from the version recorded in data\.dvc.*dvc commit"):
        bring_raw_data(Workspace.load(root), "tracked")
    assert source.read_text() == '{"edited": true}\n'


def test_the_epochs_of_a_run_are_written_into_params_yaml_with_its_comments(tmp_path: Path) -> None:
    from sentiment.orchestration.pipeline_inputs import apply_param_changes

    root = tmp_path
    shutil.copy(PROJECT_ROOT / "params.yaml", root / "params.yaml")
    original = (root / "params.yaml").read_text()
    assert apply_param_changes(root, None) == {}
    assert (root / "params.yaml").read_text() == original
    assert apply_param_changes(root, 5) == {"training.epochs": 5}
    assert load_params(root / "params.yaml").training.epochs == 5
    edited = (root / "params.yaml").read_text()
    assert edited == original.replace("  epochs: 4", "  epochs: 5", 1)
    with pytest.raises(ConfigError, match=r"epochs: expected a positive integer"):
        apply_param_changes(root, 0)


def test_a_choice_of_variants_trains_only_those_and_never_edits_params_yaml(tmp_path: Path) -> None:
    """The pipeline flow's `variants` selects training stages; every variant stays in params.yaml."""
    from flows.training import student_stages, training_stages

    root = tmp_path
    shutil.copy(PROJECT_ROOT / "params.yaml", root / "params.yaml")
    original = (root / "params.yaml").read_text()
    workspace = Workspace.load(root)
    every = list(workspace.params.models)
    assert training_stages(workspace) == [*(f"train@{name}" for name in every), "baseline"]
    assert training_stages(workspace, ["lstm", "gru"]) == ["train@gru", "train@lstm", "baseline"]
    with pytest.raises(ConfigError, match=r"variants: \['transformer'\]"):
        training_stages(workspace, ["transformer"])
    # the students, after the training stages: every one by default, or those chosen
    students = [f"distill@{name}" for name in workspace.params.students]
    assert students and student_stages(workspace) == students
    assert student_stages(workspace, ["lstm"]) == [] and training_stages(workspace, ["student"]) == [
        "baseline"
    ]
    assert student_stages(workspace, ["bilstm", "student"]) == ["distill@student"]
    assert (root / "params.yaml").read_text() == original
    assert list(Workspace.load(root).params.models) == every


def test_dvc_repro_and_stage_commands_honour_the_workspace_held_by_a_flow(tmp_path: Path) -> None:
    """One lock for every entry point: while a flow holds the workspace, `dvc repro` (through the stage
    command) refuses at once, naming the holder, and writes nothing; once released it runs."""
    root = make_project(tmp_path / "workspace", tiny_params())
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from sentiment.orchestration.dvc_stages import pipeline_lock
        with pipeline_lock(Path({str(root)!r}), 0, "the pipeline flow"):
            print("locked", flush=True)
            time.sleep(60)
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        refused = run_command(root, "dvc", "repro", "clean", check=False)
        assert refused.returncode != 0
        assert f"held by the pipeline flow (process {holder.pid}" in refused.stdout + refused.stderr
        assert not (root / "data" / "clean").exists()
        direct = run_command(root, "sentiment", "stage", "clean", check=False)
        assert direct.returncode == 2 and "held by the pipeline flow" in direct.stderr
    finally:
        holder.kill()
        holder.wait()
    run_command(root, "dvc", "repro", "clean")
    assert (root / "data" / "clean" / "reviews.parquet").exists()
