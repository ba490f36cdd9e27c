"""The served network: an inference-only copy of a trained model, its embedding tables stored compactly.

The embedding tables are nearly all of a network's size: the bilstm's 20,000 x 128 words and
262,144 x 128 word pairs are 145 of the 146 MB of its float32 `.keras` file. "int8" stores each table
row as int8 with one float32 scale (abs-max per row, 127 levels each side): Keras' own quantization
(`Model.quantize`), applied to the embedding layer only, so the file is a plain `.keras` file that
`keras.saving.load_model` rebuilds int8 (the lookups are dequantized as the network runs; every other
layer stays float32, and the optimizer is not saved).

Why int8, measured on the trained bilstm (seed 42, 95k archive, validation split by movie,
BENCHMARKS.md "Served model size"): 146 MB -> 38 MB, validation accuracy 89.23% -> 89.19% (1 of
2,489 labels flipped), test 89.91% -> 89.90% (2 of 20,000), |P(positive) difference| at most 0.005.
float16 halves the tables only (73 MB, over the 50 MB target); pruning the pair rows that no training
review hits saves 2% (257,236 of the 262,144 rows are hit); a smaller table is a model change, chosen
on validation (params.yaml `bigram_buckets`), which this storage applies to just as well.
"""

from __future__ import annotations

import typing
from pathlib import Path

import keras

from sentiment.config import EmbeddingStorage
from sentiment.modeling.builder import EMBEDDING_LAYER  # and, imported, the custom layers for loading

EMBEDDING_STORAGES: tuple[str, ...] = typing.get_args(EmbeddingStorage)


def served_network(model: keras.Model, storage: EmbeddingStorage) -> keras.Model:
    """An uncompiled copy of `model` with the same weights, its embedding layer stored as `storage`.

    A copy, so the trained model is left as it was (float32, compiled): what the training stage
    measures on it (gradients, neighbours) is of the trained weights.
    """
    if storage not in EMBEDDING_STORAGES:
        raise ValueError(f"embedding storage must be one of {list(EMBEDDING_STORAGES)}, got {storage!r}")
    served = keras.Model.from_config(model.get_config())
    served.set_weights(model.get_weights())
    if storage == "int8":
        served.quantize("int8", filters=f"^{EMBEDDING_LAYER}$")
    return served


def save_served_network(model: keras.Model, path: Path, storage: EmbeddingStorage) -> keras.Model:
    """Write the served copy of `model` to `path` (`.keras`) and return the network loaded back from it:
    the network that serving loads, so that what is measured on it is what is served."""
    served_network(model, storage).save(path)
    return load_network(path)


def load_network(path: Path) -> keras.Model:
    """A saved network (float32 or int8 embedding), for inference."""
    return keras.saving.load_model(path, compile=False)
