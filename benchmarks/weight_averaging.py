"""Weight averaging against the best epoch, on the shared IMDB reviews with the default params.

    python benchmarks/weight_averaging.py [--archive PATH | --synthetic N] [--workdir DIR]
                                          [--variant bilstm] [--seeds 42 43 44] [--epochs N]
                                          [--output BENCHMARKS.md]

For each seed, trains the variant as its training stage does (early stopping on the validation loss,
weights averaged over the epochs run: `average_weights`), keeping each epoch's weights on the side.
Then scores three models of the same run on the validation and test splits: the averaged one (what
the stage keeps: the mean of the last epochs, as many as give the lowest validation loss), the best
epoch's (what early stopping restores without averaging) and the last epoch's. The choice between
them (`average_weights`) is made on the mean validation accuracy over the seeds; the test figures are
reported only. Seed 42 is the pipeline's.
Writes the "Weight averaging" section of BENCHMARKS.md (other sections are left alone). `--synthetic N`
runs on N synthetic reviews, to check the script quickly (with `--epochs 1`); it then writes no section
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

import keras
import numpy as np

from report_support import (
    DEFAULT_ARCHIVE,
    DEFAULT_SEEDS,
    load_average,
    machine,
    prepare,
    split_sentence,
    write_section,
)
from seeded_runs import mean_sd, spread, starting_vectors
from sentiment.config.workspace import Workspace
from sentiment.core.errors import SentimentError
from sentiment.evaluation import metrics as evaluation
from sentiment.modeling import training
from sentiment.modeling.inference import predict_probabilities
from sentiment.stages import readers

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = PROJECT_ROOT / "BENCHMARKS.md"
SECTION_TITLE = "Weight averaging"
# The three models of one run; the stage keeps "averaged" when `average_weights` is true.
MODELS = ("best", "last", "averaged")
SHOWN = {"best": "best epoch", "last": "last epoch", "averaged": "averaged"}
HEADER = (
    "| seed | epochs | epochs averaged | val acc, best epoch | val acc, last epoch | val acc, averaged "
    "| test acc, best epoch (report only) | test acc, last epoch (report only) "
    "| test acc, averaged (report only) | minutes |"
)


class EpochWeights(keras.callbacks.Callback):
    """The model's weights at the end of each epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.weights: list[list[np.ndarray]] = []

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self.weights.append(self.model.get_weights())


def scores(model: keras.Model, arrays: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    return {
        split: evaluation.binary_metrics(
            arrays[f"y_{split}"], predict_probabilities(model, arrays[f"x_{split}"])
        )
        for split in ("validation", "test")
    }


def study(workspace: Workspace, name: str, seed: int) -> dict[str, Any]:
    """One training run of variant `name`: its averaged, best-epoch and last-epoch models, scored."""
    params = workspace.params
    variant = dataclasses.replace(params.models[name], average_weights=True)
    arrays = readers.read_sequences(workspace)
    size = readers.read_vocabulary(workspace).size
    epoch_weights = EpochWeights()
    started = time.perf_counter()
    trained = training.train(
        variant, params.training, arrays, size, seed, name=name, callbacks=[epoch_weights],
        word_vectors=starting_vectors(workspace, variant, size),
    )  # fmt: skip
    minutes = (time.perf_counter() - started) / 60
    model = trained.model
    averaged = scores(model, arrays)
    model.set_weights(epoch_weights.weights[trained.best_epoch - 1])
    best = scores(model, arrays)
    model.set_weights(epoch_weights.weights[-1])
    last = scores(model, arrays)
    result = {"seed": seed, "epochs_run": trained.epochs_run, "best_epoch": trained.best_epoch,
              "averaged_epochs": trained.averaged_epochs, "minutes": minutes,
              "averaged": averaged, "best": best, "last": last}  # fmt: skip
    print(
        f"seed {seed}: validation accuracy best epoch {best['validation']['accuracy']:.4f}, "
        f"averaged {averaged['validation']['accuracy']:.4f}",
        flush=True,
    )
    return result


def row(result: dict[str, Any]) -> str:
    cells = [
        str(result["seed"]),
        f"{result['epochs_run']} (best {result['best_epoch']})",
        f"last {result['averaged_epochs']}",
        *(f"{result[model]['validation']['accuracy']:.4f}" for model in MODELS),
        *(f"{result[model]['test']['accuracy']:.4f}" for model in MODELS),
        f"{result['minutes']:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def figure(results: list[dict[str, Any]], model: str, split: str) -> dict[str, float]:
    """Mean and sd over the seeds of one model's accuracy on one split."""
    values = [result[model][split]["accuracy"] for result in results]
    mean, sd = spread(values)
    return {"mean": mean, "sd": sd, "runs": len(values)}


def report(results: list[dict[str, Any]], name: str, facts: dict[str, Any]) -> str:
    validation = {model: figure(results, model, "validation") for model in MODELS}
    # Highest mean validation accuracy; on a tie the averaged model (params.yaml's default) stays.
    chosen = max(reversed(MODELS), key=lambda model: validation[model]["mean"])
    gains = [
        100 * (result["averaged"]["validation"]["accuracy"] - result["best"]["validation"]["accuracy"])
        for result in results
    ]
    on_validation = ", ".join(f"{SHOWN[model]} {mean_sd(validation[model])}" for model in MODELS)
    return f"""## {SECTION_TITLE}

Measured {datetime.date.today().isoformat()} on {machine()}, shared with other work
(load average {facts["load_before"]} before, {facts["load_after"]} after).

    {facts["command"]}

Variant `{name}` with the default params.yaml on {facts["source"]}, trained once per seed as its
training stage trains it (early stopping on the validation loss, `average_weights`). Three models of
each run are scored: the best epoch's weights (what early stopping restores without averaging), the
last epoch's, and the mean of the last epochs' (what the stage keeps; as many epochs as give the
lowest validation loss). The best epoch and the epochs averaged are both picked on the validation
loss, so the two validation columns are optimistic alike. {facts["split"]}

{HEADER}
|{"---|" * 10}
{chr(10).join(row(result) for result in results)}

- Validation accuracy, mean ± sd over {len(results)} seeds: {on_validation}.
- Chosen on validation: **{SHOWN[chosen]}** (params.yaml: `average_weights`
  {str(facts["average_weights"]).lower()}). Averaged against the best epoch, on validation:
  {statistics.mean(gains):+.2f} points on average ({min(gains):+.2f} to {max(gains):+.2f}).
- Test accuracy of the chosen model, reported only: {mean_sd(figure(results, chosen, "test"))}.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument("--synthetic", type=int, metavar="N", help="N synthetic reviews instead")
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the prepared workspace here")
    parser.add_argument("--variant", default="bilstm")
    parser.add_argument("--seeds", type=int, nargs="+", default=DEFAULT_SEEDS)
    parser.add_argument("--epochs", type=int, help="training.epochs (default: params.yaml's)")
    parser.add_argument("--output", type=Path, help="the Markdown file to update (default BENCHMARKS.md)")
    arguments = parser.parse_args(argv)
    output = arguments.output or (None if arguments.synthetic else DEFAULT_OUTPUT)
    if arguments.synthetic is None and not arguments.archive.is_file():
        print(f"error: the IMDB archive is absent: {arguments.archive}", file=sys.stderr)
        return 2
    load_before = load_average()
    overrides = {} if arguments.epochs is None else {"training.epochs": arguments.epochs}
    with tempfile.TemporaryDirectory() as temporary:
        root = arguments.workdir or Path(temporary)
        root.mkdir(parents=True, exist_ok=True)
        try:
            workspace = prepare(root, arguments.archive, arguments.synthetic, overrides)
            if arguments.variant not in workspace.params.models:
                print(f"error: params.yaml has no variant {arguments.variant!r}", file=sys.stderr)
                return 2
            results = [study(workspace, arguments.variant, seed) for seed in arguments.seeds]
            arrays = readers.read_sequences(workspace)
        except SentimentError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    shown = " ".join(["python benchmarks/weight_averaging.py", *(argv if argv is not None else sys.argv[1:])])
    facts = {
        "command": shown,
        "load_before": load_before,
        "load_after": load_average(),
        "source": f"{arguments.synthetic:,} synthetic reviews"
        if arguments.synthetic
        else "the shared archive",
        "split": split_sentence(arrays),
        "average_weights": workspace.params.models[arguments.variant].average_weights,
    }
    section = report(results, arguments.variant, facts)
    if output is not None:
        write_section(output, SECTION_TITLE, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
