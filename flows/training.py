"""The training flow: the word vectors (stage pretrain), then every variant of params.yaml `models`, and
the baseline, trained concurrently; then the `students`, which learn from those models.

Each model is its own dvc.yaml stage (train@<variant>, baseline) run through DVC (`flows.tasks`):
one whose code, data and params did not change is not trained again. The tasks run on the flow's task
runner: threads of this process by default, or a Dask cluster (`--dask tcp://host:8786`, or
`--dask local` for a LocalCluster of 2 worker processes); see `sentiment.orchestration.task_runners`.

Run it with `python -m flows.training` (add `--help` for the options).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.futures import wait
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows import tasks
from sentiment.config import BASELINE
from sentiment.config.workspace import Workspace
from sentiment.orchestration import dvc_stages, pipeline_inputs
from sentiment.orchestration.task_runners import DEFAULT_THREADS, training_task_runner
from sentiment.tracking import lineage, runs


def run_environment(
    workspace: Workspace, tracking_uri: str | None, pipeline_run: str | None
) -> dict[str, str]:
    """What every training task exports, wherever it runs: the tracking URI, the pipeline-run id, and
    (while this run holds the workspace) the holder, so that the stage processes run under its hold."""
    environment = {
        runs.TRACKING_URI_VARIABLE: tracking_uri or runs.tracking_uri(workspace),
        lineage.PIPELINE_RUN_VARIABLE: pipeline_run or f"prefect-{flow_run.id}",
    }
    holder = os.environ.get(dvc_stages.PIPELINE_LOCK_HOLDER_VARIABLE)
    return {**environment, dvc_stages.PIPELINE_LOCK_HOLDER_VARIABLE: holder} if holder else environment


def training_stages(workspace: Workspace, variants: list[str] | None = None) -> list[str]:
    """dvc.yaml's training stages: train@<variant> for the chosen variants of params.yaml `models`
    (default: every one), and the baseline."""
    chosen = pipeline_inputs.selected_variants(workspace, variants)
    return [f"train@{variant}" for variant in chosen if variant in workspace.params.models] + [BASELINE]


def student_stages(workspace: Workspace, variants: list[str] | None = None) -> list[str]:
    """dvc.yaml's distill@<student> stages for the chosen `students` (default: every one): they read
    their teachers' models, so they run after the training stages."""
    chosen = pipeline_inputs.selected_variants(workspace, variants)
    return [f"distill@{name}" for name in chosen if name in workspace.params.students]


LOCK_TIMEOUT_SECONDS = 3600.0  # how long a flow waits for another run to leave the workspace

# Threads by default; `training_task_runner` (main, the pipeline) picks a Dask cluster when asked.
THREADS: TaskRunner[Any] = ThreadPoolTaskRunner(max_workers=DEFAULT_THREADS)


PRETRAIN_STAGE = "pretrain"


@flow(name="training", task_runner=THREADS)
def training(
    root: str = ".",
    tracking_uri: str | None = None,
    pipeline_run: str | None = None,
    variants: list[str] | None = None,
) -> dict[str, str]:
    """Train the variants (default: every one) and the baseline concurrently, then the students; returns
    what each stage did, by stage name. `variants` chooses among params.yaml's variants and students
    without editing params.yaml.

    Every stage finishes (or fails) before the flow does, so a failure of one variant never leaves
    another half-trained; the flow then fails with the first error.
    """
    with dvc_stages.workspace_hold(Path(root).resolve(), "the training flow", LOCK_TIMEOUT_SECONDS):
        workspace = Workspace.load(root)
        environment = run_environment(workspace, tracking_uri, pipeline_run)
        # the tasks export `environment` (on a Dask worker they run in another process); in this one,
        # the caller's values come back when the flow ends
        with dvc_stages.environment(environment):
            tasks.prepare_tracking(workspace, environment)
            # Every train@ stage reads the word vectors: learned (or found up to date) once, first.
            outcomes = {PRETRAIN_STAGE: tasks.stage(workspace, PRETRAIN_STAGE, environment)}
            futures = {
                name: tasks.stage.submit(workspace, name, environment)
                for name in training_stages(workspace, variants)
            }
            wait(list(futures.values()))
            outcomes |= {name: future.result() for name, future in futures.items()}
            # the students after their teachers (a failed teacher fails the flow before them)
            students = {
                name: tasks.stage.submit(workspace, name, environment)
                for name in student_stages(workspace, variants)
            }
            wait(list(students.values()))
            return outcomes | {name: future.result() for name, future in students.items()}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".")
    parser.add_argument("--dask", help="Dask scheduler address, or 'local' / 'local:N' for a LocalCluster")
    parser.add_argument(
        "--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI or mlflow.db)"
    )
    arguments = parser.parse_args(argv)
    runner = training_task_runner(arguments.dask)
    training.with_options(task_runner=runner)(root=arguments.root, tracking_uri=arguments.tracking_uri)


if __name__ == "__main__":
    main()
