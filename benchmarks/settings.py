"""Which value of one setting: each value trained on the same validation reviews, over seeds; the value
is chosen on validation, and the test split is reported for the chosen value only.

    python benchmarks/settings.py SETTING VALUE [VALUE ...] [--model bilstm] [--seeds 42]
                                  [--archive PATH | --synthetic N] [--workdir DIR] [--epochs N]
                                  [--output BENCHMARKS.md] [--record settings.json] [--cache DIR]

SETTING is a dotted key of params.yaml and each VALUE a YAML value, for example
`models.bilstm.embedding_learning_rate 30 100`, `baseline.regularization 1 4 10 30`,
`sequences.max_len 256 800` or `models.bilstm.pooling max mean`. The model trained is the variant
named by `models.<variant>.*`, the baseline for `baseline.*`, else `--model` (a variant or `baseline`).
Each value gets its own workspace, prepared with params.yaml and that one change (so a vocabulary or
sequences setting is prepared anew) and checked by the project's strict params loader; the values must
leave the validation reviews unchanged (the `seed`, `splits`, `source` and `paths` sections are not
compared here), so every value is judged on the same reviews. Each value is trained once per seed as
its training stage trains it (`seeded_runs`), and scored on validation (mean ± sd over the seeds).

Writes the section "Setting: SETTING" of BENCHMARKS.md (other sections are left alone): the
validation figures of every value, the value chosen on them, and the chosen value's test accuracy
(report only). `--record` keeps every run, test figures included, as JSON. `--synthetic N` runs on N
synthetic reviews, to check the script quickly (with `--epochs 1`); it then writes no section unless
--output is given. `--cache DIR` keeps each run there and reuses one made with the same params, seed,
code and archive on this machine (see run_cache.py): params.yaml's own value, trained by every study,
is then trained once.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import yaml

import run_cache
from report_support import (
    DEFAULT_ARCHIVE,
    deliver,
    load_average,
    params_text,
    prepare,
    review_counts,
    run_facts,
    source_words,
)
from seeded_runs import mean_sd, run_model, summary
from sentiment.config import BASELINE
from sentiment.config.workspace import Workspace
from sentiment.core.errors import ConfigError, SentimentError
from sentiment.stages import readers

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = PROJECT_ROOT / "BENCHMARKS.md"
# Settings that would change the validation reviews (or where they come from): not comparable here.
FIXED_SECTIONS = ("seed", "splits", "source", "paths")


def model_of(setting: str, default: str) -> str:
    parts = setting.split(".")
    if parts[0] in FIXED_SECTIONS:
        raise ConfigError(f"{setting}: the {parts[0]!r} settings change the validation reviews")
    if parts[0] == "models" and len(parts) >= 3:
        return parts[1]
    return BASELINE if parts[0] == BASELINE else default


def current_value(setting: str) -> Any:
    """The setting's value in the project's params.yaml (None when it is left out)."""
    value: Any = yaml.safe_load(params_text())
    for part in setting.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def run_value(
    workspace: Workspace, model: str, arguments: argparse.Namespace, label: str
) -> list[dict[str, Any]]:
    variant = None if model == BASELINE else workspace.params.models[model]
    # The loaded config, not the file: YAML spellings of one value (100, 100.0) are one run.
    params = repr(workspace.params)
    archive = None if arguments.synthetic else arguments.archive
    runs = []
    for seed in arguments.seeds:
        key = run_cache.run_key(params, model, seed, archive)
        run = run_cache.cached_run(arguments.cache, key, partial(run_model, workspace, variant, seed))
        reused = ", reused" if run.get("reused") else ""
        print(
            f"{label}, seed {seed}: validation {run['validation']:.4f} ({run['minutes']:.1f} min{reused})",
            flush=True,
        )
        runs.append(run)
    return runs


def study(arguments: argparse.Namespace, root: Path, model: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Value label -> {"value", "runs"}; and the arrays of the first value's workspace."""
    results: dict[str, Any] = {}
    reference: dict[str, Any] | None = None
    for index, text in enumerate(arguments.values):
        value = yaml.safe_load(text)
        overrides = {arguments.setting: value}
        if arguments.epochs is not None:
            overrides["training.epochs"] = arguments.epochs
        (root / f"value-{index}").mkdir(parents=True, exist_ok=True)
        workspace = prepare(root / f"value-{index}", arguments.archive, arguments.synthetic, overrides)
        if model != BASELINE and model not in workspace.params.models:
            raise ConfigError(f"params.yaml has no variant {model!r}")
        arrays = readers.read_sequences(workspace)
        if reference is None:
            reference = arrays
        elif not np.array_equal(arrays["ids_validation"], reference["ids_validation"]):
            raise ConfigError(f"{arguments.setting}: {text} changes the validation reviews")
        label = f"{arguments.setting} = {text}"
        results[text] = {"value": value, "runs": run_value(workspace, model, arguments, label)}
    assert reference is not None
    return results, reference


def row(text: str, result: dict[str, Any], current: Any) -> str:
    runs = result["runs"]
    epochs = (
        "-" if "epochs_run" not in runs[0] else f"{statistics.mean(run['epochs_run'] for run in runs):.1f}"
    )
    cells = [
        f"{text} (params.yaml)" if result["value"] == current else text,
        mean_sd(result["summary"]["validation"]),
        epochs,
        f"{statistics.mean(run['minutes'] for run in runs):.1f}"
        + (" (a run kept from an earlier study)" if any(run.get("reused") for run in runs) else ""),
    ]
    return "| " + " | ".join(cells) + " |"


def decision_lines(results: dict[str, Any], ranked: list[str], seeds: list[int]) -> str:
    """How far the chosen value is ahead on validation, against the spread between seeds."""
    if len(ranked) < 2:
        return ""
    best, runner_up = (results[text]["summary"]["validation"] for text in ranked[:2])
    gap = best["mean"] - runner_up["mean"]
    if len(seeds) == 1:
        spread = 'one seed: compare the margin with the seed spread (section "Seed spread")'
    else:
        widest = max(results[text]["summary"]["validation"]["sd"] for text in results)
        side = "within" if gap <= 2 * widest else "beyond"
        spread = f"{side} twice the largest sd between seeds ({100 * widest:.2f} points)"
    return (
        f"\n- Margin over the next value ({ranked[1]}): {100 * gap:+.2f} points of validation accuracy; "
        f"{spread}."
    )


def report(results: dict[str, Any], facts: dict[str, Any]) -> str:
    # Highest mean validation accuracy first; on a tie params.yaml's value stays.
    ranked = sorted(
        results,
        key=lambda text: (
            -results[text]["summary"]["validation"]["mean"],
            results[text]["value"] != facts["current"],
        ),
    )
    chosen = ranked[0]
    figures = results[chosen]["summary"]
    rows = "\n".join(row(text, results[text], facts["current"]) for text in results)
    margin = decision_lines(results, ranked, facts["seeds"])
    return f"""## {facts["title"]}

Measured {facts["date"]} on {facts["machine"]}, shared with other work
(load average {facts["load_before"]} before, {facts["load_after"]} after).

    {facts["command"]}

{facts["data"]}. Model: `{facts["model"]}`, trained once per seed ({", ".join(map(str, facts["seeds"]))}) for
each value, everything else as params.yaml has it. {facts["split"]}

| {facts["setting"]} | validation acc (chooses) | epochs run | minutes |
|---|---|---|---|
{rows}

- Chosen on validation: **{chosen}** ({mean_sd(figures["validation"])}; params.yaml has {facts["current"]}).
- Its test accuracy, reported only: {mean_sd(figures["test"])}.{margin}
"""


def arguments_of(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("setting", help="a dotted params.yaml key, e.g. models.bilstm.embedding_dim")
    parser.add_argument("values", nargs="+", help="YAML values to compare, e.g. 64 128")
    parser.add_argument("--model", default="bilstm", help="what to train for a training/data setting")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument("--synthetic", type=int, metavar="N", help="N synthetic reviews instead")
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the prepared workspaces here")
    parser.add_argument("--epochs", type=int, help="training.epochs (default: params.yaml's)")
    parser.add_argument("--output", type=Path, help="the Markdown file whose section is written")
    parser.add_argument("--record", type=Path, help="write every run's figures to this JSON file")
    parser.add_argument(
        "--cache", type=Path, help="reuse runs kept here with the same params, seed, code and archive"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = arguments_of(argv)
    output = arguments.output or (None if arguments.synthetic else DEFAULT_OUTPUT)
    if arguments.synthetic is None and not arguments.archive.is_file():
        print(f"error: the IMDB archive is absent: {arguments.archive}", file=sys.stderr)
        return 2
    load_before = load_average()
    with tempfile.TemporaryDirectory() as temporary:
        root = arguments.workdir or Path(temporary)
        try:
            model = model_of(arguments.setting, arguments.model)
            results, arrays = study(arguments, root, model)
        except SentimentError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    for result in results.values():
        result["summary"] = summary(result["runs"])
    epochs = arguments.epochs or current_value("training.epochs")
    facts = {
        "title": f"Setting: {arguments.setting}",
        "setting": arguments.setting,
        "current": current_value(arguments.setting),
        "model": model,
        **run_facts("settings.py", argv, load_before, arrays, arguments.seeds),
        "data": (
            f"Data: {source_words(arguments.synthetic)} ({review_counts(arrays)} reviews; "
            f"{epochs} epochs at most)"
        ),
    }
    section = report(results, facts)
    deliver(section, facts["title"], output, arguments.record, {**facts, "values": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
