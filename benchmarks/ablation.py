"""What the recurrence adds: the best recurrent variant against a bag of words, each with and without
word pairs, and the TF-IDF baseline, over several seeds, on the 45,000 shared IMDB reviews.

    python benchmarks/ablation.py [--archive PATH | --synthetic N] [--workdir DIR] [--recurrent bilstm]
                                  [--bag bag] [--seeds 42 43 44] [--epochs N] [--output BENCHMARKS.md]
                                  [--record ablation.json]

One workspace is prepared with the settings of params.yaml (fetch, clean, vocabulary, sequences: the
same splits for every configuration). The configurations are params, not code: the variants
`--recurrent` and `--bag` of params.yaml as they are, and each with `bigram_buckets` 0 (words only,
`dataclasses.replace`), and the baseline. Each is trained once per seed as its training stage trains
it (`modeling.training.train`, `modeling.baseline.fit_baseline`), and scored on the validation split,
the test split, and the test split with the words of each review shuffled (`evaluation.word_order`,
seeded by the same seed): a bag of words without pairs loses nothing to shuffling, a model that
reads order loses what order told it. Reported per configuration: the mean and standard deviation
over the seeds. Any choice between the configurations is made on the validation figures; the test
figures are only reported.

Writes the "Ablation: what the recurrence adds" section of BENCHMARKS.md (other sections are left
alone) and, with --record, every run's figures as JSON. `--synthetic N` runs on N synthetic reviews
instead of the archive, to check the script quickly (with `--epochs 1`); it then writes no section
unless --output is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from report_support import load_average, machine, prepare, publish
from sentiment.config import BASELINE, Params, VariantConfig
from sentiment.config.workspace import Workspace
from sentiment.core.errors import SentimentError
from sentiment.core.files import write_json
from sentiment.evaluation import metrics as evaluation
from sentiment.evaluation import word_order
from sentiment.modeling import baseline as count_baseline
from sentiment.stages import model_training, readers

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARCHIVE = PROJECT_ROOT.parent / "shared" / "data" / "imdb" / "aclImdb_45k.tar.gz"
DEFAULT_OUTPUT = PROJECT_ROOT / "BENCHMARKS.md"
SECTION_TITLE = "Ablation: what the recurrence adds"
FIGURES = ("validation", "test", "shuffled_test")


def configurations(params: Params, recurrent: str, bag: str) -> dict[str, VariantConfig | None]:
    """Label -> variant (None: the baseline): each variant as params.yaml has it, and on words alone."""
    found: dict[str, VariantConfig | None] = {}
    for name in (recurrent, bag):
        variant = params.models[name]
        if variant.bigram_buckets:
            found[f"{name}, word pairs"] = variant
        found[f"{name}, words only"] = dataclasses.replace(variant, bigram_buckets=0)
    found[f"{BASELINE} (TF-IDF)"] = None
    return found


def accuracies(labels: dict[str, Any], probabilities: dict[str, Any]) -> dict[str, float]:
    return {
        figure: evaluation.binary_metrics(labels[figure], probabilities[figure])["accuracy"]
        for figure in FIGURES
    }


def run_network(
    workspace: Workspace, variant: VariantConfig, seed: int, epochs: int | None
) -> dict[str, Any]:
    from sentiment.modeling import training
    from sentiment.modeling.inference import predict_probabilities

    params = workspace.params
    settings = params.training if epochs is None else dataclasses.replace(params.training, epochs=epochs)
    arrays = readers.read_sequences(workspace)
    size = readers.read_vocabulary(workspace).size
    trained = training.train(variant, settings, arrays, size, seed, verbose=0)
    inputs = {
        "validation": arrays["x_validation"],
        "test": arrays["x_test"],
        "shuffled_test": word_order.shuffle_tokens(arrays["x_test"], seed),
    }
    labels = {
        "validation": arrays["y_validation"],
        "test": arrays["y_test"],
        "shuffled_test": arrays["y_test"],
    }
    probabilities = {figure: predict_probabilities(trained.model, inputs[figure]) for figure in FIGURES}
    return {**accuracies(labels, probabilities), "epochs_run": trained.epochs_run}


def run_baseline(workspace: Workspace, seed: int) -> dict[str, Any]:
    arrays = readers.read_sequences(workspace)
    texts = model_training.split_texts(workspace, arrays)
    model = count_baseline.fit_baseline(texts["train"], arrays["y_train"], workspace.params.baseline, seed)
    inputs = {
        "validation": texts["validation"],
        "test": texts["test"],
        "shuffled_test": word_order.shuffle_words(texts["test"], seed),
    }
    labels = {
        "validation": arrays["y_validation"],
        "test": arrays["y_test"],
        "shuffled_test": arrays["y_test"],
    }
    probabilities = {
        figure: count_baseline.baseline_probabilities(model, inputs[figure]) for figure in FIGURES
    }
    return accuracies(labels, probabilities)


def study(
    workspace: Workspace, recurrent: str, bag: str, seeds: list[int], epochs: int | None
) -> dict[str, Any]:
    """Label -> {"settings": the variant's (or the baseline's), "runs": one entry per seed}."""
    configs = configurations(workspace.params, recurrent, bag)
    results: dict[str, Any] = {
        label: {"settings": dataclasses.asdict(variant or workspace.params.baseline), "runs": []}
        for label, variant in configs.items()
    }
    for seed in seeds:
        for label, variant in configs.items():
            started = time.perf_counter()
            if variant is None:
                run = run_baseline(workspace, seed)
            else:
                run = run_network(workspace, variant, seed, epochs)
            run = {"seed": seed, **run, "minutes": (time.perf_counter() - started) / 60}
            results[label]["runs"].append(run)
            print(
                f"seed {seed}, {label}: validation {run['validation']:.4f}, test {run['test']:.4f}, "
                f"shuffled test {run['shuffled_test']:.4f} ({run['minutes']:.1f} min)",
                flush=True,
            )
    return results


def spread(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single seed)."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def summary(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    figures = {figure: [run[figure] for run in runs] for figure in FIGURES}
    figures["order_gap"] = [run["test"] - run["shuffled_test"] for run in runs]
    return {name: dict(zip(("mean", "sd"), spread(values), strict=True)) for name, values in figures.items()}


def row(label: str, result: dict[str, Any]) -> str:
    figures = result["summary"]
    minutes = statistics.mean(run["minutes"] for run in result["runs"])
    cells = [label, *(f"{figures[name]['mean']:.4f} ± {figures[name]['sd']:.4f}" for name in FIGURES)]
    gap = figures["order_gap"]
    cells += [f"{100 * gap['mean']:+.2f} ± {100 * gap['sd']:.2f}", f"{minutes:.1f}"]
    return "| " + " | ".join(cells) + " |"


def report(results: dict[str, Any], facts: dict[str, Any]) -> str:
    best = max(results, key=lambda label: results[label]["summary"]["validation"]["mean"])
    header = (
        "| configuration | val acc | test acc | test acc, words shuffled | order gap (test points) "
        "| minutes |"
    )
    return f"""## {SECTION_TITLE}

Measured {facts["date"]} on {facts["machine"]}, shared with other work
(load average {facts["load_before"]} before, {facts["load_after"]} after).

    {facts["command"]}

{facts["data"]}. Seeds {", ".join(map(str, facts["seeds"]))}: each configuration trained once per
seed on the same splits, as its training stage trains it; mean ± standard deviation over the seeds.
"words only": the variant with `bigram_buckets` 0. "words shuffled": the test reviews with the words of
each review in a random order (seeded by the run's seed); the order gap is test accuracy minus that, in
points: what word order is worth to the model. Choose on the validation column; test is reported only.

{header}
|{"---|" * 6}
{chr(10).join(row(label, result) for label, result in results.items())}

- Best on the validation split: **{best}** ({results[best]["summary"]["validation"]["mean"]:.2%} mean
  validation accuracy; {results[best]["summary"]["test"]["mean"]:.2%} test).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument(
        "--synthetic", type=int, metavar="N", help="N synthetic reviews instead of the archive"
    )
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the prepared workspace here")
    parser.add_argument("--recurrent", default="bilstm", help="the recurrent variant of params.yaml")
    parser.add_argument("--bag", default="bag", help="the variant of params.yaml without recurrence")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument(
        "--epochs", type=int, help="training.epochs for the networks (default: params.yaml's)"
    )
    parser.add_argument("--output", type=Path, help="the Markdown file whose section is written")
    parser.add_argument("--record", type=Path, help="write every run's figures to this JSON file")
    arguments = parser.parse_args(argv)
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
            for name in (arguments.recurrent, arguments.bag):
                if name not in workspace.params.models:
                    print(f"error: params.yaml has no variant {name!r}", file=sys.stderr)
                    return 2
            results = study(workspace, arguments.recurrent, arguments.bag, arguments.seeds, arguments.epochs)
            arrays = readers.read_sequences(workspace)
        except SentimentError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    for result in results.values():
        result["summary"] = summary(result["runs"])
    source = f"{arguments.synthetic:,} synthetic reviews" if arguments.synthetic else "the shared archive"
    counts = ", ".join(f"{len(arrays[f'y_{split}']):,} {split}" for split in ("train", "validation", "test"))
    epochs = arguments.epochs or workspace.params.training.epochs
    facts = {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "load_before": load_before,
        "load_after": load_average(),
        "command": " ".join(["python benchmarks/ablation.py", *(argv if argv is not None else sys.argv[1:])]),
        "data": f"Data: {source} with the default params.yaml ({counts} reviews; {epochs} epochs at most)",
        "seeds": arguments.seeds,
    }
    section = report(results, facts)
    if output is None:
        print(section)
    else:
        publish(output, SECTION_TITLE, section)
    if arguments.record:
        write_json(arguments.record, {**facts, "configurations": results})
        print(f"wrote {arguments.record}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
