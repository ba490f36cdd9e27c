"""Validation results as plain data: the JSON summary that DVC tracks as a metric, and the short
failure message a user reads. No Great Expectations here: `runner` converts its results into these.

An expectation of severity "critical" that fails fails the validation; one of severity "warning"
(the `warn` and `drop` leakage policies) is reported and lets the pipeline go on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

CRITICAL = "critical"
EXAMPLE_VALUE_CHARACTERS = 60


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation on one table: what it checked and what it found."""

    table: str
    expectation: str
    column: str | None
    description: str
    severity: str
    success: bool
    observed: Any = None
    unexpected_count: int | None = None
    element_count: int | None = None
    examples: tuple[str, ...] = ()
    error: str | None = None

    @property
    def failed(self) -> bool:
        return not self.success and self.severity == CRITICAL

    @property
    def warned(self) -> bool:
        return not self.success and self.severity != CRITICAL

    def finding(self) -> str:
        """What went wrong, in one line: the error, the offending rows, or the observed value."""
        if self.error:
            return f"could not be evaluated: {self.error}"
        if self.unexpected_count is not None:
            rows = f"{self.unexpected_count} of {self.element_count} rows"
            return f"{rows}, e.g. {'; '.join(self.examples)}" if self.examples else rows
        return f"observed {short_value(self.observed, 200)}"

    def line(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{where}: {self.description} ({self.expectation}): {self.finding()}"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["examples"] = list(self.examples)
        return data


@dataclass(frozen=True)
class ValidationReport:
    """Every expectation outcome of one validation stage, and the rows of each table checked."""

    outcomes: tuple[ExpectationOutcome, ...]
    table_rows: dict[str, int] = field(default_factory=dict)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if outcome.failed]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if outcome.warned]

    @property
    def success(self) -> bool:
        return not self.failures

    def to_dict(self, metrics: dict[str, Any], details: dict[str, Any] | None = None) -> dict[str, Any]:
        """The machine-readable result: counts and metrics first (for `dvc metrics show`), then details."""
        return {
            "success": self.success,
            "expectations": len(self.outcomes),
            "failed": len(self.failures),
            "warnings": len(self.warnings),
            "metrics": metrics,
            "tables": dict(self.table_rows),
            "failures": [outcome.line() for outcome in self.failures],
            "warning_messages": [outcome.line() for outcome in self.warnings],
            "results": [outcome.to_dict() for outcome in self.outcomes],
            **(details or {}),
        }

    def failure_message(self, stage: str, report_path: str, docs_index: str) -> str:
        """The short summary for the terminal: each failed expectation with a few offending rows."""
        lines = [
            f"data validation ({stage}) failed: {len(self.failures)} of {len(self.outcomes)} expectations",
            *(f"  - {outcome.line()}" for outcome in self.failures),
            f"Full result: {report_path}; Data Docs: {docs_index}",
        ]
        return "\n".join(lines)


def short_value(value: Any, limit: int = EXAMPLE_VALUE_CHARACTERS) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_example(row: dict[str, Any], row_id: str) -> str:
    """An offending row as `id (column=value, ...)`, long values (review texts) shortened."""
    values = ", ".join(f"{name}={short_value(value)}" for name, value in row.items() if name != row_id)
    identifier = row.get(row_id, "?")
    return f"{identifier} ({values})" if values else str(identifier)
