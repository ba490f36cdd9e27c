"""Scores of a binary sentiment classifier, and the tables its plots are drawn from.

Every model, recurrent or the TF-IDF baseline, is judged by the same functions on the same splits:
a probability of "positive" per review in, metrics and plot tables out. Pure: no disk, no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn import metrics as sklearn_metrics

DEFAULT_THRESHOLD = 0.5
METRIC_NAMES = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
# log loss of a probability of exactly 0 or 1 on the wrong class would be infinite
PROBABILITY_EPSILON = 1e-7


def predicted_labels(probabilities: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Positive (1) where the probability reaches `threshold`, else negative (0)."""
    return (np.asarray(probabilities) >= threshold).astype(np.int32)


def _check(labels: np.ndarray, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels).reshape(-1).astype(np.int32)
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    if labels.shape != probabilities.shape:
        raise ValueError(f"{labels.size} labels but {probabilities.size} probabilities")
    if labels.size == 0:
        raise ValueError("cannot evaluate on an empty split")
    if not np.isfinite(probabilities).all():
        raise ValueError("the model produced non-finite probabilities (did training diverge?)")
    return labels, probabilities


def binary_metrics(
    labels: np.ndarray, probabilities: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> dict[str, float]:
    """accuracy, precision, recall, f1 (of the positive class), ROC AUC and log loss."""
    labels, probabilities = _check(labels, probabilities)
    predicted = predicted_labels(probabilities, threshold)
    both_classes = np.unique(labels).size == 2
    clipped = np.clip(probabilities, PROBABILITY_EPSILON, 1.0 - PROBABILITY_EPSILON)
    scores = {
        "accuracy": sklearn_metrics.accuracy_score(labels, predicted),
        "precision": sklearn_metrics.precision_score(labels, predicted, zero_division=0),
        "recall": sklearn_metrics.recall_score(labels, predicted, zero_division=0),
        "f1": sklearn_metrics.f1_score(labels, predicted, zero_division=0),
        # undefined with one class only; NaN says so rather than a misleading number
        "roc_auc": sklearn_metrics.roc_auc_score(labels, probabilities) if both_classes else float("nan"),
        "log_loss": sklearn_metrics.log_loss(labels, clipped, labels=[0, 1]),
    }
    return {name: float(scores[name]) for name in METRIC_NAMES}


def roc_table(labels: np.ndarray, probabilities: np.ndarray) -> pd.DataFrame:
    """The ROC curve: false and true positive rates at each distinct threshold."""
    labels, probabilities = _check(labels, probabilities)
    false_positive_rate, true_positive_rate, thresholds = sklearn_metrics.roc_curve(labels, probabilities)
    # roc_curve starts at an infinite threshold (nothing predicted positive); JSON/CSV readers need a number
    thresholds = np.minimum(thresholds, 1.0)
    return pd.DataFrame({"fpr": false_positive_rate, "tpr": true_positive_rate, "threshold": thresholds})


def confusion_table(
    labels: np.ndarray, probabilities: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """One row per review, `actual` and `predicted` sentiment: the data of DVC's confusion template."""
    labels, probabilities = _check(labels, probabilities)
    names = np.array(["negative", "positive"])
    return pd.DataFrame(
        {"actual": names[labels], "predicted": names[predicted_labels(probabilities, threshold)]}
    )


def confusion_counts(
    labels: np.ndarray, probabilities: np.ndarray, threshold: float = DEFAULT_THRESHOLD
) -> np.ndarray:
    """2x2 counts: rows actual negative/positive, columns predicted negative/positive."""
    labels, probabilities = _check(labels, probabilities)
    return sklearn_metrics.confusion_matrix(labels, predicted_labels(probabilities, threshold), labels=[0, 1])


def history_table(history: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """Keras' History.history as one row per epoch (numbered from 1): loss, accuracy, val_loss, ..."""
    lengths = {len(values) for values in history.values()}
    if len(lengths) > 1:
        raise ValueError(f"history columns of different lengths: { {k: len(v) for k, v in history.items()} }")
    table = pd.DataFrame({name: [float(value) for value in values] for name, values in history.items()})
    table.insert(0, "epoch", np.arange(1, len(table) + 1))
    return table
