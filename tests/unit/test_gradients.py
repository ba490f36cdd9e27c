"""The vanishing-gradient measurement, on models whose weights are set by hand so the answer is known:
a simple RNN whose recurrence halves the signal each step loses its gradient geometrically with the
distance from the end; an LSTM whose forget gate is held open carries it undiminished."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from sentiment.config import VariantConfig
from sentiment.modeling import gradients
from sentiment.modeling.builder import build_model

UNITS = 4
VOCABULARY_SIZE = 20
STEPS = 12


def hand_set_model(cell: str) -> keras.Model:
    keras.utils.set_random_seed(0)
    model = build_model(VariantConfig(cell=cell, units=(UNITS,), embedding_dim=UNITS), VOCABULARY_SIZE)
    generator = np.random.default_rng(0)
    model.get_layer("embedding").set_weights([generator.normal(0.0, 0.1, (VOCABULARY_SIZE, UNITS))])
    recurrent = model.get_layer(f"{cell}_1")
    if cell == "rnn":
        # a_t = tanh(I x_t + 0.5 I a_{t-1}): each step back multiplies the gradient by about 0.5
        recurrent.set_weights([np.eye(UNITS), 0.5 * np.eye(UNITS), np.zeros(UNITS)])
    else:
        # no recurrent kernel; forget gate bias 10 (Γf ≈ 1): the memory cell passes gradients unchanged
        bias = np.zeros(4 * UNITS)
        bias[UNITS : 2 * UNITS] = 10.0
        kernel = generator.normal(0.0, 0.5, (UNITS, 4 * UNITS))
        recurrent.set_weights([kernel, np.zeros((UNITS, 4 * UNITS)), bias])
    return model


def reviews(padding: str) -> tuple[np.ndarray, np.ndarray]:
    """Three reviews of 12, 9 and 5 tokens, padded to 12 steps on the given side."""
    generator = np.random.default_rng(1)
    tokens = np.zeros((3, STEPS), dtype=np.int32)
    for row, length in enumerate((12, 9, 5)):
        ids = generator.integers(2, VOCABULARY_SIZE, size=length)
        if padding == "pre":
            tokens[row, STEPS - length :] = ids
        else:
            tokens[row, :length] = ids
    return tokens, np.array([1, 0, 1])


def test_distance_counts_back_from_the_last_real_token_on_either_padding_side() -> None:
    tokens = np.array([[0, 0, 5, 6, 7], [5, 6, 0, 0, 0], [0, 0, 0, 0, 0]])
    expected = [[0, 0, 3, 2, 1], [2, 1, 0, 0, 0], [0, 0, 0, 0, 0]]
    np.testing.assert_array_equal(gradients.distances_from_end(tokens), expected)


def test_the_simple_rnn_gradient_dies_with_distance_the_lstm_gradient_does_not() -> None:
    tokens, labels = reviews("pre")
    rnn = gradients.gradient_profile(hand_set_model("rnn"), tokens, labels)
    lstm = gradients.gradient_profile(hand_set_model("lstm"), tokens, labels)

    assert rnn["distance"].tolist() == list(range(1, STEPS + 1))
    assert rnn["reviews"].tolist() == [3] * 5 + [2] * 4 + [1] * 3
    rnn_norms = rnn["gradient_norm"].to_numpy()
    assert np.all(np.diff(rnn_norms[:5]) < 0), "over the same reviews the RNN gradient shrinks at every step"
    rnn_ratio = gradients.profile_summary(rnn, far_distance=10)["ratio_far_to_1"]
    assert rnn_ratio < 2 * 0.5**9
    lstm_summary = gradients.profile_summary(lstm, far_distance=10)
    assert lstm_summary["far_distance"] == 10 and lstm_summary["ratio_far_to_1"] > 0.2


def test_the_profile_ignores_padding() -> None:
    model = hand_set_model("rnn")
    pre = gradients.gradient_profile(model, *reviews("pre"))
    post = gradients.gradient_profile(model, *reviews("post"))
    np.testing.assert_allclose(pre.to_numpy(), post.to_numpy(), rtol=1e-5)


def test_the_far_distance_is_clamped_to_the_longest_review() -> None:
    tokens, labels = reviews("pre")
    summary = gradients.profile_summary(
        gradients.gradient_profile(hand_set_model("rnn"), tokens, labels), 200
    )
    assert summary["far_distance"] == STEPS
    with pytest.raises(ValueError, match="no review"):
        gradients.profile_summary(
            gradients.gradient_profile(hand_set_model("rnn"), np.zeros_like(tokens), labels), 5
        )


def test_padding_columns_of_every_review_change_nothing() -> None:
    # the profile skips the columns that are padding in all reviews: 100 more of them, same profile
    model = hand_set_model("rnn")
    tokens, labels = reviews("pre")
    widened = np.pad(tokens, ((0, 0), (100, 0)))
    np.testing.assert_allclose(
        gradients.gradient_profile(model, widened, labels).to_numpy(),
        gradients.gradient_profile(model, tokens, labels).to_numpy(),
        rtol=1e-5,
    )
