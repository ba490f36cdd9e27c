"""Vanishing gradients, measured: how much of the loss gradient reaches each token of a review.

For a batch of reviews, the embedding output is computed, watched by a GradientTape, and the rest of
the model is run on it; the norm of d(loss)/d(embedded token) at each time step is then averaged over
the reviews, per distance from the end of the review (1: its last token). A simple RNN that reads the
review left to right and classifies from its final state sees that gradient die with distance; the
gates of an LSTM or GRU carry it much further.
"""

from __future__ import annotations

import inspect
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from sentiment.data.vocabulary import PADDING_INDEX
from sentiment.modeling.batching import trim_padding
from sentiment.modeling.builder import EMBEDDING_LAYER

# The model run from the embedding must reproduce the model's own prediction, else the measurement
# would not be of this model (say, a future model that is not a simple chain of layers).
CONSISTENCY_TOLERANCE = 1e-4


def _accepts_mask(layer: keras.layers.Layer) -> bool:
    return "mask" in inspect.signature(layer.call).parameters


def run_layers(model: keras.Model, after: str, hidden: Any, mask: Any) -> Any:
    """Run the model's layers after the one named `after` on `hidden`, propagating the mask as Keras does."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    names = [layer.name for layer in layers]
    if after not in names:
        raise ValueError(f"model {model.name!r} has no layer named {after!r}")
    current_mask = mask
    for layer in layers[names.index(after) + 1 :]:
        if current_mask is not None and _accepts_mask(layer):
            output = layer(hidden, mask=current_mask, training=False)
        else:
            output = layer(hidden, training=False)
        current_mask = layer.compute_mask(hidden, current_mask)
        hidden = output
    return hidden


def forward_from_embedding(model: keras.Model, embedded: Any, mask: Any) -> Any:
    """Run the layers after the embedding on `embedded`, propagating the padding mask as Keras does."""
    return run_layers(model, EMBEDDING_LAYER, embedded, mask)


def distances_from_end(tokens: np.ndarray) -> np.ndarray:
    """Each position's distance from the review's last real token (1 there), 0 on padding.

    Works for 'pre' and 'post' padding alike: the review's tokens are the non-padding ids.
    """
    real = tokens != PADDING_INDEX
    steps = tokens.shape[1]
    last_real = steps - 1 - np.argmax(real[:, ::-1], axis=1)
    distances = last_real[:, None] - np.arange(steps)[None, :] + 1
    return np.where(real & (distances >= 1), distances, 0)


def gradient_norms(model: keras.Model, tokens: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """‖d loss_i / d e_{i,t}‖ for each review i and step t: an array shaped like `tokens`."""
    embedding = model.get_layer(EMBEDDING_LAYER)
    ids = tf.convert_to_tensor(tokens, dtype=tf.int32)
    embedded = tf.convert_to_tensor(embedding(ids))
    mask = embedding.compute_mask(ids)
    targets = tf.convert_to_tensor(np.asarray(labels, dtype=np.float32).reshape(-1, 1))
    with tf.GradientTape() as tape:
        tape.watch(embedded)
        probabilities = forward_from_embedding(model, embedded, mask)
        # Summed, not averaged, over reviews: each review's slice of the gradient is its own loss's.
        loss = tf.reduce_sum(keras.losses.binary_crossentropy(targets, probabilities))
    reference = np.asarray(model(ids, training=False))
    if np.max(np.abs(np.asarray(probabilities) - reference)) > CONSISTENCY_TOLERANCE:
        raise RuntimeError(f"running {model.name!r} from its embedding does not reproduce its predictions")
    gradient = tape.gradient(loss, embedded)
    return np.linalg.norm(np.asarray(gradient, dtype=np.float64), axis=-1)


def longest_reviews(tokens: np.ndarray, count: int) -> np.ndarray:
    """Row indices of the `count` reviews with the most real tokens (ties: first row first)."""
    lengths = (tokens != PADDING_INDEX).sum(axis=1)
    return np.argsort(-lengths, kind="stable")[:count]


def gradient_profile(model: keras.Model, tokens: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    """Mean gradient norm per distance from the end, over the reviews that reach that distance.

    Columns: distance (1 = last token), gradient_norm (mean), reviews (how many were averaged).
    The columns that are padding in every review are left out first: they are masked, so the profile
    is the same, and the recurrent layers no longer step through them (most of max_len, on short reviews).
    """
    tokens = trim_padding(tokens)
    return mean_by_distance(gradient_norms(model, tokens, labels), distances_from_end(tokens))


def mean_by_distance(norms: np.ndarray, distances: np.ndarray) -> pd.DataFrame:
    """Per distance from the end (`distances_from_end`; 0, padding, left out): the mean of `norms`
    over the reviews that reach it. Columns: distance, gradient_norm, reviews."""
    real = distances > 0
    sums = np.bincount(distances[real], weights=norms[real])
    counts = np.bincount(distances[real])
    present = np.flatnonzero(counts)
    present = present[present > 0]
    return pd.DataFrame(
        {"distance": present, "gradient_norm": sums[present] / counts[present], "reviews": counts[present]}
    )


def profile_summary(profile: pd.DataFrame, far_distance: int) -> dict[str, float]:
    """The gradient norm at distance 1 and at `far_distance` (or the farthest measured), and their ratio."""
    if profile.empty:
        raise ValueError("no review in the gradient batch has a real token")
    by_distance = profile.set_index("distance")["gradient_norm"]
    far = int(min(far_distance, by_distance.index.max()))
    near_norm, far_norm = float(by_distance.loc[1]), float(by_distance.loc[far])
    return {
        "far_distance": float(far),
        "norm_at_1": near_norm,
        "norm_at_far": far_norm,
        "ratio_far_to_1": far_norm / near_norm if near_norm > 0 else float("nan"),
    }
