"""Metrics and plot tables: checked against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sentiment.evaluation import metrics as evaluation

LABELS = np.array([1, 1, 1, 0, 0, 0, 0, 1])
PROBABILITIES = np.array([0.9, 0.6, 0.4, 0.2, 0.7, 0.1, 0.5, 0.8])


def test_binary_metrics_match_a_hand_count() -> None:
    # predicted positive (p >= 0.5): rows 0, 1, 4, 6, 7 -> TP = 3 (0, 1, 7), FP = 2 (4, 6), FN = 1 (2), TN = 2
    scores = evaluation.binary_metrics(LABELS, PROBABILITIES)
    assert scores["accuracy"] == pytest.approx(5 / 8)
    assert scores["precision"] == pytest.approx(3 / 5)
    assert scores["recall"] == pytest.approx(3 / 4)
    assert scores["f1"] == pytest.approx(2 * (3 / 5) * (3 / 4) / (3 / 5 + 3 / 4))
    # AUC = share of (positive, negative) pairs ranked right: 13 of 16
    assert scores["roc_auc"] == pytest.approx(13 / 16)
    expected_loss = -np.mean(LABELS * np.log(PROBABILITIES) + (1 - LABELS) * np.log(1 - PROBABILITIES))
    assert scores["log_loss"] == pytest.approx(expected_loss)
    assert list(scores) == list(evaluation.METRIC_NAMES)


def test_certain_wrong_predictions_give_a_finite_log_loss() -> None:
    scores = evaluation.binary_metrics(np.array([1, 0]), np.array([0.0, 1.0]))
    assert math.isfinite(scores["log_loss"]) and scores["log_loss"] > 10
    assert scores["accuracy"] == 0.0


def test_roc_and_confusion_tables_hold_what_the_plots_need() -> None:
    roc = evaluation.roc_table(LABELS, PROBABILITIES)
    assert list(roc.columns) == ["fpr", "tpr", "threshold"]
    assert roc["fpr"].iloc[0] == 0 and roc["tpr"].iloc[-1] == 1 and roc["threshold"].max() <= 1
    assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(13 / 16)

    confusion = evaluation.confusion_table(LABELS, PROBABILITIES)
    assert len(confusion) == len(LABELS)
    assert confusion.iloc[4].to_dict() == {"actual": "negative", "predicted": "positive"}
    np.testing.assert_array_equal(evaluation.confusion_counts(LABELS, PROBABILITIES), [[2, 2], [1, 3]])


def test_history_table_numbers_epochs_from_one() -> None:
    table = evaluation.history_table({"loss": [0.7, 0.5], "val_loss": [0.6, 0.65]})
    assert table.to_dict("list") == {"epoch": [1, 2], "loss": [0.7, 0.5], "val_loss": [0.6, 0.65]}


@pytest.mark.parametrize(
    ("labels", "probabilities", "problem"),
    [
        (np.array([1, 0]), np.array([0.5]), "2 labels but 1"),
        (np.array([], dtype=int), np.array([]), "empty"),
        (np.array([1, 0]), np.array([0.5, np.nan]), "non-finite"),
    ],
)
def test_bad_predictions_are_refused(labels: np.ndarray, probabilities: np.ndarray, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        evaluation.binary_metrics(labels, probabilities)
