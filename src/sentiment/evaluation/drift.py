"""Drift of a batch of new reviews against the training reviews: five statistics, each with a verdict.

Pure: it takes the served model's prediction rows (`serving.inputs.prediction_table`: words,
oov_share, truncated, label, error) and the cleaned text of the reviews it scored, for the batch and
for the reference, and the `drift` params; it never touches disk. Both sides must come from the same
model, so that the out-of-vocabulary and truncated shares mean the same vocabulary and max_len.

Each statistic is an effect size with a threshold (params.yaml `drift`), not a p-value: with thousands
of reviews a test calls any difference significant. The Kolmogorov-Smirnov p-value of the lengths is
reported beside its statistic, for reading only. A batch with fewer than `min_reviews` scored
reviews gets the values but no verdict: its sampling noise alone reaches the thresholds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

from sentiment.config.drift_section import DriftConfig

DRIFT, NO_DRIFT, TOO_FEW = "drift", "no drift", "too few reviews"
POSITIVE_LABEL = "positive"
OTHER_WORDS = "<other words>"
SHOWN_WORDS = 10  # words listed as most over- and under-represented in the batch


@dataclass(frozen=True)
class ReviewSample:
    """What the drift statistics read of a set of scored reviews (the rows that got a prediction)."""

    words: np.ndarray  # int64: words after cleaning, per scored review
    oov_share: np.ndarray  # float64: share of those words the model does not know
    truncated: np.ndarray  # bool: longer than the model's max_len
    positive: np.ndarray  # bool: predicted positive
    word_counts: Counter[str]  # occurrences of each word of the cleaned texts
    unscored: int  # rows the model gave an error instead of a prediction

    @property
    def reviews(self) -> int:
        return len(self.words)


@dataclass(frozen=True)
class Statistic:
    """One statistic of the report: its value, threshold and verdict, and what it compares."""

    name: str
    title: str
    measure: str  # how `value` is computed, in words
    reference: float  # the reference's summary (mean, share) the batch's is set against
    batch: float
    value: float
    threshold: float
    drift: bool


@dataclass(frozen=True)
class DriftReport:
    verdict: str  # DRIFT, NO_DRIFT or TOO_FEW
    batch_reviews: int
    batch_unscored: int
    reference_reviews: int
    min_reviews: int
    statistics: tuple[Statistic, ...]
    length_p_value: float
    # each side's share of reviews per length bin; bin i holds lengths up to upper_bounds[i] (and above
    # the previous bound), the last bin the lengths above all of them
    length_histogram: dict[str, list[float]]
    over_represented: list[dict[str, Any]]  # words more frequent in the batch, with both frequencies
    under_represented: list[dict[str, Any]]

    @property
    def drift(self) -> bool:
        return self.verdict == DRIFT

    @property
    def drifted(self) -> list[str]:
        return [statistic.name for statistic in self.statistics if statistic.drift]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "drift": self.drift, "drifted": self.drifted}


def review_sample(predictions: pd.DataFrame, cleaned_texts: Sequence[str]) -> ReviewSample:
    """The scored rows of a prediction table; `cleaned_texts`: the cleaned text of those rows, in order."""
    scored = predictions["error"].isna().to_numpy()
    if int(scored.sum()) != len(cleaned_texts):
        raise ValueError(
            f"{len(cleaned_texts)} cleaned texts for {int(scored.sum())} scored reviews: expected one each"
        )
    rows = predictions[scored]
    counts: Counter[str] = Counter()
    for text in cleaned_texts:
        counts.update(text.split())
    return ReviewSample(
        words=rows["words"].to_numpy(dtype=np.int64),
        oov_share=rows["oov_share"].to_numpy(dtype=np.float64),
        truncated=rows["truncated"].to_numpy(dtype=bool),
        positive=(rows["label"] == POSITIVE_LABEL).to_numpy(dtype=bool),
        word_counts=counts,
        unscored=int((~scored).sum()),
    )


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else 0.0


def _shares(counts: Counter[str], words: Sequence[str]) -> np.ndarray:
    """Frequencies of `words` and, last, of all the other words together (sums to 1)."""
    total = sum(counts.values())
    listed = np.array([counts.get(word, 0) for word in words], dtype=np.float64)
    vector = np.append(listed, total - listed.sum())
    return vector / total if total else vector


def word_distance(reference: Counter[str], batch: Counter[str], top_words: int) -> float:
    """Jensen-Shannon distance (base 2) of the reference's `top_words` most frequent words and the rest."""
    words = [word for word, _ in reference.most_common(top_words)]
    if not sum(batch.values()) or not sum(reference.values()):
        return 0.0 if sum(batch.values()) == sum(reference.values()) else 1.0
    return float(distance.jensenshannon(_shares(reference, words), _shares(batch, words), base=2))


def word_shifts(
    reference: Counter[str], batch: Counter[str], top_words: int, shown: int = SHOWN_WORDS
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The words whose frequency rose most in the batch and those that fell most (any word of either)."""
    reference_total = max(sum(reference.values()), 1)
    batch_total = max(sum(batch.values()), 1)
    candidates = {word for word, _ in reference.most_common(top_words)}
    candidates |= {word for word, _ in batch.most_common(top_words)}
    frequencies = [
        (word, reference.get(word, 0) / reference_total, batch.get(word, 0) / batch_total)
        for word in sorted(candidates)
    ]
    frequencies.sort(key=lambda entry: entry[2] - entry[1])
    over = [entry for entry in reversed(frequencies[-shown:]) if entry[2] > entry[1]]
    under = [entry for entry in frequencies[:shown] if entry[2] < entry[1]]

    def rows(side: list[tuple[str, float, float]]) -> list[dict[str, Any]]:
        return [{"word": word, "reference": before, "batch": after} for word, before, after in side]

    return rows(over), rows(under)


def length_histogram(reference: np.ndarray, batch: np.ndarray, bins: int = 10) -> dict[str, list[float]]:
    """Each side's share of reviews per length bin, the bins the reference's deciles (the last open)."""
    if not len(reference):
        return {"upper_bounds": [], "reference": [], "batch": []}
    bounds = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]).round())
    # a review of bound words falls into that bound's bin; the last bin holds the longer ones
    reference_bins = np.searchsorted(bounds, reference, side="left")
    batch_bins = np.searchsorted(bounds, batch, side="left")
    size = len(bounds) + 1
    reference_shares = np.bincount(reference_bins, minlength=size) / len(reference)
    batch_shares = np.bincount(batch_bins, minlength=size) / max(len(batch), 1)
    return {
        "upper_bounds": bounds.tolist(),
        "reference": reference_shares.tolist(),
        "batch": batch_shares.tolist(),
    }


def compare(reference: ReviewSample, batch: ReviewSample, config: DriftConfig) -> DriftReport:
    """The drift report of `batch` against `reference` under the thresholds of `config`."""
    if not reference.reviews:
        raise ValueError("the reference holds no scored review: nothing to compare the batch with")
    judged = batch.reviews >= config.min_reviews
    if batch.reviews:
        length = stats.ks_2samp(reference.words, batch.words)
        length_value, length_p = float(length.statistic), float(length.pvalue)
    else:
        length_value, length_p = 0.0, 1.0
    oov = (_mean(reference.oov_share), _mean(batch.oov_share))
    truncated = (_mean(reference.truncated), _mean(batch.truncated))
    positive = (_mean(reference.positive), _mean(batch.positive))
    words = word_distance(reference.word_counts, batch.word_counts, config.top_words)

    def statistic(
        name: str, title: str, measure: str, sides: tuple[float, float], value: float, threshold: float
    ) -> Statistic:
        return Statistic(name, title, measure, *sides, value, threshold, judged and value > threshold)

    statistics = (
        statistic(
            "length",
            "Review length",
            "Kolmogorov-Smirnov statistic of the words per review (reference, batch: mean words)",
            (_mean(reference.words), _mean(batch.words)),
            length_value,
            config.max_length_ks,
        ),
        statistic(
            "oov",
            "Out-of-vocabulary share",
            "increase of the mean share of words the model does not know",
            oov,
            oov[1] - oov[0],
            config.max_oov_increase,
        ),
        statistic(
            "truncated",
            "Truncated share",
            "change (either way) of the share of reviews longer than the model reads",
            truncated,
            abs(truncated[1] - truncated[0]),
            config.max_truncated_change,
        ),
        statistic(
            "positive",
            "Predicted-positive share",
            "change (either way) of the share of reviews predicted positive",
            positive,
            abs(positive[1] - positive[0]),
            config.max_positive_change,
        ),
        statistic(
            "words",
            "Word distribution",
            f"Jensen-Shannon distance of the frequencies of the reference's {config.top_words} most "
            "frequent words and the rest (reference, batch: share of words outside them)",
            _other_share(reference.word_counts, batch.word_counts, config.top_words),
            words,
            config.max_word_distance,
        ),
    )
    over, under = word_shifts(reference.word_counts, batch.word_counts, config.top_words)
    verdict = TOO_FEW if not judged else DRIFT if any(s.drift for s in statistics) else NO_DRIFT
    return DriftReport(
        verdict=verdict,
        batch_reviews=batch.reviews,
        batch_unscored=batch.unscored,
        reference_reviews=reference.reviews,
        min_reviews=config.min_reviews,
        statistics=statistics,
        length_p_value=length_p,
        length_histogram=length_histogram(reference.words, batch.words),
        over_represented=over,
        under_represented=under,
    )


def _other_share(reference: Counter[str], batch: Counter[str], top_words: int) -> tuple[float, float]:
    words = [word for word, _ in reference.most_common(top_words)]
    return float(_shares(reference, words)[-1]), float(_shares(batch, words)[-1])
