"""The behavioural suite scored on a model: per-test and per-type pass rates, the verdict, failing cases.

Pure: the cases (`evaluation.behaviour_suite.expand`) and a `predict(reviews) -> probability of
positive` callable in, a `BehaviourResult` out. Every distinct review is predicted once, in one call.
- mft: a case passes when the label (probability >= `threshold`: positive) is the expected one;
- inv: when the perturbed review gets the label the original got (CheckList's invariance: the
  model's own label is the reference, not a gold one);
- dir: when the probability does not move against the case's direction by more than the tolerance.
A model passes when every test's pass rate reaches its type's threshold (params.yaml `behaviour`);
`failed_tests` names the tests that do not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from sentiment.config import TEST_TYPES, BehaviourConfig
from sentiment.evaluation.behaviour_suite import Case

Predict = Callable[[list[str]], np.ndarray]
POSITIVE, NEGATIVE = "positive", "negative"


@dataclass(frozen=True)
class CaseFailure:
    """A failing case as a user reads it: the review, what was expected, what the model gave."""

    test: str
    review: str
    expected: str
    got: str

    def to_dict(self) -> dict[str, str]:
        return {"test": self.test, "review": self.review, "expected": self.expected, "got": self.got}


@dataclass(frozen=True)
class BehaviourResult:
    """A model's results on the suite (`pass_rates` by test name, `type_rates` by mft/inv/dir)."""

    pass_rates: dict[str, float]
    type_rates: dict[str, float]
    passed: bool
    failed_tests: list[str]
    test_types: dict[str, str] = field(default_factory=dict)  # test name -> mft, inv or dir
    cases: dict[str, int] = field(default_factory=dict)  # test name -> number of cases
    thresholds: dict[str, float] = field(default_factory=dict)  # test type -> min pass rate
    failures: tuple[CaseFailure, ...] = ()

    def reason(self) -> str:
        """The failed tests in words, with their rates and thresholds ("" when the model passed)."""
        return ", ".join(
            f"{name} {self.pass_rates[name]:.2f} < {self.thresholds[self.test_types[name]]:g} "
            f"({self.test_types[name]})"
            for name in self.failed_tests
        )

    def to_dict(self, examples: int = 3) -> dict[str, Any]:
        """As JSON data, with at most `examples` failing cases per failed or imperfect test."""
        shown: dict[str, list[dict[str, str]]] = {}
        for failure in self.failures:
            kept = shown.setdefault(failure.test, [])
            if len(kept) < examples:
                kept.append(failure.to_dict())
        return {
            "passed": self.passed,
            "failed_tests": list(self.failed_tests),
            "pass_rates": dict(self.pass_rates),
            "type_rates": dict(self.type_rates),
            "test_types": dict(self.test_types),
            "cases": dict(self.cases),
            "thresholds": dict(self.thresholds),
            "failing_examples": shown,
        }


def _label(probability: float, threshold: float) -> str:
    return POSITIVE if probability >= threshold else NEGATIVE


def _judge(
    case: Case, probability: dict[str, float], threshold: float, tolerance: float
) -> CaseFailure | None:
    """None when the case passes, else what failed."""
    before = probability[case.original]
    if case.type == "mft":
        got = _label(before, threshold)
        if got == case.label:
            return None
        return CaseFailure(case.test, case.original, str(case.label), f"{got} (p = {before:.3f})")
    if case.perturbed is None:
        raise ValueError(f"{case.type} case of test {case.test!r} has no perturbed review")
    after = probability[case.perturbed]
    if case.type == "inv":
        expected, got = _label(before, threshold), _label(after, threshold)
        if got == expected:
            return None
        return CaseFailure(
            case.test,
            case.perturbed,
            f"{expected}, as for {case.original!r} (p = {before:.3f})",
            f"{got} (p = {after:.3f})",
        )
    change = after - before if case.direction == "up" else before - after
    if change >= -tolerance:
        return None
    word = "higher" if case.direction == "up" else "lower"
    return CaseFailure(
        case.test,
        case.perturbed,
        f"p {word} than {before:.3f}, as for {case.original!r}",
        f"p = {after:.3f}",
    )


def _probabilities(cases: Sequence[Case], predict: Predict) -> dict[str, float]:
    reviews = list(dict.fromkeys(
        review for case in cases for review in (case.original, case.perturbed) if review is not None
    ))  # fmt: skip
    values = np.asarray(predict(reviews), dtype=np.float64).reshape(-1)
    if values.size != len(reviews) or not np.isfinite(values).all():
        raise ValueError(
            f"the model gave {values.size} probabilities for {len(reviews)} reviews of the behavioural "
            "suite, or some not finite: every case needs one"
        )
    return dict(zip(reviews, values.tolist(), strict=True))


def run_suite(
    cases: Sequence[Case], predict: Predict, config: BehaviourConfig, threshold: float = 0.5
) -> BehaviourResult:
    """Score every case with `predict` and judge the model against `config.thresholds`."""
    if not cases:
        raise ValueError("the behavioural suite has no case")
    probability = _probabilities(cases, predict)
    order = list(dict.fromkeys(case.test for case in cases))
    test_types = {case.test: case.type for case in cases}
    totals = dict.fromkeys(order, 0)
    passes = dict.fromkeys(order, 0)
    failures = []
    for case in cases:
        failure = _judge(case, probability, threshold, config.direction_tolerance)
        totals[case.test] += 1
        if failure is None:
            passes[case.test] += 1
        else:
            failures.append(failure)
    rates = {name: passes[name] / totals[name] for name in order}
    type_rates = {}
    for test_type in TEST_TYPES:
        names = [name for name in order if test_types[name] == test_type]
        if names:  # by case: every case of the type counts once
            type_rates[test_type] = sum(passes[name] for name in names) / sum(totals[name] for name in names)
    thresholds = {test_type: config.thresholds.of(test_type) for test_type in TEST_TYPES}
    # in counts, with the threshold read as the decimal params.yaml writes (0.8 of 25 is 20, exactly)
    failed = [
        name for name in order if passes[name] < Fraction(repr(thresholds[test_types[name]])) * totals[name]
    ]
    return BehaviourResult(
        pass_rates=rates,
        type_rates=type_rates,
        passed=not failed,
        failed_tests=failed,
        test_types=test_types,
        cases=totals,
        thresholds=thresholds,
        failures=tuple(failures),
    )
