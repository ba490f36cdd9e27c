"""The one model builder: a variant description (data) in, a Keras model out; and its compilation.

Every variant has the same shape: token ids -> Embedding (index 0 masked, so 'pre' and 'post'
padding give the same prediction) -> one or more recurrent layers (the cell looked up in
RECURRENT_LAYERS, optionally Bidirectional) -> pooling over time -> optional Dense -> Dense(1, sigmoid).
A new variant, say a bidirectional GRU, is a params.yaml entry, never new code.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import keras
from keras import ops

from sentiment.config import TrainingConfig, VariantConfig

RECURRENT_LAYERS: Mapping[str, type[keras.layers.Layer]] = MappingProxyType(
    {"rnn": keras.layers.SimpleRNN, "gru": keras.layers.GRU, "lstm": keras.layers.LSTM}
)
POOLING_MODES = ("max", "mean")


@keras.saving.register_keras_serializable(package="sentiment")
class MaskedGlobalPooling1D(keras.layers.Layer):
    """Max or mean over time of (batch, time, features), counting only unmasked (non-padding) steps.

    Keras' GlobalMaxPooling1D drops the mask, and a recurrent layer's outputs at padded steps are
    zeros or a repeated state, so padding would leak into the maximum. A sequence with no real step
    (an empty review) pools to zeros instead of -inf or NaN.
    """

    def __init__(self, mode: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if mode not in POOLING_MODES:
            raise ValueError(f"pooling mode must be one of {POOLING_MODES}, got {mode!r}")
        self.mode = mode

    def call(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None:
            mask = ops.ones(ops.shape(inputs)[:2], dtype="bool")
        valid = ops.expand_dims(ops.cast(mask, "bool"), axis=-1)
        if self.mode == "mean":
            weights = ops.cast(valid, inputs.dtype)
            counts = ops.maximum(ops.sum(weights, axis=1), 1.0)
            return ops.sum(inputs * weights, axis=1) / counts
        largest = ops.max(ops.where(valid, inputs, float("-inf")), axis=1)
        return ops.where(ops.any(valid, axis=1), largest, ops.zeros_like(largest))

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        # The time axis is gone, and with it the mask.
        return None

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], input_shape[2])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode}


def recurrent_layer(
    variant: VariantConfig, units: int, return_sequences: bool, position: int
) -> keras.layers.Layer:
    """The variant's cell with `units` units, wrapped in Bidirectional(merge_mode='concat') if asked."""
    if variant.cell not in RECURRENT_LAYERS:
        raise ValueError(f"unknown cell {variant.cell!r}; expected one of {sorted(RECURRENT_LAYERS)}")
    options: dict[str, Any] = {
        "dropout": variant.dropout,
        "recurrent_dropout": variant.recurrent_dropout,
        "return_sequences": return_sequences,
    }
    if variant.cell == "gru":
        options["reset_after"] = variant.reset_after
    name = f"{variant.cell}_{position}"
    layer = RECURRENT_LAYERS[variant.cell](units, name=name, **options)
    if variant.bidirectional:
        return keras.layers.Bidirectional(layer, merge_mode="concat", name=f"bidirectional_{name}")
    return layer


def build_model(
    variant: VariantConfig,
    vocabulary_size: int,
    sequence_length: int | None = None,
    name: str = "sentiment",
) -> keras.Model:
    """Build (not compile) the model for one variant.

    `vocabulary_size` is the tokenizer's num_words (ids 0..num_words-1, 0 being padding);
    `sequence_length` may be None to accept any length.
    """
    if vocabulary_size < 2:
        raise ValueError(f"vocabulary_size must be at least 2 (padding and OOV), got {vocabulary_size}")
    inputs = keras.Input(shape=(sequence_length,), dtype="int32", name="token_ids")
    hidden = keras.layers.Embedding(vocabulary_size, variant.embedding_dim, mask_zero=True, name="embedding")(
        inputs
    )
    last_position = len(variant.units)
    for position, units in enumerate(variant.units, start=1):
        # Inner layers feed the next layer a sequence; the last one only when pooling over time.
        return_sequences = position < last_position or variant.pooling != "last"
        hidden = recurrent_layer(variant, units, return_sequences, position)(hidden)
    if variant.pooling != "last":
        hidden = MaskedGlobalPooling1D(variant.pooling, name=f"{variant.pooling}_pooling")(hidden)
    if variant.dense_units:
        hidden = keras.layers.Dense(variant.dense_units, activation="relu", name="dense")(hidden)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="sentiment")(hidden)
    return keras.Model(inputs, outputs, name=name)


def compile_model(model: keras.Model, training: TrainingConfig) -> None:
    """Compile for binary sentiment: Adam with gradient-norm clipping (against exploding gradients)."""
    optimizer = keras.optimizers.Adam(learning_rate=training.learning_rate, clipnorm=training.clipnorm)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
    )
