"""One builder turns variant data into working models that ignore padding; clipping is compiled in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from sentiment.config import ConfigError, TrainingConfig, VariantConfig, build
from sentiment.model_builder import RECURRENT_LAYERS, MaskedGlobalPooling1D, build_model, compile_model

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
@pytest.mark.parametrize("name", ["rnn", "bigru", "deep"])
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


def test_saved_model_with_masked_pooling_loads_back(tmp_path: Path) -> None:
    keras.utils.set_random_seed(4)
    model = build_model(variant("bilstm"), VOCABULARY_SIZE)
    tokens = np.array([[0, 0, 3, 4, 5], [6, 7, 0, 0, 0]], dtype="int32")
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded(tokens), model(tokens), atol=1e-6)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"cell": "transformer"}, "not one of"),
        ({"units": []}, "units"),
        ({"units": [4, 0]}, "units"),
        ({"dropout": 1.5}, "dropout"),
        ({"pooling": "sum"}, "not one of"),
        ({"bidirectionnal": True}, "unknown key"),
    ],
)
def test_a_bad_variant_is_refused_by_name(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError, match=problem):
        variant("lstm", **changes)
