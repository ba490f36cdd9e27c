"""Run table checks through Great Expectations 1.x and turn its results into a `ValidationReport`.

One ephemeral (in-memory) Data Context per run, without analytics: a pandas data source with one
dataframe asset per table (a whole-dataframe batch definition), one expectation suite, validation
definition and checkpoint per table, and an `UpdateDataDocsAction` that writes the Data Docs site into
`docs_directory` (the caller passes a staging directory and renames it into place).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import great_expectations as gx
import pandas as pd
from great_expectations.checkpoint import UpdateDataDocsAction, ValidationAction
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.expectations import Expectation

from sentiment.checks.report import ExpectationOutcome, ValidationReport, format_example

DATA_SOURCE = "sentiment"
DOCS_SITE = "local_site"


@dataclass(frozen=True)
class TableCheck:
    """A table and the expectations on it; `row_id` names a row in the examples of a failure."""

    name: str
    table: pd.DataFrame
    expectations: Sequence[Expectation]
    row_id: str


def _context(docs_directory: Path | None) -> Any:
    sites = {
        DOCS_SITE: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_directory),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites=sites if docs_directory is not None else {},
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def run_checks(
    checks: Sequence[TableCheck], docs_directory: Path | None, examples: int, run_name: str
) -> ValidationReport:
    """Validate every table and return the outcome of every expectation.

    With a `docs_directory`, each checkpoint's UpdateDataDocsAction adds its pages to the Data Docs site
    there (building the site is about half the time of a small validation, so it can be left out).
    """
    context = _context(docs_directory)
    source = context.data_sources.add_pandas(DATA_SOURCE)
    run_id = RunIdentifier(run_name=run_name)
    actions: list[ValidationAction] = []
    if docs_directory is not None:
        actions.append(UpdateDataDocsAction(name="update_data_docs"))
    outcomes: list[ExpectationOutcome] = []
    for check in checks:
        batch = source.add_dataframe_asset(check.name).add_batch_definition_whole_dataframe(check.name)
        suite = context.suites.add(
            gx.ExpectationSuite(name=check.name, expectations=list(check.expectations))
        )
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=check.name, data=batch, suite=suite)
        )
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=check.name,
                validation_definitions=[definition],
                actions=actions,
                result_format={
                    "result_format": "SUMMARY",
                    "partial_unexpected_count": examples,
                    "unexpected_index_column_names": [check.row_id],
                },
            )
        )
        result = checkpoint.run(batch_parameters={"dataframe": check.table}, run_id=run_id)
        for suite_result in result.run_results.values():
            outcomes.extend(
                _outcome(check, expectation_result) for expectation_result in suite_result.results
            )
    return ValidationReport(
        outcomes=tuple(outcomes), table_rows={check.name: len(check.table) for check in checks}
    )


def _outcome(check: TableCheck, result: Any) -> ExpectationOutcome:
    data = result.to_json_dict()
    config = data["expectation_config"]
    kwargs = config.get("kwargs", {})
    details = data.get("result") or {}
    columns = [kwargs[key] for key in ("column", "column_A", "column_B") if kwargs.get(key)]
    return ExpectationOutcome(
        table=check.name,
        expectation=config["type"],
        column=", ".join(columns) or None,
        description=config.get("description") or config["type"].replace("_", " "),
        severity=str(config.get("severity", "critical")),
        success=bool(data["success"]),
        observed=details.get("observed_value"),
        unexpected_count=details.get("unexpected_count"),
        element_count=details.get("element_count"),
        examples=tuple(
            format_example(row, check.row_id) for row in details.get("partial_unexpected_index_list") or []
        ),
        error=_error_message(data.get("exception_info") or {}),
    )


def _error_message(exception_info: dict[str, Any]) -> str | None:
    """GX reports an exception either flat or keyed by the metric that raised it."""
    if exception_info.get("raised_exception"):
        return str(exception_info.get("exception_message"))
    for value in exception_info.values():
        if isinstance(value, dict) and value.get("exception_message"):
            return str(value["exception_message"])
    return None
