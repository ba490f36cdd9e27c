"""Vanishing gradients through time: how much of the loss gradient reaches the recurrent state at each step.

Backpropagation through time sends the loss gradient from the last state back along the recurrence,
multiplying it at every step by that step's Jacobian; the course's vanishing gradient is that product
shrinking with the distance. `gradients.gradient_norms` measures the gradient reaching each token's
embedding instead, which is this one times how much the step reads its token: a trained gated cell
shuts its input gate on words that do not matter, so that measure falls with distance even where the
state carries the gradient undiminished (BENCHMARKS.md "Gradient flow"). Here the first recurrent
layer is stepped by hand, cell by cell as Keras steps it, and the tape gives the gradient of the loss
with respect to the state after each step (an LSTM's hidden and memory states together).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from sentiment.modeling.batching import trim_padding
from sentiment.modeling.builder import EMBEDDING_LAYER
from sentiment.modeling.gradients import (
    CONSISTENCY_TOLERANCE,
    distances_from_end,
    mean_by_distance,
    run_layers,
)


def first_recurrent_layer(model: keras.Model) -> keras.layers.RNN | None:
    """The recurrent layer right after the embedding when it reads one way; None otherwise.

    A bidirectional layer's backward half carries its gradient the other way, and a model without
    a recurrent layer has no state: neither has this profile.
    """
    names = [layer.name for layer in model.layers]
    if EMBEDDING_LAYER not in names:
        raise ValueError(f"model {model.name!r} has no layer named {EMBEDDING_LAYER!r}")
    following = model.layers[names.index(EMBEDDING_LAYER) + 1 :]
    if following and isinstance(following[0], keras.layers.RNN) and not following[0].go_backwards:
        return following[0]
    return None


def _step_through(layer: keras.layers.RNN, embedded: Any, mask: Any) -> tuple[Any, list[list[Any]]]:
    """The layer's output, computed step by step, and the states each step's cell computed.

    A padded step keeps the state and output it had, as Keras' masked recurrence does. The states
    kept are the cell's own tensors, so that their gradient counts every path from them to the loss
    (an LSTM's memory state reaches it through that step's output too).
    """
    cell = layer.cell
    batch = tf.shape(embedded)[0]
    sizes = cell.state_size if isinstance(cell.state_size, list | tuple) else [cell.state_size]
    states = [tf.zeros((batch, size)) for size in sizes]
    output = tf.zeros((batch, sizes[0]))
    outputs, every_state = [], []
    for step in range(embedded.shape[1]):
        stepped, new_states = cell(embedded[:, step], states, training=False)
        new_states = new_states if isinstance(new_states, list | tuple) else [new_states]
        real = tf.cast(mask[:, step : step + 1], embedded.dtype)
        states = [real * new + (1.0 - real) * old for new, old in zip(new_states, states, strict=True)]
        output = real * stepped + (1.0 - real) * output
        outputs.append(output)
        every_state.append(list(new_states))
    return (tf.stack(outputs, axis=1) if layer.return_sequences else output), every_state


def state_gradient_norms(model: keras.Model, tokens: np.ndarray, labels: np.ndarray) -> np.ndarray | None:
    """‖d loss_i / d s_{i,t}‖ for review i and step t (s: every state of the first recurrent layer).

    None when the model has no one-way recurrent layer right after its embedding.
    """
    layer = first_recurrent_layer(model)
    if layer is None:
        return None
    embedding = model.get_layer(EMBEDDING_LAYER)
    ids = tf.convert_to_tensor(tokens, dtype=tf.int32)
    embedded, mask = tf.convert_to_tensor(embedding(ids)), embedding.compute_mask(ids)
    targets = tf.convert_to_tensor(np.asarray(labels, dtype=np.float32).reshape(-1, 1))
    with tf.GradientTape() as tape:
        hidden, every_state = _step_through(layer, embedded, mask)
        later_mask = mask if layer.return_sequences else None
        probabilities = run_layers(model, layer.name, hidden, later_mask)
        loss = tf.reduce_sum(keras.losses.binary_crossentropy(targets, probabilities))
    if (
        np.max(np.abs(np.asarray(probabilities) - np.asarray(model(ids, training=False))))
        > CONSISTENCY_TOLERANCE
    ):
        raise RuntimeError(
            f"stepping {model.name!r}'s {layer.name!r} by hand does not reproduce its predictions"
        )
    gradients = tape.gradient(loss, every_state, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    squared = [
        sum(np.sum(np.square(np.asarray(g, dtype=np.float64)), axis=-1) for g in step) for step in gradients
    ]
    return np.sqrt(np.stack(squared, axis=1))


def state_gradient_profile(model: keras.Model, tokens: np.ndarray, labels: np.ndarray) -> pd.Series | None:
    """Mean state-gradient norm per distance from the end (1: the state after the last token)."""
    tokens = trim_padding(tokens)
    norms = state_gradient_norms(model, tokens, labels)
    if norms is None:
        return None
    profile = mean_by_distance(norms, distances_from_end(tokens))
    return profile.set_index("distance")["gradient_norm"]
