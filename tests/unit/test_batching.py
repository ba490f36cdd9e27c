"""Length-grouped batches: every review once per epoch, no real token dropped, far fewer padded steps."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment.modeling import batching


def padded(lengths: list[int] | np.ndarray, columns: int, padding: str, seed: int = 0) -> np.ndarray:
    generator = np.random.default_rng(seed)
    tokens = np.zeros((len(lengths), columns), dtype=np.int32)
    for row, length in enumerate(lengths):
        words = generator.integers(1, 50, size=length)
        if length:
            if padding == "pre":
                tokens[row, columns - length :] = words
            else:
                tokens[row, :length] = words
    return tokens


@pytest.mark.parametrize("padding", ["pre", "post"])
def test_trimming_drops_only_columns_that_are_padding_in_every_row(padding: str) -> None:
    tokens = padded([3, 40, 17, 0], columns=100, padding=padding)
    trimmed = batching.trim_padding(tokens, width_step=16)

    assert trimmed.shape == (4, 48), "40 tokens, widened to the next multiple of 16"
    assert np.array_equal(batching.review_lengths(trimmed), [3, 40, 17, 0])
    # the same tokens in the same order, with the padding on the same side
    for row, original in zip(trimmed, tokens, strict=True):
        assert np.array_equal(row[row != 0], original[original != 0])
    side = trimmed[:, :8] if padding == "pre" else trimmed[:, -8:]
    assert not side.any()


def test_trimming_never_widens_past_the_padded_length_and_keeps_an_empty_batch_valid() -> None:
    full = padded([30, 30], columns=30, padding="pre")
    assert np.array_equal(batching.trim_padding(full, width_step=16), full)
    empty = np.zeros((2, 30), dtype=np.int32)
    assert batching.trim_padding(empty, width_step=16).shape == (2, 16)


def test_a_training_epoch_holds_every_review_once_and_is_reproducible() -> None:
    lengths = np.random.default_rng(1).integers(1, 500, size=1000)
    plans = batching.LengthBatches(lengths, batch_size=64)

    epoch = plans.training_epoch(seed=7, epoch=0)
    assert len(epoch) == plans.count == 16
    assert np.array_equal(np.sort(np.concatenate(epoch)), np.arange(1000))
    again = plans.training_epoch(seed=7, epoch=0)
    assert all(np.array_equal(first, second) for first, second in zip(epoch, again, strict=True))

    def firsts(batches: list[np.ndarray]) -> list[int]:
        return [int(batch[0]) for batch in batches]

    assert firsts(plans.training_epoch(seed=7, epoch=1)) != firsts(epoch), "regrouped every epoch"
    assert firsts(plans.training_epoch(seed=8, epoch=0)) != firsts(epoch), "the seed matters"


def test_grouping_by_length_skips_most_of_the_padding() -> None:
    """Reviews of 1 to 800 tokens padded to 800: a random batch is almost always ~800 wide."""
    lengths = np.random.default_rng(2).integers(1, 801, size=2000)
    tokens = padded(lengths, columns=800, padding="pre")
    plans = batching.LengthBatches(lengths, batch_size=64)

    trimmed_columns = sum(
        batch.shape[1] * len(batch)
        for batch, _ in batching.iterate(tokens, np.zeros(2000), plans.training_epoch(seed=0, epoch=0))
    )
    assert trimmed_columns < 0.6 * tokens.size
    assert trimmed_columns >= lengths.sum(), "no real token is dropped"


def test_prediction_batches_are_sorted_by_length() -> None:
    lengths = np.array([5, 1, 9, 3, 7])
    batches = batching.LengthBatches(lengths, batch_size=2).prediction()
    assert [list(lengths[batch]) for batch in batches] == [[1, 3], [5, 7], [9]]
