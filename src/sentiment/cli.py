"""Command-line entry point: `sentiment fetch`, `sentiment stage NAME`, ...

A thin layer: it parses arguments, calls the functions in `sentiment.stages`, and turns the errors a
user can act on into one clear message and a non-zero exit.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sentiment import cli_serving, stages
from sentiment.errors import ConfigError, SentimentError

EXIT_USER_ERROR = 2

# Stages that take only the workspace; `dvc.yaml` runs each as `sentiment stage NAME`.
STAGES: dict[str, Callable[[stages.Workspace], object]] = {
    "clean": stages.clean,
    "vocabulary": stages.vocabulary,
    "sequences": stages.sequences,
    "validate_text": stages.validate_text,
    "validate_sequences": stages.validate_sequences,
    "register": stages.register,
    "baseline": stages.baseline,
}
# Stages run once per model variant: `sentiment stage train --variant NAME` (dvc.yaml's train@NAME).
VARIANT_STAGES: dict[str, Callable[[stages.Workspace, str], object]] = {"train": stages.train}


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
    stage.add_argument("name", choices=sorted(STAGES.keys() | VARIANT_STAGES.keys()))
    stage.add_argument("--variant", help="a train stage's model variant: a name under params.yaml `models`")
    cli_serving.add_commands(commands)
    return parser


def run(arguments: argparse.Namespace) -> None:
    workspace = stages.Workspace.load(arguments.root, arguments.params)
    if arguments.command == "fetch":
        stages.fetch_raw(
            workspace,
            archive=arguments.archive,
            use_synthetic=arguments.synthetic,
            record=not arguments.no_record,
        )
    elif arguments.command == "stage":
        if arguments.name in VARIANT_STAGES:
            if not arguments.variant:
                raise ConfigError(
                    f"stage {arguments.name} needs --variant NAME, one of {sorted(workspace.params.models)}"
                )
            VARIANT_STAGES[arguments.name](workspace, arguments.variant)
        elif arguments.variant:
            raise ConfigError(f"stage {arguments.name} takes no --variant")
        else:
            STAGES[arguments.name](workspace)
    elif arguments.command in cli_serving.COMMANDS:
        cli_serving.run_command(workspace, arguments)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    arguments = _parser().parse_args(argv)
    try:
        run(arguments)
    except SentimentError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
