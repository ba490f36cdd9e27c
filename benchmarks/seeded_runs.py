"""One seeded run of a network or of the baseline, scored on the validation split (the basis of any
choice), the test split and the test split with the words of each review shuffled (both reported
only); and the mean and standard deviation of such runs over seeds. Shared by the benchmarks that
compare configurations (ablation.py, settings.py)."""

from __future__ import annotations

import dataclasses
import statistics
import time
from typing import Any

from sentiment.config import VariantConfig
from sentiment.config.workspace import Workspace
from sentiment.evaluation import metrics as evaluation
from sentiment.evaluation import word_order
from sentiment.modeling import baseline as count_baseline
from sentiment.stages import model_training, readers

# The validation figure decides; the two test figures are reported.
FIGURES = ("validation", "test", "shuffled_test")


def accuracies(labels: dict[str, Any], probabilities: dict[str, Any]) -> dict[str, float]:
    return {
        figure: evaluation.binary_metrics(labels[figure], probabilities[figure])["accuracy"]
        for figure in FIGURES
    }


def starting_vectors(workspace: Workspace, variant: VariantConfig, size: int) -> Any:
    """The pretrain stage's word table for a variant that starts from it (as its stage reads it)."""
    if variant.pretrained == "none":
        return None
    return readers.read_word_vectors(workspace, size, variant.embedding_dim)


def run_network(
    workspace: Workspace, variant: VariantConfig, seed: int, epochs: int | None = None
) -> dict[str, Any]:
    """`variant` trained once as its training stage trains it (the workspace's `training` settings,
    `epochs` at most if given), on the workspace's sequences, with `seed`."""
    from sentiment.modeling import training
    from sentiment.modeling.inference import predict_probabilities

    params = workspace.params
    settings = params.training if epochs is None else dataclasses.replace(params.training, epochs=epochs)
    arrays = readers.read_sequences(workspace)
    size = readers.read_vocabulary(workspace).size
    vectors = starting_vectors(workspace, variant, size)
    trained = training.train(variant, settings, arrays, size, seed, verbose=0, word_vectors=vectors)
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
    """The TF-IDF baseline with the workspace's `baseline` settings, fitted as its stage fits it."""
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


def run_model(
    workspace: Workspace, variant: VariantConfig | None, seed: int, epochs: int | None = None
) -> dict[str, Any]:
    """A network (`variant`) or the baseline (None) run once with `seed`: its figures, the seed and the
    minutes it took."""
    started = time.perf_counter()
    run = run_baseline(workspace, seed) if variant is None else run_network(workspace, variant, seed, epochs)
    return {"seed": seed, **run, "minutes": (time.perf_counter() - started) / 60}


def spread(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single seed)."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def summary(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per figure, and for the order gap (test minus shuffled test): mean, sd and count of the runs."""
    figures = {figure: [run[figure] for run in runs] for figure in FIGURES}
    figures["order_gap"] = [run["test"] - run["shuffled_test"] for run in runs]
    return {
        name: {**dict(zip(("mean", "sd"), spread(values), strict=True)), "runs": len(values)}
        for name, values in figures.items()
    }


def mean_sd(figure: dict[str, float], points: bool = False) -> str:
    """Mean ± sd: "0.9058 ± 0.0007", or in points of accuracy with `points` ("+1.20 ± 0.31");
    the mean alone for a single run."""
    scale, places = (100, 2) if points else (1, 4)
    shown = f"{scale * figure['mean']:{'+' if points else ''}.{places}f}"
    return shown if figure["runs"] < 2 else f"{shown} ± {scale * figure['sd']:.{places}f}"
