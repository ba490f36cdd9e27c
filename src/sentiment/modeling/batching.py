"""Batches of reviews of similar length, each cut to its longest review: no time step spent on padding.

Sequences are padded to `max_len`, but most reviews are much shorter (IMDB: median about 175 words),
and a recurrent layer steps through every column it is given, masked or not. Grouping reviews of
similar length and dropping the columns that are padding in the whole batch makes an epoch several
times faster at long `max_len`, with the same outputs: the padding is masked, so it never changed
the state. Pure NumPy (no TensorFlow), deterministic for a given seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

# Widths are rounded up to a multiple of this, so that TensorFlow traces a few dozen batch shapes
# at most, not one per distinct review length.
WIDTH_STEP = 32
# Lengths are jittered by up to this many tokens before sorting, so that each epoch groups reviews
# differently while batches still hold reviews of about the same length.
LENGTH_JITTER = 32


def review_lengths(tokens: np.ndarray) -> np.ndarray:
    """Real (non-padding) tokens per row; id 0 is padding and occurs nowhere else."""
    return np.count_nonzero(tokens, axis=1)


def trim_padding(tokens: np.ndarray, width_step: int = WIDTH_STEP) -> np.ndarray:
    """The band of columns of `tokens` holding a real token in some row, widened to a multiple of
    width_step with all-padding columns. Works for 'pre' and 'post' padding alike: only columns that
    are padding in every row are dropped, and padding is masked, so the model's outputs are unchanged.
    """
    columns = tokens.shape[1]
    used = np.flatnonzero(tokens.any(axis=0))
    if len(used) == 0:
        return tokens[:, : min(columns, width_step)]
    start, stop = int(used[0]), int(used[-1]) + 1
    width = min(columns, -(-(stop - start) // width_step) * width_step)
    # Padding at the start ('pre'): widen towards the start; otherwise towards the end.
    start = columns - width if stop == columns else min(start, columns - width)
    return tokens[:, start : start + width]


@dataclass(frozen=True)
class LengthBatches:
    """Batch plans for one split: which rows go together, for training (shuffled) and prediction."""

    lengths: np.ndarray
    batch_size: int

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {self.batch_size}")

    @property
    def count(self) -> int:
        """Batches per pass over the split."""
        return -(-len(self.lengths) // self.batch_size)

    def training_epoch(self, seed: int, epoch: int) -> list[np.ndarray]:
        """Row indices of each batch of one training epoch: similar lengths, batches in random order."""
        generator = np.random.default_rng([seed, epoch])
        jittered = self.lengths + generator.uniform(0, LENGTH_JITTER, len(self.lengths))
        batches = self._chunks(np.argsort(jittered, kind="stable"))
        generator.shuffle(batches)
        return batches

    def prediction(self) -> list[np.ndarray]:
        """Row indices of each batch for prediction: sorted by length (callers restore the order)."""
        return self._chunks(np.argsort(self.lengths, kind="stable"))

    def _chunks(self, order: np.ndarray) -> list[np.ndarray]:
        return [order[start : start + self.batch_size] for start in range(0, len(order), self.batch_size)]


def iterate(
    tokens: np.ndarray, labels: np.ndarray | None, batches: list[np.ndarray]
) -> Iterator[np.ndarray | tuple[np.ndarray, np.ndarray]]:
    """Per batch, its tokens trimmed of all-padding columns, with its labels unless `labels` is None."""
    for rows in batches:
        trimmed = trim_padding(tokens[rows]).astype(np.int32, copy=False)
        yield trimmed if labels is None else (trimmed, labels[rows])
