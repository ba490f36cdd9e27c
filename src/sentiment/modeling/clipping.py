"""Exploding gradients and gradient clipping, measured: a small SimpleRNN made to explode, trained a few
steps with and without the clipnorm the training uses.

The course: "Exploding gradient can occur because of poor initialization, large values of the
weights"; "to mitigate exploding gradient, gradient clipping is used". The network's recurrent
weights are the identity times a gain above 1 (the IRNN of Le et al. 2015, made unstable), so with
ReLU a state, and a signal sent back through t steps, grows like gain^t whatever the random draw
(tanh would saturate, which bounds the state and stops the growth). It reads the last tokens of the
longest training reviews and takes plain SGD steps, from the same seeded start both times: without
clipping the update is the learning rate times the whole gradient; with Keras' `clipnorm`, each
weight's gradient is scaled down to that norm first. Adam would hide the explosion: it divides each
gradient by its own running size.

Per step: the loss before the step, the global norm of the gradient as computed, and the largest
per-weight norm of the gradient the optimizer applied, read back from the weights' change (SGD moves a
weight by exactly learning rate x applied gradient). Deterministic given the data, config and seed.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from sentiment.config import ClippingConfig
from sentiment.data.vocabulary import PADDING_INDEX
from sentiment.modeling.training import make_deterministic

COLUMNS = ("step", "clipped", "loss", "gradient_norm", "applied_norm")


def experiment_batch(
    tokens: np.ndarray, labels: np.ndarray, config: ClippingConfig
) -> tuple[np.ndarray, ...]:
    """The last `config.tokens` columns of the longest reviews, half of them of each label (ties: first
    row first), in their order in `tokens`, and their labels as a column of floats.

    Both labels: with one only, a huge output of the right sign would fit every review, and the loss
    would fall to nothing however large the gradient.
    """
    tokens, labels = np.asarray(tokens), np.asarray(labels).reshape(-1)
    lengths = (tokens != PADDING_INDEX).sum(axis=1)
    chosen = []
    for label, count in ((0, config.reviews // 2), (1, config.reviews - config.reviews // 2)):
        rows = np.flatnonzero(labels == label)
        chosen.append(rows[np.argsort(-lengths[rows], kind="stable")[:count]])
    rows = np.sort(np.concatenate(chosen))
    width = min(config.tokens, tokens.shape[1])
    batch = np.ascontiguousarray(tokens[rows, tokens.shape[1] - width :], dtype=np.int32)
    return batch, labels[rows].astype(np.float32).reshape(-1, 1)


def exploding_rnn(config: ClippingConfig, vocabulary_size: int, seed: int) -> keras.Model:
    """Embedding, a SimpleRNN whose recurrent weights are `recurrent_gain` x the identity, one logit."""
    recurrent = keras.initializers.Identity(gain=config.recurrent_gain)
    return keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(vocabulary_size, config.embedding_dim, name="embedding"),
            keras.layers.SimpleRNN(
                config.units, activation=config.activation, recurrent_initializer=recurrent, name="rnn"
            ),
            keras.layers.Dense(1, name="logit"),
        ],
        name="exploding_rnn",
    )


def _run(
    batch: np.ndarray, targets: np.ndarray, config: ClippingConfig, clipnorm: float | None, seed: int
) -> list[dict[str, float | int | bool]]:
    make_deterministic(seed)
    model = exploding_rnn(config, int(batch.max(initial=0)) + 1, seed)
    options = {"clipnorm": clipnorm} if clipnorm is not None else {}
    optimizer = keras.optimizers.SGD(learning_rate=config.learning_rate, **options)
    loss_function = keras.losses.BinaryCrossentropy(from_logits=True)
    inputs, labels = tf.constant(batch), tf.constant(targets)

    @tf.function  # traced once: the steps run as a graph, several times faster than eagerly
    def loss_and_gradients() -> tuple[Any, list[Any]]:
        with tf.GradientTape() as tape:
            loss = loss_function(labels, model(inputs, training=True))
        # dense: clipnorm measures an embedding's sparse gradient by its rows as given, repeated words
        # apart, so the row sums applied could exceed the clipnorm
        return loss, [
            tf.convert_to_tensor(gradient) for gradient in tape.gradient(loss, model.trainable_variables)
        ]

    steps: list[dict[str, float | int | bool]] = []
    for step in range(1, config.steps + 1):
        loss, gradients = loss_and_gradients()
        before = [np.array(variable.numpy(), dtype=np.float64) for variable in model.trainable_variables]
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        applied = [
            np.linalg.norm((old - np.asarray(variable.numpy(), dtype=np.float64)) / config.learning_rate)
            for old, variable in zip(before, model.trainable_variables, strict=True)
        ]
        steps.append(
            {
                "step": step,
                "clipped": clipnorm is not None,
                "loss": float(loss),
                "gradient_norm": float(tf.linalg.global_norm(gradients)),
                "applied_norm": float(max(applied)),
            }
        )
    return steps


def clipping_experiment(
    tokens: np.ndarray, labels: np.ndarray, config: ClippingConfig, clipnorm: float, seed: int
) -> pd.DataFrame:
    """One row per step and setting (`clipped` false, then true): loss, gradient_norm, applied_norm.

    A non-finite value is kept as it came (inf, NaN): that the unclipped run diverges is the point.
    """
    batch, targets = experiment_batch(tokens, labels, config)
    rows = _run(batch, targets, config, None, seed) + _run(batch, targets, config, clipnorm, seed)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def summary(steps: pd.DataFrame, clipnorm: float) -> dict[str, float | int | None]:
    """The figures the clipping claim is decided on, for each setting ("clipped", "unclipped"): the
    first loss, the largest finite loss and gradient norm, the first step whose loss (or gradient norm)
    is no longer finite (None: none), and the largest per-weight norm applied (inf when not finite)."""
    figures: dict[str, float | int | None] = {"clipnorm": clipnorm}
    for clipped, label in ((True, "clipped"), (False, "unclipped")):
        rows = steps[steps["clipped"] == clipped]
        finite = rows[np.isfinite(rows["loss"].to_numpy())]
        first_non_finite = rows.loc[~np.isfinite(rows["loss"].to_numpy()), "step"]
        figures[f"{label}_first_loss"] = float(rows["loss"].iloc[0])
        figures[f"{label}_max_finite_loss"] = float(finite["loss"].max()) if len(finite) else None
        figures[f"{label}_first_non_finite_step"] = (
            int(first_non_finite.iloc[0]) if len(first_non_finite) else None
        )
        norms = rows["gradient_norm"].to_numpy()
        finite_norms = norms[np.isfinite(norms)]
        figures[f"{label}_max_gradient_norm"] = float(finite_norms.max()) if finite_norms.size else None
        overflowed = rows.loc[~np.isfinite(norms), "step"]
        figures[f"{label}_first_non_finite_gradient_step"] = (
            int(overflowed.iloc[0]) if len(overflowed) else None
        )
        applied = rows["applied_norm"].to_numpy()
        figures[f"{label}_max_applied_norm"] = (
            float(applied.max()) if np.isfinite(applied).all() else math.inf
        )
    return figures
