"""Accuracy by bucket of a per-review number: the review's length in tokens, or (from a generator that
knows it) the distance of its verdict from the end. Pure NumPy.

Buckets are given by their upper bounds: [100, 200] makes 1-100, 101-200 and 201 or more. A bucket
is named "<low>-<high>", the last "<low>-inf" (names MLflow takes as metric names, which "+" is
not). Whoever writes such a mapping (`test.accuracy_by_length`, `test.accuracy_by_distance`) writes
its buckets in increasing order; a reader orders them by their lower bound all the same
(`lower_bound`), so a mapping re-sorted by name still reads right.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from sentiment.evaluation.metrics import predicted_labels

LENGTH_METRIC = "accuracy_by_length"  # under the metrics' "test" section
DISTANCE_METRIC = "accuracy_by_distance"
_LOWER_BOUND = re.compile(r"^(\d+)")


def bucket_names(bounds: Sequence[int]) -> list[str]:
    """The bucket names of `bounds` (upper bounds, increasing), the open last bucket included."""
    lows = [1, *(bound + 1 for bound in bounds)]
    highs = [str(bound) for bound in bounds] + ["inf"]
    return [f"{low}-{high}" for low, high in zip(lows, highs, strict=True)]


def bucket_indices(values: np.ndarray, bounds: Sequence[int]) -> np.ndarray:
    """Each value's bucket, as an index into `bucket_names(bounds)` (a value equal to a bound is in it)."""
    return np.searchsorted(np.asarray(bounds), np.asarray(values), side="left")


def reviews_by_bucket(values: np.ndarray, bounds: Sequence[int]) -> dict[str, int]:
    """How many reviews each bucket holds (every bucket, empty ones too)."""
    counts = np.bincount(bucket_indices(values, bounds), minlength=len(bounds) + 1)
    return {name: int(count) for name, count in zip(bucket_names(bounds), counts, strict=True)}


def accuracy_by_bucket(
    labels: np.ndarray, probabilities: np.ndarray, values: np.ndarray, bounds: Sequence[int]
) -> dict[str, float]:
    """The accuracy on the reviews of each bucket; an empty bucket is left out (it has none)."""
    labels = np.asarray(labels).reshape(-1)
    correct = predicted_labels(np.asarray(probabilities).reshape(-1)) == labels
    indices = bucket_indices(values, bounds)
    if indices.shape != correct.shape:
        raise ValueError(f"{indices.size} values for {correct.size} reviews")
    accuracy = {}
    for index, name in enumerate(bucket_names(bounds)):
        chosen = indices == index
        if chosen.any():
            accuracy[name] = float(correct[chosen].mean())
    return accuracy


def lower_bound(name: str) -> int:
    """A bucket's lower bound, from its name ("401-inf" -> 401)."""
    match = _LOWER_BOUND.match(name)
    if match is None:
        raise ValueError(f"bucket name {name!r} does not start with its lower bound")
    return int(match[1])


def ordered(buckets: Mapping[str, float]) -> list[tuple[str, float]]:
    """The buckets of a mapping, from the lowest to the highest."""
    return sorted(buckets.items(), key=lambda item: lower_bound(item[0]))
