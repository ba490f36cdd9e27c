"""Frozen data-validation thresholds: the params.yaml section `validation`.

Each field's range is declared with its type and checked by the strict loader
(`sentiment.config.schema`) when params.yaml loads; checks across fields are in `__post_init__`.
`sentiment.config` re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from sentiment.config.schema import NonEmpty, Range
from sentiment.core.errors import ConfigError

Count = Annotated[int, Range(ge=0)]
Share = Annotated[float, Range(ge=0, le=1)]
# IMDB rates a review from 1 to 10 stars (negative 1-4, positive 7-10).
Ratings = Annotated[tuple[Annotated[int, Range(ge=1, le=10)], ...], NonEmpty("rating")]


@dataclass(frozen=True)
class RawChecksConfig:
    """Bounds on the raw reviews (params.yaml `validation.raw`); shares are of positive labels per split."""

    min_characters: Count
    max_characters: Count
    min_words: Count
    max_words: Count
    negative_ratings: Ratings
    positive_ratings: Ratings
    min_positive_share: Share
    max_positive_share: Share

    def __post_init__(self) -> None:
        for low, high in (
            ("min_characters", "max_characters"),
            ("min_words", "max_words"),
            ("min_positive_share", "max_positive_share"),
        ):
            if getattr(self, low) > getattr(self, high):
                raise ConfigError(
                    f"{low}: expected <= {high} ({getattr(self, high)}), got {getattr(self, low)}"
                )
        both = sorted(set(self.negative_ratings) & set(self.positive_ratings))
        if both:
            raise ConfigError(f"negative_ratings and positive_ratings share {both}: a rating cannot be both")


@dataclass(frozen=True)
class LeakageConfig:
    """Identical cleaned text in train and test: `fail` the validation, `warn`, or `drop` the train copies."""

    policy: Literal["fail", "warn", "drop"]


@dataclass(frozen=True)
class SequenceChecksConfig:
    """Bounds on the padded sequences (params.yaml `validation.sequences`)."""

    max_oov_rate: Share
    max_truncated_share: Share


@dataclass(frozen=True)
class ValidationConfig:
    """Data validation thresholds (params.yaml `validation`); `examples`: offending rows shown per failure."""

    raw: RawChecksConfig
    leakage: LeakageConfig
    sequences: SequenceChecksConfig
    examples: Count
