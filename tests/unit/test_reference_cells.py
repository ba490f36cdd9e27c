"""Keras' recurrent layers compute exactly the course's equations (NumPy references in reference_cells)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import keras
import numpy as np
import pytest

from sentiment.modeling import reference_cells as ref

BATCH, TIME, FEATURES, UNITS = 3, 6, 4, 5
TOLERANCE = 1e-5

Converter = Callable[[Sequence[np.ndarray]], ref.CellWeights]
CELLS: dict[str, tuple[Callable[..., keras.layers.Layer], Converter]] = {
    "rnn": (keras.layers.SimpleRNN, ref.from_keras_simple_rnn),
    "gru": (functools.partial(keras.layers.GRU, reset_after=False), ref.from_keras_gru),
    "lstm": (keras.layers.LSTM, ref.from_keras_lstm),
}


@pytest.fixture()
def inputs() -> np.ndarray:
    keras.utils.set_random_seed(7)
    return np.random.default_rng(7).normal(size=(BATCH, TIME, FEATURES)).astype("float32")


def randomize(layer: keras.layers.Layer) -> None:
    """Random weights everywhere, biases included (Keras starts them at zero or one, hiding mix-ups)."""
    generator = np.random.default_rng(11)
    shapes = [weight.shape for weight in layer.get_weights()]
    layer.set_weights([generator.normal(scale=0.6, size=shape).astype("float32") for shape in shapes])


def assert_close(keras_value: object, reference: np.ndarray) -> None:
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_value), reference, atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_each_cell_matches_the_course_equations_at_every_step(cell: str, inputs: np.ndarray) -> None:
    factory, converter = CELLS[cell]
    layer = factory(UNITS, return_sequences=True, return_state=True)
    layer.build(inputs.shape)
    randomize(layer)
    sequence, *final_state = layer(inputs)

    reference_sequence, reference_state = ref.run_cell(converter(layer.get_weights()), inputs)

    assert reference_sequence.shape == (BATCH, TIME, UNITS)
    assert_close(sequence, reference_sequence)
    assert len(final_state) == len(reference_state)
    for keras_state, state in zip(final_state, reference_state, strict=True):
        assert_close(keras_state, state)


def test_rnn_output_is_a_dense_sigmoid_on_the_activation(inputs: np.ndarray) -> None:
    rnn = keras.layers.SimpleRNN(UNITS)
    output = keras.layers.Dense(1, activation="sigmoid")
    rnn.build(inputs.shape)
    output.build((BATCH, UNITS))
    randomize(rnn)
    randomize(output)
    keras_y = output(rnn(inputs))

    _, (a_last,) = ref.run_cell(ref.from_keras_simple_rnn(rnn.get_weights()), inputs)
    assert_close(keras_y, ref.rnn_output(ref.from_keras_dense(output.get_weights()), a_last))


def test_gru_update_gate_is_one_minus_keras_z() -> None:
    layer = keras.layers.GRU(UNITS, reset_after=False)
    layer.build((BATCH, TIME, FEATURES))
    randomize(layer)
    kernel, recurrent, bias = layer.get_weights()
    weights = ref.from_keras_gru(layer.get_weights())
    x_t = np.random.default_rng(3).normal(size=(BATCH, FEATURES))
    c_prev = np.random.default_rng(4).normal(size=(BATCH, UNITS))

    keras_z = ref.sigmoid(x_t @ kernel[:, :UNITS] + c_prev @ recurrent[:, :UNITS] + bias[:UNITS])
    gamma_u = ref.sigmoid(np.concatenate([c_prev, x_t], axis=1) @ weights.w_u.T + weights.b_u)
    np.testing.assert_allclose(gamma_u, 1.0 - keras_z, atol=1e-6)


def test_gru_with_reset_after_is_refused_with_a_reason() -> None:
    layer = keras.layers.GRU(UNITS, reset_after=True)
    layer.build((BATCH, TIME, FEATURES))
    with pytest.raises(ValueError, match="reset_after"):
        ref.from_keras_gru(layer.get_weights())


def test_bidirectional_lstm_matches_forward_and_reversed_backward_passes(inputs: np.ndarray) -> None:
    layer = keras.layers.Bidirectional(
        keras.layers.LSTM(UNITS, return_sequences=True, return_state=True), merge_mode="concat"
    )
    layer.build(inputs.shape)
    randomize(layer)
    sequence, forward_a, forward_c, backward_a, backward_c = layer(inputs)
    weights = ref.BidirectionalWeights(
        forward=ref.from_keras_lstm(layer.forward_layer.get_weights()),
        backward=ref.from_keras_lstm(layer.backward_layer.get_weights()),
    )

    reference_sequence, forward_state, backward_state = ref.run_bidirectional(weights, inputs)

    assert reference_sequence.shape == (BATCH, TIME, 2 * UNITS)
    assert_close(sequence, reference_sequence)
    assert_close(forward_a, forward_state[0])
    assert_close(forward_c, forward_state[1])
    assert_close(backward_a, backward_state[0])
    assert_close(backward_c, backward_state[1])
    # The backward pass's final activation (it has read x_T..x_1) sits at time step 1 of the sequence.
    np.testing.assert_allclose(reference_sequence[:, 0, UNITS:], backward_state[0])


def test_bidirectional_last_state_is_both_final_activations(inputs: np.ndarray) -> None:
    layer = keras.layers.Bidirectional(keras.layers.GRU(UNITS, reset_after=False), merge_mode="concat")
    layer.build(inputs.shape)
    randomize(layer)
    weights = ref.BidirectionalWeights(
        forward=ref.from_keras_gru(layer.forward_layer.get_weights()),
        backward=ref.from_keras_gru(layer.backward_layer.get_weights()),
    )
    assert_close(layer(inputs), ref.bidirectional_last(weights, inputs))


def test_deep_stack_applies_layers_in_turn(inputs: np.ndarray) -> None:
    first = keras.layers.LSTM(UNITS, return_sequences=True)
    second = keras.layers.Bidirectional(keras.layers.GRU(3, reset_after=False, return_sequences=True))
    first.build(inputs.shape)
    second.build((BATCH, TIME, UNITS))
    randomize(first)
    randomize(second)
    keras_sequence = second(first(inputs))
    layers: list[ref.LayerWeights] = [
        ref.from_keras_lstm(first.get_weights()),
        ref.BidirectionalWeights(
            forward=ref.from_keras_gru(second.forward_layer.get_weights()),
            backward=ref.from_keras_gru(second.backward_layer.get_weights()),
        ),
    ]

    reference_sequence = ref.run_stack(layers, inputs)

    assert reference_sequence.shape == (BATCH, TIME, 6)
    assert_close(keras_sequence, reference_sequence)
