"""The course's recurrent cells as plain NumPy, written from its formulas, to check Keras against.

Symbols follow the course notes: a (activation), c (memory cell), c~ (candidate), Γu/Γr/Γf/Γo
(update, reset, forget, output gates), [p, q] is concatenation. Every matrix W_* acting on
[a_{t-1}, x_t] has shape (units, units + features) and the state comes first in the concatenation.
Rows of a batch are row vectors here, so the course's W v is written v @ W.T.

How Keras stores the same parameters: kernel W (features, k*units), recurrent_kernel U (units, k*units)
and bias b (k*units,), in blocks of `units` columns, one block per gate in the order below. [U_i; W_i] stacks
a block of U over the same block of W, so that it acts on [a_{t-1}, x_t].

| Keras layer            | block | course symbol          | course matrices from Keras' blocks  |
|------------------------|-------|------------------------|-------------------------------------|
| SimpleRNN              | -     | a_t (g1 = tanh)        | W_aa = U.T, W_ax = W.T, b_a = b     |
| LSTM                   | i     | Γu, update gate        | W_u = [U_i; W_i].T, b_u = b_i       |
|                        | f     | Γf, forget gate        | W_f = [U_f; W_f].T, b_f = b_f       |
|                        | c     | c~_t, candidate        | W_c = [U_c; W_c].T, b_c = b_c       |
|                        | o     | Γo, output gate        | W_o = [U_o; W_o].T, b_o = b_o       |
| GRU(reset_after=False) | z     | Γu = 1 - z, update     | W_u = -[U_z; W_z].T, b_u = -b_z     |
|                        | r     | Γr, reset gate         | W_r = [U_r; W_r].T, b_r = b_r       |
|                        | h     | c~_t, candidate        | W_c = [U_h; W_h].T, b_c = b_h       |
| Dense(1, sigmoid)      | -     | y_t (g2 = σ)           | W_ya = kernel.T, b_y = bias         |

A GRU's activation is its memory cell (a_t = c_t). Keras' GRU keeps the *old* state with weight z
(h_t = z * h_{t-1} + (1 - z) * h~_t); the course keeps it with 1 - Γu. Since 1 - σ(v) = σ(-v), the
course's Γu is exactly σ of the negated z pre-activation, hence the minus signs. Keras' default GRU
(reset_after=True, the cuDNN form) applies Γr after the product with U_h: that is not the course's
equation, so the course comparison uses reset_after=False. Bidirectional(merge_mode='concat') puts the
forward activations first, then the backward ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Activation = Callable[[np.ndarray], np.ndarray]
State = tuple[np.ndarray, ...]


def sigmoid(values: np.ndarray) -> np.ndarray:
    """σ, the gates' activation."""
    return np.asarray(1.0 / (1.0 + np.exp(-values)))


@dataclass(frozen=True)
class SimpleRNNWeights:
    w_aa: np.ndarray  # (units, units)
    w_ax: np.ndarray  # (units, features)
    b_a: np.ndarray  # (units,)


@dataclass(frozen=True)
class GRUWeights:
    w_c: np.ndarray  # (units, units + features), acts on [Γr * c_{t-1}, x_t]
    w_u: np.ndarray  # acts on [c_{t-1}, x_t]
    w_r: np.ndarray
    b_c: np.ndarray  # (units,)
    b_u: np.ndarray
    b_r: np.ndarray


@dataclass(frozen=True)
class LSTMWeights:
    w_c: np.ndarray  # (units, units + features), each acts on [a_{t-1}, x_t]
    w_u: np.ndarray
    w_f: np.ndarray
    w_o: np.ndarray
    b_c: np.ndarray  # (units,)
    b_u: np.ndarray
    b_f: np.ndarray
    b_o: np.ndarray


@dataclass(frozen=True)
class OutputWeights:
    w_ya: np.ndarray  # (outputs, units)
    b_y: np.ndarray  # (outputs,)


CellWeights = SimpleRNNWeights | GRUWeights | LSTMWeights


@dataclass(frozen=True)
class BidirectionalWeights:
    """Two independent cells: one reads x_1..x_T, the other x_T..x_1."""

    forward: CellWeights
    backward: CellWeights


LayerWeights = CellWeights | BidirectionalWeights


def _affine(weights: np.ndarray, bias: np.ndarray, *parts: np.ndarray) -> np.ndarray:
    """W[p, q] + b for a batch of row vectors."""
    return np.asarray(np.concatenate(parts, axis=-1) @ weights.T + bias)


def simple_rnn_step(
    weights: SimpleRNNWeights, a_prev: np.ndarray, x_t: np.ndarray, g1: Activation = np.tanh
) -> np.ndarray:
    """a_t = g1(W_aa a_{t-1} + W_ax x_t + b_a)."""
    return g1(a_prev @ weights.w_aa.T + x_t @ weights.w_ax.T + weights.b_a)


def rnn_output(weights: OutputWeights, a_t: np.ndarray, g2: Activation = sigmoid) -> np.ndarray:
    """y_t = g2(W_ya a_t + b_y)."""
    return g2(a_t @ weights.w_ya.T + weights.b_y)


def gru_step(weights: GRUWeights, c_prev: np.ndarray, x_t: np.ndarray) -> np.ndarray:
    """One GRU step; returns c_t (which is also a_t)."""
    gamma_u = sigmoid(_affine(weights.w_u, weights.b_u, c_prev, x_t))
    gamma_r = sigmoid(_affine(weights.w_r, weights.b_r, c_prev, x_t))
    c_tilde = np.tanh(_affine(weights.w_c, weights.b_c, gamma_r * c_prev, x_t))
    return gamma_u * c_tilde + (1.0 - gamma_u) * c_prev


def lstm_step(
    weights: LSTMWeights, a_prev: np.ndarray, c_prev: np.ndarray, x_t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One LSTM step; returns (a_t, c_t)."""
    c_tilde = np.tanh(_affine(weights.w_c, weights.b_c, a_prev, x_t))
    gamma_u = sigmoid(_affine(weights.w_u, weights.b_u, a_prev, x_t))
    gamma_f = sigmoid(_affine(weights.w_f, weights.b_f, a_prev, x_t))
    gamma_o = sigmoid(_affine(weights.w_o, weights.b_o, a_prev, x_t))
    c_t = gamma_u * c_tilde + gamma_f * c_prev
    return gamma_o * np.tanh(c_t), c_t


def units_of(weights: CellWeights) -> int:
    return int(weights.w_aa.shape[0] if isinstance(weights, SimpleRNNWeights) else weights.w_c.shape[0])


def initial_state(weights: CellWeights, batch_size: int) -> State:
    """Zeros: (a_0,) for the RNN and GRU, (a_0, c_0) for the LSTM, as Keras starts."""
    zeros = np.zeros((batch_size, units_of(weights)))
    return (zeros, zeros) if isinstance(weights, LSTMWeights) else (zeros,)


def cell_step(weights: CellWeights, state: State, x_t: np.ndarray) -> State:
    """Advance any cell by one time step; the first element of the new state is a_t."""
    if isinstance(weights, SimpleRNNWeights):
        return (simple_rnn_step(weights, state[0], x_t),)
    if isinstance(weights, GRUWeights):
        return (gru_step(weights, state[0], x_t),)
    return lstm_step(weights, state[0], state[1], x_t)


def run_cell(
    weights: CellWeights, inputs: np.ndarray, state: State | None = None
) -> tuple[np.ndarray, State]:
    """Run a cell over inputs (batch, time, features): all a_t (batch, time, units) and the final state."""
    state = initial_state(weights, inputs.shape[0]) if state is None else state
    activations = []
    for time_step in range(inputs.shape[1]):
        state = cell_step(weights, state, inputs[:, time_step, :])
        activations.append(state[0])
    return np.stack(activations, axis=1), state


def run_bidirectional(weights: BidirectionalWeights, inputs: np.ndarray) -> tuple[np.ndarray, State, State]:
    """Keras `Bidirectional(merge_mode='concat', return_sequences=True)`, with both final states.

    The backward cell reads the reversed sequence; its activations are reversed back so that step t
    holds [forward a_t (after x_1..x_t), backward a_t (after x_T..x_t)]. The last-state output of
    Keras (return_sequences=False) is [forward final a, backward final a] = [sequence[:, -1, :units],
    sequence[:, 0, units:]].
    """
    forward_sequence, forward_state = run_cell(weights.forward, inputs)
    backward_sequence, backward_state = run_cell(weights.backward, inputs[:, ::-1, :])
    return (
        np.concatenate([forward_sequence, backward_sequence[:, ::-1, :]], axis=-1),
        forward_state,
        backward_state,
    )


def bidirectional_last(weights: BidirectionalWeights, inputs: np.ndarray) -> np.ndarray:
    """Keras `Bidirectional(merge_mode='concat')` without return_sequences: both final activations."""
    _, forward_state, backward_state = run_bidirectional(weights, inputs)
    return np.concatenate([forward_state[0], backward_state[0]], axis=-1)


def run_layer(weights: LayerWeights, inputs: np.ndarray) -> np.ndarray:
    """The whole output sequence of one recurrent layer, one- or bidirectional."""
    if isinstance(weights, BidirectionalWeights):
        return run_bidirectional(weights, inputs)[0]
    return run_cell(weights, inputs)[0]


def run_stack(layers: Sequence[LayerWeights], inputs: np.ndarray) -> np.ndarray:
    """A deep RNN: each layer reads the previous layer's sequence of activations; returns the last one's."""
    sequence = inputs
    for layer in layers:
        sequence = run_layer(layer, sequence)
    return sequence


def _keras_arrays(weights: Sequence[np.ndarray], blocks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(kernel, recurrent_kernel, bias) from `layer.get_weights()`, with zeros when use_bias=False."""
    if len(weights) not in (2, 3):
        raise ValueError(
            f"expected [kernel, recurrent_kernel, bias] from get_weights(), got {len(weights)} arrays"
        )
    kernel, recurrent = np.asarray(weights[0], np.float64), np.asarray(weights[1], np.float64)
    units = recurrent.shape[0]
    if kernel.shape[1] != blocks * units or recurrent.shape[1] != blocks * units:
        raise ValueError(
            f"expected kernel (features, {blocks}*units) and recurrent_kernel (units, {blocks}*units), "
            f"got {kernel.shape} and {recurrent.shape}"
        )
    bias = np.asarray(weights[2], np.float64) if len(weights) == 3 else np.zeros(blocks * units)
    if bias.shape != (blocks * units,):
        # A (2, 3*units) bias is the signature of GRU(reset_after=True), whose equation is not the course's.
        hint = (
            " (a GRU with reset_after=True? the course's GRU is reset_after=False)" if bias.ndim == 2 else ""
        )
        raise ValueError(f"expected bias of shape ({blocks * units},), got {bias.shape}{hint}")
    return kernel, recurrent, bias


def _course_blocks(
    kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray, blocks: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per Keras gate block: (W acting on [a_{t-1}, x_t] of shape (units, units + features), b)."""
    units = recurrent.shape[0]
    result = []
    for block in range(blocks):
        columns = slice(block * units, (block + 1) * units)
        stacked = np.concatenate([recurrent[:, columns], kernel[:, columns]], axis=0)
        result.append((stacked.T.copy(), bias[columns].copy()))
    return result


def from_keras_simple_rnn(weights: Sequence[np.ndarray]) -> SimpleRNNWeights:
    """SimpleRNN `get_weights()` -> W_aa = recurrent_kernel.T, W_ax = kernel.T, b_a = bias."""
    kernel, recurrent, bias = _keras_arrays(weights, 1)
    return SimpleRNNWeights(w_aa=recurrent.T.copy(), w_ax=kernel.T.copy(), b_a=bias)


def from_keras_gru(weights: Sequence[np.ndarray]) -> GRUWeights:
    """GRU(reset_after=False) `get_weights()` -> the course's W_c, W_u, W_r (Keras blocks z, r, h).

    Keras computes h = z * h_prev + (1 - z) * h~, the course c_t = Γu * c~ + (1 - Γu) * c_{t-1}, so
    Γu = 1 - z = 1 - σ(v_z) = σ(-v_z): W_u and b_u are Keras' z weights negated, which is exact.
    """
    (w_z, b_z), (w_r, b_r), (w_h, b_h) = _course_blocks(*_keras_arrays(weights, 3), blocks=3)
    return GRUWeights(w_c=w_h, w_u=-w_z, w_r=w_r, b_c=b_h, b_u=-b_z, b_r=b_r)


def from_keras_lstm(weights: Sequence[np.ndarray]) -> LSTMWeights:
    """LSTM `get_weights()` -> the course's matrices; Keras blocks i, f, c, o are Γu, Γf, c~, Γo."""
    (w_i, b_i), (w_f, b_f), (w_c, b_c), (w_o, b_o) = _course_blocks(*_keras_arrays(weights, 4), blocks=4)
    return LSTMWeights(w_c=w_c, w_u=w_i, w_f=w_f, w_o=w_o, b_c=b_c, b_u=b_i, b_f=b_f, b_o=b_o)


def from_keras_dense(weights: Sequence[np.ndarray]) -> OutputWeights:
    """Dense `get_weights()` [kernel (units, outputs), bias] -> W_ya = kernel.T, b_y = bias."""
    kernel = np.asarray(weights[0], np.float64)
    bias = np.asarray(weights[1], np.float64) if len(weights) > 1 else np.zeros(kernel.shape[1])
    return OutputWeights(w_ya=kernel.T.copy(), b_y=bias)
