"""Helpers for the data validation tests: run checks through the real Great Expectations runner and
name the outcomes as (table, column, expectation type)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conftest import merged, project_params
from sentiment.checks.report import ExpectationOutcome, ValidationReport
from sentiment.checks.runner import TableCheck, run_checks
from sentiment.config import Params, params_from_mapping

Key = tuple[str, str | None, str]


def params_with(overrides: dict[str, Any]) -> Params:
    """The project's params.yaml with `overrides` merged in."""
    return params_from_mapping(merged(project_params(), overrides))


def with_leakage_policy(params: Params, policy: str) -> Params:
    validation = params.validation
    leakage = dataclasses.replace(validation.leakage, policy=policy)
    return dataclasses.replace(params, validation=dataclasses.replace(validation, leakage=leakage))


def validate(checks: Sequence[TableCheck], docs: Path | None = None) -> ValidationReport:
    """Run real Great Expectations; without `docs`, no Data Docs site (half the time of a small run)."""
    return run_checks(checks, docs, examples=5, run_name="test")


def keys(outcomes: Sequence[ExpectationOutcome]) -> set[Key]:
    return {(outcome.table, outcome.column, outcome.expectation) for outcome in outcomes}


def outcome(report: ValidationReport, key: Key) -> ExpectationOutcome:
    (found,) = [item for item in report.outcomes if (item.table, item.column, item.expectation) == key]
    return found


def assert_passes(report: ValidationReport) -> None:
    """Every expectation was evaluated (no errors) and met."""
    assert [outcome.line() for outcome in report.outcomes if not outcome.success] == []
    assert all(outcome.error is None for outcome in report.outcomes)
    assert report.success
