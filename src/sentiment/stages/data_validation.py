"""Data validation stages (Great Expectations, imported only when a validation stage runs)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment.atomic import atomic_directory, write_json
from sentiment.download import sha256_of
from sentiment.errors import DataError
from sentiment.stages.preprocessing import read_clean, read_sequences
from sentiment.stages.raw import read_raw
from sentiment.stages.workspace import Workspace, shown_path

if TYPE_CHECKING:
    from sentiment.validation.runner import TableCheck

logger = logging.getLogger(__name__)


VALIDATION_DIR = "validation"  # under paths.reports_dir: NAME.json (a DVC metric) and NAME_docs/
VALIDATION_GATE = "passed.json"


def validation_report_path(workspace: Workspace, name: str) -> Path:
    """The JSON result of validation `name` ("text" or "sequences"); its Data Docs sit beside it."""
    return workspace.path(workspace.params.paths.reports_dir) / VALIDATION_DIR / f"{name}.json"


def validation_gate_path(workspace: Workspace) -> Path:
    """The file training depends on: written by validate_sequences only when all data passed.

    Both validation stages remove it first, so it never outlives a failed validation. It names the
    digests of the validated vocabulary and sequences, not thresholds or results, so a change of a
    validation threshold that still passes leaves it, and the trained models, unchanged.
    """
    return workspace.path(workspace.params.paths.reports_dir) / VALIDATION_DIR / VALIDATION_GATE


def validate_text(workspace: Workspace) -> Path:
    """Stage `validate_text`: the raw and cleaned reviews, and identical texts in train and test."""
    from sentiment.validation import text_checks

    params = workspace.params
    validation_gate_path(workspace).unlink(missing_ok=True)  # no stale "passed" while validating
    raw, cleaned = read_raw(workspace), read_clean(workspace)
    checks = text_checks.text_checks(raw, cleaned, params.cleaning, params.validation)
    metrics = text_checks.text_metrics(raw, cleaned, params.validation)
    details = text_checks.leakage_details(cleaned, params.validation)
    return _run_validation(workspace, "text", checks, metrics, details)


def validate_sequences(workspace: Workspace) -> Path:
    """Stage `validate_sequences`: the vocabulary and the padded sequences, against the cleaned reviews."""
    import json

    from sentiment.validation import sequence_checks

    params = workspace.params
    gate = validation_gate_path(workspace)
    gate.unlink(missing_ok=True)  # no stale "passed" while validating, nor after a failure
    vocabulary_path = workspace.path(params.paths.vocabulary)
    try:
        vocabulary_data = json.loads(vocabulary_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("vocabulary not found: run the vocabulary stage first", vocabulary_path) from None
    except json.JSONDecodeError as error:
        raise DataError(f"vocabulary is not valid JSON ({error})", vocabulary_path) from None
    arrays = read_sequences(workspace)
    problems = sequence_checks.structure_errors(vocabulary_data, arrays)
    if problems:
        raise DataError(
            "cannot validate the vocabulary and sequences: " + "; ".join(problems),
            f"{vocabulary_path}, {workspace.path(params.paths.sequences)}",
        )
    checks, metrics = sequence_checks.sequence_checks(vocabulary_data, arrays, read_clean(workspace), params)
    report_path = _run_validation(workspace, "sequences", checks, metrics, {})
    validated = {"vocabulary": vocabulary_path, "sequences": workspace.path(params.paths.sequences)}
    write_json(gate, {"passed": True, "sha256": {name: sha256_of(path) for name, path in validated.items()}})
    return report_path


def _run_validation(
    workspace: Workspace,
    name: str,
    checks: list[TableCheck],
    metrics: dict[str, object],
    details: dict[str, object],
) -> Path:
    """Run the checks, write the Data Docs site and the JSON result; raise ValidationFailed on failure.

    The JSON says `"success": false` after a failure, and the stage exits non-zero, so DVC records
    nothing and no later stage runs.
    """
    from sentiment.errors import ValidationFailed
    from sentiment.validation.runner import run_checks

    report_path = validation_report_path(workspace, name)
    docs = report_path.with_name(f"{name}_docs")
    with atomic_directory(docs) as staging:
        report = run_checks(checks, staging, workspace.params.validation.examples, run_name=name)
    shown_report, shown_docs = shown_path(workspace, report_path), shown_path(workspace, docs / "index.html")
    write_json(report_path, report.to_dict(metrics, {"data_docs": shown_docs, **details}))
    for outcome in report.warnings:
        logger.warning("validation warning: %s", outcome.line())
    if not report.success:
        raise ValidationFailed(report.failure_message(name, shown_report, shown_docs))
    logger.info("validation %s passed %d expectations: %s", name, len(report.outcomes), shown_report)
    return report_path
