"""A model's reports: the headline figures DVC lists, the whole evaluation, and the timings apart."""

from __future__ import annotations

import json
from pathlib import Path

from sentiment.evaluation.claim_rows import FAILS, HOLDS, UNMEASURED, Claim
from sentiment.evaluation.claims_report import claims_summary
from sentiment.evaluation.outputs import HEADLINE_METRICS, ModelOutputs, write_reports

REPORT = {
    "validation": {"accuracy": 0.9, "f1": 0.8, "roc_auc": 0.95, "log_loss": 0.3, "loss": 0.3,
                   "precision": 0.7, "shuffled_accuracy": 0.85},
    "test": {"accuracy": 0.88, "f1": 0.87, "roc_auc": float("nan"), "log_loss": 0.31, "recall": 0.6,
             "shuffled_accuracy": 0.8, "accuracy_by_length": {"1-100": 0.9}},
    "training": {"epochs_run": 3},
    "speed": {"train_seconds": 12.5},
    "validation_split": "movie",
}  # fmt: skip


def outputs_in(root: Path) -> ModelOutputs:
    return ModelOutputs(
        model=root / "m.keras", evaluation=root / "evaluation.json", validation_metrics=root / "v.json",
        test_metrics=root / "t.json", timings=root / "timings.json", plots_dir=root / "plots",
        run_record=root / "run.json",
    )  # fmt: skip


def read(path: Path) -> dict[str, object]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def test_the_headline_files_hold_the_five_figures_and_the_timings_stay_apart(tmp_path: Path) -> None:
    outputs = outputs_in(tmp_path)
    write_reports(outputs, REPORT)

    assert set(read(outputs.validation_metrics)) == set(HEADLINE_METRICS)
    test = read(outputs.test_metrics)
    assert set(test) == set(HEADLINE_METRICS) and test["roc_auc"] is None  # NaN: JSON null
    assert read(outputs.timings) == {"train_seconds": 12.5}
    evaluation = read(outputs.evaluation)
    assert "speed" not in evaluation and evaluation["training"] == {"epochs_run": 3}
    assert evaluation["test"]["accuracy_by_length"] == {"1-100": 0.9}  # type: ignore[index]
    assert evaluation["validation_split"] == "movie"


def claim(verdict: str) -> Claim:
    return Claim(id=verdict, statement="", measurement="", verdict=verdict, reason="", numbers={})


def test_the_claims_metric_counts_the_claims_that_hold() -> None:
    assert claims_summary([claim(HOLDS), claim(FAILS), claim(UNMEASURED), claim(HOLDS)]) == {
        "claims": 4,
        "holding": 2,
    }
