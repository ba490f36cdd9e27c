"""The Prefect tasks of the flows: one task that brings a dvc.yaml stage up to date, and the run's inputs
and artifacts. A task adds retries, logs and a place in the Prefect UI, never logic.

`stage` runs dvc.yaml's stage through `orchestration.dvc_stages.run_stage`: DVC decides whether the
stage function runs, and dvc.lock then records what it wrote, so `dvc status` agrees with the flow.
Transient failures (tracking server away, DVC's lock busy, a Dask worker lost) are retried with
exponential backoff; deterministic ones (failed validation, bad data or params) fail at once
(`orchestration.retry_policy`). Prefect's result caching is off: the stages write files, and DVC, not
Prefect, decides what is up to date.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from sentiment.config.workspace import Workspace
from sentiment.orchestration import dvc_stages, pipeline_inputs, run_report, stage_runner
from sentiment.orchestration.retry_policy import task_retry_options
from sentiment.stages import batch_scoring
from sentiment.stages.batch_scoring import BatchOutcome

# The event a drifted batch emits, on the resource sentiment.batch.<batch name>: prefect.yaml's
# weekly-retraining deployment has a trigger on it.
DRIFT_EVENT = "sentiment.drift.detected"
BATCH_RESOURCE = "sentiment.batch"


@task(name="stage", task_run_name="{stage_name}", cache_policy=NO_CACHE, **task_retry_options())
def stage(workspace: Workspace, stage_name: str, environment: dict[str, str] | None = None) -> str:
    """Bring dvc.yaml's `stage_name` up to date; returns what happened (ran, restored, up to date).

    `environment` (tracking URI, pipeline-run id) is exported first: on a Dask worker the task runs in
    another process, which does not share the flow's environment.
    """
    dvc_stages.export_environment(environment or {})
    function = stage_runner.stage_function(stage_name)
    return str(dvc_stages.run_stage(workspace.root, stage_name, lambda: function(workspace)))


@task(name="fetch", task_run_name="fetch", cache_policy=NO_CACHE)
def fetch(
    workspace: Workspace, archive: str | None = None, synthetic: bool = False, record: bool = True
) -> str:
    """`sentiment fetch`: the raw reviews from `archive`, IMDB_ARCHIVE, the download or the generator."""
    from sentiment.stages.raw import fetch_raw

    archive_path = Path(archive) if archive else None
    return str(fetch_raw(workspace, archive=archive_path, use_synthetic=synthetic, record=record))


@task(name="tracking-store", cache_policy=NO_CACHE, **task_retry_options())
def prepare_tracking(workspace: Workspace, environment: dict[str, str]) -> str:
    """Create the MLflow store's tables and the experiment once, before models train in parallel.

    Several processes opening a new SQLite store at once would each try to create its tables.
    Returns the experiment id.
    """
    from sentiment.tracking import runs

    dvc_stages.export_environment(environment)
    return runs.experiment_id(workspace, runs.tracking_uri(workspace))


@task(name="raw-data", cache_policy=NO_CACHE, **task_retry_options())
def raw_data(workspace: Workspace, source: str) -> str:
    """The raw reviews from `source`: tracked (data.dvc), download, synthetic or an archive path."""
    return pipeline_inputs.bring_raw_data(workspace, source)


@task(name="param-changes", cache_policy=NO_CACHE)
def param_changes(root: str, epochs: int | None) -> dict[str, Any]:
    """Write the run's `epochs` into params.yaml, as `dvc exp run --set-param` would."""
    return pipeline_inputs.apply_param_changes(Path(root), epochs)


@task(name="validation-summary", cache_policy=NO_CACHE)
def publish_validation_summary(workspace: Workspace) -> str:
    """The validation results as a Markdown artifact (also after a failed validation)."""
    return str(
        create_markdown_artifact(
            key="validation-summary",
            markdown=run_report.validation_markdown(run_report.validation_reports(workspace)),
            description="Great Expectations results of the validation stages",
        )
    )


@task(name="model-comparison", cache_policy=NO_CACHE)
def publish_model_comparison(workspace: Workspace, outcomes: dict[str, str]) -> list[dict[str, str]]:
    """A table of the models' metrics (every variant and the baseline) with links to their MLflow runs
    and the registry's decision, the registry's decision in words, and what each stage did."""
    rows, registry = run_report.model_comparison(workspace)
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


@task(name="course-claims", cache_policy=NO_CACHE)
def publish_course_claims(workspace: Workspace) -> str:
    """The course's claims checked on this run (reports/course_claims.md) as a Markdown artifact."""
    return str(
        create_markdown_artifact(
            key="course-claims",
            markdown=run_report.claims_markdown(workspace),
            description="Which claims of the course notes hold on this run's models",
        )
    )


@task(name="score-batch", cache_policy=NO_CACHE, **task_retry_options())
def score_batch(
    workspace: Workspace,
    input_path: str,
    output_path: str,
    column: str,
    model_uri: str | None,
    batch: str | None,
) -> BatchOutcome:
    """Score a batch of new reviews with the registered model and write its drift report."""
    return batch_scoring.score_batch(
        workspace, Path(input_path), Path(output_path), column, model_uri=model_uri, batch=batch
    )


@task(name="drift-report", cache_policy=NO_CACHE)
def publish_drift_report(outcome: BatchOutcome) -> str:
    """The batch's drift verdict as a Markdown artifact and its statistics as a table artifact."""
    create_table_artifact(
        key="drift-statistics",
        table=outcome.rows,
        description=f"Drift statistics of batch {outcome.batch} against the training reviews",
    )
    return str(
        create_markdown_artifact(
            key="drift-report",
            markdown=outcome.markdown
            + f"\nReport: `{outcome.report_html}`; scored table: `{outcome.scored}`\n",
            description=f"Batch {outcome.batch}: {outcome.verdict}",
        )
    )


@task(name="drift-event", cache_policy=NO_CACHE)
def announce_drift(outcome: BatchOutcome) -> str:
    """Emit `sentiment.drift.detected` for the batch: prefect.yaml's retraining trigger listens for it."""
    event = emit_event(
        event=DRIFT_EVENT,
        resource={
            "prefect.resource.id": f"{BATCH_RESOURCE}.{outcome.batch}",
            "prefect.resource.name": outcome.batch,
        },
        payload={
            "drifted": list(outcome.drifted),
            "reviews": outcome.reviews,
            "report": str(outcome.report_html),
        },
    )
    return str(event.id) if event else ""
