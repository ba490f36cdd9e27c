"""Data validation speed on the shared IMDB reviews: both Great Expectations stages.

    python benchmarks/validation.py [--archive PATH] [--repeats N] [--output BENCHMARKS.md]

Prepares a temporary workspace from the archive with the settings of params.yaml (fetch, clean,
vocabulary, sequences: not timed), then times `sentiment stage validate_text` and `sentiment stage
validate_sequences` as DVC runs them, each in a fresh process (Python and Great Expectations imports,
reading the data, the checks, the Data Docs site and the JSON result). One more in-process run splits
each stage into building the checked tables (pandas/NumPy) and Great Expectations (validation and Data
Docs). Writes the "Validation" section of BENCHMARKS.md (other sections are left alone); the goal is
under a minute for the whole validation. The best of `--repeats` runs is kept: the machine is shared.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report_support import DEFAULT_ARCHIVE, load_average, machine, publish
from sentiment.config.workspace import Workspace
from sentiment.core.errors import SentimentError
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages
from sentiment.stages import readers

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = PROJECT_ROOT / "BENCHMARKS.md"
SECTION_TITLE = "Validation"
GOAL_SECONDS = 60.0
STAGES = ("validate_text", "validate_sequences")


def prepare(root: Path, archive: Path) -> Workspace:
    (root / "params.yaml").write_text((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))
    workspace = Workspace.load(root)
    raw_stages.fetch_raw(workspace, archive=archive)
    for stage in (
        preprocessing_stages.clean,
        preprocessing_stages.vocabulary,
        preprocessing_stages.sequences,
    ):
        stage(workspace)
    return workspace


def time_stage_process(root: Path, stage: str) -> float:
    """Wall-clock seconds of `sentiment stage NAME` in a fresh process, as `dvc repro` runs it."""
    command = [str(Path(sys.executable).parent / "sentiment"), "--root", str(root), "stage", stage]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"error: {stage} failed on the shared archive:\n{completed.stderr[-3000:]}")
    return elapsed


def split_in_process(workspace: Workspace) -> dict[str, tuple[float, float]]:
    """Per stage: (seconds building the checked tables, seconds in Great Expectations with Data Docs)."""
    from sentiment.checks import runner, sequence_checks, text_checks

    params = workspace.params
    raw, clean = readers.read_raw(workspace), readers.read_clean(workspace)
    vocabulary = json.loads(workspace.path(params.paths.vocabulary).read_text(encoding="utf-8"))
    arrays = readers.read_sequences(workspace)
    builders = {
        "validate_text": lambda: text_checks.text_checks(raw, clean, params.cleaning, params.validation),
        "validate_sequences": lambda: sequence_checks.sequence_checks(vocabulary, arrays, clean, params)[0],
    }
    split = {}
    for stage, build in builders.items():
        started = time.perf_counter()
        checks = build()
        built = time.perf_counter()
        with tempfile.TemporaryDirectory() as docs:
            report = runner.run_checks(checks, Path(docs), params.validation.examples, run_name=stage)
        if not report.success:
            raise SystemExit(f"error: {stage} failed in process")
        split[stage] = (built - started, time.perf_counter() - built)
    return split


def report(
    timings: dict[str, list[float]],
    split: dict[str, tuple[float, float]],
    facts: dict[str, int],
    command: str,
    load: str,
) -> str:
    best = {stage: min(values) for stage, values in timings.items()}
    total = sum(best.values())
    rows = "\n".join(
        f"| {stage} | {best[stage]:.1f} | {split[stage][0]:.1f} | {split[stage][1]:.1f} |" for stage in STAGES
    )
    verdict = "met" if total < GOAL_SECONDS else "**missed**"
    return f"""## {SECTION_TITLE}

Measured {datetime.date.today().isoformat()} on {machine()}, shared with other work
(load average {load}); Python {platform.python_version()}, great-expectations {gx_version()}.

    {command}

Data: the shared archive, {facts["reviews"]:,} reviews, validated with the settings of params.yaml:
{facts["expectations"]} expectations over {facts["rows"]:,} table rows (raw and cleaned reviews, the
{facts["words"]:,}-word vocabulary, {facts["sequences"]:,} sequences). "Stage" is `sentiment stage NAME`
in a fresh process as `dvc repro` runs it (best of {len(timings[STAGES[0]])}): imports, reading the data,
the checks, the Data Docs site and the JSON result. The other columns split one in-process run.

| stage | stage s (best) | tables s (pandas/NumPy) | Great Expectations + Data Docs s |
|---|---|---|---|
{rows}

- Whole validation: **{total:.1f} s** (goal: under {GOAL_SECONDS:.0f} s: {verdict}).
"""


def gx_version() -> str:
    from importlib.metadata import version

    return version("great-expectations")


def facts_of(workspace: Workspace) -> dict[str, int]:
    results = {
        name: json.loads(workspace.validation_report(name).read_text()) for name in ("text", "sequences")
    }
    tables = {**results["text"]["tables"], **results["sequences"]["tables"]}
    return {
        "reviews": tables["raw_reviews"],
        "expectations": sum(result["expectations"] for result in results.values()),
        "rows": sum(tables.values()),
        "words": tables["vocabulary"],
        "sequences": tables["sequences"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE, help="aclImdb archive or directory")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each stage (the best is kept)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown file to update")
    arguments = parser.parse_args(argv)
    if arguments.repeats < 1:
        parser.error("--repeats must be at least 1")
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="validation-benchmark-") as directory:
        try:
            workspace = prepare(Path(directory), arguments.archive)
        except SentimentError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
        for _ in range(arguments.repeats):
            for stage in STAGES:
                timings[stage].append(time_stage_process(workspace.root, stage))
        split = split_in_process(workspace)
        facts = facts_of(workspace)
    command = "python benchmarks/validation.py " + " ".join(argv if argv is not None else sys.argv[1:])
    section = report(timings, split, facts, command.strip(), f"{load_before} before, {load_average()} after")
    publish(arguments.output, SECTION_TITLE, section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
