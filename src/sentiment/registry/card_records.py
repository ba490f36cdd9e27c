"""What a model card says, as data: the frozen records `registry.card_facts` builds from the register
stage's records and `registry.model_card` renders. Nothing here is measured."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SeedSpread:
    """Mean and sample standard deviation of one model's accuracies over several seeds, and their source."""

    seeds: tuple[int, ...]
    validation: tuple[float, float]
    test: tuple[float, float]
    shuffled_test: tuple[float, float] | None
    source: str  # where the figures were measured: script, date, file


@dataclass(frozen=True)
class UseFacts:
    """How the served model reads a review: the limits a user meets."""

    max_len: int | None  # words a network reads per review; None: every word (the count baseline)
    truncating: str  # "pre": the last max_len words are kept; "post": the first
    vocabulary_words: int
    oov_token: str
    unreliable_oov_share: float
    threshold: float


@dataclass(frozen=True)
class DataFacts:
    """Which reviews the model learned from and was tested on."""

    data_version: str  # data.dvc's md5 of the raw reviews
    git_commit: str
    test_data_hash: str  # SHA-256 of the test split (`registration.test_split_hash`)
    validation_split: str  # "movie" or "random" (`data.splits`)
    validation_fraction: float
    seed: int
    counts: Mapping[str, int]  # reviews per split: train, validation, test


@dataclass(frozen=True)
class Comparison:
    """The register stage's decision and the figures it decided on (the decision report's)."""

    decision: str  # promoted, challenger
    reason: str
    version: str
    champion_before: str | None  # the champion's version when the candidate was compared
    champion_after: str | None
    champion_alias: str
    challenger_alias: str
    paired_test: Mapping[str, Any] | None  # None for a first model: no champion to test against
    # The network against the run's baseline (the report's `against_baseline`); None: not tested
    # (the baseline itself, or no baseline in the run).
    against_baseline: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ModelCardFacts:
    """Everything the card says, as data: built from the register stage's records, never measured here."""

    model_name: str
    variant: str
    family: str
    run_id: str
    settings: Mapping[str, Any]  # the variant's params.yaml settings (the baseline's for the baseline)
    size: Mapping[str, float]  # parameters (networks) or features (baseline), served_megabytes
    selection_metric: str
    metrics: Mapping[str, Mapping[str, Any]]  # the candidate's validation and test metrics
    baseline_metrics: Mapping[str, Mapping[str, Any]] | None  # None when the candidate is the baseline
    use: UseFacts
    data: DataFacts
    comparison: Comparison
    seed_spread: SeedSpread | None
    seed_spread_note: str  # why there is no spread, when there is none
    behaviour: Mapping[str, Any] | None = None  # the behavioural suite's results; None: not run
