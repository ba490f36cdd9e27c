"""Padding and truncation with Keras pad_sequences semantics."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment.data.sequences import pad_sequences, pad_tokenized
from sentiment.data.vocabulary import TokenizedTexts

SEQUENCES = [[1, 2, 3, 4, 5, 6], [7, 8], [], [9, 10, 11, 12]]


@pytest.mark.parametrize(
    ("padding", "truncating", "expected"),
    [
        # truncating='pre' keeps the end of a long text, 'post' its start; padding puts the zeros.
        ("pre", "pre", [[3, 4, 5, 6], [0, 0, 7, 8], [0, 0, 0, 0], [9, 10, 11, 12]]),
        ("pre", "post", [[1, 2, 3, 4], [0, 0, 7, 8], [0, 0, 0, 0], [9, 10, 11, 12]]),
        ("post", "pre", [[3, 4, 5, 6], [7, 8, 0, 0], [0, 0, 0, 0], [9, 10, 11, 12]]),
        ("post", "post", [[1, 2, 3, 4], [7, 8, 0, 0], [0, 0, 0, 0], [9, 10, 11, 12]]),
    ],
)
def test_every_padding_and_truncating_combination(padding: str, truncating: str, expected: list[int]) -> None:
    padded = pad_sequences(SEQUENCES, 4, padding=padding, truncating=truncating)  # type: ignore[arg-type]
    assert padded.dtype == np.int32
    np.testing.assert_array_equal(padded, expected)


def test_the_default_is_pre_padding_and_pre_truncating() -> None:
    np.testing.assert_array_equal(pad_sequences([[1, 2, 3], [4]], 2), [[2, 3], [0, 4]])


def test_only_empty_texts_and_no_texts_at_all() -> None:
    np.testing.assert_array_equal(pad_sequences([[], []], 3), np.zeros((2, 3)))
    empty = pad_sequences([], 3)
    assert empty.shape == (0, 3)
    assert empty.dtype == np.int32


def test_the_flat_form_gives_the_same_result() -> None:
    lengths = np.array([len(sequence) for sequence in SEQUENCES])
    flat = np.array([index for sequence in SEQUENCES for index in sequence], dtype=np.int32)
    tokenized = TokenizedTexts(ids=flat, lengths=lengths)
    for side in ("pre", "post"):
        np.testing.assert_array_equal(
            pad_tokenized(tokenized, 3, padding=side, truncating=side),
            pad_sequences(SEQUENCES, 3, padding=side, truncating=side),
        )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"max_len": 0}, "max_len"), ({"padding": "middle"}, "padding"), ({"truncating": "both"}, "truncating")],
)
def test_bad_settings_are_refused(arguments: dict[str, object], message: str) -> None:
    settings = {"max_len": 4, "padding": "pre", "truncating": "pre"} | arguments
    with pytest.raises(ValueError, match=message):
        pad_sequences(SEQUENCES, **settings)  # type: ignore[arg-type]
