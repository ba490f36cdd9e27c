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

from sentiment import stages
from sentiment.stages import Workspace

StageFunction = Callable[[Workspace], Path]


def stage_task(stage: StageFunction) -> Task[[Workspace], Path]:
    """The Prefect task for a stage function that takes only the workspace, named after the stage."""
    return task(name=stage.__name__, cache_policy=NO_CACHE)(stage)


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
