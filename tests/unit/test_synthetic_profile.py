"""What the training stages do on synthetic reviews only: the demo's training profile and the test
accuracy by verdict distance, on hand-made sequences."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sentiment.config import Params
from sentiment.evaluation import buckets
from sentiment.stages.synthetic_profile import (
    distance_accuracy,
    is_synthetic,
    models_for,
    training_config,
    variant_for,
)


def _arrays(distances: list[int] | None) -> dict[str, np.ndarray]:
    arrays = {"y_test": np.array([1, 0, 1, 0, 1, 0])}
    if distances is not None:
        arrays["distances_test"] = np.array(distances)
    return arrays


def test_accuracy_by_distance_counts_each_bucket_apart(project_config: Params) -> None:
    params = replace(
        project_config, diagnostics=replace(project_config.diagnostics, distance_buckets=(10, 39))
    )
    arrays = _arrays([3, 10, 11, 40, 120, 5])
    # right, right, wrong, right, wrong, wrong
    probabilities = np.array([0.9, 0.2, 0.3, 0.1, 0.4, 0.7])
    table = distance_accuracy(params, arrays, probabilities)[buckets.DISTANCE_METRIC]
    assert table == {"1-10": 2 / 3, "11-39": 0.0, "40-inf": 0.5}  # 3, 10, 5 | 11 | 40, 120


def test_real_reviews_get_neither_the_profile_nor_distances(project_config: Params) -> None:
    params = project_config
    arrays = _arrays(None)
    assert not is_synthetic(arrays)
    assert training_config(params, arrays) == params.training
    assert distance_accuracy(params, arrays, np.full(6, 0.5)) == {}


def test_synthetic_reviews_train_with_the_profile(project_config: Params) -> None:
    params = project_config
    profile = params.training.synthetic
    config = training_config(params, _arrays([1] * 6))
    assert (config.epochs, config.learning_rate) == (profile.epochs, profile.learning_rate)
    assert (config.early_stopping_patience, config.batch_size) == (
        profile.early_stopping_patience,
        profile.batch_size,
    )
    assert config.clipnorm == params.training.clipnorm  # the rest as params.yaml has it


def test_word_pair_tables_shrink_on_synthetic_reviews_only(project_config: Params) -> None:
    params = project_config
    assert params.models["bag"].bigram_buckets > params.training.synthetic.bigram_buckets
    synthetic, real = _arrays([1] * 6), _arrays(None)
    assert variant_for(params, "bag", synthetic).bigram_buckets == params.training.synthetic.bigram_buckets
    assert variant_for(params, "bag", synthetic).embedding_dim == params.models["bag"].embedding_dim
    assert variant_for(params, "bag", real) == params.models["bag"]
    # a variant on words alone stays on words alone
    assert variant_for(params, "lstm", synthetic) == params.models["lstm"]
    assert models_for(params, real) == params.networks  # the students too, as their variants
