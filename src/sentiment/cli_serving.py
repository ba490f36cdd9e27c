"""The registry and serving commands of the CLI: `sentiment predict`, `sentiment score`, `sentiment rollback`.

Kept apart from `sentiment.cli` so the pipeline commands stay short; like them, each command only
parses arguments and calls a function of `sentiment.stages`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from sentiment import stages
from sentiment.errors import SentimentError
from sentiment.serving_inputs import REVIEW_COLUMN

COMMANDS = ("predict", "score", "rollback")


class ReviewRejected(SentimentError):
    """A review that the model answered with an error (empty, not text, ...)."""


def add_commands(commands: Any) -> None:
    """Add the commands to the CLI's subparsers."""
    model_help = "model URI (default: models:/<registry.model_name>@<registry.champion_alias>)"
    predict = commands.add_parser(
        "predict", help="predict the sentiment of reviews given on the command line"
    )
    predict.add_argument("reviews", nargs="+", help="review text (quote it); several reviews are allowed")
    predict.add_argument("--model", help=model_help)
    predict.add_argument("--json", action="store_true", help="print one JSON object per review")

    score = commands.add_parser("score", help="score a CSV or Parquet file of reviews into a new file")
    score.add_argument("input", type=Path, help="reviews, .csv or .parquet")
    score.add_argument("output", type=Path, help="the input rows plus prediction columns, .csv or .parquet")
    score.add_argument("--column", default=REVIEW_COLUMN, help="the column holding the review text")
    score.add_argument("--model", help=model_help)

    rollback = commands.add_parser("rollback", help="give the champion alias back to the previous champion")
    rollback.add_argument("--reason", default="manual rollback", help="recorded in the promotion history")


def _plain(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def run_command(workspace: stages.Workspace, arguments: argparse.Namespace) -> None:
    if arguments.command == "predict":
        table = stages.predict(workspace, list(arguments.reviews), arguments.model)
        rejected = 0
        for row in table.to_dict(orient="records"):
            if arguments.json:
                print(json.dumps({key: _plain(value) for key, value in row.items()}))
            elif row["error"] is None:
                print(f"{row['label']}\t{row['probability_positive']:.4f}")
            else:
                print(f"error\t{row['error']}")
            if row["warning"] and not arguments.json:
                print(f"warning: {row['warning']}", file=sys.stderr)
            rejected += row["error"] is not None
        if rejected:
            raise ReviewRejected(f"{rejected} of {len(table)} reviews got no prediction")
    elif arguments.command == "score":
        target = stages.score(workspace, arguments.input, arguments.output, arguments.column, arguments.model)
        print(f"wrote {target}")
    elif arguments.command == "rollback":
        result = stages.rollback(workspace, arguments.reason)
        print(
            f"{result['model_name']}: champion is version {result['champion_after']} again "
            f"(version {result['champion_before']} rolled back)"
        )
