"""The registry's two decisions, pure: which trained model is the candidate, and whether it is promoted.

- The candidate is chosen on the validation split only: the best `selection_metric` among every
  trained model (the recurrent variants and the TF-IDF baseline). Ties go to the baseline (the simpler
  model: a network must do strictly better to be chosen over it), then to the variants in name order.
- The gate compares the candidate with the champion on the same test reviews, in counts: the candidate
  must be right on at least ceil(margin x reviews) more reviews than the champion (an integer
  comparison, so a gain of exactly the margin passes), AND McNemar's exact test on the reviews only
  one of them gets right must give p < alpha (a gain the test set is too small to tell from luck
  stays challenger). No champion yet: the candidate becomes the first champion.
- A network candidate must also beat the count baseline of the same run on those test reviews, by
  the same rule with `baseline_margin`: a network the course-level TF-IDF model does as well as is
  not worth serving in its place, whatever it does against the champion.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from sentiment.evaluation.paired import PairedCounts, mcnemar_exact_p

LOWER_IS_BETTER = frozenset({"loss", "log_loss"})


class NoCandidate(ValueError):
    """There is no trained model to choose from."""


def improvement(candidate: float, reference: float, metric: str) -> float:
    """How much better `candidate` is than `reference` (positive: better), whichever way `metric` runs."""
    return reference - candidate if metric in LOWER_IS_BETTER else candidate - reference


def choose_candidate(
    validation_scores: Mapping[str, float], metric: str, preferred: Sequence[str] = ()
) -> str:
    """The model with the best validation score. Ties: the `preferred` names first, in their order,
    then the others in sorted name order."""
    if not validation_scores:
        raise NoCandidate("no trained model to choose from")
    first = [name for name in preferred if name in validation_scores]
    ordered = first + sorted(name for name in validation_scores if name not in first)
    # max() keeps the first of equal keys: the tie-break is the order above
    return max(ordered, key=lambda name: improvement(validation_scores[name], 0.0, metric))


def required_gain(margin: float, reviews: int) -> int:
    """ceil(margin x reviews): the reviews the candidate must win by. The margin is read as the decimal
    written in params.yaml (0.002 is 1/500, not the float just above it), so 0.002 of 25,000 is 50."""
    return math.ceil(Fraction(repr(float(margin))) * reviews)


@dataclass(frozen=True)
class GateDecision:
    """Promote or not, why in words, and the figures it was decided on (None: no champion to test)."""

    promote: bool
    reason: str
    required_gain: int | None = None
    p_value: float | None = None


def first_model(correct: int, reviews: int) -> GateDecision:
    """No champion yet: the candidate becomes champion."""
    accuracy = correct / reviews if reviews else float("nan")
    return GateDecision(
        True, f"first registered model (test accuracy {accuracy:.4f}, {correct} of {reviews} reviews)"
    )


def paired_gate(
    counts: PairedCounts, margin: float, alpha: float, reference: str = "champion"
) -> GateDecision:
    """The gate on the paired counts of the candidate and `reference`, the model it is compared with
    (the champion, or the baseline; see the module docstring)."""
    needed = required_gain(margin, counts.reviews)
    b, c = counts.candidate_right_only, counts.champion_right_only
    p_value = mcnemar_exact_p(b, c)
    enough, significant = counts.gain >= needed, p_value < alpha
    words = (
        f"test accuracy {counts.accuracy('candidate'):.4f} vs {reference} {counts.accuracy('champion'):.4f}: "
        f"{counts.gain:+d} reviews of {counts.reviews} ({b} right only by the candidate, {c} only by "
        f"the {reference}), {'at least' if enough else 'below'} the margin of {needed} "
        f"({margin:g} x {counts.reviews}); McNemar exact p = {p_value:.3g}, "
        f"{'significant' if significant else 'not significant'} at alpha {alpha:g}"
    )
    return GateDecision(enough and significant, words, needed, p_value)
