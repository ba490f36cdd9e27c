"""The strict loader's rules: a mapping checked against a frozen dataclass's annotations.

`build(cls, data, where)` makes the dataclass `cls` from a mapping: an unknown key, a missing key, a
value of the wrong type or out of its range raises ConfigError naming the dotted key (`where`). Lists
become tuples, mappings nested dataclasses. A range or format is declared beside the type, e.g.
`epochs: Annotated[int, Range(ge=1)]`, and is checked when a mapping is loaded, not when code builds a
config itself (tests use values params.yaml may not, such as a 2-word vocabulary). Checks across
fields live in the dataclass's `__post_init__`, naming the keys relative to their section; `build`
puts the section in front. Every key is required unless its field's metadata is `OPTIONAL`.

Hand-written rather than pydantic: pydantic's strict mode refuses a list for a tuple, its lax mode
takes "800" for 800 and "yes" for true, a field with a default is never required, its messages would
have to be rewritten into these, and it is not a dependency of the project; this file is shorter.
"""

from __future__ import annotations

import dataclasses
import math
import re
import reprlib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any, Literal, TypeVar

from sentiment.core.errors import ConfigError

T = TypeVar("T")
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlong = 40


def shown(value: Any) -> str:
    """`repr(value)`, shortened: a message quotes the value it refuses, not pages of it."""
    return _REPR.repr(value)


# The metadata of a field that params.yaml may leave out: `field(default=..., metadata=OPTIONAL)`.
OPTIONAL: Mapping[str, bool] = {"optional": True}


@dataclass(frozen=True)
class Range:
    """A number's bounds (ge: >=, gt: >, le: <=, lt: <); `why` explains them in the error."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    why: str = ""

    def __str__(self) -> str:
        low = f"[{self.ge}" if self.ge is not None else f"({self.gt}" if self.gt is not None else None
        high = f"{self.le}]" if self.le is not None else f"{self.lt})" if self.lt is not None else None
        if low and high:
            return f"in {low}, {high}"
        if low:
            return f"{'>=' if low[0] == '[' else '>'} {low[1:]}"
        return f"{'<=' if high and high[-1] == ']' else '<'} {(high or '')[:-1]}"

    def problem(self, value: Any) -> str | None:
        inside = (
            (self.ge is None or value >= self.ge)
            and (self.gt is None or value > self.gt)
            and (self.le is None or value <= self.le)
            and (self.lt is None or value < self.lt)
        )
        if inside:
            return None
        return f"expected {self}, got {shown(value)}" + (f" ({self.why})" if self.why else "")


@dataclass(frozen=True)
class Pattern:
    """A string that fully matches `regex`; `meaning` says what that is, in the error."""

    regex: str
    meaning: str

    def problem(self, value: str) -> str | None:
        return None if re.fullmatch(self.regex, value) else f"expected {self.meaning}, got {shown(value)}"


@dataclass(frozen=True)
class NonEmpty:
    """A list or mapping with at least one entry."""

    what: str = "entry"

    def problem(self, value: Any) -> str | None:
        return None if len(value) else f"expected at least one {self.what}, got {shown(value)}"


@dataclass(frozen=True)
class RelativePath:
    """A path inside the project: relative, without '..' (DVC tracks only what is inside the repo)."""

    def problem(self, value: str) -> str | None:
        parts = PurePosixPath(value.replace("\\", "/")).parts
        inside = (
            value.strip() == value
            and parts not in ((), (".",))
            and not PurePosixPath(value).is_absolute()
            and not PureWindowsPath(value).drive
            and ".." not in parts
        )
        return None if inside else f"expected a relative path inside the project, got {shown(value)}"


Word = Annotated[str, Pattern(r"\S+", "one word (no spaces)")]


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", str(annotation))


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: expected a number, got {shown(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ConfigError(f"{where}: expected a finite number, got {shown(value)}")
    return number


def convert(annotation: Any, value: Any, where: str) -> Any:
    """Check `value` against `annotation` and convert lists to tuples and mappings to dataclasses."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return value
    if origin is Annotated:
        value = convert(args[0], value, where)
        for constraint in args[1:]:
            problem = constraint.problem(value)
            if problem:
                raise ConfigError(f"{where}: {problem}")
        return value
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return build(annotation, value, where)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{where}: {shown(value)} is not one of {list(args)}")
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
        raise ConfigError("; ".join(errors) + (" (or null)" if type(None) in args else ""))
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {shown(value)}")
        item_type = args[0] if args else Any
        return tuple(convert(item_type, item, f"{where}[{index}]") for index, item in enumerate(value))
    if origin in (dict, Mapping) or annotation in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {shown(value)}")
        key_type, value_type = args if args else (Any, Any)
        return {
            convert(key_type, k, f"{where}.{k}"): convert(value_type, v, f"{where}.{k}")
            for k, v in value.items()
        }
    if annotation is float:
        return _number(value, where)
    if annotation in (int, str, bool):
        if not isinstance(value, annotation) or (annotation is int and isinstance(value, bool)):
            raise ConfigError(f"{where}: expected {_type_name(annotation)}, got {shown(value)}")
        return value
    raise ConfigError(f"{where}: unsupported type {annotation!r}")


_FIELDS: dict[type, tuple[dict[str, Any], dict[str, bool]]] = {}


def _fields(cls: type) -> tuple[dict[str, Any], dict[str, bool]]:
    """Each field's annotation (with its constraints) and whether params.yaml may leave it out."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls, include_extras=True)
        fields = dataclasses.fields(cls)
        _FIELDS[cls] = (
            {f.name: hints[f.name] for f in fields},
            {f.name: bool(f.metadata.get("optional")) for f in fields},
        )
    return _FIELDS[cls]


def build(cls: type[T], data: Any, where: str) -> T:
    """Build the frozen dataclass `cls` from a mapping, refusing unknown and missing keys."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {shown(data)}")
    hints, is_optional = _fields(cls)
    unknown = sorted(set(data) - set(hints), key=repr)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; expected {sorted(hints)}")
    values: dict[str, Any] = {}
    for name, annotation in hints.items():
        if name not in data:
            if is_optional[name]:
                continue
            raise ConfigError(f"{where}: missing key '{name}'")
        values[name] = convert(annotation, data[name], f"{where}.{name}" if where else name)
    try:
        return cls(**values)
    except ConfigError as error:  # a check across fields, naming them relative to `where`
        raise ConfigError(f"{where}.{error}" if where else str(error)) from None
