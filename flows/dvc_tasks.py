"""Prefect tasks of the pipeline flows: each dvc.yaml stage through DVC, the run's inputs, its artifacts.

`stage` brings one dvc.yaml stage up to date with `sentiment.orchestration.run_stage`: DVC decides
whether the stage function runs, and dvc.lock records what it wrote. Transient failures (tracking
server away, DVC's lock busy, a Dask worker lost) are retried with exponential backoff; deterministic
ones (failed validation, bad data or params) fail at once (`sentiment.retry_policy`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from sentiment import orchestration, pipeline_inputs, run_report, stage_runner, stages
from sentiment.retry_policy import task_retry_options
from sentiment.stages import Workspace


@task(name="stage", task_run_name="{stage_name}", cache_policy=NO_CACHE, **task_retry_options())
def stage(workspace: Workspace, stage_name: str, environment: dict[str, str] | None = None) -> str:
    """Bring dvc.yaml's `stage_name` up to date; returns what happened (ran, restored, up to date).

    `environment` (tracking URI, pipeline-run id) is exported first: on a Dask worker the task runs in
    another process, which does not share the flow's environment.
    """
    orchestration.export_environment(environment or {})
    function = stage_runner.stage_function(stage_name)
    return str(orchestration.run_stage(workspace.root, stage_name, lambda: function(workspace)))


@task(name="tracking-store", cache_policy=NO_CACHE, **task_retry_options())
def prepare_tracking(workspace: Workspace, environment: dict[str, str]) -> str:
    """Create the MLflow store's tables and the experiment once, before models train in parallel.

    Several processes opening a new SQLite store at once would each try to create its tables.
    Returns the experiment id.
    """
    from sentiment import tracking

    orchestration.export_environment(environment)
    return tracking.experiment_id(workspace.root, tracking.tracking_uri(workspace.root))


@task(name="raw-data", cache_policy=NO_CACHE, **task_retry_options())
def raw_data(workspace: Workspace, source: str) -> str:
    """The raw reviews from `source`: tracked (data.dvc), download, synthetic or an archive path."""
    return pipeline_inputs.bring_raw_data(workspace, source)


@task(name="param-changes", cache_policy=NO_CACHE)
def param_changes(root: str, variants: list[str] | None, epochs: int | None) -> dict[str, Any]:
    """Write the run's `variants`/`epochs` into params.yaml, as `dvc exp run --set-param` would."""
    return pipeline_inputs.apply_param_changes(Path(root), variants, epochs)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


@task(name="validation-summary", cache_policy=NO_CACHE)
def publish_validation_summary(workspace: Workspace) -> str:
    """The validation results as a Markdown artifact (also after a failed validation)."""
    reports = {
        name: _read_json(stages.validation_report_path(workspace, name)) for name in stages.VALIDATIONS
    }
    return str(
        create_markdown_artifact(
            key="validation-summary",
            markdown=run_report.validation_markdown(reports),
            description="Great Expectations results of the validation stages",
        )
    )


@task(name="model-comparison", cache_policy=NO_CACHE)
def publish_model_comparison(workspace: Workspace, outcomes: dict[str, str]) -> list[dict[str, str]]:
    """A table of the models' metrics (every variant and the baseline) with links to their MLflow runs
    and the registry's decision, the registry's decision in words, and what each stage did."""
    variants = [*workspace.params.models, stages.BASELINE]
    outputs = {variant: stages.training_outputs(workspace, variant) for variant in variants}
    metrics = {variant: _read_json(paths["metrics"]) or {} for variant, paths in outputs.items()}
    runs = {variant: _read_json(paths["run"]) or {} for variant, paths in outputs.items()}
    registry = _read_json(workspace.path(workspace.params.paths.reports_dir) / stages.REGISTRY_REPORT)
    rows = run_report.variant_rows(metrics, runs, registry)
    create_table_artifact(
        key="model-comparison", table=rows, description="Validation and test metrics of every variant"
    )
    create_markdown_artifact(key="registered-model", markdown=run_report.registry_markdown(registry))
    create_table_artifact(
        key="pipeline-stages",
        table=run_report.stage_outcome_rows(outcomes.items()),
        description="What each dvc.yaml stage did in this run (DVC decides)",
    )
    return rows
