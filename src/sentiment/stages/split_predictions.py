"""A trained model's predictions on the validation and test splits, as given and with their words
shuffled, and the metrics the training stages report from them (the networks and the baseline alike)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentiment.evaluation import metrics as evaluation
from sentiment.evaluation import word_order
from sentiment.evaluation.outputs import write_test_plots


@dataclass(frozen=True)
class Predictions:
    """A model's P(positive) on the validation and test splits, and the test split's prediction time;
    `shuffled_*` on the same reviews with their words shuffled (`evaluation.word_order`)."""

    validation: np.ndarray
    test: np.ndarray
    test_seconds: float
    shuffled_validation: np.ndarray
    shuffled_test: np.ndarray


def speed(train_seconds: float, train_samples: int, predictions: Predictions) -> dict[str, float]:
    """Timings: the only figures that differ between two runs with the same params and seed."""
    return {
        "train_seconds": train_seconds,
        "train_samples_per_second": train_samples / max(train_seconds, 1e-9),
        "predict_samples_per_second": len(predictions.test) / max(predictions.test_seconds, 1e-9),
    }


def shuffled_accuracy(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    return {word_order.SHUFFLED_METRIC: evaluation.binary_metrics(labels, probabilities)["accuracy"]}


def validation_metrics(labels: np.ndarray, predictions: Predictions) -> dict[str, float]:
    # the kept model's validation loss: the best epoch's, or that of the averaged weights
    scores = evaluation.binary_metrics(labels, predictions.validation)
    shuffled = shuffled_accuracy(labels, predictions.shuffled_validation)
    return {"loss": scores["log_loss"], **scores, **shuffled}


def predict_splits(predict: Any, inputs: Mapping[str, Any], shuffle: Any) -> Predictions:
    """P(positive) for the validation and test inputs, as given and shuffled by `shuffle`."""
    started = time.perf_counter()
    test = predict(inputs["test"])
    test_seconds = time.perf_counter() - started
    return Predictions(
        validation=predict(inputs["validation"]), test=test, test_seconds=test_seconds,
        shuffled_validation=predict(shuffle(inputs["validation"])),
        shuffled_test=predict(shuffle(inputs["test"])),
    )  # fmt: skip


def test_metrics(
    plots_dir: Path, title: str, labels: np.ndarray, predictions: Predictions
) -> dict[str, float]:
    """The test split's metrics (and plots), with the accuracy on its reviews with their words shuffled."""
    return {
        **write_test_plots(plots_dir, title, labels, predictions.test),
        **shuffled_accuracy(labels, predictions.shuffled_test),
    }
