"""The teachers and students of benchmarks/distillation.py: each trained as its stage trains it, scored
on validation, test and the unlabeled reviews."""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from sentiment.config import BASELINE, NB_BASELINE
from sentiment.config.workspace import Workspace
from sentiment.core.errors import ConfigError
from sentiment.data.layout import UNSUP
from sentiment.evaluation import metrics as evaluation
from sentiment.modeling.distillation import teacher_targets, with_unlabeled
from sentiment.stages import distillation as distillation_stage
from sentiment.stages import model_training, readers

SCORED = ("validation", "test")
COUNT_TEACHERS = (BASELINE, NB_BASELINE)


def unlabeled_reviews(workspace: Workspace) -> tuple[list[str], np.ndarray]:
    """The unlabeled reviews the students may read, as the distill@ stage reads them."""
    texts, tokens = distillation_stage.unlabeled_reviews(workspace, readers.read_vocabulary(workspace))
    if not texts:
        raise ConfigError("the workspace has no unlabeled reviews to learn from (split unsup)")
    return texts, tokens


def teacher_probabilities(
    workspace: Workspace,
    name: str,
    seed: int,
    arrays: Mapping[str, np.ndarray],
    unlabeled: tuple[list[str], np.ndarray],
) -> dict[str, np.ndarray]:
    """Teacher `name` trained as its stage trains it (`nb_baseline`: as the distill@ stage fits it); its
    probabilities on validation, test, unlabeled."""
    from sentiment.modeling import baseline as count_baseline

    if name in (BASELINE, NB_BASELINE):
        texts = model_training.split_texts(workspace, arrays)
        model = count_baseline.fit_baseline(
            texts["train"],
            arrays["y_train"],
            workspace.params.baseline,
            seed,
            naive_bayes=name == NB_BASELINE,
        )
        inputs = {split: texts[split] for split in SCORED} | {UNSUP: unlabeled[0]}
        return {part: count_baseline.baseline_probabilities(model, inputs[part]) for part in inputs}
    network = train_network(workspace, name, seed, arrays)
    return network_probabilities(network, arrays, unlabeled[1])


def train_network(workspace: Workspace, name: str, seed: int, arrays: Mapping[str, np.ndarray]) -> Any:
    from sentiment.modeling import training

    params = workspace.params
    if name not in params.models:
        raise ConfigError(f"params.yaml has no variant {name!r}")
    size = readers.read_vocabulary(workspace).size
    return training.train(params.models[name], params.training, arrays, size, seed, name=name).model


def network_probabilities(
    model: Any, arrays: Mapping[str, np.ndarray], unlabeled_tokens: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    from sentiment.modeling.inference import predict_probabilities

    scored = {split: predict_probabilities(model, arrays[f"x_{split}"]) for split in SCORED}
    if unlabeled_tokens is not None:
        scored[UNSUP] = predict_probabilities(model, unlabeled_tokens)
    return scored


def accuracy(arrays: Mapping[str, np.ndarray], probabilities: Mapping[str, np.ndarray]) -> dict[str, float]:
    return {
        split: evaluation.binary_metrics(arrays[f"y_{split}"], probabilities[split])["accuracy"]
        for split in SCORED
    }


def labeled(
    teachers: Mapping[str, Mapping[str, np.ndarray]], labels: Literal["soft", "hard"]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The teachers' mean probability on each part, and the unlabeled reviews' targets."""
    parts = (*SCORED, UNSUP)
    mean = {part: teacher_targets([scored[part] for scored in teachers.values()], "soft") for part in parts}
    return mean, teacher_targets([scored[UNSUP] for scored in teachers.values()], labels)


def set_student(
    workspace: Workspace,
    arguments: argparse.Namespace,
    seed: int,
    arrays: Mapping[str, np.ndarray],
    unlabeled: tuple[list[str], np.ndarray],
    everyone: Mapping[str, Mapping[str, np.ndarray]],
    names: tuple[str, ...],
) -> dict[str, Any]:
    """The student taught by the teachers `names` alone (a set after `--teacher-sets`' first)."""
    mean, targets = labeled({name: everyone[name] for name in names}, arguments.labels)
    started = time.perf_counter()
    student = train_network(workspace, arguments.student, seed, with_unlabeled(arrays, unlabeled[1], targets))
    return {
        "teachers": list(names),
        "teacher_mean": accuracy(arrays, mean),
        "student": accuracy(arrays, network_probabilities(student, arrays)),
        "minutes": (time.perf_counter() - started) / 60,
    }
