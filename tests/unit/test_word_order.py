"""Shuffling the words of each review keeps its words, its length and its padding, and is seeded; the
comparison table shows the shuffled accuracy beside the accuracy."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from sentiment.evaluation import word_order
from sentiment.orchestration import run_report

PRE = np.array([[0, 0, 0, 4, 5, 6], [0, 7, 8, 9, 10, 11], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 12]])
POST = np.array([[4, 5, 6, 0, 0, 0], [7, 8, 9, 10, 11, 0], [3, 3, 3, 5, 0, 0]])


def rows_as_multisets(tokens: np.ndarray) -> list[Counter[int]]:
    return [Counter(row[row != 0].tolist()) for row in tokens]


@pytest.mark.parametrize("tokens", [PRE, POST], ids=["pre", "post"])
def test_shuffling_keeps_each_reviews_words_and_padding_positions(tokens: np.ndarray) -> None:
    original = tokens.copy()
    shuffled = word_order.shuffle_tokens(tokens, seed=3)
    np.testing.assert_array_equal(tokens, original)  # the input is left as it was
    assert shuffled.shape == tokens.shape and shuffled.dtype == tokens.dtype
    np.testing.assert_array_equal(shuffled == 0, tokens == 0)
    assert rows_as_multisets(shuffled) == rows_as_multisets(tokens)


def test_shuffling_is_deterministic_by_seed_and_reorders_the_words() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 30, size=500)
    tokens = np.zeros((500, 30), dtype=np.int32)
    for row, length in enumerate(lengths):  # 'pre' padding, distinct words per review
        tokens[row, 30 - length :] = rng.permutation(np.arange(2, 200))[:length]

    first = word_order.shuffle_tokens(tokens, seed=42)
    np.testing.assert_array_equal(first, word_order.shuffle_tokens(tokens, seed=42))
    other = word_order.shuffle_tokens(tokens, seed=43)
    long = lengths >= 5
    assert (first[long] != tokens[long]).any(axis=1).mean() > 0.95, "long reviews come out reordered"
    assert (first[long] != other[long]).any(axis=1).mean() > 0.95, "another seed, another order"
    np.testing.assert_array_equal(first == 0, tokens == 0)
    assert rows_as_multisets(first) == rows_as_multisets(tokens)


def test_every_position_is_equally_likely_for_a_word() -> None:
    """A uniform permutation: over many copies of one review, its first word lands everywhere alike."""
    tokens = np.tile([0, 0, 2, 3, 4, 5], (4000, 1))
    shuffled = word_order.shuffle_tokens(tokens, seed=5)
    share = (shuffled[:, 2:] == 2).mean(axis=0)
    np.testing.assert_allclose(share, 0.25, atol=0.03)


def test_reviews_beyond_one_block_are_shuffled_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(word_order, "BLOCK_ROWS", 2)
    tokens = np.vstack([PRE, PRE[::-1], PRE])
    shuffled = word_order.shuffle_tokens(tokens, seed=1)
    np.testing.assert_array_equal(shuffled == 0, tokens == 0)
    assert rows_as_multisets(shuffled) == rows_as_multisets(tokens)
    np.testing.assert_array_equal(shuffled, word_order.shuffle_tokens(tokens, seed=1))


def test_shuffling_refuses_what_is_not_a_batch_of_sequences() -> None:
    with pytest.raises(ValueError, match="2-D"):
        word_order.shuffle_tokens(np.array([1, 2, 3]), seed=0)


def test_shuffling_texts_keeps_each_texts_words_and_is_seeded() -> None:
    texts = ["not really great at all", "", "one", "a b c d e f g h i j k"]
    shuffled = word_order.shuffle_words(texts, seed=42)
    assert [Counter(text.split()) for text in shuffled] == [Counter(text.split()) for text in texts]
    assert shuffled == word_order.shuffle_words(texts, seed=42)
    assert shuffled[1:3] == ["", "one"]
    assert word_order.shuffle_words(texts, seed=7)[3] != shuffled[3]


def test_the_comparison_table_shows_the_shuffled_accuracy_beside_the_accuracy() -> None:
    test = {"accuracy": 0.9, "shuffled_accuracy": 0.75, "roc_auc": 0.95, "log_loss": 0.3}
    rows = run_report.variant_rows(
        {"bilstm": {"validation": {"accuracy": 0.91}, "test": test}, "baseline": {"test": {"accuracy": 0.8}}},
        {},
    )
    columns = list(rows[0])
    assert columns[:5] == [
        "model",
        "validation accuracy",
        "test accuracy",
        "test shuffled_accuracy",
        "test roc_auc",
    ]
    by_model = {row["model"]: row for row in rows}
    assert by_model["bilstm"]["test shuffled_accuracy"] == "0.7500"
    assert by_model["baseline"]["test shuffled_accuracy"] == ""
