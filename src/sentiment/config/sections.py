"""Frozen configuration of the models, their training and their registration.

These are the params.yaml sections `models.<name>`, `training`, `baseline`, `diagnostics` and
`registry`. Each dataclass checks its own values in `__post_init__`; the strict loader that builds
them from params.yaml (unknown or missing key fails loudly) lives in `sentiment.config`, which
re-exports every name here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sentiment.core.errors import ConfigError

# The count-based baseline's model name, beside the recurrent variants' names (never a variant's name).
BASELINE = "baseline"


@dataclass(frozen=True)
class VariantConfig:
    """One recurrent model (params.yaml `models.<name>`), read by the one builder in `modeling.builder`.

    `units` has one entry per stacked recurrent layer (two or more make a deep RNN). `pooling` reduces
    the last recurrent layer's output over time, ignoring padding: its final state ("last"), or the
    "max" or "mean" of its sequence. `reset_after` only matters for GRUs (True: the cuDNN form,
    False: the course's equation). `bigram_buckets` > 0 adds to each word's vector the vector of the
    pair (previous word, word), hashed into that many rows (0: words only). `embedding_learning_rate`
    > 0 trains the embedding with plain SGD at that rate instead of Adam (0: Adam, like the rest).
    `average_weights` keeps the mean of the weights at the end of the last epochs run, as many as give
    the lowest validation loss (stochastic weight averaging), instead of the best epoch's weights.
    """

    cell: Literal["rnn", "gru", "lstm"]
    units: tuple[int, ...]
    bidirectional: bool = False
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    embedding_dim: int = 64
    pooling: Literal["last", "max", "mean"] = "last"
    dense_units: int = 0
    reset_after: bool = True
    bigram_buckets: int = 0
    embedding_learning_rate: float = 0.0
    average_weights: bool = False

    def __post_init__(self) -> None:
        if not self.units or min(self.units) < 1:
            raise ConfigError(f"units: expected a non-empty list of positive ints, got {list(self.units)}")
        for name in ("dropout", "recurrent_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"{name}: expected a rate in [0, 1), got {getattr(self, name)}")
        if self.embedding_dim < 1:
            raise ConfigError(f"embedding_dim: expected a positive int, got {self.embedding_dim}")
        for name in ("dense_units", "bigram_buckets", "embedding_learning_rate"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name}: expected 0 or more, got {getattr(self, name)}")


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation settings (params.yaml `training`). `clipnorm` clips each gradient's norm."""

    learning_rate: float = 1e-3
    clipnorm: float = 1.0
    batch_size: int = 64
    epochs: int = 4
    early_stopping_patience: int = 1

    def __post_init__(self) -> None:
        if self.learning_rate <= 0 or self.clipnorm <= 0 or self.batch_size < 1 or self.epochs < 1:
            raise ConfigError("learning_rate, clipnorm, batch_size and epochs must be positive")
        if self.early_stopping_patience < 0:
            raise ConfigError(f"early_stopping_patience: expected >= 0, got {self.early_stopping_patience}")


@dataclass(frozen=True)
class BaselineConfig:
    """The course's count-based baseline (params.yaml `baseline`): TF-IDF of word n-grams, then a
    logistic regression. `ngram_max` 1 uses unigrams, 2 unigrams and bigrams; `regularization` is C."""

    ngram_max: int = 2
    min_df: int = 1
    max_features: int | None = None
    sublinear_tf: bool = False
    regularization: float = 1.0
    max_iter: int = 1000

    def __post_init__(self) -> None:
        if self.ngram_max < 1 or self.min_df < 1 or self.max_iter < 1 or self.regularization <= 0:
            raise ConfigError("baseline: ngram_max, min_df, max_iter and regularization must be positive")
        if self.max_features is not None and self.max_features < 1:
            raise ConfigError(f"baseline.max_features: expected a positive int or null: {self.max_features}")


@dataclass(frozen=True)
class DiagnosticsConfig:
    """What the training stages measure besides accuracy (params.yaml `diagnostics`).

    `gradient_reviews` validation reviews (the longest) give the loss gradient's norm per distance from
    the end of the review; `gradient_distance` is the far distance whose norm is compared to distance 1.
    `probe_words` get their `neighbours` nearest words by cosine in the learned embedding, and the
    projector export holds the `projector_words` most frequent words (0: the whole vocabulary).
    """

    gradient_reviews: int = 64
    gradient_distance: int = 200
    probe_words: tuple[str, ...] = ()
    neighbours: int = 8
    projector_words: int = 0

    def __post_init__(self) -> None:
        if self.gradient_reviews < 1 or self.gradient_distance < 1 or self.neighbours < 1:
            raise ConfigError("diagnostics: gradient_reviews, gradient_distance, neighbours must be positive")
        if self.projector_words < 0:
            raise ConfigError(f"diagnostics.projector_words: expected >= 0, got {self.projector_words}")


@dataclass(frozen=True)
class RegistryConfig:
    """The model registry (params.yaml `registry`): which variant is registered, and when it is promoted.

    The candidate is the variant with the best `selection_metric` on the validation split (never the
    test split); it replaces the `champion_alias` holder only if its `comparison_metric` on the test
    split beats the champion's by at least `margin`, otherwise it gets the `challenger_alias`.
    `threshold` and `unreliable_oov_share` travel with the served model (`serving.inputs`).
    """

    model_name: str = "imdb-sentiment"
    selection_metric: str = "accuracy"
    comparison_metric: str = "accuracy"
    margin: float = 0.002
    champion_alias: str = "champion"
    challenger_alias: str = "challenger"
    threshold: float = 0.5
    unreliable_oov_share: float = 0.5
    batch_size: int = 256

    def __post_init__(self) -> None:
        if self.margin < 0 or not 0.0 < self.threshold < 1.0 or self.batch_size < 1:
            raise ConfigError("registry: margin must be >= 0, threshold in (0, 1), batch_size positive")
        if not 0.0 < self.unreliable_oov_share <= 1.0:
            raise ConfigError("registry.unreliable_oov_share: expected a share in (0, 1]")
        if self.champion_alias == self.challenger_alias:
            raise ConfigError("registry: champion_alias and challenger_alias must differ")
        for name in ("model_name", "champion_alias", "challenger_alias"):
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", getattr(self, name)):
                raise ConfigError(f"registry.{name}: expected letters, digits, '_', '.' or '-'")
