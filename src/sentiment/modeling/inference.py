"""Inference: a trained network's probability of positive for padded sequences (evaluation and serving).

Kept apart from `training` so that the served model needs no training code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sentiment.modeling import batching

PREDICT_BATCH_SIZE = 256


def predict_probabilities(model: Any, tokens: np.ndarray, batch_size: int = PREDICT_BATCH_SIZE) -> np.ndarray:
    """P(positive) for each row of padded token ids, as float64 of shape (rows,), in the rows' order.

    Rows are predicted in batches of similar length, trimmed of all-padding columns (`batching`), one
    `predict_on_batch` each: no dataset to set up, which keeps a one-review call (serving) fast.
    """
    batches = batching.LengthBatches(batching.review_lengths(tokens), batch_size).prediction()
    probabilities = np.zeros(len(tokens), dtype=np.float64)
    for rows, batch in zip(batches, batching.iterate(tokens, None, batches), strict=True):
        probabilities[rows] = np.asarray(model.predict_on_batch(batch), dtype=np.float64).reshape(-1)
    return probabilities
