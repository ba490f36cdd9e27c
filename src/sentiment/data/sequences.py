"""Padding and truncation to one length (Keras `pad_sequences` semantics); the splits' names.

The validation split itself is drawn in `data.splits`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from sentiment.data.vocabulary import PADDING_INDEX, TokenizedTexts

Side = Literal["pre", "post"]


SPLITS = ("train", "validation", "test")  # the sequences' splits: validation is drawn from train
# The sequences' arrays distances_<split>: each verdict's distance from the end, where the reviews
# record it (the synthetic ones, `data.synthetic`).
DISTANCES = "distances"


def pad_tokenized(
    tokenized: TokenizedTexts, max_len: int, padding: Side = "pre", truncating: Side = "pre"
) -> np.ndarray:
    """Pad or truncate every text to `max_len` ids: an int32 array of shape (texts, max_len).

    truncating='pre' drops tokens from the start (keeps the end of a long review), 'post' from the
    end; padding='pre' puts the zeros before the tokens, 'post' after them.
    """
    if max_len < 1:
        raise ValueError(f"max_len must be positive, got {max_len}")
    for name, side in (("padding", padding), ("truncating", truncating)):
        if side not in ("pre", "post"):
            raise ValueError(f"{name} must be 'pre' or 'post', got {side!r}")
    lengths = np.asarray(tokenized.lengths, dtype=np.int64)
    count = len(lengths)
    # Offsets computed as cumsum - length (not by prepending 0) so that zero texts work too.
    starts = np.cumsum(lengths) - lengths
    kept = np.minimum(lengths, max_len)
    source_starts = starts + (lengths - kept if truncating == "pre" else 0)
    # Positions in the flattened (texts * max_len) output, which is faster to fill than 2-D indexing.
    target_starts = np.arange(count, dtype=np.int64) * max_len + ((max_len - kept) if padding == "pre" else 0)

    # The k-th kept id overall lands at its text's target start plus its rank within the text, and
    # comes from its text's source start plus the same rank: rank = k - (kept ids of earlier texts).
    kept_before = np.cumsum(kept) - kept
    position = np.arange(int(kept.sum()), dtype=np.int64)
    target = np.repeat(target_starts - kept_before, kept)
    target += position
    source = np.repeat(source_starts - kept_before, kept)
    source += position
    padded = np.full(count * max_len, PADDING_INDEX, dtype=np.int32)
    padded[target] = tokenized.ids[source]
    return padded.reshape(count, max_len)


def pad_sequences(
    sequences: Sequence[Sequence[int]], max_len: int, padding: Side = "pre", truncating: Side = "pre"
) -> np.ndarray:
    """Keras-style `pad_sequences` on a list of lists."""
    lengths = np.array([len(sequence) for sequence in sequences], dtype=np.int64)
    flat = np.fromiter((index for sequence in sequences for index in sequence), dtype=np.int32)
    return pad_tokenized(TokenizedTexts(ids=flat, lengths=lengths), max_len, padding, truncating)
