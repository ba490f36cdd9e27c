"""What the training stages do differently on the synthetic reviews, which record each verdict's distance
from the end (`data.synthetic`): train with params.yaml's demo profile (`training.synthetic`: its
training settings, and the word-pair table size of the variants with word pairs), and report the
test accuracy per distance bucket (`diagnostics.distance_buckets`). Real reviews have no
distances: the sequences then lack `distances_<split>`, and neither applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from sentiment.config import Params, TrainingConfig, VariantConfig, variant_config
from sentiment.data.sequences import DISTANCES
from sentiment.evaluation import buckets


def is_synthetic(arrays: Mapping[str, np.ndarray]) -> bool:
    """Whether the sequences are the synthetic reviews': only they record verdict distances."""
    return f"{DISTANCES}_test" in arrays


def training_config(params: Params, arrays: Mapping[str, np.ndarray]) -> TrainingConfig:
    """params.yaml `training`, with its `synthetic` profile's epochs, learning rate, patience and batch
    size where the sequences are the synthetic reviews' (they record verdict distances; real reviews
    never do)."""
    if not is_synthetic(arrays):
        return params.training
    profile = params.training.synthetic
    return replace(
        params.training, epochs=profile.epochs, learning_rate=profile.learning_rate,
        early_stopping_patience=profile.early_stopping_patience, batch_size=profile.batch_size,
    )  # fmt: skip


def variant_for(params: Params, name: str, arrays: Mapping[str, np.ndarray]) -> VariantConfig:
    """params.yaml's variant `name`; on the synthetic reviews, one with word pairs hashes them into the
    demo profile's `bigram_buckets` rows instead (their vocabulary of a few hundred words makes far
    fewer pairs than a real one, and a table of 262,144 rows would cost most of the demo's time)."""
    variant = variant_config(params, name)
    if not is_synthetic(arrays) or not variant.bigram_buckets:
        return variant
    return replace(variant, bigram_buckets=params.training.synthetic.bigram_buckets)


def models_for(params: Params, arrays: Mapping[str, np.ndarray]) -> dict[str, VariantConfig]:
    """Every variant of params.yaml as `variant_for` trains it on these sequences."""
    return {name: variant_for(params, name, arrays) for name in params.networks}


def distance_accuracy(
    params: Params, arrays: Mapping[str, np.ndarray], probabilities: np.ndarray
) -> dict[str, dict[str, float]]:
    """`test.accuracy_by_distance` (verdict distance bucket -> accuracy) where the sequences record the
    distances (synthetic reviews), else nothing: the claims stage then reads review lengths."""
    distances = arrays.get(f"{DISTANCES}_test")
    if distances is None or not params.diagnostics.distance_buckets:
        return {}
    table = buckets.accuracy_by_bucket(
        arrays["y_test"], probabilities, distances, params.diagnostics.distance_buckets
    )
    return {buckets.DISTANCE_METRIC: table}
