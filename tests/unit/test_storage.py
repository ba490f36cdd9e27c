"""The served network's int8 embedding: a smaller file that loads back and predicts as the trained one."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from sentiment.config import VariantConfig
from sentiment.modeling import storage
from sentiment.modeling.builder import EMBEDDING_LAYER, build_model
from sentiment.modeling.word_pairs import WordPairEmbedding

VOCABULARY_SIZE = 500
EMBEDDING_DIM = 16
PAIR_BUCKETS = 1024
# An int8 row holds 127 levels each side of zero: a vector is off by at most half a level of its row's
# largest value, which moves a probability by far less than this.
PROBABILITY_TOLERANCE = 0.01

VARIANTS = {
    "words": VariantConfig(cell="gru", units=(4,), embedding_dim=EMBEDDING_DIM, pooling="max"),
    "pairs": VariantConfig(
        cell="lstm", units=(4,), bidirectional=True, embedding_dim=EMBEDDING_DIM, bigram_buckets=PAIR_BUCKETS
    ),
    "bag_pairs": VariantConfig(
        cell="none", units=(), embedding_dim=EMBEDDING_DIM, pooling="mean", bigram_buckets=PAIR_BUCKETS
    ),
}


def trained_like(name: str, seed: int = 3) -> keras.Model:
    """A model whose embedding rows have the spread of trained ones (the initial +-0.05 is too tame)."""
    keras.utils.set_random_seed(seed)
    model = build_model(VARIANTS[name], VOCABULARY_SIZE)
    generator = np.random.default_rng(seed)
    layer = model.get_layer(EMBEDDING_LAYER)
    layer.set_weights(
        [generator.normal(0, 0.5, table.shape).astype("float32") for table in layer.get_weights()]
    )
    return model


def tokens(seed: int = 4) -> np.ndarray:
    generator = np.random.default_rng(seed)
    rows = generator.integers(1, VOCABULARY_SIZE, size=(64, 30)).astype("int32")
    rows[:16, :10] = 0  # 'pre' padding
    return rows


def probabilities(model: keras.Model, rows: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict_on_batch(rows), dtype=np.float64).reshape(-1)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_int8_file_is_smaller_and_predicts_as_the_trained_model(name: str, tmp_path: Path) -> None:
    model = trained_like(name)
    rows = tokens()
    expected = probabilities(model, rows)
    full = storage.save_served_network(model, tmp_path / "float32.keras", "float32")
    compact = storage.save_served_network(model, tmp_path / "int8.keras", "int8")

    np.testing.assert_allclose(probabilities(full, rows), expected, atol=1e-6)
    assert np.max(np.abs(probabilities(compact, rows) - expected)) < PROBABILITY_TOLERANCE
    assert not np.allclose(probabilities(compact, rows), expected, atol=1e-7), "int8 must not be float32"
    # Each table entry takes 1 byte instead of 4, each row 4 more for its scale (and the file a few
    # hundred bytes of HDF5 headers for the two scale datasets).
    tables = model.get_layer(EMBEDDING_LAYER).get_weights()
    expected_saving = sum(3 * table.size - 4 * len(table) for table in tables)
    saved = (tmp_path / "float32.keras").stat().st_size - (tmp_path / "int8.keras").stat().st_size
    assert saved > 0.9 * expected_saving
    embedding = compact.get_layer(EMBEDDING_LAYER)
    assert {variable.dtype for variable in embedding.weights if "scale" not in variable.path} == {"int8"}
    assert isinstance(embedding, WordPairEmbedding) == ("pairs" in name)


def test_int8_word_pair_vectors_are_the_tables_rounded_row_by_row(tmp_path: Path) -> None:
    model = trained_like("pairs")
    words, pairs = (np.asarray(table) for table in model.get_layer(EMBEDDING_LAYER).get_weights())
    rows = tokens()
    loaded = storage.save_served_network(model, tmp_path / "int8.keras", "int8").get_layer(EMBEDDING_LAYER)
    vectors = keras.ops.convert_to_numpy(loaded(rows))
    exact = keras.ops.convert_to_numpy(model.get_layer(EMBEDDING_LAYER)(rows))

    # Each vector is a word row plus a pair row, each off by at most half a level of its row's scale.
    buckets, is_pair = (keras.ops.convert_to_numpy(part) for part in loaded.pair_ids(rows))
    level = np.abs(words).max(axis=1)[rows] / 127
    level = level + np.where(is_pair, np.abs(pairs).max(axis=1)[buckets] / 127, 0.0)
    assert np.all(np.abs(vectors - exact) <= level[..., None] / 2 + 1e-6)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded.compute_mask(rows)), rows != 0)


def test_the_trained_model_is_left_float32_and_compiled(tmp_path: Path) -> None:
    model = trained_like("pairs")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = [np.array(weight) for weight in model.get_weights()]
    storage.save_served_network(model, tmp_path / "int8.keras", "int8")
    assert model.get_layer(EMBEDDING_LAYER).quantization_mode is None and model.optimizer is not None
    for weight, original in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(weight, original)


def test_an_unknown_storage_or_quantization_mode_is_refused() -> None:
    model = trained_like("pairs")
    with pytest.raises(ValueError, match="embedding storage must be one of"):
        storage.served_network(model, "int4")  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError, match="quantizes to 'int8' only"):
        model.get_layer(EMBEDDING_LAYER).quantize("int4")
