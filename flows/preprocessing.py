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
from sentiment.stages import Workspace


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

    Returns the file each stage wrote, by stage name ("up to date" for a stage DVC did not rerun).
    """
    workspace = Workspace.load(root, params_file)
    outputs: dict[str, Path | None] = {}
    if fetch:
        outputs["fetch"] = tasks.fetch(workspace, archive=archive, synthetic=synthetic, record=record)
    outputs["clean"] = tasks.clean(workspace)
    outputs["validate_text"] = tasks.validate_text(workspace)
    outputs["vocabulary"] = tasks.vocabulary(workspace)
    outputs["sequences"] = tasks.sequences(workspace)
    outputs["validate_sequences"] = tasks.validate_sequences(workspace)
    return {name: str(path) if path else "up to date" for name, path in outputs.items()}


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
