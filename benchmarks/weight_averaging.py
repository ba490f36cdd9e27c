"""Weight averaging against the best epoch, on the 45,000 shared IMDB reviews with the default params.

    python benchmarks/weight_averaging.py [--archive PATH] [--workdir DIR] [--variant bilstm]
                                          [--seeds 42 7 1] [--output BENCHMARKS.md]

For each seed, trains the variant as its training stage does (early stopping on the validation loss,
weights averaged over the epochs run: `average_weights`), keeping each epoch's weights on the side.
Then scores three models of the same run on the validation and test splits: the averaged one (what
the stage keeps: the mean of the last epochs, as many as give the lowest validation loss), the best
epoch's (what early stopping restores without averaging) and the last epoch's. Seed 42 is the
pipeline's: its averaged model is the one the "Training" section reports.
Writes the "Weight averaging" section of BENCHMARKS.md (other sections are left alone).
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

from report_support import load_average, machine, prepare, write_section
from sentiment.config.workspace import Workspace
from sentiment.core.errors import SentimentError
from sentiment.evaluation import metrics as evaluation
from sentiment.modeling import training
from sentiment.modeling.inference import predict_probabilities
from sentiment.stages import readers

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ARCHIVE = PROJECT_ROOT.parent / "shared" / "data" / "imdb" / "aclImdb_45k.tar.gz"
DEFAULT_OUTPUT = PROJECT_ROOT / "BENCHMARKS.md"
SECTION_TITLE = "Weight averaging"
HEADER = (
    "| seed | epochs | epochs averaged | val acc, best epoch | val acc, averaged | test acc, best epoch "
    "| test acc, last epoch | test acc, averaged | gain (points) | test log loss, best epoch "
    "| test log loss, averaged | minutes |"
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
        variant, params.training, arrays, size, seed, name=name, callbacks=[epoch_weights]
    )
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
        f"seed {seed}: test accuracy best epoch {best['test']['accuracy']:.4f}, "
        f"averaged {averaged['test']['accuracy']:.4f}",
        flush=True,
    )
    return result


def row(result: dict[str, Any]) -> str:
    averaged, best, last = result["averaged"], result["best"], result["last"]
    gain = averaged["test"]["accuracy"] - best["test"]["accuracy"]
    cells = [
        str(result["seed"]),
        f"{result['epochs_run']} (best {result['best_epoch']})",
        f"last {result['averaged_epochs']}",
        f"{best['validation']['accuracy']:.4f}",
        f"{averaged['validation']['accuracy']:.4f}",
        f"{best['test']['accuracy']:.4f}",
        f"{last['test']['accuracy']:.4f}",
        f"**{averaged['test']['accuracy']:.4f}**",
        f"{gain * 100:+.2f}",
        f"{best['test']['log_loss']:.4f}",
        f"{averaged['test']['log_loss']:.4f}",
        f"{result['minutes']:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


def report(results: list[dict[str, Any]], name: str, facts: dict[str, str]) -> str:
    gains = [
        100 * (result["averaged"]["test"]["accuracy"] - result["best"]["test"]["accuracy"])
        for result in results
    ]
    averaged = [result["averaged"]["test"]["accuracy"] for result in results]
    return f"""## {SECTION_TITLE}

Measured {datetime.date.today().isoformat()} on {machine()}, shared with other work
(load average {facts["load_before"]} before, {facts["load_after"]} after).

    {facts["command"]}

Variant `{name}` with the default params.yaml on the shared archive, trained once per seed as its
training stage trains it (early stopping on the validation loss, `average_weights`). Three models of
each run are scored: the best epoch's weights (what early stopping restores without averaging), the
last epoch's, and the mean of the last epochs' (what the stage keeps; as many epochs as give the
lowest validation loss). Seed 42 is the pipeline's.

{HEADER}
|{"---|" * 12}
{chr(10).join(row(result) for result in results)}

- Averaged weights against the best epoch: **{statistics.mean(gains):+.2f} points** of test accuracy
  on average over {len(results)} seeds ({min(gains):+.2f} to {max(gains):+.2f}); averaged test accuracy
  {min(averaged):.2%} to {max(averaged):.2%} (goal: at least 90%).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the prepared workspace here")
    parser.add_argument("--variant", default="bilstm")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7, 1])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    arguments = parser.parse_args(argv)
    if not arguments.archive.is_file():
        print(f"error: the IMDB archive is absent: {arguments.archive}", file=sys.stderr)
        return 2
    load_before = load_average()
    with tempfile.TemporaryDirectory() as temporary:
        root = arguments.workdir or Path(temporary)
        root.mkdir(parents=True, exist_ok=True)
        try:
            workspace = prepare(root, arguments.archive)
            if arguments.variant not in workspace.params.models:
                print(f"error: params.yaml has no variant {arguments.variant!r}", file=sys.stderr)
                return 2
            results = [study(workspace, arguments.variant, seed) for seed in arguments.seeds]
        except SentimentError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    shown = " ".join(["python benchmarks/weight_averaging.py", *(argv if argv is not None else sys.argv[1:])])
    facts = {"command": shown, "load_before": load_before, "load_after": load_average()}
    section = report(results, arguments.variant, facts)
    write_section(arguments.output, SECTION_TITLE, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
