"""A stage killed mid-run leaves its staging directory behind; the next run of that model removes it."""

from __future__ import annotations

from pathlib import Path

from sentiment.evaluation.outputs import ModelOutputs, staged


def outputs_of(root: Path, name: str) -> ModelOutputs:
    return ModelOutputs(
        model=root / "models" / f"{name}.keras",
        evaluation=root / "reports" / "evaluation" / f"{name}.json",
        validation_metrics=root / "reports" / "metrics" / "validation" / f"{name}.json",
        test_metrics=root / "reports" / "metrics" / "test" / f"{name}.json",
        timings=root / "reports" / "timings" / f"{name}.json",
        plots_dir=root / "reports" / "plots" / name,
        run_record=root / "reports" / "runs" / f"{name}.json",
    )


def test_the_next_run_removes_a_killed_runs_staging_directory_and_only_that(tmp_path: Path) -> None:
    models = tmp_path / "models"
    stale = models / ".rnn.k1ll3d.staging"
    (stale / "plots").mkdir(parents=True)
    (stale / "rnn.keras").write_bytes(b"half a model")
    other_model = models / ".gru.running.staging"
    other_model.mkdir()
    users_file = models / ".rnn.notes"
    users_file.write_text("not the project's")

    with staged(outputs_of(tmp_path, "rnn")) as staging:
        assert staging.directory.exists()
        assert not stale.exists()
    assert not staging.directory.exists()
    assert other_model.exists() and users_file.read_text() == "not the project's"
    assert sorted(path.name for path in models.iterdir()) == [".gru.running.staging", ".rnn.notes"]
