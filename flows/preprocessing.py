"""The preprocessing flow: the DVC stages clean -> validate_text -> vocabulary -> sequences ->
validate_sequences, optionally after fetch. A failed validation fails its task run and the flow.

It runs the same stage functions as `dvc repro validate_sequences`, in the same order, on the same
workspace.
Run it once with `python -m flows.preprocessing` (add `--help` for the options).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from prefect import flow

from flows import tasks
from flows.training import LOCK_TIMEOUT_SECONDS
from sentiment.config.workspace import Workspace
from sentiment.orchestration import dvc_stages

# dvc.yaml's preprocessing and data validation stages, in the order `dvc repro validate_sequences` runs them.
STAGES = ("clean", "validate_text", "vocabulary", "sequences", "validate_sequences")


@flow(name="preprocessing")
def preprocessing(
    root: str = ".",
    params_file: str = "params.yaml",
    fetch: bool = False,
    synthetic: bool = False,
    archive: str | None = None,
    record: bool = True,
) -> dict[str, str]:
    """Prepare the padded sequences; with `fetch`, obtain the raw reviews first (as `sentiment fetch`).

    Returns what each stage did, by stage name (ran, restored from DVC's run cache, or up to date), and
    with `fetch` the raw reviews' directory.
    """
    with dvc_stages.workspace_hold(Path(root).resolve(), "the preprocessing flow", LOCK_TIMEOUT_SECONDS):
        workspace = Workspace.load(root, params_file)
        outcomes: dict[str, str] = {}
        if fetch:
            outcomes["fetch"] = tasks.fetch(workspace, archive=archive, synthetic=synthetic, record=record)
        for name in STAGES:
            outcomes[name] = tasks.stage(workspace, name)
        return outcomes


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".")
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--fetch", action="store_true", help="fetch the raw reviews first")
    parser.add_argument("--synthetic", action="store_true", help="fetch synthetic reviews")
    parser.add_argument("--archive", help="fetch from this archive or aclImdb/ directory")
    parser.add_argument("--no-record", action="store_true", help="do not record the raw version in data.dvc")
    arguments = parser.parse_args(argv)
    preprocessing(
        root=arguments.root,
        params_file=arguments.params,
        fetch=arguments.fetch or arguments.synthetic or arguments.archive is not None,
        synthetic=arguments.synthetic,
        archive=arguments.archive,
        record=not arguments.no_record,
    )


if __name__ == "__main__":
    main()
