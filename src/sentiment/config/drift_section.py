"""Frozen configuration of the drift report of scored batches: the params.yaml section `drift`.

A batch of new reviews is compared with a sample of the training reviews, both scored by the same
served model (`stages.batch_scoring`, `evaluation.drift`). Each statistic is an effect size, not a
p-value: with thousands of reviews a test would call every small difference significant, and the
question an operator asks is whether the difference is large enough to act on. Over its threshold,
a statistic says "drift". `sentiment.config` re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from sentiment.config.schema import Range

Share = Annotated[float, Range(gt=0, le=1)]


@dataclass(frozen=True)
class DriftConfig:
    """Thresholds of the drift report (params.yaml `drift`).

    - `reference_reviews`: training reviews sampled (with the params seed) as the reference, scored
      by the model that scores the batch.
    - `min_reviews`: a batch with fewer scored reviews is too small to judge (sampling noise alone
      would reach the thresholds); its report says so instead of a verdict.
    - `max_length_ks`: the two-sample Kolmogorov-Smirnov statistic of the reviews' lengths in words
      (the largest gap between the two cumulative distributions, 0 to 1).
    - `max_oov_increase`: how much the batch's mean out-of-vocabulary share may exceed the reference's.
    - `max_truncated_change`, `max_positive_change`: the largest change, either way, of the share of
      truncated reviews and of reviews predicted positive.
    - `top_words`, `max_word_distance`: the Jensen-Shannon distance (base 2, 0 to 1) between the
      frequencies of the reference's `top_words` most frequent words (the others counted together).
    """

    reference_reviews: Annotated[int, Range(ge=1)] = 2000
    min_reviews: Annotated[int, Range(ge=1)] = 100
    max_length_ks: Share = 0.2
    max_oov_increase: Share = 0.05
    max_truncated_change: Share = 0.05
    max_positive_change: Share = 0.15
    top_words: Annotated[int, Range(ge=1)] = 1000
    max_word_distance: Share = 0.3
