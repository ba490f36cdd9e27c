"""The one model builder: a variant description (data) in, a Keras model out; and its compilation.

Every variant has the same shape: token ids -> Embedding (index 0 masked, so 'pre' and 'post'
padding give the same prediction; optionally plus hashed word-pair vectors) -> one or more recurrent
layers (the cell looked up in RECURRENT_LAYERS, optionally Bidirectional) -> pooling over time ->
optional Dense -> Dense(1, sigmoid). With no recurrent layer (cell "none", units []) the embedding is
pooled directly: a bag of words (of word pairs too, with bigram_buckets), the model against which the
recurrence is measured.
A new variant, say a bidirectional GRU, is a params.yaml entry, never new code.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import keras
from keras import ops

from sentiment.config import TrainingConfig, VariantConfig
from sentiment.modeling.word_pairs import WordPairEmbedding

RECURRENT_LAYERS: Mapping[str, type[keras.layers.Layer]] = MappingProxyType(
    {"rnn": keras.layers.SimpleRNN, "gru": keras.layers.GRU, "lstm": keras.layers.LSTM}
)
POOLING_MODES = ("max", "mean")
EMBEDDING_LAYER = "embedding"  # the name every variant gives its embedding layer


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


def embedding_layer(variant: VariantConfig, vocabulary_size: int) -> keras.layers.Embedding:
    """Embedding(num_words, dim) with index 0 (padding) masked; word pairs added if the variant asks."""
    size, dim = vocabulary_size, variant.embedding_dim
    if variant.bigram_buckets:
        return WordPairEmbedding(size, dim, variant.bigram_buckets, mask_zero=True, name=EMBEDDING_LAYER)
    return keras.layers.Embedding(size, dim, mask_zero=True, name=EMBEDDING_LAYER)


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
    hidden = embedding_layer(variant, vocabulary_size)(inputs)
    last_position = len(variant.units)
    for position, units in enumerate(variant.units, start=1):
        # Inner layers feed the next layer a sequence; the last one only when pooling over time.
        return_sequences = position < last_position or variant.pooling != "last"
        hidden = recurrent_layer(variant, units, return_sequences, position)(hidden)
    if variant.pooling != "last":
        hidden = MaskedGlobalPooling1D(variant.pooling, name=f"{variant.pooling}_pooling")(hidden)
    if not variant.recurrent and variant.dropout:
        # A recurrent layer drops the same input features at every step of a review; with no such
        # layer, dropping those features of the pooled vector is the same thing (mean and max of
        # masked steps commute with a mask that is constant over the review).
        hidden = keras.layers.Dropout(variant.dropout, name="dropout")(hidden)
    if variant.dense_units:
        hidden = keras.layers.Dense(variant.dense_units, activation="relu", name="dense")(hidden)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="sentiment")(hidden)
    return keras.Model(inputs, outputs, name=name)


@keras.saving.register_keras_serializable(package="sentiment")
class AdamWithSGDEmbedding(keras.optimizers.Adam):
    """Adam for every layer except the embedding, whose rows take plain SGD steps.

    A word's (or word pair's) row gets a gradient only in the batches where it occurs. Adam divides
    that gradient by a second moment that has decayed since the row's last batch, and its momentum
    keeps moving the row for steps afterwards, so a row seen in one review moves by many learning
    rates: the embedding memorizes the training reviews within an epoch. SGD moves a row in
    proportion to its gradient, as word2vec and fastText train theirs.
    """

    def __init__(
        self, embedding_learning_rate: float, embedding_layer: str = "embedding", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if embedding_learning_rate <= 0:
            raise ValueError(f"embedding_learning_rate must be positive, got {embedding_learning_rate}")
        self.embedding_learning_rate = embedding_learning_rate
        self.embedding_layer = embedding_layer
        self._sgd_indices: frozenset[int] = frozenset()

    def trains_with_sgd(self, variable: Any) -> bool:
        return bool(variable.path.startswith(f"{self.embedding_layer}/"))

    def build(self, variables: Any) -> None:
        if self.built:
            return
        super().build(variables)
        self._sgd_indices = frozenset(
            self._get_variable_index(variable) for variable in variables if self.trains_with_sgd(variable)
        )
        if not self._sgd_indices:
            raise ValueError(f"no variable of a layer named {self.embedding_layer!r} to train with SGD")

    def add_optimizer_variables(self, trainable_variables: Any, name: Any, initializer: Any = "zeros") -> Any:
        # No Adam moments for the SGD tables (None in their place, as Keras does for variables it
        # overwrites with their gradient): else the optimizer holds, and saves, two more copies of them.
        names = [name] if isinstance(name, str) else list(name)
        created: tuple[list[Any], ...] = tuple([] for _ in names)
        for variable in trainable_variables:
            if self.trains_with_sgd(variable):
                moments: Any = [None] * len(names)
            else:
                moments = super().add_optimizer_variables([variable], names, initializer)
                moments = [moment[0] for moment in moments]
            for slots, moment in zip(created, moments, strict=True):
                slots.append(moment)
        return created[0] if isinstance(name, str) else created

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        if self._get_variable_index(variable) in self._sgd_indices:
            step = ops.multiply(ops.cast(gradient, variable.dtype), self.embedding_learning_rate)
            self.assign_sub(variable, step)
            return
        super().update_step(gradient, variable, learning_rate)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "embedding_learning_rate": self.embedding_learning_rate,
            "embedding_layer": self.embedding_layer,
        }


def compile_model(model: keras.Model, training: TrainingConfig, embedding_learning_rate: float = 0.0) -> None:
    """Compile for binary sentiment: Adam with gradient-norm clipping (against exploding gradients).

    `embedding_learning_rate` > 0 trains the embedding with SGD at that rate (`AdamWithSGDEmbedding`).
    """
    optimizer: keras.optimizers.Optimizer
    if embedding_learning_rate > 0:
        optimizer = AdamWithSGDEmbedding(
            embedding_learning_rate, learning_rate=training.learning_rate, clipnorm=training.clipnorm
        )
    else:
        optimizer = keras.optimizers.Adam(learning_rate=training.learning_rate, clipnorm=training.clipnorm)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.BinaryCrossentropy(),
        metrics=[keras.metrics.MeanMetricWrapper(label_accuracy, name="accuracy")],
    )


@keras.saving.register_keras_serializable(package="sentiment")
def label_accuracy(y_true: Any, y_pred: Any) -> Any:
    """Keras' binary accuracy against the target rounded to a label: the same for 0/1 labels; for a
    student's soft targets (its teachers' probability, `modeling.distillation`) the share of reviews
    it puts on the teachers' side, where Keras' own would count every target but 0 and 1 as missed."""
    labels = ops.cast(ops.greater_equal(y_true, 0.5), "float32")
    return keras.metrics.binary_accuracy(labels, y_pred)
