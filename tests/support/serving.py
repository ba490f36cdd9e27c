"""Helpers for the registry and serving tests: a workspace of easy reviews that a tiny network learns in
seconds, "training runs" that write what the train stage writes (a real .keras model, metrics computed
on the pipeline's sequences, a real MLflow run in the workspace's SQLite store), and registry snapshots.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from conftest import merged, project_params, write_archive
from sentiment.config.workspace import VALIDATIONS, Workspace
from sentiment.stages import model_registry, readers
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages

POSITIVE = ("great", "wonderful", "superb", "loved", "brilliant", "moving")
NEGATIVE = ("awful", "boring", "terrible", "hated", "dull", "clumsy")
FILLER = ("the", "film", "story", "actor", "scene", "music", "plot", "camera", "ending", "cast", "was", "and")
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
EASY_PARAMS: dict[str, Any] = {
    "vocabulary": {"num_words": 60},
    "sequences": {"max_len": 24},
    "training": {"batch_size": 16, "epochs": 12, "learning_rate": 0.01, "early_stopping_patience": 12},
    "diagnostics": {
        "gradient_reviews": 8,
        "gradient_distance": 10,
        "probe_words": ["great"],
        "projector_words": 20,
    },
}


def training_files(workspace: Workspace, variant: str) -> dict[str, Path]:
    """The files a variant's train stage writes that the register stage reads."""
    return {
        "model": workspace.model_file(variant),
        "metrics": workspace.metrics_file(variant),
        "run": workspace.run_record(variant),
    }


def easy_review(generator: np.random.Generator, label: int) -> str:
    """A review whose label is one sentiment word among neutral ones, with HTML to clean."""
    words = list(generator.choice(FILLER, size=int(generator.integers(6, 14))))
    verdict = generator.choice(POSITIVE if label else NEGATIVE)
    words.insert(int(generator.integers(0, len(words))), str(verdict))
    return " ".join(words[:4]) + ".<br /><br />" + " ".join(words[4:]) + " &amp; more."


def easy_archive(path: Path, per_label: int = 60, seed: int = 7) -> Path:
    """An aclImdb-layout archive of easy reviews: `per_label` per split and label."""
    generator = np.random.default_rng(seed)
    files = {}
    for split in ("train", "test"):
        for sentiment, label, rating in (("pos", 1, 9), ("neg", 0, 2)):
            for number in range(per_label):
                files[f"aclImdb/{split}/{sentiment}/{number}_{rating}.txt"] = easy_review(generator, label)
    return write_archive(path, files)


def write_workspace_params(root: Path, variants: dict[str, dict[str, Any]]) -> None:
    """params.yaml with EASY_PARAMS and exactly `variants` as the `models:` section."""
    data = merged(project_params(), EASY_PARAMS)
    data["models"] = variants
    (root / "params.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def easy_workspace(root: Path, variants: dict[str, dict[str, Any]] | None = None) -> Workspace:
    """A preprocessed workspace of easy reviews whose data validation passed."""
    root.mkdir(parents=True, exist_ok=True)
    write_workspace_params(root, variants or {"tiny": TINY_VARIANT})
    workspace = Workspace.load(root)
    raw_stages.fetch_raw(workspace, archive=easy_archive(root / "archive" / "easy.tar.gz"))
    preprocessing_stages.clean(workspace)
    preprocessing_stages.vocabulary(workspace)
    preprocessing_stages.sequences(workspace)
    write_validation(workspace, success=True)
    return workspace


def write_validation(workspace: Workspace, success: bool) -> None:
    """The validation stages' JSON results and gate file, as they write them (they have their own tests)."""
    for name in VALIDATIONS:
        path = workspace.validation_report(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"success": success, "failed": 0 if success else 1}), encoding="utf-8")
    gate = workspace.validation_gate
    if success:
        gate.write_text(json.dumps({"passed": True}), encoding="utf-8")
    else:
        gate.unlink(missing_ok=True)


def train_variant(
    workspace: Workspace, variant: str, epochs: int, seed: int = 0, status: str = "FINISHED"
) -> dict[str, Any]:
    """Write what the train stage writes for `variant`; `epochs=0` leaves the network untrained."""
    import keras
    import mlflow
    from mlflow import MlflowClient

    from sentiment.evaluation.metrics import binary_metrics
    from sentiment.modeling.builder import build_model, compile_model

    params = workspace.params
    arrays = readers.read_sequences(workspace)
    keras.utils.set_random_seed(seed)
    model = build_model(params.models[variant], params.vocabulary.num_words, params.sequences.max_len)
    compile_model(model, params.training, params.models[variant].embedding_learning_rate)
    if epochs:
        model.fit(arrays["x_train"], arrays["y_train"], epochs=epochs, batch_size=16, verbose=0)
    metrics = {}
    for split in ("validation", "test"):
        probabilities = model.predict(arrays[f"x_{split}"], verbose=0).reshape(-1)
        metrics[split] = binary_metrics(arrays[f"y_{split}"], probabilities)
    outputs = training_files(workspace, variant)
    outputs["model"].parent.mkdir(parents=True, exist_ok=True)
    model.save(outputs["model"])

    uri = model_registry.mlflow_uri(workspace)
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("sentiment")
    experiment_id = (
        experiment.experiment_id
        if experiment
        else client.create_experiment(
            "sentiment", artifact_location=(workspace.root / "mlartifacts").as_uri()
        )
    )
    run = client.create_run(experiment_id, run_name=variant)
    for split, scores in metrics.items():
        client.log_batch(
            run.info.run_id,
            metrics=[
                mlflow.entities.Metric(f"{split}_{name}", value, 0, 0) for name, value in scores.items()
            ],
        )
    client.set_terminated(run.info.run_id, status=status)
    for key, data in (
        ("metrics", metrics),
        (
            "run",
            {
                "mlflow_run_id": run.info.run_id,
                "experiment_id": experiment_id,
                "tracking_uri": uri,
                "pipeline_run": "test",
                "model_path": str(outputs["model"]),
            },
        ),
    ):
        outputs[key].parent.mkdir(parents=True, exist_ok=True)
        outputs[key].write_text(json.dumps(data), encoding="utf-8")
    return {"run_id": run.info.run_id, **metrics}


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
