"""Served model size: a trained network's file with its embedding stored as each params.yaml
`training.embedding_storage` value, and what each changes in its predictions.

    python benchmarks/storage.py --model DIR/models/bilstm.keras --sequences DIR/data/sequences/sequences.npz

--model is a network saved float32 (as a training stage with `embedding_storage: float32` writes it, or
any training before that setting); --sequences the workspace's padded splits. Nothing is written but
BENCHMARKS.md (--output). For each storage: the file that `modeling.storage.save_served_network` writes,
its size, and the validation and test accuracy of the network loaded back from it, with the share of
reviews whose label differs from float32's and the largest |P(positive) difference|. Validation decides
(the accuracy must stay within 0.1 points); test is reported.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, get_args

import numpy as np

from report_support import load_average, machine, publish, split_sentence
from sentiment.config import EmbeddingStorage
from sentiment.modeling import storage
from sentiment.modeling.builder import EMBEDDING_LAYER
from sentiment.modeling.inference import predict_probabilities

SECTION_TITLE = "Served model size"
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
SPLITS = ("validation", "test")
TOLERANCE_POINTS = 0.1  # the validation accuracy a storage may lose against float32's, in points


def measure(model_path: Path, arrays: Any) -> dict[str, dict[str, Any]]:
    trained = storage.load_network(model_path)
    stored = trained.get_layer(EMBEDDING_LAYER).quantization_mode
    if stored is not None:
        sys.exit(f"error: {model_path} is stored {stored} already; give a network saved float32")
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as directory:
        for name in get_args(EmbeddingStorage):
            path = Path(directory) / f"{name}.keras"
            network = storage.save_served_network(trained, path, name)
            result: dict[str, Any] = {"bytes": path.stat().st_size}
            for split in SPLITS:
                started = time.perf_counter()
                result[split] = predict_probabilities(network, arrays[f"x_{split}"])
                result[f"{split}_seconds"] = time.perf_counter() - started
            results[name] = result
            print(name, result["bytes"], flush=True)
    return results


def report(results: dict[str, dict[str, Any]], arrays: Any, facts: dict[str, str]) -> str:
    """The section: per storage, the file size and, per split, accuracy, flipped labels, max |dp|."""
    reference = results["float32"]
    rows, validation = [], {}
    for name, result in results.items():
        cells = [f"`{name}`", f"{result['bytes'] / 1e6:.1f}"]
        for split in SPLITS:
            labels, probabilities = arrays[f"y_{split}"], result[split]
            accuracy = float(np.mean((probabilities >= 0.5) == (labels == 1)))
            flipped = int(np.sum((probabilities >= 0.5) != (reference[split] >= 0.5)))
            largest = float(np.max(np.abs(probabilities - reference[split])))
            cells += [f"{100 * accuracy:.2f}", f"{flipped:,} of {len(labels):,}", f"{largest:.4f}"]
            if split == "validation":
                validation[name] = 100 * accuracy
        cells.append(f"{result['test_seconds']:.0f}")
        rows.append("| " + " | ".join(cells) + " |")
    table = "\n".join(rows)
    kept = [name for name in results if validation["float32"] - validation[name] <= TOLERANCE_POINTS]
    chosen = min(kept, key=lambda name: results[name]["bytes"])
    decision = (
        f"Chosen on validation: `{chosen}`, the smallest file whose validation accuracy is within "
        f"{TOLERANCE_POINTS} points of float32's ({validation[chosen]:.2f}% against "
        f"{validation['float32']:.2f}%)."
    )
    columns = ["storage", "file MB", "validation %", "flipped", "max dp"]
    columns += ["test % (report only)", "flipped", "max dp", "s"]
    header = "| " + " | ".join(columns) + " |"
    return f"""## {SECTION_TITLE}

Measured {facts["date"]} on {machine()}, shared with other work (load average {facts["load"]}).

    {facts["command"]}

The network of `{facts["model"]}` ({facts["trained_megabytes"]} MB as trained, with its optimizer
state) saved as each `training.embedding_storage` value by `modeling.storage.save_served_network` (an
uncompiled copy: no optimizer state), loaded back, and run on the workspace's padded splits.
{split_sentence(arrays)} Flipped: reviews whose predicted label differs from float32's; max dp: the
largest change of P(positive), in absolute value; s: seconds to predict the test split.

{header}
|---|---|---|---|---|---|---|---|---|
{table}

{decision}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="a network saved float32 (.keras)")
    parser.add_argument("--sequences", type=Path, required=True, help="the workspace's sequences.npz")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown file to update")
    arguments = parser.parse_args(argv)
    load_before = load_average()
    with np.load(arguments.sequences) as data:
        arrays = {key: data[key] for key in data.files if not key.endswith("train")}
    results = measure(arguments.model, arrays)
    facts = {
        "date": datetime.date.today().isoformat(),
        "load": f"{load_before} before, {load_average()} after",
        "command": " ".join(["python benchmarks/storage.py", *(argv if argv is not None else sys.argv[1:])]),
        "model": arguments.model.name,
        "trained_megabytes": f"{arguments.model.stat().st_size / 1e6:.1f}",
    }
    publish(arguments.output, SECTION_TITLE, report(results, arrays, facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
