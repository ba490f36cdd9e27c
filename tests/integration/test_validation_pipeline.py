"""A corrupted raw table stops both orchestrators at validation: `dvc repro` in a temp git+DVC repository
(no later stage's output exists) and the Prefect preprocessing flow (a failed task run)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import WorkspaceFactory, run_command
from sentiment.core.errors import ValidationFailed

CORRUPTED_REVIEW = "train/pos/101"
PASSED_STAGES = {"clean"}
FAILING_STAGE = "validate_text"


def corrupt_raw_table(root: Path) -> None:
    """One review gets the label 2, as a broken export or a hand edit could leave it."""
    path = root / "data" / "raw" / "reviews.parquet"
    table = pd.read_parquet(path)
    table.loc[table["review_id"] == CORRUPTED_REVIEW, "label"] = 2
    table.to_parquet(path, index=False)


def stage_outputs(root: Path) -> dict[str, list[Path]]:
    """Every stage of the project's dvc.yaml (foreach stages expanded) and the paths of its outputs."""
    from dvc.repo import Repo
    from dvc.stage import PipelineStage

    with Repo(str(root)) as repo:
        return {
            stage.name: [Path(out.fs_path) for out in stage.outs]
            for stage in repo.index.stages
            if isinstance(stage, PipelineStage)
        }


@pytest.mark.slow
def test_dvc_repro_stops_at_validation_and_no_later_stage_output_exists(dvc_project: Path) -> None:
    root = dvc_project
    run_command(root, "sentiment", "fetch", "--synthetic")
    corrupt_raw_table(root)

    result = run_command(root, "dvc", "repro", check=False)

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "data validation (text) failed" in output
    assert "raw_reviews.label: labels are 0 or 1" in output and f"{CORRUPTED_REVIEW} (label=2)" in output
    report = json.loads((root / "reports" / "validation" / "text.json").read_text(encoding="utf-8"))
    assert report["success"] is False
    outputs = stage_outputs(root)
    assert FAILING_STAGE in outputs and "validate_sequences" in outputs
    later = {name: paths for name, paths in outputs.items() if name not in PASSED_STAGES | {FAILING_STAGE}}
    assert {name: [str(path) for path in paths if path.exists()] for name, paths in later.items()} == {
        name: [] for name in later
    }
    lock = (root / "dvc.lock").read_text(encoding="utf-8")
    assert "clean:" in lock and f"{FAILING_STAGE}:" not in lock

    # Repaired data: the pipeline goes on through both validations, and their reports hold the figures.
    run_command(root, "sentiment", "fetch", "--synthetic")
    run_command(root, "dvc", "repro", "validate_sequences")
    assert (root / "reports" / "validation" / "passed.json").exists()
    text = json.loads((root / "reports" / "validation" / "text.json").read_text(encoding="utf-8"))
    sequences = json.loads((root / "reports" / "validation" / "sequences.json").read_text(encoding="utf-8"))
    assert "train_positive_share" in text["metrics"] and "test_oov_rate" in sequences["metrics"]
    assert "up to date" in run_command(root, "dvc", "status", "validate_sequences").stdout


@pytest.mark.slow
def test_a_failed_text_validation_says_how_to_restore_the_recorded_raw_reviews(dvc_project: Path) -> None:
    """`dvc repro` records the changed raw reviews in data.dvc before validation fails; the error names the
    commands that bring the last committed version back, and they do."""
    root = dvc_project
    run_command(root, "sentiment", "fetch", "--synthetic")
    run_command(root, "git", "add", "--all")
    run_command(root, "git", "commit", "--quiet", "-m", "good raw reviews")
    good = (root / "data" / "raw" / "reviews.parquet").read_bytes()
    corrupt_raw_table(root)

    result = run_command(root, "dvc", "repro", check=False)

    assert result.returncode != 0
    hint = "git checkout data.dvc && dvc checkout data.dvc"
    assert hint in result.stdout + result.stderr
    for command in hint.split(" && "):
        run_command(root, *command.split())
    assert (root / "data" / "raw" / "reviews.parquet").read_bytes() == good
    run_command(root, "dvc", "repro", "validate_text")


@pytest.mark.usefixtures("prefect_harness")
def test_the_preprocessing_flow_reports_the_failed_validation_as_a_failed_task_run(
    make_workspace: WorkspaceFactory,
) -> None:
    from flows.preprocessing import preprocessing
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    workspace = make_workspace()
    corrupt_raw_table(workspace.root)

    state = preprocessing(root=str(workspace.root), return_state=True)

    assert state.is_failed()
    with pytest.raises(ValidationFailed, match=rf"labels are 0 or 1.*{CORRUPTED_REVIEW}"):
        state.result()
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
        )
    assert sorted((run.name, run.state_name) for run in task_runs) == [
        ("clean", "Completed"),
        ("validate_text", "Failed"),
    ]
    paths = workspace.params.paths
    assert not workspace.path(paths.vocabulary).exists() and not workspace.path(paths.sequences).exists()
    assert not workspace.validation_gate.exists()
