"""Training on the shared IMDB reviews with the default params: every variant and the baseline.

    python benchmarks/training.py [--archive PATH | --synthetic N] [--workdir DIR] [--epochs N]
                                  [--output BENCHMARKS.md]

Prepares a workspace from the archive with the settings of params.yaml (fetch, clean, vocabulary,
sequences: not timed), then runs the training stages in-process exactly as `dvc repro` would (train
each variant of `models`, then the TF-IDF baseline), each tracked in the workspace's MLflow store.
Reports per model: validation accuracy, on which the best variant is chosen (one seed: the
pipeline's); test metrics, reported only; training and prediction throughput; the vanishing-gradient
ratio. Goals: the variant chosen on validation reaches 90% test accuracy; the variants train in 45
minutes in all. The seed spread of the chosen variant and the baseline is benchmarks/ablation.py
--spread.

Tracking overhead: the cheapest variant (`--overhead-variant`) trains one epoch on the same arrays
with the same seed as a bare `model.fit`, then inside an MLflow run with per-epoch logging, the model
logged with signature and input example, and the plots logged; the pair is repeated
(`--overhead-repeats`) and each figure is the median (goal: < 10%).
Writes the "Training" section of BENCHMARKS.md (other sections are left alone). With `--workdir` the
workspace is kept: `mlflow ui --backend-store-uri sqlite:///DIR/mlflow.db` shows its runs.
`--synthetic N` runs on N synthetic reviews, to check the script quickly (with `--epochs 1`); it then
writes no section unless --output is given.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from report_support import DEFAULT_ARCHIVE, load_average, machine, prepare, split_sentence, write_section
from sentiment.config import BASELINE
from sentiment.config.workspace import Workspace
from sentiment.core.errors import SentimentError
from sentiment.stages import model_training, readers

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = PROJECT_ROOT / "BENCHMARKS.md"
SECTION_TITLE = "Training"
GOAL_ACCURACY = 0.90
GOAL_MINUTES = 45.0
GOAL_OVERHEAD = 0.10


def train_all(workspace: Workspace) -> dict[str, dict[str, Any]]:
    """Each variant, then the baseline: the stage's metrics plus its wall-clock seconds."""
    results = {}
    for name in [*workspace.params.models, BASELINE]:
        print(f"--- {name}", flush=True)
        started = time.perf_counter()
        if name == BASELINE:
            model_training.baseline(workspace)
        else:
            model_training.train(workspace, name)
        seconds = time.perf_counter() - started
        outputs = model_training.model_outputs(workspace, name)
        metrics = json.loads(outputs.evaluation.read_text(encoding="utf-8"))
        speed = json.loads(outputs.timings.read_text(encoding="utf-8"))
        results[name] = {**metrics, "speed": speed, "stage_seconds": seconds}
        print(
            f"{name}: validation accuracy {metrics['validation']['accuracy']:.4f} | report only: test "
            f"accuracy {metrics['test']['accuracy']:.4f} ({seconds / 60:.1f} min)",
            flush=True,
        )
    return results


def tracking_overhead(workspace: Workspace, name: str, repeats: int) -> dict[str, float]:
    """Seconds of one epoch as a bare fit, and as a tracked one (run, epoch metrics, model, plots).

    The two alternate `repeats` times and each figure is the median: on cores shared with other work,
    one pair of epochs can differ by a third from the load alone.
    """
    import statistics

    import mlflow
    import numpy as np

    from sentiment.modeling import training
    from sentiment.tracking import lineage as lineages
    from sentiment.tracking import runs as tracking

    params = workspace.params
    config = dataclasses.replace(params.training, epochs=1)
    arrays = readers.read_sequences(workspace)
    size = readers.read_vocabulary(workspace).size
    lineage = lineages.lineage(workspace, {"sequences": workspace.sequences_file})
    plots = model_training.model_outputs(workspace, name).plots_dir
    times: dict[str, list[float]] = {"bare": [], "tracked": [], "tracked_fit": [], "logging": []}
    for _ in range(repeats):
        started = time.perf_counter()
        training.train(params.models[name], config, arrays, size, params.seed, name=name)
        times["bare"].append(time.perf_counter() - started)

        started = time.perf_counter()
        parameters = tracking.run_parameters(params, {"model": params.models[name], "training": config})
        with tracking.tracked_run(
            workspace, f"{name}-overhead", lineage, parameters, {"benchmark": "overhead"}
        ):
            trained = training.train(params.models[name], config, arrays, size, params.seed, name=name,
                                     callbacks=[training.EpochLogCallback(tracking.log_epoch)])  # fmt: skip
            fitted = time.perf_counter()
            example = arrays["x_test"][:2]
            tracking.log_keras_model(
                trained.model, example, np.asarray(trained.model.predict(example, verbose=0))
            )
            mlflow.log_artifacts(str(plots), artifact_path="plots")
        tracked = time.perf_counter() - started
        times["tracked"].append(tracked)
        times["tracked_fit"].append(fitted - started)
        times["logging"].append(tracked - (fitted - started))
    return {key: statistics.median(values) for key, values in times.items()} | {"repeats": repeats}


def row(name: str, result: dict[str, Any]) -> str:
    test, speed, trained = result["test"], result["speed"], result["training"]
    ratio = result.get("gradients", {}).get("ratio_far_to_1")
    epochs = "-"
    if "epochs_run" in trained:
        averaged = trained.get("averaged_epochs")
        kept = f"last {averaged:.0f} averaged" if averaged else f"best {trained['best_epoch']}"
        epochs = f"{trained['epochs_run']} ({kept})"
    cells = [
        name,
        f"**{result['validation']['accuracy']:.4f}**",
        f"{test['accuracy']:.4f}",
        f"{test['f1']:.4f}",
        f"{test['roc_auc']:.4f}",
        f"{test['log_loss']:.4f}",
        epochs,
        f"{result['stage_seconds'] / 60:.1f}",
        f"{speed['train_samples_per_second']:,.0f}",
        f"{speed['predict_samples_per_second']:,.0f}",
        "-" if ratio is None else f"{ratio:.2e}",
    ]
    return "| " + " | ".join(cells) + " |"


def chosen_on_validation(results: dict[str, dict[str, Any]], names: list[str]) -> str:
    """The model of `names` with the best validation accuracy (the first listed on a tie)."""
    return max(names, key=lambda name: results[name]["validation"]["accuracy"])


def report(
    results: dict[str, dict[str, Any]], overhead: dict[str, float], name: str, facts: dict[str, Any]
) -> str:
    variants = [variant for variant in results if variant != BASELINE]
    best = chosen_on_validation(results, variants)
    candidate = chosen_on_validation(results, [BASELINE, *sorted(variants)])
    best_accuracy = results[best]["test"]["accuracy"]
    minutes = sum(results[variant]["stage_seconds"] for variant in variants) / 60
    share = overhead["tracked"] / overhead["bare"] - 1
    far = int(results[variants[0]]["gradients"]["far_distance"])
    verdict = {True: "met", False: "**missed**"}
    header = (
        "| model | validation acc (chooses) | test acc (report only) | test F1 | test ROC AUC "
        f"| test log loss | epochs | minutes | train samples/s | predict samples/s | gradient ratio {far}/1 |"
    )
    return f"""## {SECTION_TITLE}

Measured {datetime.date.today().isoformat()} on {machine()}, shared with other work
(load average {facts["load_before"]} before, {facts["load_after"]} after); Python {platform.python_version()},
TensorFlow {facts["tensorflow"]}, Keras {facts["keras"]}, MLflow {facts["mlflow"]}.

    {facts["command"]}

Data: {facts["source"]} with the default params.yaml: {facts["train"]:,} training,
{facts["validation"]:,} validation and {facts["test"]:,} test reviews, {facts["max_len"]} tokens at most,
{facts["num_words"]:,}-word vocabulary; {facts["epochs"]} epochs at most. {facts["split"]}
Each row is one training stage run in-process as `dvc repro` runs it, with the pipeline's seed
{facts["seed"]} (one seed: the spread between seeds is in "Seed spread"; minutes: the whole stage:
training, evaluation, gradient and embedding diagnostics, MLflow logging). Samples/s: training batches
only (validation passes excluded), and test-set prediction. Gradient ratio: the mean norm of the loss
gradient w.r.t. the embedded token {far} tokens from the end of the review over that at the last token
({facts["gradient_reviews"]} longest validation reviews).

{header}
|{"---|" * 11}
{chr(10).join(row(model, result) for model, result in results.items())}

- Chosen on validation among the variants: **{best}** ({results[best]["validation"]["accuracy"]:.2%}
  validation accuracy); its test accuracy, reported only: {best_accuracy:.2%} (goal: at least
  {GOAL_ACCURACY:.0%}: {verdict[best_accuracy >= GOAL_ACCURACY]}); the TF-IDF baseline's:
  {results[BASELINE]["test"]["accuracy"]:.2%}. Best on validation with the baseline included
  (ties to the baseline): {candidate}.
- All {len(variants)} variants: **{minutes:.1f} min** (goal: at most {GOAL_MINUTES:.0f} min:
  {verdict[minutes <= GOAL_MINUTES]}).
- Tracking overhead ({name}, one epoch on the same arrays, median of {overhead["repeats"]:.0f} alternated
  pairs): bare `model.fit` {overhead["bare"]:.1f} s,
  tracked {overhead["tracked"]:.1f} s (fit with per-epoch logging {overhead["tracked_fit"]:.1f} s, then
  the model with signature and input example, and the plots, {overhead["logging"]:.1f} s):
  **{share:+.1%}** (goal: under {GOAL_OVERHEAD:.0%}: {verdict[share < GOAL_OVERHEAD]}).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument("--synthetic", type=int, metavar="N", help="N synthetic reviews instead")
    parser.add_argument("--workdir", type=Path, help="keep the workspace (and its MLflow store) here")
    parser.add_argument("--epochs", type=int, help="training.epochs (default: params.yaml's)")
    parser.add_argument("--overhead-variant", default="rnn")
    parser.add_argument("--overhead-repeats", type=int, default=3, help="bare and tracked epochs, alternated")
    parser.add_argument("--output", type=Path, help="the Markdown file to update (default BENCHMARKS.md)")
    arguments = parser.parse_args(argv)
    output = arguments.output or (None if arguments.synthetic else DEFAULT_OUTPUT)
    if arguments.synthetic is None and not arguments.archive.is_file():
        print(f"error: the IMDB archive is absent: {arguments.archive}", file=sys.stderr)
        return 2
    for name in ("MLFLOW_TRACKING_URI", "SENTIMENT_PIPELINE_RUN"):
        os.environ.pop(name, None)
    load_before = load_average()
    overrides = {} if arguments.epochs is None else {"training.epochs": arguments.epochs}
    with tempfile.TemporaryDirectory() as temporary:
        root = arguments.workdir or Path(temporary)
        root.mkdir(parents=True, exist_ok=True)
        try:
            workspace = prepare(root, arguments.archive, arguments.synthetic, overrides)
            results = train_all(workspace)
            overhead = tracking_overhead(workspace, arguments.overhead_variant, arguments.overhead_repeats)
        except SentimentError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        arrays = readers.read_sequences(workspace)
        facts = facts_of(workspace, arrays, load_before, argv)
    source = f"{arguments.synthetic:,} synthetic reviews" if arguments.synthetic else "the shared archive"
    section = report(results, overhead, arguments.overhead_variant, {**facts, "source": source})
    if output is not None:
        write_section(output, SECTION_TITLE, section)
    print(section)
    return 0


def facts_of(
    workspace: Workspace, arrays: dict[str, Any], load_before: str, argv: list[str] | None
) -> dict[str, Any]:
    import keras
    import mlflow
    import tensorflow as tf

    shown = " ".join(["python benchmarks/training.py", *(argv if argv is not None else sys.argv[1:])])
    return {
        "command": shown,
        "load_before": load_before,
        "load_after": load_average(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "mlflow": mlflow.__version__,
        "train": len(arrays["y_train"]),
        "validation": len(arrays["y_validation"]),
        "test": len(arrays["y_test"]),
        "max_len": workspace.params.sequences.max_len,
        "num_words": workspace.params.vocabulary.num_words,
        "gradient_reviews": workspace.params.diagnostics.gradient_reviews,
        "epochs": workspace.params.training.epochs,
        "seed": workspace.params.seed,
        "split": split_sentence(arrays),
    }


if __name__ == "__main__":
    sys.exit(main())
