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

from sentiment.config.sections import (
    BASELINE,
    BaselineConfig,
    DiagnosticsConfig,
    RegistryConfig,
    TrainingConfig,
    VariantConfig,
)
from sentiment.config.validation_sections import (
    ValidationConfig,
)
from sentiment.core.errors import ConfigError

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
class Params:
    """The whole of params.yaml: one frozen, typed section per top-level key."""

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


VARIANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def variant_config(params: Params, name: str, source: str = "params.yaml") -> VariantConfig:
    """The variant `name` of params.yaml's `models`, refusing names that cannot be file or stage names."""
    if name not in params.models:
        raise ConfigError(
            f"{source}: no variant {name!r} under `models`; expected one of {sorted(params.models)}"
        )
    if name == BASELINE or not VARIANT_NAME.match(name):
        raise ConfigError(
            f"{source}: models.{name}: a variant name must be lowercase letters, digits, '-' or '_' and not "
            f"{BASELINE!r}"
        )
    return params.models[name]
