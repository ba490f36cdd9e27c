"""The whole pipeline as one Prefect flow: data, preprocessing and validation (the preprocessing flow),
training and evaluation of every variant (the training flow), registration, the course's claims
checked on the trained models: dvc.yaml's stages in order.

DVC decides, stage by stage, what runs (`sentiment.orchestration.dvc_stages.run_stage`), so after a run
`dvc status` reports the pipeline up to date, and a run with nothing changed recomputes nothing. One
run at a time holds the workspace (`sentiment.orchestration.dvc_stages.pipeline_lock`); the variants train
concurrently on the training flow's task runner (threads here, or a Dask cluster with `dask_address`),
each in a process of its own. The deployments in prefect.yaml schedule this flow; run it once with
`python -m flows.pipeline` (`--help` for the options).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from prefect import flow
from prefect.runtime import flow_run

from flows import tasks
from flows.preprocessing import preprocessing
from flows.training import run_environment, training
from sentiment.config.workspace import Workspace
from sentiment.orchestration import dvc_stages
from sentiment.orchestration.task_runners import training_task_runner
from sentiment.tracking import runs


@flow(name="pipeline")
def pipeline(
    root: str = ".",
    source: str = "tracked",
    variants: list[str] | None = None,
    epochs: int | None = None,
    dask_address: str | None = None,
    tracking_uri: str | None = None,
    lock_timeout_seconds: float = 3600.0,
) -> dict[str, str]:
    """Bring the whole pipeline up to date; returns what each stage did, by stage name.

    source: `tracked` (the raw reviews recorded in data.dvc), `download`, `synthetic`, or the path of
    an aclImdb archive or directory. variants: train only these of params.yaml's variants in this run
    (params.yaml is not edited; the others keep their models). epochs: when given, written into
    params.yaml first (as `dvc exp run --set-param`). dask_address: train on a Dask cluster (`local`
    for a LocalCluster; default: SENTIMENT_DASK_ADDRESS, else threads). tracking_uri: MLflow (default:
    MLFLOW_TRACKING_URI, else mlflow.db in the workspace; Prefect records it as given, so a password
    belongs in MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD, not here). lock_timeout_seconds:
    how long to wait for another run.
    """
    workspace_root = Path(root).resolve()
    with dvc_stages.pipeline_lock(workspace_root, lock_timeout_seconds, "the pipeline flow"):
        changes = tasks.param_changes(str(workspace_root), epochs)
        workspace = Workspace.load(workspace_root)
        outcomes = {"raw data": tasks.raw_data(workspace, source)}
        if changes:
            outcomes["params.yaml"] = f"changed for this run: {changes}"
        # without credentials from here on (the training subflow's parameters, the tasks' environment)
        tracking_uri = (
            runs.credentials_to_environment(tracking_uri) if tracking_uri else runs.tracking_uri(workspace)
        )
        pipeline_run = f"prefect-{flow_run.id}"
        environment = run_environment(workspace, tracking_uri, pipeline_run)
        with dvc_stages.environment(environment):
            try:
                outcomes.update(preprocessing(root=str(workspace_root)))
            finally:
                tasks.publish_validation_summary(workspace)
            trainer = training.with_options(task_runner=training_task_runner(dask_address))
            outcomes.update(
                trainer(
                    str(workspace_root),
                    tracking_uri=tracking_uri,
                    pipeline_run=pipeline_run,
                    variants=variants,
                )
            )
            outcomes["register"] = tasks.stage(workspace, "register", environment)
            # after registering: a report, it never holds up the registry
            outcomes["claims"] = tasks.stage(workspace, "claims", environment)
            tasks.publish_model_comparison(workspace, outcomes)
            tasks.publish_course_claims(workspace)
    return outcomes


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".")
    parser.add_argument("--source", default="tracked", help="tracked | download | synthetic | ARCHIVE_PATH")
    parser.add_argument(
        "--variants", nargs="+", help="train only these params.yaml variants (params.yaml is not edited)"
    )
    parser.add_argument("--epochs", type=int, help="training epochs (edits params.yaml)")
    parser.add_argument("--dask", help="Dask scheduler address, or 'local' / 'local:N' for a LocalCluster")
    parser.add_argument("--tracking-uri", help="MLflow tracking URI")
    parser.add_argument("--lock-timeout", type=float, default=3600.0, help="seconds to wait for another run")
    arguments = parser.parse_args(argv)
    state = pipeline(
        root=arguments.root,
        source=arguments.source,
        variants=arguments.variants,
        epochs=arguments.epochs,
        dask_address=arguments.dask,
        tracking_uri=arguments.tracking_uri,
        lock_timeout_seconds=arguments.lock_timeout,
        return_state=True,
    )
    if not state.is_completed():
        sys.exit(f"pipeline {state.type.value.lower()}: {state.message}")


if __name__ == "__main__":
    main()
