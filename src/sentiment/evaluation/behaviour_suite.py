"""The behavioural suite's templates, checked and expanded into cases: pure, given the suite as a mapping.

A suite (`config/behaviour_suite.yaml`) holds lexicons (fill-in words and sentences) and tests, each a
list of templates naming lexicons in braces ("The {thing} was {positive_adjective}."). A test's cases
are its templates filled with every combination of their lexicons' entries, in order; when there are
more than `cases_per_test`, a sample of them drawn with the suite's seed and the test's name, so the
cases never depend on the order of the tests, nor on anything but the suite and params. An invariance
or direction case also carries its perturbed review (`evaluation.behaviour` scores both).
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np

from sentiment.config import BehaviourConfig
from sentiment.config.schema import OPTIONAL, NonEmpty, Pattern, build
from sentiment.core.errors import ConfigError

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
TestName = Annotated[str, Pattern(r"[a-z][a-z0-9_]*", "a test name of lowercase letters, digits and '_'")]
Entries = Annotated[tuple[str, ...], NonEmpty("entry")]
PERTURBATIONS = ("swap", "typo", "punctuation", "uppercase", "append")
FINAL_PUNCTUATION = ".!?"
TYPO_MIN_LETTERS = 4  # the first and last letters stay in place: a word needs two letters between


@dataclass(frozen=True)
class Perturbation:
    """How an invariance or direction case changes its review; `lexicon` for swap and append."""

    kind: Literal["swap", "typo", "punctuation", "uppercase", "append"]
    lexicon: str | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class SuiteTest:
    """One test of the suite: mft needs `label`, inv a `perturbation`, dir both a perturbation and a
    `direction`."""

    name: TestName
    type: Literal["mft", "inv", "dir"]
    templates: Entries
    label: Literal["positive", "negative"] | None = field(default=None, metadata=OPTIONAL)
    perturbation: Perturbation | None = field(default=None, metadata=OPTIONAL)
    direction: Literal["up", "down"] | None = field(default=None, metadata=OPTIONAL)


@dataclass(frozen=True)
class Suite:
    lexicons: dict[str, Entries]
    tests: Annotated[tuple[SuiteTest, ...], NonEmpty("test")]
    # lists that tests share through YAML anchors; read only through the tests that name them
    shared_templates: dict[str, Entries] = field(default_factory=dict, metadata=OPTIONAL)


@dataclass(frozen=True)
class Case:
    """One review to score: `original` and its `perturbed` form for inv and dir tests (else None)."""

    test: str
    type: str
    original: str
    perturbed: str | None = None
    label: str | None = None  # mft: the expected label
    direction: str | None = None  # dir: up or down


def _check_test(test: SuiteTest, lexicons: Mapping[str, tuple[str, ...]], where: str) -> None:
    needs = {"mft": ("label",), "inv": ("perturbation",), "dir": ("perturbation", "direction")}[test.type]
    for key in ("label", "perturbation", "direction"):
        given = getattr(test, key) is not None
        if given != (key in needs):
            verb = "needs" if key in needs else "takes no"
            raise ConfigError(f"{where}: a {test.type} test {verb} '{key}'")
    for template in test.templates:
        for name in PLACEHOLDER.findall(template):
            if name not in lexicons:
                raise ConfigError(f"{where}.templates: {template!r} names no lexicon {{{name}}}")
    perturbation = test.perturbation
    if perturbation is None:
        return
    wants_lexicon = perturbation.kind in ("swap", "append")
    if wants_lexicon != (perturbation.lexicon is not None):
        verb = "needs" if wants_lexicon else "takes no"
        raise ConfigError(f"{where}.perturbation: {perturbation.kind} {verb} 'lexicon'")
    if perturbation.lexicon is not None and perturbation.lexicon not in lexicons:
        raise ConfigError(f"{where}.perturbation.lexicon: no lexicon {perturbation.lexicon!r}")
    if perturbation.kind == "swap":
        if len(lexicons[perturbation.lexicon or ""]) < 2:
            raise ConfigError(f"{where}.perturbation: swap needs a lexicon of two entries or more")
        for template in test.templates:
            if f"{{{perturbation.lexicon}}}" not in template:
                raise ConfigError(
                    f"{where}.templates: {template!r} has no {{{perturbation.lexicon}}} to swap"
                )
    if perturbation.kind == "typo":
        for template in test.templates:
            if not _typo_positions(template):
                raise ConfigError(f"{where}.templates: {template!r} has no word for a typo")


def parse_suite(data: Any) -> Suite:
    """The suite in `data` (the YAML file's mapping), checked: a ConfigError names the bad key."""
    suite = build(Suite, data, "")
    names = [test.name for test in suite.tests]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"tests: names used more than once: {duplicates}")
    for index, test in enumerate(suite.tests):
        _check_test(test, suite.lexicons, f"tests[{index}] ({test.name})")
    return suite


def fill(template: str, values: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def _fillings(test: SuiteTest, lexicons: Mapping[str, tuple[str, ...]]) -> list[tuple[str, dict[str, str]]]:
    """Every (template, values) of the test, in order: each template with each combination."""
    result = []
    for template in test.templates:
        names = list(dict.fromkeys(PLACEHOLDER.findall(template)))
        for combination in itertools.product(*(lexicons[name] for name in names)):
            result.append((template, dict(zip(names, combination, strict=True))))
    return result


def _typo_positions(template: str) -> list[tuple[int, int]]:
    """(word start, letter index) of every neighbouring pair of different letters that a typo may swap:
    inside words of the template's own text (never a placeholder), first and last letters kept."""
    literal = PLACEHOLDER.sub(lambda match: " " * len(match.group(0)), template)
    positions: list[tuple[int, int]] = []
    for word in re.finditer(r"[A-Za-z]+", literal):
        text = word.group(0)
        if len(text) >= TYPO_MIN_LETTERS:
            positions.extend(
                (word.start(), index) for index in range(1, len(text) - 2) if text[index] != text[index + 1]
            )
    return positions


def _typo(template: str, generator: np.random.Generator) -> str:
    positions = _typo_positions(template)
    start, index = positions[int(generator.integers(len(positions)))]
    at = start + index
    return template[:at] + template[at + 1] + template[at] + template[at + 2 :]


def _punctuation(review: str) -> str:
    stripped = review.rstrip(FINAL_PUNCTUATION)
    return stripped if stripped != review else f"{review}!"


def perturb(
    perturbation: Perturbation,
    template: str,
    values: Mapping[str, str],
    lexicons: Mapping[str, tuple[str, ...]],
    generator: np.random.Generator,
) -> str:
    """The perturbed form of the review `fill(template, values)`."""
    kind, lexicon = perturbation.kind, perturbation.lexicon or ""
    if kind == "swap":
        others = [entry for entry in lexicons[lexicon] if entry != values[lexicon]]
        return fill(template, {**values, lexicon: others[int(generator.integers(len(others)))]})
    if kind == "typo":
        return fill(_typo(template, generator), values)
    review = fill(template, values)
    if kind == "punctuation":
        return _punctuation(review)
    if kind == "uppercase":
        return review.upper()
    entries = lexicons[lexicon]
    return f"{review} {entries[int(generator.integers(len(entries)))]}"


def case_generator(seed: int, name: str) -> np.random.Generator:
    """The test's own random stream: the suite's seed and a stable hash of the test's name."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def expand(suite: Suite, config: BehaviourConfig) -> list[Case]:
    """Every test's cases (at most `config.cases_per_test` each), test by test in the suite's order."""
    cases = []
    for test in suite.tests:
        generator = case_generator(config.seed, test.name)
        fillings = _fillings(test, suite.lexicons)
        if len(fillings) > config.cases_per_test:
            chosen = np.sort(generator.choice(len(fillings), size=config.cases_per_test, replace=False))
            fillings = [fillings[int(index)] for index in chosen]
        for template, values in fillings:
            perturbed = None
            if test.perturbation is not None:
                perturbed = perturb(test.perturbation, template, values, suite.lexicons, generator)
            cases.append(
                Case(test.name, test.type, fill(template, values), perturbed, test.label, test.direction)
            )
    return cases
