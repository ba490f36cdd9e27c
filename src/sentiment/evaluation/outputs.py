"""What a model's training stage writes, staged in a temporary directory and published only on success.

A stage builds everything (model file, reports, plots, embeddings, the run record) in a staging
directory beside the model file; only when all of it, and the MLflow run, succeeded are the files
moved into place, the run record last. A failed stage therefore leaves no model file, and never a
model next to another run's metrics.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sentiment.core.files import write_json
from sentiment.evaluation import metrics as evaluation
from sentiment.evaluation import plots

IMAGES = "images"
_STAGING_SUFFIX = ".staging"


@dataclass(frozen=True)
class ModelOutputs:
    """Where one model's stage writes; `stages` decides the paths."""

    model: Path
    evaluation: Path  # the whole evaluation report (`write_reports`)
    validation_metrics: Path  # the headline figures DVC shows as metrics, one file per split
    test_metrics: Path
    timings: Path  # the only figures that differ between two runs with the same params and seed
    plots_dir: Path
    run_record: Path
    embeddings_dir: Path | None = None

    def paths(self) -> list[Path]:
        paths = [
            self.plots_dir, self.embeddings_dir, self.evaluation, self.validation_metrics,
            self.test_metrics, self.timings, self.model, self.run_record,
        ]  # fmt: skip
        return [path for path in paths if path is not None]

    def remove(self) -> None:
        """Remove earlier outputs, so that a failure cannot leave a stale model looking current."""
        for path in self.paths():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)


class Staging:
    """A staging directory whose entries mirror a ModelOutputs, same names, same filesystem."""

    def __init__(self, outputs: ModelOutputs, directory: Path) -> None:
        self.outputs = outputs
        self.directory = directory
        self.staged = ModelOutputs(
            model=directory / outputs.model.name,
            evaluation=directory / "evaluation.json",
            validation_metrics=directory / "validation_metrics.json",
            test_metrics=directory / "test_metrics.json",
            timings=directory / "timings.json",
            plots_dir=directory / "plots",
            run_record=directory / "run.json",
            embeddings_dir=None if outputs.embeddings_dir is None else directory / "embeddings",
        )
        self.staged.plots_dir.mkdir()
        if self.staged.embeddings_dir is not None:
            self.staged.embeddings_dir.mkdir()

    def publish(self) -> None:
        for staged, target in zip(self.staged.paths(), self.outputs.paths(), strict=True):
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(staged, target)


def _staging_prefix(outputs: ModelOutputs) -> str:
    return f".{outputs.model.stem}."


def remove_stale_staging(outputs: ModelOutputs) -> list[Path]:
    """Remove staging directories of this model that a killed stage left behind; returns them.

    Only names this module makes (`.<model>.<random>.staging`, directories, not links) are touched:
    one model's stage never runs twice at once (the pipeline lock), so any such directory is stale.
    """
    parent = outputs.model.parent
    stale = [
        path
        for path in parent.glob(f"{_staging_prefix(outputs)}*{_STAGING_SUFFIX}")
        if path.is_dir() and not path.is_symlink()
    ] if parent.is_dir() else []  # fmt: skip
    for path in stale:
        shutil.rmtree(path)
    return stale


@contextlib.contextmanager
def staged(outputs: ModelOutputs) -> Iterator[Staging]:
    outputs.model.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(outputs)
    directory = Path(
        tempfile.mkdtemp(prefix=_staging_prefix(outputs), suffix=_STAGING_SUFFIX, dir=outputs.model.parent)
    )
    try:
        yield Staging(outputs, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def json_safe(value: Any) -> Any:
    """NaN and infinity become null (JSON has neither); NumPy scalars become Python numbers."""
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# The figures `dvc metrics show` lists, per split: few enough that its table fits a terminal (one row
# per model and split); everything else stays in the evaluation report, which DVC does not list.
HEADLINE_METRICS = ("accuracy", "f1", "roc_auc", "log_loss", "shuffled_accuracy")
HEADLINE_SPLITS = ("validation", "test")
TIMINGS = "speed"  # the report's timings section, kept out of the git-tracked files


def headline(report: Mapping[str, Any], split: str) -> dict[str, Any]:
    """The headline figures of one split of an evaluation report (those it has)."""
    figures = report[split]
    return {name: figures[name] for name in HEADLINE_METRICS if name in figures}


def write_reports(outputs: ModelOutputs, report: Mapping[str, Any]) -> None:
    """The evaluation report without its timings, the per-split headline metrics, and the timings apart:
    the timings file is the only one that changes when the same run is repeated on another machine."""
    safe = json_safe(report)
    write_json(outputs.evaluation, {key: value for key, value in safe.items() if key != TIMINGS})
    write_json(outputs.validation_metrics, headline(safe, "validation"))
    write_json(outputs.test_metrics, headline(safe, "test"))
    write_json(outputs.timings, safe.get(TIMINGS, {}))


def _write_csv(table: pd.DataFrame, target: Path) -> None:
    table.to_csv(target, index=False, float_format="%.6g")


def write_test_plots(
    directory: Path, title: str, labels: np.ndarray, probabilities: np.ndarray
) -> dict[str, float]:
    """ROC and confusion data (CSV, for DVC plots) and images, for the test split; returns its metrics."""
    scores = evaluation.binary_metrics(labels, probabilities)
    roc = evaluation.roc_table(labels, probabilities)
    _write_csv(roc, directory / "roc.csv")
    _write_csv(evaluation.confusion_table(labels, probabilities), directory / "confusion.csv")
    (directory / IMAGES).mkdir(exist_ok=True)
    plots.roc_curve(roc, scores["roc_auc"], title, directory / IMAGES / "roc.png")
    counts = evaluation.confusion_counts(labels, probabilities)
    plots.confusion_matrix(counts, title, directory / IMAGES / "confusion_matrix.png")
    return scores


def write_learning_curves(directory: Path, title: str, history: Mapping[str, list[float]]) -> None:
    table = evaluation.history_table(history)
    _write_csv(table, directory / "learning_curves.csv")
    (directory / IMAGES).mkdir(exist_ok=True)
    plots.learning_curves(table, title, directory / IMAGES / "learning_curves.png")


def write_gradient_profile(directory: Path, title: str, profile: pd.DataFrame) -> None:
    _write_csv(profile, directory / "gradient_norms.csv")
    (directory / IMAGES).mkdir(exist_ok=True)
    plots.gradient_norms(profile, title, directory / IMAGES / "gradient_norms.png")
