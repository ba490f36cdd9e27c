"""Scheduled batch scoring: new reviews scored by the champion, with a drift report (docs/drift.md).

The reviews at `input_path` (a CSV or Parquet file with a `review` column, or a folder of `.txt`
files) are scored by `models:/imdb-sentiment@champion` and written to `output_path` with their
predictions; the batch is compared with the training reviews and its report written to
reports/drift/<batch>.html and .json (`sentiment.stages.batch_scoring`), and published as Prefect
artifacts. When a statistic is over its threshold (params.yaml `drift`) the flow emits the event
`sentiment.drift.detected` (resource `sentiment.batch.<batch>`) and ends in a Completed state named
"Drift": prefect.yaml's weekly-retraining deployment has a trigger on that event. The daily-scoring
deployment in prefect.yaml schedules this flow; run it once with `python -m flows.scoring IN OUT`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from prefect import flow
from prefect.states import Completed, State

from flows import tasks
from sentiment.config.workspace import Workspace
from sentiment.serving.inputs import REVIEW_COLUMN

DRIFT_STATE = "Drift"


@flow(name="batch-scoring")
def batch_scoring(
    input_path: str,
    output_path: str,
    root: str = ".",
    column: str = REVIEW_COLUMN,
    model_uri: str | None = None,
    batch: str | None = None,
) -> State[Any]:
    """Score the batch at `input_path` into `output_path` and report its drift.

    Returns a Completed state whose result is the batch's summary (verdict, drifted statistics,
    report paths); named "Drift" when the batch drifted. model_uri: default the champion of
    params.yaml's registry; batch: the report's name (default: the time and the input's name).
    """
    workspace = Workspace.load(root)
    outcome = tasks.score_batch(workspace, input_path, output_path, column, model_uri, batch)
    tasks.publish_drift_report(outcome)
    summary = {
        "batch": outcome.batch,
        "verdict": outcome.verdict,
        "drifted": list(outcome.drifted),
        "reviews": outcome.reviews,
        "scored": str(outcome.scored),
        "report": str(outcome.report_html),
    }
    if outcome.drift:
        tasks.announce_drift(outcome)
        message = f"batch {outcome.batch}: drift in {', '.join(outcome.drifted)} ({outcome.report_html})"
        return Completed(name=DRIFT_STATE, message=message, data=summary)
    return Completed(message=f"batch {outcome.batch}: {outcome.verdict}", data=summary)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input_path", help="CSV or Parquet file with a review column, or a folder of .txt")
    parser.add_argument("output_path", help="the scored table (.csv or .parquet)")
    parser.add_argument("--root", default=".")
    parser.add_argument("--column", default=REVIEW_COLUMN)
    parser.add_argument("--model", help="model URI (default: the champion)")
    parser.add_argument("--batch", help="the report's name (default: the time and the input's name)")
    arguments = parser.parse_args(argv)
    state = batch_scoring(
        arguments.input_path,
        arguments.output_path,
        root=arguments.root,
        column=arguments.column,
        model_uri=arguments.model,
        batch=arguments.batch,
        return_state=True,
    )
    if not state.is_completed():
        sys.exit(f"batch scoring {state.type.value.lower()}: {state.message}")
    print(state.message)


if __name__ == "__main__":
    main()
