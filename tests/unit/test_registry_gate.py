"""The registry's pure decisions: the candidate chosen on validation, and the paired promotion gate
(integer margin in reviews and McNemar's exact test)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import binomtest

from sentiment.evaluation.paired import PairedCounts, mcnemar_exact_p, paired_counts
from sentiment.registry.gate import choose_candidate, first_model, paired_gate, required_gain

ALPHA = 0.05


def counts(reviews: int, both: int, b: int, c: int) -> PairedCounts:
    """Counts of `reviews` test reviews: `both` right by both models, b only by the candidate, c only by
    the champion (the rest wrong by both)."""
    assert both + b + c <= reviews
    return PairedCounts(reviews, both + b, both + c, b, c)


def test_the_candidate_is_the_best_validation_score_in_the_metric_direction() -> None:
    assert choose_candidate({"gru": 0.86, "lstm": 0.88, "rnn": 0.71, "baseline": 0.87}, "accuracy") == "lstm"
    assert choose_candidate({"gru": 0.31, "lstm": 0.35}, "loss") == "gru"
    assert choose_candidate({"baseline": 0.91, "gru": 0.88}, "accuracy", ("baseline",)) == "baseline"


def test_ties_go_to_the_preferred_model_then_to_name_order() -> None:
    tied = {"lstm": 0.9, "gru": 0.9, "baseline": 0.9, "zeta": 0.9}
    assert choose_candidate(tied, "accuracy", ("baseline",)) == "baseline"
    assert choose_candidate(tied, "accuracy") == "baseline"  # no preference: sorted names
    assert choose_candidate({"lstm": 0.9, "gru": 0.9, "baseline": 0.8}, "accuracy", ("baseline",)) == "gru"
    assert (
        choose_candidate({"lstm": 0.2, "gru": 0.2, "baseline": 0.2}, "log_loss", ("baseline",)) == "baseline"
    )
    with pytest.raises(ValueError, match="no trained model"):
        choose_candidate({}, "accuracy")


def test_the_margin_is_counted_in_reviews_from_the_decimal_in_params() -> None:
    assert required_gain(0.002, 25_000) == 50
    assert required_gain(0.07, 100) == 7  # 0.07 * 100 is 7.000000000000001 in floats: ceil would say 8
    assert required_gain(0.002, 1_001) == 3  # 2.002 reviews: a part of a review needs a whole one
    assert required_gain(0.0, 25_000) == 0


@pytest.mark.parametrize(("margin", "reviews"), [(0.002, 25_000), (0.07, 100), (0.01, 3_000)])
def test_a_gain_of_exactly_the_margin_passes_and_one_review_less_does_not(
    margin: float, reviews: int
) -> None:
    needed = required_gain(margin, reviews)
    both = reviews // 2
    exact = paired_gate(counts(reviews, both, needed + 1, 1), margin, 0.5)
    assert exact.promote and exact.required_gain == needed and "at least the margin" in exact.reason
    short = paired_gate(counts(reviews, both, needed, 1), margin, 0.5)
    assert not short.promote and "below the margin" in short.reason


def test_a_large_gain_on_too_few_reviews_is_not_significant_and_stays_challenger() -> None:
    small = paired_gate(counts(10, 4, 5, 0), 0.002, ALPHA)  # 90% against 40%: 5 reviews to 0
    assert small.required_gain == 1 and small.p_value == pytest.approx(0.0625)
    assert not small.promote
    assert "at least the margin" in small.reason and "not significant at alpha 0.05" in small.reason


def test_a_significant_gain_above_the_margin_is_promoted() -> None:
    decision = paired_gate(counts(1_000, 850, 40, 10), 0.002, ALPHA)  # 89% against 86%
    assert decision.promote and decision.p_value is not None and decision.p_value < 1e-4
    assert "+30 reviews of 1000 (40 right only by the candidate, 10 only by the champion)" in decision.reason


def test_a_significantly_worse_candidate_is_not_promoted_even_with_no_margin() -> None:
    decision = paired_gate(counts(1_000, 850, 10, 40), 0.0, ALPHA)
    assert decision.p_value is not None and decision.p_value < ALPHA and not decision.promote


def test_equal_models_are_never_promoted_even_with_no_margin() -> None:
    decision = paired_gate(counts(1_000, 900, 0, 0), 0.0, ALPHA)
    assert decision.p_value == 1.0 and not decision.promote


def test_the_first_model_is_champion() -> None:
    decision = first_model(90, 120)
    assert decision.promote and "first registered model" in decision.reason and "0.7500" in decision.reason


def test_paired_counts_count_who_is_right_where() -> None:
    candidate = np.array([True, True, False, False, True])
    champion = np.array([True, False, True, False, False])
    assert paired_counts(candidate, champion) == PairedCounts(5, 3, 2, 2, 1)
    with pytest.raises(ValueError, match="different reviews"):
        paired_counts(candidate, champion[:3])


@pytest.mark.parametrize(("b", "c"), [(0, 0), (1, 0), (5, 0), (6, 0), (7, 3), (30, 12), (480, 410), (0, 40)])
def test_the_exact_p_value_is_the_two_sided_binomial_test(b: int, c: int) -> None:
    expected = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5).pvalue
    assert mcnemar_exact_p(b, c) == pytest.approx(expected, rel=1e-9)


def test_the_exact_p_value_is_exact_at_a_full_test_set() -> None:
    assert mcnemar_exact_p(12_600, 12_400) == pytest.approx(binomtest(12_600, 25_000, 0.5).pvalue, rel=1e-6)


discordant = st.integers(min_value=0, max_value=600)


@given(b=discordant, c=discordant)
def test_the_p_value_is_a_probability_symmetric_in_the_two_models(b: int, c: int) -> None:
    p_value = mcnemar_exact_p(b, c)
    assert 0.0 <= p_value <= 1.0
    assert p_value == mcnemar_exact_p(c, b)


@given(k=discordant)
def test_an_even_split_of_the_discordant_reviews_gives_p_one(k: int) -> None:
    assert mcnemar_exact_p(k, k) == 1.0


@given(b=discordant, c=discordant)
def test_a_more_uneven_split_is_never_less_significant(b: int, c: int) -> None:
    if b >= c:
        assert mcnemar_exact_p(b + 1, c) <= mcnemar_exact_p(b, c)
