"""PNG figures of one model's evaluation (learning curves, ROC curve, confusion matrix, gradient norms)
and of the clipping experiment.

The figures are drawn from the same tables that DVC plots and MLflow receive as data, so an image
never shows something the data files do not hold. Figures are made as `matplotlib.figure.Figure`
objects, without pyplot: no global backend to choose, no display, nothing left open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sentiment.core.files import atomic_path

FIGURE_SIZE = (6.0, 4.0)
DPI = 100


def _save(figure: Figure, target: Path) -> Path:
    with atomic_path(target) as temporary:
        figure.savefig(temporary, format="png", dpi=DPI, bbox_inches="tight")
    return target


def learning_curves(history: pd.DataFrame, title: str, target: Path) -> Path:
    """Loss and accuracy per epoch, training against validation."""
    figure = Figure(figsize=(10.0, 4.0))
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        for column, label in ((metric, "train"), (f"val_{metric}", "validation")):
            if column in history:
                axes.plot(history["epoch"], history[column], marker="o", label=label)
        axes.set_xlabel("epoch")
        axes.set_ylabel(metric)
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(alpha=0.3)
        axes.legend()
    figure.suptitle(f"{title}: learning curves")
    return _save(figure, target)


def roc_curve(roc: pd.DataFrame, area: float, title: str, target: Path) -> Path:
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.subplots()
    axes.plot(roc["fpr"], roc["tpr"], label=f"ROC (AUC = {area:.3f})")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate")
    axes.set_title(f"{title}: ROC curve (test)")
    axes.legend(loc="lower right")
    axes.grid(alpha=0.3)
    return _save(figure, target)


def confusion_matrix(counts: np.ndarray, title: str, target: Path) -> Path:
    names = ["negative", "positive"]
    figure = Figure(figsize=(4.5, 4.0))
    axes = figure.subplots()
    image = axes.imshow(counts, cmap="Blues")
    for row in range(2):
        for column in range(2):
            # white text on the darker half of the colour scale
            dark = counts[row, column] > (counts.min() + counts.max()) / 2
            axes.text(column, row, f"{counts[row, column]:d}", ha="center", va="center",
                      color="white" if dark else "black")  # fmt: skip
    axes.set_xticks([0, 1], names)
    axes.set_yticks([0, 1], names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    axes.set_title(f"{title}: confusion matrix (test)")
    figure.colorbar(image, ax=axes)
    return _save(figure, target)


def gradient_norms(table: pd.DataFrame, title: str, target: Path) -> Path:
    """Mean norm of the loss gradient w.r.t. the embedded token, against distance from the review's end."""
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.subplots()
    positive = table[table["gradient_norm"] > 0]
    axes.semilogy(positive["distance"], positive["gradient_norm"])
    axes.set_xlabel("distance from the end of the review (tokens)")
    axes.set_ylabel("mean ‖∂loss/∂embedding‖ (log scale)")
    axes.set_title(f"{title}: gradient reaching each token")
    axes.grid(alpha=0.3, which="both")
    return _save(figure, target)


def _top_marks(axes: Any, steps: pd.Series, values: pd.Series, colour: str, label: str) -> None:
    """Steps whose value is not finite, marked with a cross at the top of the finite ones."""
    finite = values[np.isfinite(values.to_numpy())]
    lost = steps[~np.isfinite(values.to_numpy())]
    if len(lost):
        top = float(finite.max()) if len(finite) else 1.0
        axes.scatter(lost, [top] * len(lost), marker="x", color=colour, label=f"{label}: not finite")


def clipping_steps(steps: pd.DataFrame, clipnorm: float, target: Path) -> Path:
    """Loss and gradient norm per step, with and without clipping (`modeling.clipping`), log scale;
    a step whose value is no longer finite is marked with a cross at the top."""
    figure = Figure(figsize=(11.0, 4.5))
    loss_axes, norm_axes = figure.subplots(1, 2)
    settings = (
        (False, "without clipping", "tab:red", "s", 9),
        (True, f"clipnorm {clipnorm:g}", "tab:blue", "o", 5),
    )
    for clipped, label, colour, marker, size in settings:
        rows = steps[steps["clipped"] == clipped]
        for axes, column in ((loss_axes, "loss"), (norm_axes, "gradient_norm")):
            finite = rows[np.isfinite(rows[column].to_numpy())]
            axes.semilogy(finite["step"], finite[column], marker=marker, markersize=size, color=colour,
                          fillstyle="none" if not clipped else "full", label=label)  # fmt: skip
            _top_marks(axes, rows["step"], rows[column], colour, label)
        if clipped:
            norm_axes.semilogy(
                rows["step"], rows["applied_norm"], marker=".", linestyle="--", color="tab:green",
                label=f"{label}: applied (largest per weight)",
            )  # fmt: skip
    norm_axes.axhline(clipnorm, color="grey", linestyle=":", label="clipnorm")
    for axes, name in ((loss_axes, "loss"), (norm_axes, "gradient norm, as computed")):
        axes.set_xlabel("training step (plain SGD)")
        axes.set_ylabel(f"{name} (log scale)")
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(alpha=0.3, which="both")
        axes.legend(fontsize="small", loc="best")
    figure.suptitle(
        "Exploding gradients: a SimpleRNN with large recurrent weights, with and without clipping"
    )
    return _save(figure, target)
