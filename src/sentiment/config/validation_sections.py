"""Frozen data-validation thresholds: the params.yaml section `validation`.

Each dataclass checks its own values in `__post_init__`; the strict loader that builds them from
params.yaml (unknown or missing key fails loudly) lives in `sentiment.config`, which re-exports
every name here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sentiment.core.errors import ConfigError


@dataclass(frozen=True)
class RawChecksConfig:
    """Bounds on the raw reviews (params.yaml `validation.raw`); shares are of positive labels per split."""

    min_characters: int
    max_characters: int
    min_words: int
    max_words: int
    negative_ratings: tuple[int, ...]
    positive_ratings: tuple[int, ...]
    min_positive_share: float
    max_positive_share: float

    def __post_init__(self) -> None:
        if not 0 <= self.min_characters <= self.max_characters or not 0 <= self.min_words <= self.max_words:
            raise ConfigError("validation.raw: expected 0 <= min <= max for characters and words")
        if not 0.0 <= self.min_positive_share <= self.max_positive_share <= 1.0:
            raise ConfigError("validation.raw: expected 0 <= min_positive_share <= max_positive_share <= 1")
        if set(self.negative_ratings) & set(self.positive_ratings):
            raise ConfigError("validation.raw: a rating cannot be both negative and positive")


@dataclass(frozen=True)
class LeakageConfig:
    """Identical cleaned text in train and test: `fail` the validation, `warn`, or `drop` the train copies."""

    policy: Literal["fail", "warn", "drop"] = "drop"


@dataclass(frozen=True)
class SequenceChecksConfig:
    """Bounds on the padded sequences (params.yaml `validation.sequences`)."""

    max_oov_rate: float
    max_truncated_share: float = 1.0

    def __post_init__(self) -> None:
        for name in ("max_oov_rate", "max_truncated_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"validation.sequences.{name}: expected a share in [0, 1]")


@dataclass(frozen=True)
class ValidationConfig:
    """Data validation thresholds (params.yaml `validation`); `examples`: offending rows shown per failure."""

    raw: RawChecksConfig
    leakage: LeakageConfig
    sequences: SequenceChecksConfig
    examples: int = 5
