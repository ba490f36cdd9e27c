"""One builder turns variant data into working models that ignore padding; clipping is compiled in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from sentiment.config import ConfigError, TrainingConfig, VariantConfig, build
from sentiment.modeling.builder import (
    RECURRENT_LAYERS,
    AdamWithSGDEmbedding,
    MaskedGlobalPooling1D,
    WordPairEmbedding,
    build_model,
    compile_model,
)

VOCABULARY_SIZE = 30
TOLERANCE = 1e-5

# Shaped like params.yaml's `models:` section, shrunk to a few units so the suite stays fast.
VARIANTS: dict[str, dict[str, Any]] = {
    "rnn": {"cell": "rnn", "units": [4], "embedding_dim": 6},
    "gru": {"cell": "gru", "units": [4], "embedding_dim": 6, "dropout": 0.2},
    "lstm": {"cell": "lstm", "units": [4], "embedding_dim": 6, "pooling": "mean"},
    "bilstm": {"cell": "lstm", "units": [4], "bidirectional": True, "embedding_dim": 6, "pooling": "max"},
    "deep": {"cell": "lstm", "units": [4, 3], "embedding_dim": 6, "dense_units": 5, "recurrent_dropout": 0.1},
    "bigru": {"cell": "gru", "units": [4], "bidirectional": True, "reset_after": False, "pooling": "max"},
    "pairs": {
        "cell": "lstm",
        "units": [4],
        "bidirectional": True,
        "embedding_dim": 6,
        "bigram_buckets": 13,
        "embedding_learning_rate": 30.0,
    },
    "bag": {"cell": "none", "units": [], "embedding_dim": 6, "pooling": "mean", "dropout": 0.3},
    "bag_pairs": {"cell": "none", "units": [], "embedding_dim": 6, "pooling": "max", "bigram_buckets": 13},
}


# The keys params.yaml requires of every variant besides cell and units (the four extras are optional).
REQUIRED: dict[str, Any] = {
    "bidirectional": False,
    "dropout": 0.0,
    "recurrent_dropout": 0.0,
    "embedding_dim": 6,
    "pooling": "last",
    "dense_units": 0,
}


def variant(name: str, **changes: Any) -> VariantConfig:
    return build(VariantConfig, {**REQUIRED, **VARIANTS[name], **changes}, f"models.{name}")


def recurrent_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Every recurrent layer, unwrapping Bidirectional into its forward and backward copies."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            found += [layer.forward_layer, layer.backward_layer]
        elif isinstance(layer, keras.layers.RNN):
            found.append(layer)
    return found


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_each_variant_builds_the_layers_its_data_describes(name: str) -> None:
    keras.utils.set_random_seed(1)
    config = variant(name)
    model = build_model(config, VOCABULARY_SIZE, sequence_length=12)

    embedding = model.get_layer("embedding")
    assert embedding.mask_zero and embedding.input_dim == VOCABULARY_SIZE
    assert embedding.output_dim == config.embedding_dim
    assert isinstance(embedding, WordPairEmbedding) == bool(config.bigram_buckets)
    cells = recurrent_layers(model)
    copies = 2 if config.bidirectional else 1
    assert len(cells) == copies * len(config.units)
    assert all(type(cell) is RECURRENT_LAYERS[config.cell] for cell in cells)
    assert [cell.units for cell in cells[::copies]] == list(config.units)
    assert sum(isinstance(layer, keras.layers.Bidirectional) for layer in model.layers) == (
        len(config.units) if config.bidirectional else 0
    )
    assert all(cell.dropout == config.dropout for cell in cells)
    if config.cell == "gru":
        assert all(cell.reset_after == config.reset_after for cell in cells)
    poolings = [layer for layer in model.layers if isinstance(layer, MaskedGlobalPooling1D)]
    assert [pooling.mode for pooling in poolings] == ([] if config.pooling == "last" else [config.pooling])
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == ([config.dense_units, 1] if config.dense_units else [1])
    # Without a recurrent layer to drop its inputs, a Dropout layer does, after the pooling.
    dropouts = [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert dropouts == ([config.dropout] if not config.recurrent and config.dropout else [])
    assert dense[-1].activation is keras.activations.sigmoid
    assert model.output_shape == (None, 1)


@pytest.mark.parametrize("pooling", ["last", "max", "mean"])
@pytest.mark.parametrize("name", ["rnn", "bigru", "deep", "pairs"])
def test_padding_side_does_not_change_the_prediction(name: str, pooling: str) -> None:
    keras.utils.set_random_seed(2)
    model = build_model(variant(name, pooling=pooling), VOCABULARY_SIZE)
    review = [5, 3, 17, 2, 9]
    padding = [0] * 4
    batch = np.array([padding + review, review + padding, [0] * 9], dtype="int32")

    padded = keras.ops.convert_to_numpy(model(batch, training=False))
    unpadded = keras.ops.convert_to_numpy(model(np.array([review], dtype="int32"), training=False))

    np.testing.assert_allclose(padded[0], unpadded[0], atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(padded[1], unpadded[0], atol=TOLERANCE, rtol=0)
    assert np.isfinite(padded[2]).all(), "an all-padding (empty) review must still get a probability"


@pytest.mark.parametrize("pooling", ["mean", "max"])
def test_a_bag_of_words_ignores_padding_and_word_order_unless_it_reads_word_pairs(pooling: str) -> None:
    keras.utils.set_random_seed(4)
    review, reordered = [5, 3, 17, 2, 9], [9, 17, 5, 2, 3]
    batch = np.array([[0, 0, *review], [*review, 0, 0], [0, 0, *reordered], [0] * 7], dtype="int32")
    for name, reads_pairs in (("bag", False), ("bag_pairs", True)):
        model = build_model(variant(name, pooling=pooling), VOCABULARY_SIZE)
        pre, post, shuffled, empty = keras.ops.convert_to_numpy(model(batch, training=False))[:, 0]
        assert post == pytest.approx(pre, abs=TOLERANCE) and np.isfinite(empty)
        assert (abs(shuffled - pre) > TOLERANCE) == reads_pairs, name


def test_masked_max_pooling_skips_padded_steps() -> None:
    """A padded step's zeros would win the maximum of negative activations if the mask were dropped."""
    layer = MaskedGlobalPooling1D("max")
    sequence = np.array([[[-1.0, 2.0], [-3.0, 1.0], [0.0, 0.0]]], dtype="float32")
    mask = np.array([[True, True, False]])
    masked = keras.ops.convert_to_numpy(layer(sequence, mask=mask))
    unmasked = keras.ops.convert_to_numpy(layer(sequence))
    np.testing.assert_allclose(masked, [[-1.0, 2.0]])
    np.testing.assert_allclose(unmasked, [[0.0, 2.0]])


def test_compiled_model_clips_gradients_and_trains_a_step(adam_steps: TwoSteps) -> None:
    model = adam_steps.model
    assert type(model.optimizer) is keras.optimizers.Adam
    assert model.optimizer.clipnorm == 0.5
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.01)
    logs = adam_steps.logs
    assert set(logs) >= {"loss", "accuracy"} and np.isfinite(logs["loss"])
    before, after_first, _ = adam_steps.weights
    assert any(not np.array_equal(before[path], after_first[path]) for path in before)


def test_word_pair_embedding_adds_the_hashed_vector_of_each_adjacent_pair() -> None:
    """Step t gets word[t] + pairs[(word[t-1] * 1000003 + word[t]) % buckets], and no pair across padding."""
    keras.utils.set_random_seed(5)
    buckets = 7
    layer = WordPairEmbedding(VOCABULARY_SIZE, 3, buckets, mask_zero=True)
    tokens = np.array([[0, 4, 9, 4], [4, 9, 0, 0]], dtype="int32")
    vectors = keras.ops.convert_to_numpy(layer(tokens))
    words, pairs = (np.asarray(weights) for weights in layer.get_weights())

    assert words.shape == (VOCABULARY_SIZE, 3) and pairs.shape == (buckets, 3)
    pair = {(4, 9): (4 * 1_000_003 + 9) % buckets, (9, 4): (9 * 1_000_003 + 4) % buckets}
    assert pair[(4, 9)] != pair[(9, 4)], "the order of the two words must matter"
    expected = np.stack(
        [
            [words[0], words[4], words[9] + pairs[pair[(4, 9)]], words[4] + pairs[pair[(9, 4)]]],
            [words[4], words[9] + pairs[pair[(4, 9)]], words[0], words[0]],
        ]
    )
    np.testing.assert_allclose(vectors, expected, atol=1e-6)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer.compute_mask(tokens)), tokens != 0)


# Two training batches; the second has none of the first's words (word 4 in particular).
FIRST_BATCH = np.array([[0, 4, 5, 6], [7, 8, 9, 10]], dtype="int32")
SECOND_BATCH = np.array([[0, 11, 12, 13], [14, 15, 16, 17]], dtype="int32")
LABELS = np.array([1.0, 0.0], dtype="float32")
EMBEDDING_LEARNING_RATE = 3.0


@dataclass(frozen=True)
class TwoSteps:
    """A compiled model after `train_on_batch` on FIRST_BATCH, then on SECOND_BATCH.

    A Keras model traces its train function (seconds on 2 busy cores) at its first step, so the tests
    of training share two of these, fitted once per module, and only read them.
    """

    model: keras.Model
    gradients: dict[str, np.ndarray]  # variable path -> gradient of the FIRST_BATCH loss before any step
    weights: tuple[dict[str, np.ndarray], ...]  # variable path -> value: before, after each step
    logs: dict[str, float]  # of the first step


def train_two_steps(
    name: str, training: dict[str, Any], embedding_learning_rate: float, seed: int
) -> TwoSteps:
    keras.utils.set_random_seed(seed)
    model = build_model(variant(name), VOCABULARY_SIZE)
    compile_model(model, TrainingConfig(**training), embedding_learning_rate)
    variables = model.trainable_variables

    def values() -> dict[str, np.ndarray]:
        return {variable.path: variable.numpy() for variable in variables}

    with tf.GradientTape() as tape:
        loss = keras.ops.mean(keras.losses.binary_crossentropy(LABELS[:, None], model(FIRST_BATCH)))
    gradients = {
        variable.path: tf.convert_to_tensor(gradient).numpy()
        for variable, gradient in zip(variables, tape.gradient(loss, variables), strict=True)
    }
    weights = [values()]
    logs = model.train_on_batch(FIRST_BATCH, LABELS, return_dict=True)
    weights.append(values())
    model.train_on_batch(SECOND_BATCH, LABELS)
    weights.append(values())
    return TwoSteps(model, gradients, tuple(weights), logs)


@pytest.fixture(scope="module")
def adam_steps() -> TwoSteps:
    """The LSTM with mean pooling, trained by plain Adam (clipnorm 0.5)."""
    return train_two_steps("lstm", {"learning_rate": 0.01, "clipnorm": 0.5, "batch_size": 2}, 0.0, seed=3)


@pytest.fixture(scope="module")
def sgd_steps() -> TwoSteps:
    """The word-pair variant, its embedding trained by SGD and the rest by Adam (no clipping to speak of)."""
    training = {"learning_rate": 0.01, "clipnorm": 1e6, "batch_size": 2}
    return train_two_steps("pairs", training, EMBEDDING_LEARNING_RATE, seed=7)


def test_sgd_embedding_leaves_a_row_alone_in_batches_without_its_word(
    adam_steps: TwoSteps, sgd_steps: TwoSteps
) -> None:
    """Adam's momentum keeps moving word 4's row in the second batch, which lacks word 4; SGD does not."""
    word_rows = "embedding/embeddings"
    _, adam_first, adam_second = (weights[word_rows] for weights in adam_steps.weights)
    _, sgd_first, sgd_second = (weights[word_rows] for weights in sgd_steps.weights)
    assert not np.allclose(adam_first[4], adam_second[4])
    np.testing.assert_array_equal(sgd_first[4], sgd_second[4])
    assert not np.allclose(sgd_first[11], sgd_second[11]), "a word in the batch must move"


def test_embedding_takes_sgd_steps_while_the_other_layers_take_adam_steps(sgd_steps: TwoSteps) -> None:
    """One step: embedding -= rate * gradient exactly; Adam's first step moves the rest by lr per entry."""
    learning_rate = 0.01
    assert isinstance(sgd_steps.model.optimizer, AdamWithSGDEmbedding)
    before, after_first, _ = sgd_steps.weights
    for path, gradient in sgd_steps.gradients.items():
        change = after_first[path] - before[path]
        if path.startswith("embedding/"):
            np.testing.assert_allclose(change, -EMBEDDING_LEARNING_RATE * gradient, atol=1e-6)
        else:
            # Adam's first step is lr * g / (|g| + epsilon): lr wherever |g| dwarfs epsilon (1e-7).
            clear = np.abs(gradient) > 1e-4
            assert clear.any()
            np.testing.assert_allclose(np.abs(change[clear]), learning_rate, rtol=0.05)
    assert set(sgd_steps.gradients) >= {"embedding/embeddings", "embedding/pair_embeddings"}


@pytest.mark.parametrize("steps", ["adam_steps", "sgd_steps"])
def test_saved_model_loads_back_with_the_same_predictions(
    request: pytest.FixtureRequest, tmp_path: Path, steps: str
) -> None:
    model = request.getfixturevalue(steps).model  # trained: its optimizer's state is saved too
    tokens = np.array([[0, 0, 3, 4, 5], [6, 7, 0, 0, 0]], dtype="int32")
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded(tokens), model(tokens), atol=1e-6)
    assert type(loaded.optimizer) is type(model.optimizer)
    # Adam keeps two moments per variable, except for the embedding tables that SGD trains.
    sgd_tables = 2 if isinstance(model.optimizer, AdamWithSGDEmbedding) else 0
    state = [variable for variable in loaded.optimizer.variables if len(variable.shape) > 0]
    assert len(state) == 2 * (len(model.trainable_variables) - sgd_tables)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"cell": "transformer"}, "not one of"),
        ({"cell": "none"}, r"units: expected \[\]"),
        ({"cell": "none", "units": [], "pooling": "last"}, "pooling: expected 'mean' or 'max'"),
        ({"units": []}, "units"),
        ({"units": [4, 0]}, "units"),
        ({"dropout": 1.5}, "dropout"),
        ({"bigram_buckets": -1}, "bigram_buckets"),
        ({"embedding_learning_rate": -1.0}, "embedding_learning_rate"),
        ({"pooling": "sum"}, "not one of"),
        ({"bidirectionnal": True}, "unknown key"),
    ],
)
def test_a_bad_variant_is_refused_by_name(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        variant("lstm", **changes)
