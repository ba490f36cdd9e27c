"""What a pipeline run shows people in the Prefect UI, as plain data and Markdown (no Prefect here),
read from the stages' JSON reports.

- the data validation summary, from the validation stages' JSON results;
- one table row per trained model: its validation and test metrics (the test accuracy also on the
  reviews with their words shuffled), a link to its MLflow run (never with credentials), and the
  registry's decision for it (the registered version, champion or challenger);
- which stages ran, were restored from DVC's run cache, or were already up to date;
- the course's claims, checked on this run (the claims stage's reports/course_claims.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sentiment.config import BASELINE
from sentiment.config.workspace import VALIDATIONS, Workspace
from sentiment.core.files import read_json
from sentiment.tracking import uris

# Metrics shown per split, in this order, when the training reports them; shuffled_accuracy (test
# only) is the accuracy on the reviews with their words shuffled, beside the accuracy.
SHOWN_METRICS = ("accuracy", "shuffled_accuracy", "loss", "roc_auc", "precision", "recall", "f1")
IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")  # a Markdown image: ![text](path)
LOCAL_MLFLOW_UI = uris.LOCAL_MLFLOW_UI  # where `mlflow ui` serves a local store by default


def mlflow_run_url(tracking_uri: str, experiment_id: str, run_id: str) -> str:
    """The run's page in the MLflow UI: on the tracking server, or in `mlflow ui` for a local store;
    never with the credentials a tracking URI may hold (`tracking.uris.run_url`)."""
    return uris.run_url(tracking_uri, experiment_id, run_id)


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "–"
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def validation_markdown(reports: Mapping[str, Mapping[str, Any] | None]) -> str:
    """The validation summary: per validation, its verdict, counts, metrics and each failure or warning."""
    lines = ["# Data validation", ""]
    for name, report in reports.items():
        if report is None:
            lines += [f"## {name}: not run", ""]
            continue
        verdict = "passed" if report.get("success") else "**FAILED**"
        lines += [
            f"## {name}: {verdict}",
            "",
            f"{report.get('expectations', 0)} expectations, {report.get('failed', 0)} failed, "
            f"{report.get('warnings', 0)} warnings; rows checked: "
            + ", ".join(f"{table} {rows}" for table, rows in (report.get("tables") or {}).items()),
            "",
        ]
        lines += [f"- failed: {line}" for line in report.get("failures") or []]
        lines += [f"- warning: {line}" for line in report.get("warning_messages") or []]
        metrics = report.get("metrics") or {}
        scalar = {key: value for key, value in metrics.items() if isinstance(value, int | float)}
        if scalar:
            lines += ["", "| metric | value |", "| --- | --- |"]
            lines += [f"| {key} | {_number(value)} |" for key, value in scalar.items()]
        if report.get("data_docs"):
            lines += ["", f"Data Docs: `{report['data_docs']}`"]
        lines.append("")
    return "\n".join(lines)


def _registry_note(variant: str, registry: Mapping[str, Any] | None) -> str:
    if not registry:
        return ""
    candidate = registry.get("candidate") or {}
    if candidate.get("variant") != variant:
        return ""
    name, version = registry.get("model_name", "model"), candidate.get("version")
    return f"{name} v{version}: {registry.get('decision')}"


def variant_rows(
    metrics: Mapping[str, Mapping[str, Any]],
    runs: Mapping[str, Mapping[str, Any]],
    registry: Mapping[str, Any] | None = None,
) -> list[dict[str, str]]:
    """One row per model: metrics of the validation and test splits, MLflow run link, registry decision."""
    rows = []
    for variant in sorted(metrics):
        row = {"model": variant}
        for split in ("validation", "test"):
            values = metrics[variant].get(split) or {}
            for metric in SHOWN_METRICS:
                if metric in values:
                    row[f"{split} {metric}"] = _number(values[metric])
        run = runs.get(variant) or {}
        if run.get("mlflow_run_id"):
            url = mlflow_run_url(
                str(run.get("tracking_uri", "")), str(run.get("experiment_id", "")), run["mlflow_run_id"]
            )
            row["MLflow run"] = f"[{run['mlflow_run_id'][:8]}]({url})"
        row["registry"] = _registry_note(variant, registry)
        rows.append(row)
    columns = sorted({key for row in rows for key in row}, key=lambda key: _column_order(key))
    return [{column: row.get(column, "") for column in columns} for row in rows]


def _column_order(column: str) -> tuple[int, int]:
    if column == "model":
        return (0, 0)
    for position, split in enumerate(("validation", "test"), start=1):
        for index, metric in enumerate(SHOWN_METRICS):
            if column == f"{split} {metric}":
                return (position, index)
    return (3, 0 if column == "MLflow run" else 1)


def registry_markdown(registry: Mapping[str, Any] | None) -> str:
    if not registry:
        return "No model was registered in this run."
    candidate = registry.get("candidate") or {}
    return uris.redacted(
        f"Registered model **{registry.get('model_name')}** version {candidate.get('version')} "
        f"(variant `{candidate.get('variant')}`): **{registry.get('decision')}**, {registry.get('reason')}. "
        f"Champion now: version {registry.get('champion_after')}."
    )


def stage_outcome_rows(outcomes: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"stage": stage, "outcome": outcome} for stage, outcome in outcomes]


def _report(path: Path) -> Any:
    """A stage's JSON report, or None when the stage has not written it (yet)."""
    return read_json(path) if path.is_file() else None


def validation_reports(workspace: Workspace) -> dict[str, Any]:
    return {name: _report(workspace.validation_report(name)) for name in VALIDATIONS}


def model_comparison(workspace: Workspace) -> tuple[list[dict[str, str]], Any]:
    """The comparison table's rows (every variant and the baseline) and the registry's last decision."""
    models = [*workspace.params.networks, BASELINE]
    metrics = {name: _report(workspace.evaluation_file(name)) or {} for name in models}
    runs = {name: _report(workspace.run_record(name)) or {} for name in models}
    registry = _report(workspace.registry_report)
    return variant_rows(metrics, runs, registry), registry


def claims_markdown(workspace: Workspace) -> str:
    """The claims stage's report (a table of the course's claims and their verdicts), or why there is none."""
    path = workspace.claims_report
    if not path.is_file():
        return "The claims stage has not written its report (reports/course_claims.md) yet."
    # an image's link is relative to the report, a file the Prefect UI cannot show: named instead
    shown = workspace.shown(path.parent)
    return uris.redacted(
        IMAGE.sub(lambda image: f"{image[1]}: `{shown}/{image[2]}`", path.read_text(encoding="utf-8"))
    )
