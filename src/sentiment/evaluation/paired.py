"""Two classifiers on the same reviews, review by review: who is right where, and McNemar's exact test.

Accuracy alone hides how two models differ: a gain of 10 reviews may be 10 reviews only the new model
gets right, or 200 against 190. Only the discordant reviews (right by one model, wrong by the other)
say anything about which is better; under "neither is better" each of them is equally likely to go
either way, so the number the candidate wins, b of b + c, is Binomial(b + c, 1/2). McNemar's exact
test is the two-sided binomial test of that. Pure: arrays in, counts and a probability out.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np


@dataclass(frozen=True)
class PairedCounts:
    """How two models did on the same reviews: the candidate and the model it is compared with."""

    reviews: int
    candidate_correct: int
    champion_correct: int
    candidate_right_only: int  # b: right by the candidate, wrong by the champion
    champion_right_only: int  # c: right by the champion, wrong by the candidate

    @property
    def gain(self) -> int:
        """Reviews right by the candidate minus those right by the champion (b - c)."""
        return self.candidate_correct - self.champion_correct

    def accuracy(self, which: str) -> float:
        correct = self.candidate_correct if which == "candidate" else self.champion_correct
        return correct / self.reviews if self.reviews else float("nan")


def paired_counts(candidate_right: np.ndarray, champion_right: np.ndarray) -> PairedCounts:
    """The counts of two per-review correctness vectors (the same reviews, in the same order)."""
    candidate = np.asarray(candidate_right, dtype=bool).reshape(-1)
    champion = np.asarray(champion_right, dtype=bool).reshape(-1)
    if candidate.shape != champion.shape:
        raise ValueError(
            f"the two models were scored on different reviews ({candidate.size} and {champion.size})"
        )
    return PairedCounts(
        reviews=int(candidate.size),
        candidate_correct=int(candidate.sum()),
        champion_correct=int(champion.sum()),
        candidate_right_only=int((candidate & ~champion).sum()),
        champion_right_only=int((champion & ~candidate).sum()),
    )


def mcnemar_exact_p(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: P(a split of b + c discordant reviews at least this uneven).

    2 x P(X <= min(b, c)) for X ~ Binomial(b + c, 1/2), capped at 1 (b == c gives 1; no discordant
    review, nothing to tell them apart, also 1). Computed with integers, so it is exact at any count.
    """
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be >= 0, got {b} and {c}")
    trials = b + c
    if trials == 0:
        return 1.0
    term, tail = 1, 1  # C(trials, 0); the sum of C(trials, i) for i <= min(b, c)
    for i in range(min(b, c)):
        term = term * (trials - i) // (i + 1)
        tail += term
    return float(min(Fraction(1), Fraction(2 * tail, 2**trials)))
