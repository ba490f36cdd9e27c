"""What the claims stage measures besides the training stages' metrics, on data worked out by hand: the
accuracy by review length (recorded by the training stages) and a word's polarity in the training
reviews."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment.evaluation import buckets
from sentiment.evaluation.polarity import document_log_odds, word_polarity


def test_buckets_are_named_by_their_bounds_and_hold_their_upper_bound() -> None:
    assert buckets.bucket_names([100, 200]) == ["1-100", "101-200", "201-inf"]
    assert buckets.bucket_names([]) == ["1-inf"]
    lengths = np.array([1, 100, 101, 200, 201, 5000])
    assert buckets.bucket_indices(lengths, [100, 200]).tolist() == [0, 0, 1, 1, 2, 2]
    assert buckets.reviews_by_bucket(lengths, [100, 200, 400]) == {
        "1-100": 2, "101-200": 2, "201-400": 1, "401-inf": 1,
    }  # fmt: skip


def test_accuracy_by_length_counts_each_bucket_alone_and_leaves_empty_ones_out() -> None:
    labels = np.array([1, 0, 1, 0, 1])
    probabilities = np.array([0.9, 0.8, 0.2, 0.1, 0.6])  # right, wrong, wrong, right, right
    lengths = np.array([10, 20, 150, 160, 900])
    accuracy = buckets.accuracy_by_bucket(labels, probabilities, lengths, [100, 200, 400])
    assert accuracy == {"1-100": 0.5, "101-200": 0.5, "401-inf": 1.0}  # no review of 201-400 tokens
    assert [name for name, _ in buckets.ordered({"401-inf": 1.0, "1-100": 0.5, "101-200": 0.5})] == [
        "1-100", "101-200", "401-inf",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="does not start with its lower bound"):
        buckets.lower_bound("long")
    with pytest.raises(ValueError, match="4 values for 5 reviews"):
        buckets.accuracy_by_bucket(labels, probabilities, lengths[:4], [100])


def test_a_words_polarity_is_its_smoothed_log_odds_over_the_reviews_holding_it() -> None:
    # word 2 in both positive reviews (twice in one) and one negative; word 3 in the negative ones only
    tokens = np.array([[0, 2, 2, 4], [0, 0, 2, 4], [0, 3, 2, 4], [3, 3, 3, 4]])
    labels = np.array([1, 1, 0, 0])
    odds = document_log_odds(tokens, labels, [2, 3, 4, 5])
    expected = [np.log(3 / 4) - np.log(2 / 4), np.log(1 / 4) - np.log(3 / 4), 0.0, 0.0]
    assert odds == pytest.approx(expected)  # 4 is in every review, 5 in none: no lean
    polarity = word_polarity(tokens, labels, {"fine": 2, "dull": 3, "film": 4}, ["dull", "fine", "absent"])
    assert set(polarity) == {"dull", "fine"} and polarity["fine"] > 0 > polarity["dull"]
