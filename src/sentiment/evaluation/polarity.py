"""Which side a word leans to in the training reviews: the log odds that a review holding it is
positive, set against the share of positive reviews. Pure NumPy.

A word's polarity is read from the labels, not from a word list: it says what the training data can
have taught an embedding, for any vocabulary and language. Add-one smoothing keeps a word seen in a
single review close to 0, so that rare words do not lean hard either way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sentiment.data.vocabulary import PADDING_INDEX


def document_log_odds(tokens: np.ndarray, labels: np.ndarray, indices: Sequence[int]) -> np.ndarray:
    """For each word index in `indices`: log((p + 1) / (P + 2)) - log((n + 1) / (N + 2)), where p and n
    are the positive and negative reviews (rows of `tokens`) holding it at least once, P and N all of
    them. Positive: the word leans positive; 0: no lean (or never seen)."""
    tokens = np.asarray(tokens)
    positive = np.asarray(labels).reshape(-1) == 1
    if tokens.shape[0] != positive.size:
        raise ValueError(f"{tokens.shape[0]} reviews but {positive.size} labels")
    size = int(max(tokens.max(initial=0), max(indices, default=0))) + 1
    rows = np.broadcast_to(np.arange(tokens.shape[0])[:, None], tokens.shape)
    real = tokens != PADDING_INDEX
    # one (review, word) pair per review a word occurs in, however often it occurs there
    pairs = np.unique(rows[real].astype(np.int64) * size + tokens[real].astype(np.int64))
    reviews, words = pairs // size, pairs % size
    holding_positive = np.bincount(words[positive[reviews]], minlength=size)
    holding_negative = np.bincount(words[~positive[reviews]], minlength=size)
    chosen = np.asarray(indices, dtype=np.int64)
    total_positive, total_negative = int(positive.sum()), int((~positive).sum())
    return np.log((holding_positive[chosen] + 1) / (total_positive + 2)) - np.log(
        (holding_negative[chosen] + 1) / (total_negative + 2)
    )


def word_polarity(
    tokens: np.ndarray, labels: np.ndarray, word_index: Mapping[str, int], words: Sequence[str]
) -> dict[str, float]:
    """`document_log_odds` of each of `words` found in `word_index` (the others are left out)."""
    known = sorted({word for word in words if word in word_index})
    odds = document_log_odds(tokens, labels, [word_index[word] for word in known])
    return {word: float(value) for word, value in zip(known, odds, strict=True)}
