"""Prefect tasks that wrap the pipeline stages of `sentiment.stages`, one task per stage.

A task adds retries, logs and a place in the Prefect UI, never logic: it calls the stage function with
the workspace and returns the path the stage wrote. Prefect's result caching is off because the
stages write files (and DVC, not Prefect, decides what is up to date).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prefect import Task, task
from prefect.cache_policies import NO_CACHE

from sentiment import orchestration, stages
from sentiment.retry_policy import task_retry_options
from sentiment.stages import Workspace

StageFunction = Callable[[Workspace], Path]


def stage_task(stage: StageFunction) -> Task[[Workspace], Path | None]:
    """The Prefect task for a stage function that takes only the workspace, named after the stage.

    In a DVC project the stage goes through DVC (`sentiment.orchestration.run_stage`): it runs only when
    DVC finds it out of date, and dvc.lock then records its outputs, so `dvc status` agrees with the
    flow. Returns the path the stage wrote, or None when DVC found it up to date.
    """
    name = stage.__name__

    def run_through_dvc(workspace: Workspace) -> Path | None:
        written: list[Path] = []
        orchestration.run_stage(workspace.root, name, lambda: written.append(stage(workspace)))
        return written[0] if written else None

    run_through_dvc.__name__ = run_through_dvc.__qualname__ = name
    run_through_dvc.__doc__ = stage.__doc__
    # Retried only on transient failures (DVC's lock busy, ...): a failed validation fails at once.
    return task(name=name, cache_policy=NO_CACHE, **task_retry_options())(run_through_dvc)


@task(name="fetch", cache_policy=NO_CACHE)
def fetch(
    workspace: Workspace, archive: str | None = None, synthetic: bool = False, record: bool = True
) -> Path:
    """`sentiment fetch`: the raw reviews from `archive`, IMDB_ARCHIVE, the download or the generator."""
    return stages.fetch_raw(
        workspace, archive=Path(archive) if archive else None, use_synthetic=synthetic, record=record
    )


clean = stage_task(stages.clean)
vocabulary = stage_task(stages.vocabulary)
sequences = stage_task(stages.sequences)
validate_text = stage_task(stages.validate_text)
validate_sequences = stage_task(stages.validate_sequences)
