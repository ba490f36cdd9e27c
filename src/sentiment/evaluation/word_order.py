"""Word-order sensitivity: how well a model does when the words of each review are shuffled.

A model that reads the words as a bag (mean of word vectors, TF-IDF of single words) scores the same
on shuffled reviews; one that reads order (word pairs, a recurrent layer) loses what order told it.
Every model is scored both ways on the test split, with the same seed (params.yaml `seed`), so the
gap between its accuracy and its shuffled accuracy is what word order is worth to it.
Pure: arrays or texts and a seed in, shuffled copies out; no disk, no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sentiment.data.vocabulary import PADDING_INDEX

SHUFFLED_METRIC = "shuffled_accuracy"  # the key beside "accuracy" in a model's test metrics
# Reviews shuffled at a time: the sort keys and orders of 20,000 reviews of 800 tokens at once would
# take half a gigabyte.
BLOCK_ROWS = 2048


def shuffle_tokens(tokens: np.ndarray, seed: int) -> np.ndarray:
    """A copy of padded token ids with each row's real (non-padding) ids in a random order (seeded).

    Padding stays where it is, so the same review length and padding side ('pre' or 'post', or
    anything else) reach the model; only the order of the words changes.
    """
    tokens = np.asarray(tokens)
    if tokens.ndim != 2:
        raise ValueError(f"expected a 2-D array of padded sequences, got shape {tokens.shape}")
    generator = np.random.default_rng(seed)
    shuffled = np.empty_like(tokens)
    for start in range(0, len(tokens), BLOCK_ROWS):
        block = tokens[start : start + BLOCK_ROWS]
        shuffled[start : start + BLOCK_ROWS] = _shuffle_block(block, generator.random(block.shape))
    return shuffled


def _shuffle_block(tokens: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Each row's real positions sorted by random `keys` are read into its real positions in order."""
    real = tokens != PADDING_INDEX
    keys[~real] = 2.0  # above every random key in [0, 1): the padding positions sort last
    sources = np.argsort(keys, axis=1, kind="stable")  # real positions in a random order, then padding
    targets = np.argsort(~real, axis=1, kind="stable")  # real positions in order, then padding
    shuffled = np.empty_like(tokens)
    np.put_along_axis(shuffled, targets, np.take_along_axis(tokens, sources, axis=1), axis=1)
    return shuffled


def shuffle_words(texts: Sequence[str], seed: int) -> list[str]:
    """Each cleaned text (space-separated words) with its words in a random order (seeded)."""
    generator = np.random.default_rng(seed)
    shuffled = []
    for text in texts:
        words = text.split()
        shuffled.append(" ".join(words[index] for index in generator.permutation(len(words))))
    return shuffled
