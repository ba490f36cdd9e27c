"""Typed, frozen configuration loaded from params.yaml.

Every section of params.yaml maps onto a frozen dataclass. Loading is strict (`sentiment.config.schema`):
an unknown key, a missing key, a value of the wrong type or out of its range raises ConfigError naming
the dotted key and the file, so a typo in params.yaml can never be silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml

from sentiment.config.behaviour_section import BehaviourConfig
from sentiment.config.claims_section import ClaimsConfig
from sentiment.config.drift_section import DriftConfig
from sentiment.config.schema import NonEmpty, Pattern, Range, RelativePath, Word, build, convert
from sentiment.config.sections import (
    BaselineConfig,
    DiagnosticsConfig,
    PretrainingConfig,
    RegistryConfig,
    SyntheticConfig,
    TrainingConfig,
    VariantConfig,
    VariantName,
)
from sentiment.config.students_section import StudentConfig
from sentiment.config.validation_sections import (
    ValidationConfig,
)
from sentiment.core.errors import ConfigError

DEFAULT_PARAMS_FILE = Path("params.yaml")
# yaml.safe_load's loader, in C where PyYAML has libyaml (six times faster on params.yaml).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ProjectPath = Annotated[str, RelativePath()]
Fraction = Annotated[float, Range(gt=0, lt=1)]
# keras.utils.set_random_seed passes the seed to numpy.random.seed, which takes 0 to 2**32 - 1.
Seed = Annotated[int, Range(ge=0, le=2**32 - 1, why="numpy.random.seed takes 0 to 2**32 - 1")]
# The generator (data.synthetic) makes at least 8 reviews, labels alternating.
SYNTHETIC_MINIMUM = 8
# Keras Tokenizer semantics: index 0 is padding and 1 the OOV token, and a word is kept only if its index
# is below num_words, so 3 is the smallest num_words that keeps any word at all (2 maps every word to OOV).
NumWords = Annotated[int, Range(ge=3, why="index 0 is padding and 1 the OOV token: below 3, no word is kept")]


@dataclass(frozen=True)
class PathsConfig:
    raw_dir: ProjectPath
    raw_table: ProjectPath
    clean_table: ProjectPath
    vocabulary: ProjectPath
    sequences: ProjectPath
    word_vectors: ProjectPath
    reports_dir: ProjectPath
    models_dir: ProjectPath


@dataclass(frozen=True)
class SourceConfig:
    url: Annotated[str, Pattern(r"https?://\S+", "an http(s) URL")]
    sha256: Annotated[str, Pattern(r"[0-9a-f]{64}", "64 lowercase hexadecimal digits")]
    synthetic_reviews: Annotated[int, Range(ge=SYNTHETIC_MINIMUM, why="the synthetic generator's minimum")]
    synthetic_test_fraction: Fraction
    # Unlabeled synthetic reviews (split "unsup"), beside the labeled ones: text for pretraining only.
    synthetic_unlabeled: Annotated[int, Range(ge=0)]
    # Where the synthetic reviews' verdicts sit, and how many are turn pairs (`data.synthetic`).
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)

    def __post_init__(self) -> None:
        # As data.synthetic splits them; each split needs both labels (they alternate): 2 reviews or more.
        try:
            test = round(self.synthetic_reviews * self.synthetic_test_fraction)
        except OverflowError:  # a count too large for a float: both splits are large
            return
        if min(test, self.synthetic_reviews - test) < 2:
            raise ConfigError(
                f"synthetic_test_fraction: {self.synthetic_test_fraction} of synthetic_reviews "
                f"({self.synthetic_reviews}) gives {test} test and {self.synthetic_reviews - test} train "
                "reviews: expected 2 or more in each (both labels)"
            )


@dataclass(frozen=True)
class CleaningConfig:
    lowercase: bool = True
    remove_html: bool = True
    remove_stopwords: bool = False
    keep_negations: bool = True
    stopwords: tuple[Word, ...] = ()
    negations: tuple[Word, ...] = ()


@dataclass(frozen=True)
class VocabularyConfig:
    num_words: NumWords
    oov_token: Word = "<OOV>"


@dataclass(frozen=True)
class SequencesConfig:
    max_len: Annotated[int, Range(ge=1)]
    padding: Literal["pre", "post"] = "pre"
    truncating: Literal["pre", "post"] = "pre"


@dataclass(frozen=True)
class SplitsConfig:
    """The validation split of the training reviews (`data.splits`): `validation_fraction` of them, by
    movie when every one has a movie and `by_movie` is true, else stratified random."""

    validation_fraction: Fraction = 0.1
    by_movie: bool = True


@dataclass(frozen=True)
class Params:
    """The whole of params.yaml: one frozen, typed section per top-level key."""

    seed: Seed
    paths: PathsConfig
    source: SourceConfig
    cleaning: CleaningConfig
    vocabulary: VocabularyConfig
    sequences: SequencesConfig
    splits: SplitsConfig
    validation: ValidationConfig
    registry: RegistryConfig
    models: Annotated[dict[VariantName, VariantConfig], NonEmpty("variant")]
    students: dict[VariantName, StudentConfig]
    pretraining: PretrainingConfig
    training: TrainingConfig
    baseline: BaselineConfig
    diagnostics: DiagnosticsConfig
    claims: ClaimsConfig
    behaviour: BehaviourConfig
    drift: DriftConfig

    def __post_init__(self) -> None:
        # The pretrained vectors fill the word table row for row: their size must be the table's.
        for name, variant in self.models.items():
            if variant.pretrained != "none" and variant.embedding_dim != self.pretraining.vector_size:
                raise ConfigError(
                    f"models.{name}.embedding_dim: expected {self.pretraining.vector_size} "
                    f"(pretraining.vector_size) for pretrained {variant.pretrained!r}, "
                    f"got {variant.embedding_dim}"
                )
        for name, student in self.students.items():
            self._check_student(name, student)

    def _check_student(self, name: str, student: StudentConfig) -> None:
        if name in self.models:
            raise ConfigError(f"students.{name}: a student's name must not be a `models` entry's too")
        for key, variant in (("variant", student.variant), ("teacher", student.teacher)):
            if variant not in self.models:
                raise ConfigError(
                    f"students.{name}.{key}: no variant {variant!r} under `models`; "
                    f"expected one of {sorted(self.models)}"
                )

    @property
    def networks(self) -> dict[str, VariantConfig]:
        """Every network the pipeline trains, by name: the `models` variants, then the students (each
        with its `variant`'s layers and settings)."""
        students = {name: self.models[student.variant] for name, student in self.students.items()}
        return {**self.models, **students}


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise ConfigError(f"params file not found: {path}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from error
    try:
        data = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def params_from_mapping(data: Mapping[str, Any], source: str = "params.yaml") -> Params:
    try:
        return build(Params, data, "")
    except ConfigError as error:
        raise ConfigError(f"{source}: {str(error).removeprefix(': ')}") from None


def load_params(path: Path | str = DEFAULT_PARAMS_FILE) -> Params:
    """Load and strictly check params.yaml."""
    path = Path(path)
    return params_from_mapping(load_yaml(path), str(path))


def variant_config(params: Params, name: str, source: str = "params.yaml") -> VariantConfig:
    """The network `name` (a `models` variant or a student), refusing names that cannot be file or
    stage names."""
    networks = params.networks
    if name not in networks:
        raise ConfigError(
            f"{source}: no variant {name!r} under `models` or `students`; expected one of {sorted(networks)}"
        )
    section = "models" if name in params.models else "students"
    convert(VariantName, name, f"{source}: {section}.{name}")  # a Params built by code, not params.yaml
    return networks[name]
