"""Command-line entry point: `sentiment fetch`, `sentiment stage NAME`, `predict`, `score`, `serve`,
`rollback`, `behave`.

A thin layer: it parses arguments, calls the stage functions (by name, from `stages.table`), and turns
the errors a user can act on into one clear message and a non-zero exit. It also configures what a
process configures once: logging, with every URI in a log line or error message redacted
(`tracking.uris`: no credentials in what the command prints).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sentiment.config.workspace import Workspace
from sentiment.core.errors import ConfigError, SentimentError
from sentiment.stages import table
from sentiment.tracking.uris import RedactingFilter, redacted

EXIT_USER_ERROR = 2
EXIT_BEHAVIOUR_FAILED = 1  # `sentiment behave`: the model is below a threshold of params.yaml `behaviour`

MODEL_COMMANDS = ("predict", "score", "serve", "rollback", "behave")
# Commands that write the workspace or the registry: they hold the workspace lock while they run.
WRITING_COMMANDS = ("fetch", "stage", "rollback")
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 5001


class ReviewRejected(SentimentError):
    """A review that the model answered with an error (empty, not text, ...)."""


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return port


def _add_model_commands(commands: Any) -> None:
    """`sentiment predict`, `score`, `serve`, `rollback`: the registered model's commands."""
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
    score.add_argument("--column", help="the column holding the review text (default: review)")
    score.add_argument("--model", help=model_help)

    serve = commands.add_parser(
        "serve", help="serve the model over HTTP: POST /invocations, GET /ping (see docs/serving.md)"
    )
    serve.add_argument("--model", help=model_help)
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default: {DEFAULT_HOST})")
    serve.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"port to listen on (default: {DEFAULT_PORT})"
    )

    behave = commands.add_parser(
        "behave", help="run the behavioural suite on a model: pass rates and failing cases (exit 1: fails)"
    )
    behave.add_argument("--model", help=model_help)

    rollback = commands.add_parser("rollback", help="give the champion alias back to the previous champion")
    rollback.add_argument("--reason", default="manual rollback", help="recorded in the promotion history")


def _plain(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def _print_behaviour(result: Any) -> None:
    """Per-test pass rates (with each type's threshold), then every failing case."""
    for name, rate in result.pass_rates.items():
        kind = result.test_types[name]
        mark = "FAIL" if name in result.failed_tests else "ok"
        print(f"{mark}\t{kind}\t{name}\t{rate:.2f}\t(threshold {result.thresholds[kind]:g}, "
              f"{result.cases[name]} cases)")  # fmt: skip
    rates = ", ".join(f"{kind} {rate:.2f}" for kind, rate in result.type_rates.items())
    print(f"{'passed' if result.passed else 'failed'}: {rates}")
    for failure in result.failures:
        print(
            f"\n[{failure.test}] {failure.review}\n  expected: {failure.expected}\n  got:      {failure.got}"
        )


def _run_model_command(workspace: Workspace, arguments: argparse.Namespace) -> int:
    from sentiment.serving.inputs import REVIEW_COLUMN
    from sentiment.stages import model_registry

    if arguments.command == "behave":
        behaviour = model_registry.behave(workspace, arguments.model)
        _print_behaviour(behaviour)
        return 0 if behaviour.passed else EXIT_BEHAVIOUR_FAILED
    if arguments.command == "predict":
        predictions = model_registry.predict(workspace, list(arguments.reviews), arguments.model)
        rejected = 0
        for row in predictions.to_dict(orient="records"):
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
            raise ReviewRejected(f"{rejected} of {len(predictions)} reviews got no prediction")
    elif arguments.command == "score":
        target = model_registry.score(
            workspace, arguments.input, arguments.output, arguments.column or REVIEW_COLUMN, arguments.model
        )
        print(f"wrote {target}")
    elif arguments.command == "serve":
        from sentiment.serving import scoring, server

        model_uri = arguments.model or model_registry.champion_uri(workspace)
        model = scoring.load_model(model_uri, model_registry.mlflow_uri(workspace))
        server.serve(model, model_uri, arguments.host, arguments.port)
    elif arguments.command == "rollback":
        result = model_registry.rollback(workspace, arguments.reason)
        print(
            f"{result['model_name']}: champion is version {result['champion_after']} again "
            f"(version {result['champion_before']} rolled back)"
        )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sentiment", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="project root (default: .)")
    parser.add_argument("--params", default="params.yaml", help="params file, relative to the root")
    commands = parser.add_subparsers(dest="command", required=True)

    fetch = commands.add_parser("fetch", help="obtain the raw reviews and record them in data.dvc")
    source = fetch.add_mutually_exclusive_group()
    source.add_argument("--archive", type=Path, help="local aclImdb archive or extracted aclImdb/ directory")
    source.add_argument("--synthetic", action="store_true", help="generate synthetic reviews (offline demo)")
    fetch.add_argument("--no-record", action="store_true", help="do not record the new version in data.dvc")

    stage = commands.add_parser("stage", help="run one pipeline stage (as dvc.yaml does)")
    stage.add_argument("name", choices=sorted(table.STAGES.keys() | table.VARIANT_STAGES.keys()))
    stage.add_argument(
        "--variant", help="train: a name under params.yaml `models`; distill: a name under `students`"
    )
    _add_model_commands(commands)
    return parser


def run(arguments: argparse.Namespace) -> int:
    """Run the command; its exit status (0, or 1 from `behave` on a failing model)."""
    workspace = Workspace.load(arguments.root, arguments.params)
    if arguments.command in WRITING_COMMANDS:
        from sentiment.orchestration.dvc_stages import workspace_hold

        what = " ".join(filter(None, ["sentiment", arguments.command, getattr(arguments, "name", None)]))
        with workspace_hold(workspace.root, what):  # one writer at a time, whoever started it
            return _dispatch(workspace, arguments)
    return _dispatch(workspace, arguments)


def _dispatch(workspace: Workspace, arguments: argparse.Namespace) -> int:
    if arguments.command in MODEL_COMMANDS:
        return _run_model_command(workspace, arguments)
    _run_pipeline_command(workspace, arguments)
    return 0


def _run_pipeline_command(workspace: Workspace, arguments: argparse.Namespace) -> None:
    if arguments.command == "fetch":
        from sentiment.stages.raw import fetch_raw

        fetch_raw(
            workspace,
            archive=arguments.archive,
            use_synthetic=arguments.synthetic,
            record=not arguments.no_record,
        )
    elif arguments.command == "stage":
        if arguments.name in table.VARIANT_STAGES:
            if not arguments.variant:
                params = workspace.params
                names = params.students if arguments.name == "distill" else params.models
                raise ConfigError(f"stage {arguments.name} needs --variant NAME, one of {sorted(names)}")
            table.variant_stage_function(arguments.name)(workspace, arguments.variant)
        elif arguments.variant:
            raise ConfigError(f"stage {arguments.name} takes no --variant")
        else:
            table.stage_function(arguments.name)(workspace)


def _redact_logs() -> None:
    """Every handler of the root logger redacts URIs, whichever logger (MLflow's too) a line comes from."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(existing, RedactingFilter) for existing in handler.filters):
            handler.addFilter(RedactingFilter())


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    _redact_logs()
    # Great Expectations logs a flood of INFO lines when it is imported and used.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    arguments = _parser().parse_args(argv)
    try:
        return run(arguments)
    except SentimentError as error:
        print(f"error: {redacted(str(error))}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
