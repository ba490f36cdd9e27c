"""Helpers for the registry and serving tests. Every file the register stage reads comes from the real
stages (fetch, clean, vocabulary, sequences, both validations, train) run on a small archive of easy
reviews that a tiny network learns in a few epochs; a better or a worse model is a params change, as a
user would make it, and a failed training is the real stage with one step made to crash.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from conftest import keep_students_of, merged, project_params, write_archive
from sentiment.config import BASELINE
from sentiment.config.workspace import Workspace
from sentiment.stages import data_validation, model_registry, model_training
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages

POSITIVE = ("great", "wonderful", "superb", "loved", "brilliant", "moving")
NEGATIVE = ("awful", "boring", "terrible", "hated", "dull", "clumsy")
FILLER = ("the", "film", "story", "actor", "scene", "music", "plot", "camera", "ending", "cast", "was", "and")
RATINGS = {"pos": 9, "neg": 2}
EASY_ARCHIVE = Path("archive/easy.tar.gz")  # in every easy workspace, relative to its root
TINY_VARIANT: dict[str, Any] = {
    "cell": "gru",
    "units": [4],
    "bidirectional": False,
    "dropout": 0.0,
    "recurrent_dropout": 0.0,
    "embedding_dim": 8,
    "pooling": "max",
    "dense_units": 0,
}
# The behavioural gate off (every threshold 0): the easy reviews' tiny models know a dozen sentiment
# words and no negation, so the suite would veto them all; the tests here are about the paired gate,
# the choice on validation and serving. The gate itself: tests/integration/test_registry_behaviour.py.
BEHAVIOUR_GATE_OFF: dict[str, Any] = {"thresholds": {"mft": 0.0, "inv": 0.0, "dir": 0.0}}
EASY_PARAMS: dict[str, Any] = {
    "vocabulary": {"num_words": 60},
    "sequences": {"max_len": 24},
    # the easy reviews learned in 4 epochs (test accuracy 1.0, test log loss below 0.1)
    "training": {"batch_size": 16, "epochs": 4, "learning_rate": 0.03, "early_stopping_patience": 4},
    "diagnostics": {
        "gradient_reviews": 8,
        "gradient_distance": 10,
        "probe_words": ["great"],
        "projector_words": 20,
    },
    "behaviour": BEHAVIOUR_GATE_OFF,
    # No network tested against the baseline: these tests are about the gate against the champion,
    # with networks a one-word baseline may match. That test: tests/integration/test_registry_baseline.py.
    "registry": {"baseline_margin": None},
}
# A worse model, through the same train stage: one epoch at a learning rate that hardly moves the
# network from its random start (about chance on the easy reviews).
CRIPPLED_TRAINING: dict[str, Any] = {"epochs": 1, "learning_rate": 1e-6}


def training_files(workspace: Workspace, variant: str) -> dict[str, Path]:
    """The files a variant's train stage writes that the register stage reads."""
    return {
        "model": workspace.model_file(variant),
        "metrics": workspace.evaluation_file(variant),
        "run": workspace.run_record(variant),
    }


def easy_review(generator: np.random.Generator, label: int) -> str:
    """A review whose label is one sentiment word among neutral ones, with HTML to clean."""
    words = list(generator.choice(FILLER, size=int(generator.integers(6, 14))))
    verdict = generator.choice(POSITIVE if label else NEGATIVE)
    words.insert(int(generator.integers(0, len(words))), str(verdict))
    return " ".join(words[:4]) + ".<br /><br />" + " ".join(words[4:]) + " &amp; more."


def easy_archive(
    path: Path,
    per_label: int = 60,
    seed: int = 7,
    ratings: dict[str, int] | None = None,
    test_per_label: int | None = None,
) -> Path:
    """An aclImdb-layout archive of easy reviews: `per_label` per split and label (`test_per_label` in
    the test split, when given), rated `ratings`."""
    generator = np.random.default_rng(seed)
    ratings = ratings or RATINGS
    files = {}
    for split in ("train", "test"):
        count = per_label if split == "train" or test_per_label is None else test_per_label
        for sentiment, label in (("pos", 1), ("neg", 0)):
            for number in range(count):
                name = f"aclImdb/{split}/{sentiment}/{number}_{ratings[sentiment]}.txt"
                files[name] = easy_review(generator, label)
    return write_archive(path, files)


def write_workspace_params(root: Path, variants: dict[str, dict[str, Any]]) -> None:
    """params.yaml with EASY_PARAMS and exactly `variants` as the `models:` section."""
    data = merged(project_params(), EASY_PARAMS)
    data["models"] = variants
    keep_students_of(data)
    (root / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def prepare_data(workspace: Workspace, archive: Path) -> None:
    """The pipeline's data stages on `archive`: fetch, clean, vocabulary, sequences, then both data
    validations (which write the reports and the gate file the register stage requires)."""
    raw_stages.fetch_raw(workspace, archive=archive)
    preprocessing_stages.clean(workspace)
    preprocessing_stages.vocabulary(workspace)
    preprocessing_stages.sequences(workspace)
    data_validation.validate_text(workspace)
    data_validation.validate_sequences(workspace)


# (params.yaml text, test reviews per label) -> a workspace holding the data stages' outputs
_TEMPLATES: dict[tuple[str, int | None], Path] = {}


def easy_workspace(
    root: Path, variants: dict[str, dict[str, Any]] | None = None, test_per_label: int | None = None
) -> Workspace:
    """A workspace of easy reviews, preprocessed, whose data validation passed (no model trained yet);
    `test_per_label` makes its test split that small.

    The data stages run once per params (Great Expectations takes seconds): later workspaces get a copy
    of their outputs, as `dvc checkout` would give them, the reports and gate file included.
    """
    root.mkdir(parents=True, exist_ok=True)
    write_workspace_params(root, variants or {"tiny": TINY_VARIANT})
    params_text = (root / "params.yaml").read_text(encoding="utf-8")
    template = _TEMPLATES.get((params_text, test_per_label))
    if template is None:
        template = Path(tempfile.mkdtemp(prefix="easy-workspace-"))
        atexit.register(shutil.rmtree, template, ignore_errors=True)
        (template / "params.yaml").write_text(params_text, encoding="utf-8")
        archive = easy_archive(template / EASY_ARCHIVE, test_per_label=test_per_label)
        prepare_data(Workspace.load(template), archive)
        _TEMPLATES[params_text, test_per_label] = template
    shutil.copytree(template, root, dirs_exist_ok=True)
    return Workspace.load(root)


def train(workspace: Workspace, variant: str = "tiny", **training: Any) -> dict[str, Any]:
    """The train stage of `variant`, with params.yaml `training:` set to EASY_PARAMS' changed by
    `training` (as a user edits params.yaml and re-runs the stage). Returns what the stage wrote: its
    metrics by split, and its MLflow run id."""
    data = yaml.safe_load(workspace.params_file.read_text(encoding="utf-8"))
    data["training"] = {**data["training"], **EASY_PARAMS["training"], **training}
    workspace.params_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    model_training.train(Workspace.load(workspace.root), variant)
    return trained(workspace, variant)


# A baseline that sees one word (a filler, the most frequent): about chance on the easy reviews.
WEAK_BASELINE: dict[str, Any] = {"ngram_max": 1, "max_features": 1}


def train_baseline(workspace: Workspace, **baseline: Any) -> dict[str, Any]:
    """The baseline stage, with params.yaml `baseline:` the project's changed by `baseline`; returns
    what it wrote (metrics by split, MLflow run id)."""
    data = yaml.safe_load(workspace.params_file.read_text(encoding="utf-8"))
    data["baseline"] = {**project_params()["baseline"], **baseline}
    workspace.params_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    model_training.baseline(Workspace.load(workspace.root))
    return trained(workspace, BASELINE)


def set_validation_score(workspace: Workspace, model: str, accuracy: float) -> None:
    """Record another validation accuracy for a trained model, as if its validation split had given it
    (the register stage reads it from the metrics file): the way to make a model win or lose the choice
    on validation whatever the tiny training gave."""
    path = workspace.evaluation_file(model)
    metrics = json.loads(path.read_text(encoding="utf-8"))
    metrics["validation"]["accuracy"] = accuracy
    path.write_text(json.dumps(metrics), encoding="utf-8")


def losing_baseline(workspace: Workspace) -> dict[str, Any]:
    """The real baseline stage, its validation accuracy then recorded as 0: in tests about the networks,
    the candidate is a network (the register stage requires every model trained, the baseline too)."""
    result = train_baseline(workspace, **WEAK_BASELINE)
    set_validation_score(workspace, BASELINE, 0.0)
    return result


def trained(workspace: Workspace, variant: str) -> dict[str, Any]:
    """The metrics and MLflow run id that the train stage of `variant` last wrote."""
    files = training_files(workspace, variant)
    metrics = json.loads(files["metrics"].read_text(encoding="utf-8"))
    run = json.loads(files["run"].read_text(encoding="utf-8"))
    return {"run_id": run["mlflow_run_id"], **metrics}


class InjectedCrash(RuntimeError):
    """The failure a test injects into a real stage."""


@contextlib.contextmanager
def crash_after_publishing() -> Iterator[None]:
    """The train stage dies right after publishing its files, before its MLflow run has ended: the
    files are in place and name a run that MLflow marks FAILED."""
    from sentiment.evaluation.outputs import Staging

    publish = Staging.publish

    def publish_then_crash(self: Staging) -> None:
        publish(self)
        raise InjectedCrash("the training process died after publishing its files")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Staging, "publish", publish_then_crash)
        yield


@contextlib.contextmanager
def crash_while_fitting() -> Iterator[None]:
    """The train stage's fit fails (as when it runs out of memory): the stage leaves no outputs."""
    from sentiment.modeling import training

    def fail(*args: Any, **kwargs: Any) -> None:
        raise InjectedCrash("the training process ran out of memory")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training, "train", fail)
        yield


def registry_snapshot(workspace: Workspace) -> dict[str, Any]:
    """Everything the registry holds for the workspace's model: versions with tags, aliases, model tags."""
    from mlflow import MlflowClient

    uri = model_registry.mlflow_uri(workspace)
    client = MlflowClient(uri, registry_uri=uri)
    name = workspace.params.registry.model_name
    if not client.search_registered_models(filter_string=f"name = '{name}'"):
        return {}
    model = client.get_registered_model(name)
    versions = client.search_model_versions(filter_string=f"name = '{name}'")
    return {
        "aliases": {alias: str(version) for alias, version in model.aliases.items()},
        "tags": dict(model.tags),
        "versions": {str(version.version): (dict(version.tags), version.description) for version in versions},
    }
