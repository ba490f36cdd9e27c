"""Typed, frozen configuration loaded from params.yaml.

Every section of params.yaml maps onto a frozen dataclass. Loading is strict: an unknown key, a
missing key or a value of the wrong type raises ConfigError naming the key and the file, so a typo
in params.yaml can never be silently ignored.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

from sentiment.errors import ConfigError

DEFAULT_PARAMS_FILE = Path("params.yaml")

T = TypeVar("T")


@dataclass(frozen=True)
class PathsConfig:
    raw_dir: str
    raw_table: str
    clean_table: str
    vocabulary: str
    sequences: str
    reports_dir: str
    models_dir: str


@dataclass(frozen=True)
class SourceConfig:
    url: str
    sha256: str
    synthetic_reviews: int
    synthetic_test_fraction: float


@dataclass(frozen=True)
class CleaningConfig:
    lowercase: bool = True
    remove_html: bool = True
    remove_stopwords: bool = False
    keep_negations: bool = True
    stopwords: tuple[str, ...] = ()
    negations: tuple[str, ...] = ()


@dataclass(frozen=True)
class VocabularyConfig:
    num_words: int
    oov_token: str = "<OOV>"


@dataclass(frozen=True)
class SequencesConfig:
    max_len: int
    padding: Literal["pre", "post"] = "pre"
    truncating: Literal["pre", "post"] = "pre"
    validation_fraction: float = 0.1


@dataclass(frozen=True)
class VariantConfig:
    """One recurrent model (params.yaml `models.<name>`), read by the one builder in `model_builder`.

    `units` has one entry per stacked recurrent layer (two or more make a deep RNN). `pooling` reduces
    the last recurrent layer's output over time, ignoring padding: its final state ("last"), or the
    "max" or "mean" of its sequence. `reset_after` only matters for GRUs (True: the cuDNN form,
    False: the course's equation).
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

    def __post_init__(self) -> None:
        if not self.units or min(self.units) < 1:
            raise ConfigError(f"units: expected a non-empty list of positive ints, got {list(self.units)}")
        for name in ("dropout", "recurrent_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"{name}: expected a rate in [0, 1), got {getattr(self, name)}")
        if self.embedding_dim < 1 or self.dense_units < 0:
            raise ConfigError("embedding_dim must be positive and dense_units at least 0")


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


@dataclass(frozen=True)
class RegistryConfig:
    """The model registry (params.yaml `registry`): which variant is registered, and when it is promoted.

    The candidate is the variant with the best `selection_metric` on the validation split (never the
    test split); it replaces the `champion_alias` holder only if its `comparison_metric` on the test
    split beats the champion's by at least `margin`, otherwise it gets the `challenger_alias`.
    `threshold` and `unreliable_oov_share` travel with the served model (`serving_inputs`).
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


@dataclass(frozen=True)
class Params:
    """The whole of params.yaml. Later sections (validation, models, training, ...) are added here."""

    seed: int
    paths: PathsConfig
    source: SourceConfig
    cleaning: CleaningConfig
    vocabulary: VocabularyConfig
    sequences: SequencesConfig
    validation: ValidationConfig
    registry: RegistryConfig
    models: dict[str, VariantConfig]
    training: TrainingConfig
    baseline: BaselineConfig
    diagnostics: DiagnosticsConfig


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", str(annotation))


def convert(annotation: Any, value: Any, where: str) -> Any:
    """Check `value` against `annotation` and convert lists to tuples and mappings to dataclasses."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return value
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return build(annotation, value, where)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {list(args)}")
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return convert(option, value, where)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError("; ".join(errors))
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        item_type = args[0] if args else Any
        return tuple(convert(item_type, item, f"{where}[{index}]") for index, item in enumerate(value))
    if origin in (dict, Mapping) or annotation in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        key_type, value_type = args if args else (Any, Any)
        return {convert(key_type, k, where): convert(value_type, v, f"{where}.{k}") for k, v in value.items()}
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if annotation in (int, str, bool):
        if not isinstance(value, annotation) or (annotation is int and isinstance(value, bool)):
            raise ConfigError(f"{where}: expected {_type_name(annotation)}, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported type {annotation!r}")


def build(cls: type[T], data: Any, where: str) -> T:
    """Build the frozen dataclass `cls` from a mapping, refusing unknown and missing keys."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; expected {sorted(fields)}")
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        if name not in data:
            has_default = (
                spec.default is not dataclasses.MISSING or spec.default_factory is not dataclasses.MISSING
            )
            if has_default:
                continue
            raise ConfigError(f"{where}: missing key '{name}'")
        values[name] = convert(hints[name], data[name], f"{where}.{name}" if where else name)
    return cls(**values)


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ConfigError(f"params file not found: {path}") from error
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def params_from_mapping(data: Mapping[str, Any], source: str = "params.yaml") -> Params:
    try:
        return build(Params, data, "")
    except ConfigError as error:
        raise ConfigError(f"{source}: {str(error).lstrip(': ')}") from None


def load_params(path: Path | str = DEFAULT_PARAMS_FILE) -> Params:
    """Load and strictly check params.yaml."""
    path = Path(path)
    return params_from_mapping(load_yaml(path), str(path))
