"""What the recurrence adds, and the seed spread: the best recurrent variant against a bag of words,
each with and without word pairs, and the TF-IDF baseline, over several seeds, on the shared IMDB reviews.

    python benchmarks/ablation.py [--archive PATH | --synthetic N] [--workdir DIR] [--recurrent bilstm]
                                  [--bag bag] [--seeds 42 43 44] [--epochs N] [--spread] [--recheck]
                                  [--output BENCHMARKS.md] [--record ablation.json]
                                  [--spread-record reports/seed_spread.json]

One workspace is prepared with the settings of params.yaml (fetch, clean, vocabulary, sequences: the
same splits for every configuration). The configurations are params, not code: the variants
`--recurrent` and `--bag` of params.yaml as they are, and each with `bigram_buckets` 0 (words only,
`dataclasses.replace`), and the baseline. Each is trained once per seed as its training stage trains
it (`modeling.training.train`, `modeling.baseline.fit_baseline`), and scored on the validation split,
the test split, and the test split with the words of each review shuffled (`evaluation.word_order`,
seeded by the same seed): a bag of words without pairs loses nothing to shuffling, a model that
reads order loses what order told it. Reported per configuration: the mean and standard deviation
over the seeds. Any choice between the configurations is made on the validation column; the test
columns are reported only.

`--spread`: only the seed spread, `--recurrent` as params.yaml has it (the variant chosen on
validation by benchmarks/training.py) and the baseline; it writes the "Seed spread" section, which the
README's results quote, and the seed-spread record that the register stage's model card quotes
(reports/seed_spread.json, to commit; `--spread-record` elsewhere; not written for synthetic
reviews unless asked). `--recheck` trains the first seed of each configuration once more and reports
whether its figures came out identical (same machine, same params and seed).

Writes its section of BENCHMARKS.md (other sections are left alone) and, with --record, every run's
figures as JSON. `--synthetic N` runs on N synthetic reviews instead of the archive, to check the
script quickly (with `--epochs 1`); it then writes no section unless --output is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from report_support import (
    DEFAULT_ARCHIVE,
    DEFAULT_SEEDS,
    deliver,
    load_average,
    prepare,
    review_counts,
    run_facts,
    source_words,
)
from seeded_runs import FIGURES, mean_sd, run_model, summary
from sentiment.config import BASELINE, Params, VariantConfig
from sentiment.config.workspace import Workspace
from sentiment.core.errors import SentimentError
from sentiment.core.files import write_json
from sentiment.registry.registration import test_split_hash
from sentiment.stages import readers

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = PROJECT_ROOT / "BENCHMARKS.md"
SECTION_TITLE = "Ablation: what the recurrence adds"
SPREAD_TITLE = "Seed spread"


def configurations(
    params: Params, recurrent: str, bag: str, spread_only: bool = False
) -> dict[str, VariantConfig | None]:
    """Label -> variant (None: the baseline): each variant as params.yaml has it, and on words alone
    (with `spread_only`: the recurrent variant as params.yaml has it, and the baseline)."""
    found: dict[str, VariantConfig | None] = {}
    for name in (recurrent,) if spread_only else (recurrent, bag):
        variant = params.models[name]
        if variant.bigram_buckets:
            found[f"{name}, word pairs"] = variant
        if not (spread_only and variant.bigram_buckets):
            found[f"{name}, words only"] = dataclasses.replace(variant, bigram_buckets=0)
    found[f"{BASELINE} (TF-IDF)"] = None
    return found


def one_run(
    workspace: Workspace, label: str, variant: VariantConfig | None, seed: int, epochs: int | None
) -> dict[str, Any]:
    run = run_model(workspace, variant, seed, epochs)
    print(
        f"seed {seed}, {label}: validation {run['validation']:.4f} | report only: test {run['test']:.4f}, "
        f"shuffled test {run['shuffled_test']:.4f} ({run['minutes']:.1f} min)",
        flush=True,
    )
    return run


def study(
    workspace: Workspace,
    configs: dict[str, VariantConfig | None],
    seeds: list[int],
    epochs: int | None,
    recheck: bool,
) -> dict[str, Any]:
    """Label -> {"settings": the variant's (or the baseline's), "runs": one entry per seed, and with
    `recheck` "recheck": the first seed trained again, "identical": whether its figures are the same}."""
    results: dict[str, Any] = {
        label: {"settings": dataclasses.asdict(variant or workspace.params.baseline), "runs": []}
        for label, variant in configs.items()
    }
    for seed in seeds:
        for label, variant in configs.items():
            results[label]["runs"].append(one_run(workspace, label, variant, seed, epochs))
    if recheck:
        for label, variant in configs.items():
            again = one_run(workspace, f"{label} (again)", variant, seeds[0], epochs)
            first = results[label]["runs"][0]
            results[label]["recheck"] = again
            results[label]["identical"] = all(again[figure] == first[figure] for figure in FIGURES)
    return results


def row(label: str, result: dict[str, Any]) -> str:
    figures = result["summary"]
    minutes = statistics.mean(run["minutes"] for run in result["runs"])
    cells = [label, *(mean_sd(figures[name]) for name in FIGURES)]
    cells += [mean_sd(figures["order_gap"], points=True), f"{minutes:.1f}"]
    return "| " + " | ".join(cells) + " |"


def recheck_lines(results: dict[str, Any], seed: int) -> str:
    if not all("identical" in result for result in results.values()):
        return ""
    differing = [label for label, result in results.items() if not result["identical"]]
    verdict = (
        "identical figures for every configuration"
        if not differing
        else "**different** figures for " + ", ".join(differing)
    )
    return (
        f"- Determinism: each configuration trained again with seed {seed}, on the same machine and\n"
        f"  params: {verdict}.\n"
    )


def spread_lines(results: dict[str, Any]) -> str:
    """What another machine should expect: differences of the order of the seed spread (not measured);
    nothing for a single seed, which has no spread."""
    if any(result["summary"]["test"]["runs"] < 2 for result in results.values()):
        return ""
    widest = max(results, key=lambda label: results[label]["summary"]["test"]["sd"])
    sd = results[widest]["summary"]["test"]["sd"]
    return (
        "- Across machines (another CPU, thread count or TensorFlow build) the floating-point sums differ\n"
        "  and so do the figures; not measured here, expect differences of the order of the seed spread:\n"
        f"  test accuracy sd up to {100 * sd:.2f} points ({widest}).\n"
    )


def report(results: dict[str, Any], facts: dict[str, Any]) -> str:
    best = max(results, key=lambda label: results[label]["summary"]["validation"]["mean"])
    chosen = results[best]["summary"]
    header = (
        "| configuration | validation acc (chooses) | test acc (report only) "
        "| test acc, words shuffled (report only) | order gap, test points (report only) | minutes |"
    )
    return f"""## {facts["title"]}

Measured {facts["date"]} on {facts["machine"]}, shared with other work
(load average {facts["load_before"]} before, {facts["load_after"]} after).

    {facts["command"]}

{facts["data"]}. {facts["split"]}
Seeds {", ".join(map(str, facts["seeds"]))}: each configuration trained once per seed on the same splits,
as its training stage trains it; mean ± sample standard deviation over the seeds (the baseline's
logistic regression does not depend on the seed: only its shuffled figure varies).
"words only": the variant with `bigram_buckets` 0. "words shuffled": the test reviews with the words of
each review in a random order (seeded by the run's seed); the order gap is test accuracy minus that, in
points: what word order is worth to the model.

{header}
|{"---|" * 6}
{chr(10).join(row(label, result) for label, result in results.items())}

- Chosen on validation: **{best}** ({mean_sd(chosen["validation"])} validation accuracy); its test
  accuracy, reported only: {mean_sd(chosen["test"])}.
{recheck_lines(results, facts["seeds"][0])}{spread_lines(results)}"""


def arguments_of(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument(
        "--synthetic", type=int, metavar="N", help="N synthetic reviews instead of the archive"
    )
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the prepared workspace here")
    parser.add_argument("--recurrent", default="bilstm", help="the recurrent variant of params.yaml")
    parser.add_argument("--bag", default="bag", help="the variant of params.yaml without recurrence")
    parser.add_argument("--seeds", type=int, nargs="+", default=DEFAULT_SEEDS)
    parser.add_argument(
        "--epochs", type=int, help="training.epochs for the networks (default: params.yaml's)"
    )
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="LABEL",
        help='leave a configuration out, by its label (e.g. "bilstm, words only"); repeatable',
    )
    parser.add_argument(
        "--spread", action="store_true", help="only --recurrent as params.yaml has it, and the baseline"
    )
    parser.add_argument("--recheck", action="store_true", help="train the first seed again: identical?")
    parser.add_argument("--output", type=Path, help="the Markdown file whose section is written")
    parser.add_argument("--record", type=Path, help="write every run's figures to this JSON file")
    parser.add_argument(
        "--spread-record",
        type=Path,
        help="with --spread: the seed-spread record for the model card (default: the project's "
        "reports/seed_spread.json on the archive, none on synthetic reviews)",
    )
    return parser.parse_args(argv)


def spread_record(
    workspace: Workspace,
    configs: dict[str, VariantConfig | None],
    results: dict[str, Any],
    recurrent: str,
    facts: dict[str, Any],
) -> dict[str, Any]:
    """What the register stage's model card reads (`registry.card_facts.seed_spread`): per model name,
    its settings and spread, with the training settings and the test reviews' hash they hold for."""
    raw = readers.read_raw(workspace)
    return {
        "source": f"{facts['command']} ({facts['date']}, {facts['machine']}; BENCHMARKS.md, {SPREAD_TITLE})",
        "date": facts["date"],
        "seeds": facts["seeds"],
        "test_data_hash": test_split_hash(raw[raw["split"] == "test"]),
        "training": dataclasses.asdict(workspace.params.training),
        "models": {
            (recurrent if variant is not None else BASELINE): {
                "settings": results[label]["settings"],
                "summary": results[label]["summary"],
            }
            for label, variant in configs.items()
        },
    }


def main(argv: list[str] | None = None) -> int:
    arguments = arguments_of(argv)
    output = arguments.output or (None if arguments.synthetic else DEFAULT_OUTPUT)
    if arguments.synthetic is None and not arguments.archive.is_file():
        print(f"error: the IMDB archive is absent: {arguments.archive}", file=sys.stderr)
        return 2
    load_before = load_average()
    with tempfile.TemporaryDirectory() as temporary:
        root = arguments.workdir or Path(temporary)
        root.mkdir(parents=True, exist_ok=True)
        try:
            workspace = prepare(root, arguments.archive, arguments.synthetic)
            names = (arguments.recurrent,) if arguments.spread else (arguments.recurrent, arguments.bag)
            for name in names:
                if name not in workspace.params.models:
                    print(f"error: params.yaml has no variant {name!r}", file=sys.stderr)
                    return 2
            configs = configurations(workspace.params, arguments.recurrent, arguments.bag, arguments.spread)
            unknown = sorted(set(arguments.without) - set(configs))
            if unknown:
                print(f"error: no configuration {unknown}; there are {sorted(configs)}", file=sys.stderr)
                return 2
            configs = {label: variant for label, variant in configs.items() if label not in arguments.without}
            results = study(workspace, configs, arguments.seeds, arguments.epochs, arguments.recheck)
            arrays = readers.read_sequences(workspace)
            for result in results.values():
                result["summary"] = summary(result["runs"])
            facts = {
                "title": SPREAD_TITLE if arguments.spread else SECTION_TITLE,
                **run_facts("ablation.py", argv, load_before, arrays, arguments.seeds),
            }
            spread_file = arguments.spread_record
            if spread_file is None and arguments.spread and arguments.synthetic is None:
                spread_file = Workspace.load(PROJECT_ROOT).seed_spread_record
            if arguments.spread and spread_file is not None:
                write_json(
                    spread_file, spread_record(workspace, configs, results, arguments.recurrent, facts)
                )
                print(f"wrote {spread_file}")
        except SentimentError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    epochs = arguments.epochs or workspace.params.training.epochs
    data = (
        f"{source_words(arguments.synthetic)} with the default params.yaml ({review_counts(arrays)} reviews"
    )
    facts["data"] = f"Data: {data}; {epochs} epochs at most)"
    section = report(results, facts)
    deliver(section, facts["title"], output, arguments.record, {**facts, "configurations": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
