"""The data validation flow: dvc.yaml's validate_text and validate_sequences stages, and their summary.

Great Expectations checks the raw and cleaned reviews, train/test leakage, the vocabulary and the
sequences (`sentiment.stages.data_validation`). A failed validation is deterministic, so it is never
retried: the flow fails at once with the failed expectations in its message, and the summary is
published as a Prefect artifact either way. Run it with `python -m flows.validation`.
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


@flow(name="validation")
def validation(root: str = ".") -> dict[str, str]:
    """Validate the preprocessed data; returns what each validation stage did (ran, restored, up to
    date), by stage name."""
    with dvc_stages.workspace_hold(Path(root).resolve(), "the validation flow", LOCK_TIMEOUT_SECONDS):
        workspace = Workspace.load(root)
        try:
            return {name: tasks.stage(workspace, name) for name in ("validate_text", "validate_sequences")}
        finally:
            tasks.publish_validation_summary(workspace)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=".")
    validation(root=parser.parse_args(argv).root)


if __name__ == "__main__":
    main()
