"""The gradient through time (`modeling.state_gradients`): checked against backpropagation worked out
by hand on a simple RNN, and on the hand-set models of test_gradients, whose answers are known."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from test_gradients import STEPS, UNITS, VOCABULARY_SIZE, hand_set_model, reviews

from sentiment.config import VariantConfig
from sentiment.modeling import state_gradients
from sentiment.modeling.builder import build_model


def random_rnn() -> keras.Model:
    keras.utils.set_random_seed(3)
    return build_model(VariantConfig(cell="rnn", units=(UNITS,), embedding_dim=UNITS), VOCABULARY_SIZE)


def test_the_last_two_states_get_the_gradient_backpropagation_gives_them() -> None:
    # h_t = tanh(W x_t + U h_{t-1} + b), p = sigmoid(v . h_T + c): dL/dh_T = (p - y) v and
    # dL/dh_{T-1} = U^T ((1 - h_T^2) * dL/dh_T), computed here with numpy from the weights
    model = random_rnn()
    tokens, label = np.array([[3, 7, 11, 5, 9]]), 1.0
    table = model.get_layer("embedding").get_weights()[0]
    kernel, recurrent, bias = model.get_layer("rnn_1").get_weights()
    weights, offset = model.get_layer("sentiment").get_weights()
    states = [np.zeros(UNITS)]
    for token in tokens[0]:
        states.append(np.tanh(table[token] @ kernel + states[-1] @ recurrent + bias))
    probability = 1.0 / (1.0 + np.exp(-(states[-1] @ weights[:, 0] + offset[0])))
    last = (probability - label) * weights[:, 0]
    before_last = recurrent @ ((1.0 - states[-1] ** 2) * last)

    norms = state_gradients.state_gradient_norms(model, tokens, np.array([label]))

    assert norms is not None and norms.shape == tokens.shape
    np.testing.assert_allclose(norms[0, -1], np.linalg.norm(last), rtol=1e-4)
    np.testing.assert_allclose(norms[0, -2], np.linalg.norm(before_last), rtol=1e-4)


def test_the_simple_rnn_state_gradient_halves_each_step_the_open_lstm_memory_keeps_it() -> None:
    tokens, labels = reviews("pre")
    rnn = state_gradients.state_gradient_profile(hand_set_model("rnn"), tokens, labels)
    lstm = state_gradients.state_gradient_profile(hand_set_model("lstm"), tokens, labels)
    assert rnn is not None and lstm is not None
    assert rnn.index.tolist() == list(range(1, STEPS + 1))
    # each step back multiplies by 0.5 (1 - h^2) <= 0.5, over the same three reviews (distances 1-5)
    shrink = rnn.loc[2:5].to_numpy() / rnn.loc[1:4].to_numpy()
    assert np.all(shrink <= 0.5 + 1e-6)
    assert rnn.loc[STEPS] / rnn.loc[1] < 0.5 ** (STEPS - 1) * 2
    # the forget gate at 1: from the second step back the memory's gradient stays as it was
    assert lstm.loc[STEPS] / lstm.loc[2] > 0.9


def test_padding_on_either_side_gives_the_same_profile() -> None:
    model = hand_set_model("rnn")
    pre = state_gradients.state_gradient_profile(model, *reviews("pre"))
    post = state_gradients.state_gradient_profile(model, *reviews("post"))
    assert pre is not None and post is not None
    np.testing.assert_allclose(pre.to_numpy(), post.to_numpy(), rtol=1e-5)


def test_a_stacked_model_is_measured_at_its_first_layer() -> None:
    keras.utils.set_random_seed(0)
    deep = build_model(VariantConfig(cell="gru", units=(UNITS, UNITS), embedding_dim=UNITS), VOCABULARY_SIZE)
    profile = state_gradients.state_gradient_profile(deep, *reviews("post"))
    assert profile is not None and np.all(np.isfinite(profile.to_numpy())) and profile.loc[1] > 0


@pytest.mark.parametrize(
    "variant",
    [
        VariantConfig(cell="lstm", units=(UNITS,), embedding_dim=UNITS, bidirectional=True),
        VariantConfig(cell="none", units=(), embedding_dim=UNITS, pooling="mean"),
    ],
    ids=["bidirectional", "no recurrent layer"],
)
def test_a_model_without_a_one_way_recurrence_has_no_state_profile(variant: VariantConfig) -> None:
    model = build_model(variant, VOCABULARY_SIZE)
    assert state_gradients.first_recurrent_layer(model) is None
    assert state_gradients.state_gradient_profile(model, *reviews("pre")) is None
