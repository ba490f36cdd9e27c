"""One builder turns variant data into working models that ignore padding; clipping is compiled in."""

from __future__ import annotations

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
}


def variant(name: str, **changes: Any) -> VariantConfig:
    return build(VariantConfig, {**VARIANTS[name], **changes}, f"models.{name}")


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


def test_masked_max_pooling_skips_padded_steps() -> None:
    """A padded step's zeros would win the maximum of negative activations if the mask were dropped."""
    layer = MaskedGlobalPooling1D("max")
    sequence = np.array([[[-1.0, 2.0], [-3.0, 1.0], [0.0, 0.0]]], dtype="float32")
    mask = np.array([[True, True, False]])
    masked = keras.ops.convert_to_numpy(layer(sequence, mask=mask))
    unmasked = keras.ops.convert_to_numpy(layer(sequence))
    np.testing.assert_allclose(masked, [[-1.0, 2.0]])
    np.testing.assert_allclose(unmasked, [[0.0, 2.0]])


def test_compiled_model_clips_gradients_and_trains_a_step() -> None:
    keras.utils.set_random_seed(3)
    training = build(TrainingConfig, {"learning_rate": 0.01, "clipnorm": 0.5, "batch_size": 2}, "training")
    model = build_model(variant("bilstm"), VOCABULARY_SIZE, sequence_length=6)
    compile_model(model, training)

    assert model.optimizer.clipnorm == 0.5
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.01)
    tokens = np.array([[0, 0, 4, 5, 6, 7], [8, 9, 10, 0, 0, 0]], dtype="int32")
    before = [weight.copy() for weight in model.get_weights()]
    logs = model.train_on_batch(tokens, np.array([1.0, 0.0]), return_dict=True)
    assert set(logs) >= {"loss", "accuracy"} and np.isfinite(logs["loss"])
    assert any(not np.array_equal(old, new) for old, new in zip(before, model.get_weights(), strict=True))


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


def embedding_rows_after_two_steps(embedding_learning_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """The word matrix after a batch with word 4, and after a second batch without it."""
    keras.utils.set_random_seed(6)
    training = build(TrainingConfig, {"learning_rate": 0.01, "clipnorm": 1e6, "batch_size": 2}, "training")
    model = build_model(variant("pairs"), VOCABULARY_SIZE)
    compile_model(model, training, embedding_learning_rate)
    labels = np.array([1.0, 0.0], dtype="float32")
    model.train_on_batch(np.array([[0, 4, 5, 6], [7, 8, 9, 10]], dtype="int32"), labels)
    after_first = np.array(model.get_layer("embedding").get_weights()[0])
    model.train_on_batch(np.array([[0, 11, 12, 13], [14, 15, 16, 17]], dtype="int32"), labels)
    return after_first, np.array(model.get_layer("embedding").get_weights()[0])


def test_sgd_embedding_leaves_a_row_alone_in_batches_without_its_word() -> None:
    """Adam's momentum keeps moving word 4's row in the second batch, which lacks word 4; SGD does not."""
    adam_first, adam_second = embedding_rows_after_two_steps(0.0)
    sgd_first, sgd_second = embedding_rows_after_two_steps(3.0)
    assert not np.allclose(adam_first[4], adam_second[4])
    np.testing.assert_array_equal(sgd_first[4], sgd_second[4])
    assert not np.allclose(sgd_first[11], sgd_second[11]), "a word in the batch must move"


def test_embedding_takes_sgd_steps_while_the_other_layers_take_adam_steps() -> None:
    """One step: embedding -= rate * gradient exactly; Adam's first step moves the rest by lr per entry."""
    keras.utils.set_random_seed(7)
    rate, learning_rate = 3.0, 0.01
    training = build(
        TrainingConfig, {"learning_rate": learning_rate, "clipnorm": 1e6, "batch_size": 2}, "training"
    )
    model = build_model(variant("pairs"), VOCABULARY_SIZE)
    compile_model(model, training, embedding_learning_rate=rate)
    assert isinstance(model.optimizer, AdamWithSGDEmbedding)
    tokens = np.array([[0, 4, 5, 6], [7, 8, 9, 10]], dtype="int32")
    labels = np.array([1.0, 0.0], dtype="float32")
    with tf.GradientTape() as tape:
        loss = keras.ops.mean(keras.losses.binary_crossentropy(labels[:, None], model(tokens)))
    variables = model.trainable_variables
    gradients = [np.asarray(tf.convert_to_tensor(gradient)) for gradient in tape.gradient(loss, variables)]
    before = [np.array(variable) for variable in variables]
    model.train_on_batch(tokens, labels)

    for variable, old, gradient in zip(variables, before, gradients, strict=True):
        change = np.array(variable) - old
        if variable.path.startswith("embedding/"):
            np.testing.assert_allclose(change, -rate * gradient, atol=1e-6)
        else:
            # Adam's first step is lr * g / (|g| + epsilon): lr wherever |g| dwarfs epsilon (1e-7).
            clear = np.abs(gradient) > 1e-4
            assert clear.any()
            np.testing.assert_allclose(np.abs(change[clear]), learning_rate, rtol=0.05)
    assert {variable.path for variable in variables} >= {"embedding/embeddings", "embedding/pair_embeddings"}


@pytest.mark.parametrize("name", ["bilstm", "pairs"])
def test_saved_model_loads_back_with_the_same_predictions(tmp_path: Path, name: str) -> None:
    keras.utils.set_random_seed(4)
    model = build_model(variant(name), VOCABULARY_SIZE)
    compile_model(model, build(TrainingConfig, {}, "training"), variant(name).embedding_learning_rate)
    tokens = np.array([[0, 0, 3, 4, 5], [6, 7, 0, 0, 0]], dtype="int32")
    model.train_on_batch(tokens, np.array([1.0, 0.0]))  # builds the optimizer, whose state is saved too
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded(tokens), model(tokens), atol=1e-6)
    assert type(loaded.optimizer) is type(model.optimizer)
    # Adam keeps two moments per variable, except for the embedding tables that SGD trains.
    sgd_tables = 2 if variant(name).embedding_learning_rate else 0
    state = [variable for variable in loaded.optimizer.variables if len(variable.shape) > 0]
    assert len(state) == 2 * (len(model.trainable_variables) - sgd_tables)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"cell": "transformer"}, "not one of"),
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
