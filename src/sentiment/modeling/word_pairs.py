"""The word-pair embedding layer: each word's vector plus the hashed vector of (previous word, word);
and its int8 form, in which the served model stores its two tables (`modeling.storage`).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

# The only quantization mode this layer implements for its pair table (Keras' Embedding also has int4).
INT8 = "int8"


@keras.saving.register_keras_serializable(package="sentiment")
class WordPairEmbedding(keras.layers.Embedding):
    """An Embedding whose vector for word t also holds a vector for the pair (word t-1, word t).

    Each pair of adjacent word ids is hashed into one of `pair_buckets` rows of a second table, as
    fastText does for its bigrams, so the recurrent layer reads phrases ("not good", "waste of") at
    each step without a pair vocabulary in the data pipeline. A pair that touches padding adds
    nothing, so 'pre' and 'post' padding still give the same prediction. `get_weights()[0]` stays
    the word matrix.

    `quantize("int8")` (Keras' own API, called by `model.quantize`) stores both tables as int8 with
    one float32 scale per row, as Keras' Embedding does its one table: the quantized layer keeps its
    dtype policy ("int8_from_float32") in its config, so `keras.saving.load_model` rebuilds it int8.
    """

    # Multiplier of the pair hash: a prime far above any vocabulary, so (a, b) and (b, a) differ and
    # neighbouring ids spread over the table.
    HASH_MULTIPLIER = 1_000_003

    def __init__(self, input_dim: int, output_dim: int, pair_buckets: int, **kwargs: Any) -> None:
        super().__init__(input_dim, output_dim, **kwargs)
        if pair_buckets < 1:
            raise ValueError(f"pair_buckets must be positive, got {pair_buckets}")
        self.pair_buckets = pair_buckets

    def build(self, input_shape: Any = None) -> None:
        if self.built:
            return
        super().build(input_shape)  # a quantized layer's pair table comes from `quantized_build`
        if self.quantization_mode is None:
            self.pair_embeddings = self.add_weight(
                shape=(self.pair_buckets, self.output_dim),
                initializer=self.embeddings_initializer,
                name="pair_embeddings",
            )

    @property
    def variable_serialization_spec(self) -> dict[str | None, list[str]]:
        # Embedding saves only the variables this spec names, in its order (its hook for subclasses);
        # a float32 file holds the two tables, an int8 one each table with its row scales.
        return {
            None: ["embeddings", "pair_embeddings"],
            INT8: ["embeddings", "embeddings_scale", "pair_embeddings", "pair_embeddings_scale"],
        }

    def pair_ids(self, inputs: Any) -> tuple[Any, Any]:
        """Bucket of each (previous, current) pair, and whether both are words (not padding)."""
        current = ops.cast(inputs, "int64")
        previous = ops.pad(current[:, :-1], [[0, 0], [1, 0]])
        buckets = (previous * self.HASH_MULTIPLIER + current) % self.pair_buckets
        return buckets, ops.logical_and(previous > 0, current > 0)

    def _plus_pairs(self, inputs: Any, words: Any, pair_vectors: Any) -> Any:
        """`words` plus each step's pair vector (`pair_vectors(buckets)`), zero across padding."""
        buckets, is_pair = self.pair_ids(inputs)
        pairs = pair_vectors(buckets)
        pairs = ops.where(ops.expand_dims(is_pair, -1), pairs, ops.zeros_like(pairs))
        return words + ops.cast(pairs, words.dtype)

    def call(self, inputs: Any) -> Any:
        return self._plus_pairs(
            inputs, super().call(inputs), lambda buckets: ops.take(self.pair_embeddings, buckets, axis=0)
        )

    # --- int8: Keras' quantization hooks, extended to the pair table ------------------------------

    def quantize(self, mode: str | None = None, type_check: bool = True, config: Any = None) -> None:
        if mode != INT8:
            raise NotImplementedError(f"{type(self).__name__} quantizes to {INT8!r} only, not {mode!r}")
        # The same quantizer as Embedding's (abs-max per row, 127 levels each side), on the pair table;
        # the float table is dropped before Embedding.quantize builds the int8 variables of both.
        values, scale = keras.quantizers.abs_max_quantize(self.pair_embeddings, axis=-1, to_numpy=True)
        del self.pair_embeddings
        super().quantize(mode, type_check=False, config=config)
        self.pair_embeddings.assign(values)
        self.pair_embeddings_scale.assign(ops.squeeze(scale, axis=-1))

    def quantized_build(self, embeddings_shape: Any, mode: str, config: Any = None) -> None:
        if mode != INT8:
            raise NotImplementedError(f"{type(self).__name__} quantizes to {INT8!r} only, not {mode!r}")
        super().quantized_build(embeddings_shape, mode, config)
        self.pair_embeddings = self.add_weight(
            name="pair_embeddings",
            shape=(self.pair_buckets, self.output_dim),
            initializer="zeros",
            dtype="int8",
            trainable=False,
        )
        self.pair_embeddings_scale = self.add_weight(
            name="pair_embeddings_scale", shape=(self.pair_buckets,), initializer="ones", trainable=False
        )

    def _int8_call(self, inputs: Any, training: Any = None) -> Any:
        def pair_vectors(buckets: Any) -> Any:
            rows = ops.cast(ops.take(self.pair_embeddings, buckets, axis=0), self.compute_dtype)
            scales = ops.take(self.pair_embeddings_scale, buckets, axis=0)
            return ops.divide(rows, ops.expand_dims(scales, axis=-1))

        return self._plus_pairs(inputs, super()._int8_call(inputs, training), pair_vectors)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pair_buckets": self.pair_buckets}
