"""How much of the loss gradient reaches the words far from the end, before and during training.

    python benchmarks/gradient_flow.py [--synthetic N | --archive PATH] [--variants rnn gru lstm]
                                       [--distances 10 40 60 100] [--workdir DIR] [--output BENCHMARKS.md]

The course says the simple RNN's gradient vanishes with distance and the gated cells' far less. The
training stages measure it once, on the trained model (`diagnostics`, `gradients.ratio_far_to_1`).
This script measures the same profile (`modeling.gradients`: the norm of d loss / d embedded token,
per distance from the end, over the norm at the last token, on the longest validation reviews) at
the start of training, with the weights as Keras initialises them, and after every epoch, for each
variant trained as its stage trains it (params.yaml, the demo profile on synthetic reviews, seed 42).
On the synthetic reviews (default: as many as params.yaml's `source.synthetic_reviews`), it also
measures the gradient at each long-range review's verdict word, the one word the label depends on.
Writes the "Gradient flow" section of BENCHMARKS.md (other sections are left alone).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np

from report_support import load_average, machine, prepare, write_section
from sentiment.core.errors import SentimentError
from sentiment.data.sequences import DISTANCES
from sentiment.modeling import gradients, state_gradients, training
from sentiment.modeling.batching import trim_padding
from sentiment.stages import readers
from sentiment.stages.synthetic_profile import training_config, variant_for

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SECTION_TITLE = "Gradient flow"
LONG_RANGE_FROM = 40  # verdicts this many words from the end or more: the demo's long range
PROBE_REVIEWS = 64


Norms = Callable[[keras.Model, np.ndarray, np.ndarray], np.ndarray | None]


def verdict_ratio(
    model: keras.Model, arrays: Mapping[str, np.ndarray], norms_of: Norms = gradients.gradient_norms
) -> float | None:
    """Mean gradient norm at the verdict word of long-range validation reviews, over that at their last.

    `norms_of` gives the norms per review and step: those reaching the embedded tokens, or the
    recurrent states (`state_gradients.state_gradient_norms`; None for a model without one).
    """
    distances = arrays.get(f"{DISTANCES}_validation")
    if distances is None:
        return None
    rows = np.flatnonzero(distances >= LONG_RANGE_FROM)[:PROBE_REVIEWS]
    tokens = trim_padding(arrays["x_validation"][rows])
    norms = norms_of(model, tokens, arrays["y_validation"][rows])
    if norms is None:
        return None
    from_end = gradients.distances_from_end(tokens)
    at_verdict = norms[from_end == distances[rows][:, None]]
    return float(at_verdict.mean() / norms[from_end == 1].mean())


class GradientFlow(keras.callbacks.Callback):
    """The profile's ratios at `distances` (and at the verdict) before training and after each epoch."""

    def __init__(self, arrays: Mapping[str, np.ndarray], distances: list[int]) -> None:
        super().__init__()
        self.arrays, self.distances = arrays, distances
        self.probe = gradients.longest_reviews(arrays["x_validation"], PROBE_REVIEWS)
        self.rows: list[dict[str, Any]] = []

    def measure(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
        # on a copy: running the training model itself advances its dropout layers' random state, and
        # the run would no longer be the one its stage makes
        model = keras.models.clone_model(self.model)
        model.set_weights(self.model.get_weights())
        tokens, labels = self.arrays["x_validation"][self.probe], self.arrays["y_validation"][self.probe]
        profile = gradients.gradient_profile(model, tokens, labels).set_index("distance")["gradient_norm"]
        ratios = {d: float(profile.loc[d] / profile.loc[1]) for d in self.distances if d in profile.index}
        accuracy = (logs or {}).get("val_accuracy")
        self.rows.append(
            {
                "epoch": epoch,
                "ratios": ratios,
                "verdict": verdict_ratio(model, self.arrays),
                "state_verdict": verdict_ratio(model, self.arrays, state_gradients.state_gradient_norms),
                "val": accuracy,
            }
        )

    def on_train_begin(self, logs: Mapping[str, float] | None = None) -> None:
        self.measure(0)

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
        self.measure(epoch + 1, logs)


def section(
    results: Mapping[str, list[dict[str, Any]]], distances: list[int], facts: Mapping[str, str]
) -> str:
    header = " | ".join(f"at {d}" for d in distances)
    lines = [
        f"## {SECTION_TITLE}",
        "",
        f"Measured on {facts['machine']} (load average {facts['load']}).",
        "",
        f"    {facts['command']}",
        "",
        f"{facts['data']}. Each cell: the mean norm of the loss gradient reaching the tokens at that "
        "distance from the end, over its norm at the last token, on the 64 longest validation reviews; "
        '"verdict": the same at the verdict word of 64 validation reviews whose verdict is 40 or more words '
        'from the end (synthetic reviews only); "state at verdict": the gradient of the loss with respect to '
        "the recurrent state after the verdict word (backpropagation through time, every state of the cell: "
        "an LSTM's memory too), over that after the last word, on the same reviews "
        "(`modeling.state_gradients`). Epoch 0: the weights as Keras initialises them.",
        "",
        f"| model | epoch | validation accuracy | {header} | verdict | state at verdict |",
        "|---|---|---|" + "---|" * len(distances) + "---|---|",
    ]
    for name, rows in results.items():
        for row in rows:
            cells = " | ".join(f"{row['ratios'][d]:.2e}" if d in row["ratios"] else "–" for d in distances)
            accuracy = f"{row['val']:.4f}" if row["val"] is not None else "–"
            verdict, state = (
                f"{row[key]:.2e}" if row[key] is not None else "–" for key in ("verdict", "state_verdict")
            )
            lines.append(f"| {name} | {row['epoch']} | {accuracy} | {cells} | {verdict} | {state} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--synthetic", type=int, help="that many synthetic reviews (default: params.yaml's)")
    source.add_argument("--archive", type=Path, help="an IMDB archive instead of synthetic reviews")
    parser.add_argument("--variants", nargs="+", default=["rnn", "gru", "lstm"])
    parser.add_argument("--distances", nargs="+", type=int, default=[10, 40, 60, 100])
    parser.add_argument("--workdir", type=Path, help="keep the prepared reviews here (default: a temp dir)")
    parser.add_argument("--output", type=Path, help="write the section into this file (default: print it)")
    arguments = parser.parse_args(argv)
    load = load_average()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            root = arguments.workdir or Path(scratch)
            root.mkdir(parents=True, exist_ok=True)
            synthetic = None if arguments.archive else arguments.synthetic or _default_synthetic()
            workspace = prepare(root, arguments.archive, synthetic=synthetic)
            arrays = readers.read_sequences(workspace)
            params, vocabulary = workspace.params, readers.read_vocabulary(workspace)
            results: dict[str, list[dict[str, Any]]] = {}
            for name in arguments.variants:
                flow = GradientFlow(arrays, arguments.distances)
                training.train(
                    variant_for(params, name, arrays), training_config(params, arrays), arrays,
                    vocabulary.size, params.seed, name=name, callbacks=[flow],
                )  # fmt: skip
                results[name] = flow.rows
    except SentimentError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    reviews = f"{arguments.archive.name}" if arguments.archive else "the built-in synthetic reviews"
    facts = {
        "machine": machine(),
        "load": load,
        "command": " ".join(
            ["python benchmarks/gradient_flow.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "data": f"Data: {reviews} ({len(arrays['y_train']):,} training reviews), params.yaml's settings, "
        f"seed {params.seed}",
    }
    text = section(results, arguments.distances, facts)
    print(text)
    if arguments.output:
        write_section(arguments.output, SECTION_TITLE, text)
    return 0


def _default_synthetic() -> int:
    from sentiment.config.loader import load_params

    return load_params(PROJECT_ROOT / "params.yaml").source.synthetic_reviews


if __name__ == "__main__":
    sys.exit(main())
