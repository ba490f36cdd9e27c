"""Data validation stages (Great Expectations, imported only when a validation stage runs)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment.config.workspace import RAW_DVC_FILE, Workspace
from sentiment.core.errors import DataError
from sentiment.core.files import atomic_directory, write_json
from sentiment.data.download import sha256_of
from sentiment.stages.readers import read_clean, read_raw, read_sequences

if TYPE_CHECKING:
    from sentiment.checks.runner import TableCheck

logger = logging.getLogger(__name__)

# What Great Expectations' site builder writes into a Data Docs directory (atomic_directory's guard
# replaces a directory holding nothing else).
DATA_DOCS_ENTRIES = ("index.html", "static", "validations", "expectations")


# `dvc repro` records a changed raw directory in data.dvc before validation runs, so a failed text
# validation tells the user how to get the last good version back.
_RESTORE_HINTS = {
    "text": (
        f"If the raw reviews were changed by mistake, the version last committed to git comes back with "
        f"`git checkout {RAW_DVC_FILE} && dvc checkout {RAW_DVC_FILE}` (then `dvc repro`)."
    )
}


def validate_text(workspace: Workspace) -> Path:
    """Stage `validate_text`: the raw and cleaned reviews, and identical texts in train and test."""
    from sentiment.checks import text_checks

    params = workspace.params
    workspace.validation_gate.unlink(missing_ok=True)  # no stale "passed" while validating
    raw, cleaned = read_raw(workspace), read_clean(workspace)
    checks = text_checks.text_checks(raw, cleaned, params.cleaning, params.validation)
    metrics = text_checks.text_metrics(raw, cleaned, params.validation)
    details = text_checks.leakage_details(cleaned, params.validation)
    return _run_validation(workspace, "text", checks, metrics, details)


def validate_sequences(workspace: Workspace) -> Path:
    """Stage `validate_sequences`: the vocabulary and the padded sequences, against the cleaned reviews."""
    import json

    from sentiment.checks import sequence_checks

    params = workspace.params
    gate = workspace.validation_gate
    gate.unlink(missing_ok=True)  # no stale "passed" while validating, nor after a failure
    vocabulary_path = workspace.vocabulary_file
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
            f"{vocabulary_path}, {workspace.sequences_file}",
        )
    checks, metrics = sequence_checks.sequence_checks(vocabulary_data, arrays, read_clean(workspace), params)
    report_path = _run_validation(workspace, "sequences", checks, metrics, {})
    validated = {"vocabulary": vocabulary_path, "sequences": workspace.sequences_file}
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
    from sentiment.checks.runner import run_checks
    from sentiment.core.errors import ValidationFailed

    report_path = workspace.validation_report(name)
    docs = workspace.validation_docs(name)
    with atomic_directory(docs, root=workspace.root, entries=DATA_DOCS_ENTRIES) as staging:
        report = run_checks(checks, staging, workspace.params.validation.examples, run_name=name)
    shown_report, shown_docs = workspace.shown(report_path), workspace.shown(docs / "index.html")
    write_json(report_path, report.to_dict(metrics, {"data_docs": shown_docs, **details}))
    for outcome in report.warnings:
        logger.warning("validation warning: %s", outcome.line())
    if not report.success:
        message = report.failure_message(name, shown_report, shown_docs)
        raise ValidationFailed(f"{message}\n{_RESTORE_HINTS[name]}" if name in _RESTORE_HINTS else message)
    logger.info("validation %s passed %d expectations: %s", name, len(report.outcomes), shown_report)
    return report_path
