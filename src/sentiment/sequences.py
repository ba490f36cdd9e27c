"""Padding and truncation to one length (Keras `pad_sequences` semantics), and the validation split."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from sentiment.vocabulary import PADDING_INDEX, TokenizedTexts

Side = Literal["pre", "post"]


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
    lengths = tokenized.lengths
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    kept = np.minimum(lengths, max_len)
    source_starts = starts + (lengths - kept if truncating == "pre" else 0)
    target_starts = (max_len - kept) if padding == "pre" else np.zeros_like(kept)

    rows = np.repeat(np.arange(len(lengths)), kept)
    offsets_of_rows = np.concatenate([[0], np.cumsum(kept)[:-1]]).astype(np.int64)
    within = np.arange(int(kept.sum()), dtype=np.int64) - np.repeat(offsets_of_rows, kept)

    padded = np.full((len(lengths), max_len), PADDING_INDEX, dtype=np.int32)
    padded[rows, np.repeat(target_starts, kept) + within] = tokenized.ids[np.repeat(source_starts, kept) + within]
    return padded


def pad_sequences(
    sequences: Sequence[Sequence[int]], max_len: int, padding: Side = "pre", truncating: Side = "pre"
) -> np.ndarray:
    """Keras-style `pad_sequences` on a list of lists."""
    lengths = np.array([len(sequence) for sequence in sequences], dtype=np.int64)
    flat = np.fromiter((index for sequence in sequences for index in sequence), dtype=np.int32)
    return pad_tokenized(TokenizedTexts(ids=flat, lengths=lengths), max_len, padding, truncating)


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of row positions into (kept, held out), with each label's share preserved."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_fraction must be between 0 and 1, got {fraction}")
    generator = np.random.default_rng(seed)
    held_out = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = int(round(len(members) * fraction))
        held_out.append(generator.permutation(members)[:count])
    held_out_positions = np.sort(np.concatenate(held_out)) if held_out else np.array([], dtype=np.int64)
    mask = np.ones(len(labels), dtype=bool)
    mask[held_out_positions] = False
    return np.flatnonzero(mask), held_out_positions
