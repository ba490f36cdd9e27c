"""The real `dvc repro` of the training stages in a temporary git repository, on tiny synthetic data:
one stage per variant, DVC metrics and plots for each, and a change to one variant's params retrains
that variant alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from conftest import keep_students_of, run_command
from support.training import runs_of, tiny_training_overrides

pytestmark = pytest.mark.slow

VARIANTS = ("rnn", "gru")
TERMINAL_COLUMNS = 120  # a wide terminal; the seven models and the claims of params.yaml take 126


def stages_run(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


def write_tiny_params(root: Path) -> dict:
    path = root / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    overrides = tiny_training_overrides()
    for section in ("source", "vocabulary", "sequences", "training", "diagnostics"):
        params[section].update(overrides[section])
    params["source"]["synthetic_reviews"] = 240  # enough reviews for every validation check
    params["models"] = {name: {**params["models"][name], **overrides["models"][name]} for name in VARIANTS}
    keep_students_of(params)
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return params


def test_changing_one_variant_retrains_only_that_variant(dvc_project: Path) -> None:
    root = dvc_project
    params = write_tiny_params(root)
    run_command(root, "sentiment", "fetch", "--synthetic")

    first = stages_run(run_command(root, "dvc", "repro", "train").stdout)
    assert {"train@rnn", "train@gru", "validate_sequences"} <= set(first)
    assert first.index("validate_sequences") < first.index("train@rnn")
    assert stages_run(run_command(root, "dvc", "repro", "train").stdout) == []

    metrics = json.loads(run_command(root, "dvc", "metrics", "show", "--json").stdout)
    shown = next(iter(metrics.values()))["data"]
    headline = {"accuracy", "f1", "roc_auc", "log_loss", "shuffled_accuracy"}
    for name in VARIANTS:
        for split in ("validation", "test"):
            assert set(shown[f"reports/metrics/{split}/{name}.json"]["data"]) == headline
    # the headline figures only: the table fits a terminal (the details are in reports/evaluation)
    table = run_command(root, "dvc", "metrics", "show").stdout.splitlines()
    assert table[0].split() == ["Path", *sorted(headline)]  # the columns: the headline figures only
    rows = {line.split()[0] for line in table[1:] if line.strip()}
    splits = ("validation", "test")
    shown_files = {f"reports/metrics/{split}/{name}.json" for split in splits for name in VARIANTS}
    assert shown_files <= rows
    assert max(map(len, table)) <= TERMINAL_COLUMNS
    plots = json.loads(run_command(root, "dvc", "plots", "show", "--json", "--split").stdout)
    for name in VARIANTS:
        for plot in ("roc.csv", "confusion.csv", "learning_curves.csv", "gradient_norms.csv"):
            assert f"reports/plots/{name}/{plot}" in plots["data"]
    # only the baseline, which this test does not run, has no plots yet
    assert {error["name"].split("/")[2] for error in plots.get("errors", [])} <= {"baseline"}

    params["models"]["gru"]["units"] = [5]
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    assert set(json.loads(run_command(root, "dvc", "status", "train", "--json").stdout)) == {"train@gru"}
    assert stages_run(run_command(root, "dvc", "repro", "train").stdout) == ["train@gru"]

    gru_runs = runs_of(root, "gru")
    assert len(runs_of(root, "rnn")) == 1 and len(gru_runs) == 2
    assert sorted(run.data.params["model.units"] for run in gru_runs) == ["4", "5"]
    # the retrained variant belongs to a new execution of the pipeline
    assert len({run.data.tags["pipeline_run"] for run in gru_runs}) == 2
