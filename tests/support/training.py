"""Tiny training settings for the tests of the training stages: every variant of the project's
params.yaml, shrunk to a few units, one epoch, on a couple of hundred synthetic reviews."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import mlflow
from mlflow.tracking import MlflowClient

from conftest import project_params
from sentiment.tracking.runs import using_tracking_uri
from support.orchestration import as_synthetic_profile, tiny_pairs

PROBE_WORDS = ["great", "awful", "boring", "notaword"]


def tiny_models() -> dict[str, dict[str, Any]]:
    """Each variant of params.yaml `models` with the same cell, direction, depth and pooling, but tiny."""
    return {
        name: {"units": [4] * len(variant["units"]), "embedding_dim": 8, **tiny_pairs(variant)}
        for name, variant in project_params()["models"].items()
    }


def tiny_training_overrides(**training: Any) -> dict[str, Any]:
    return {
        "source": {"synthetic_reviews": 200},
        "vocabulary": {"num_words": 400},
        "sequences": {"max_len": 40},
        "models": tiny_models(),
        # the vectors of a pretrained variant have its embedding's size
        "pretraining": {"vector_size": 8, "epochs": 1},
        "training": as_synthetic_profile({"epochs": 1, "batch_size": 32, **training}),
        "diagnostics": {
            "gradient_reviews": 16,
            "gradient_distance": 30,
            "probe_words": PROBE_WORDS,
            "neighbours": 3,
        },
    }


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def store_uri(root: Path) -> str:
    return f"sqlite:///{root / 'mlflow.db'}"


def mlflow_client(root: Path) -> MlflowClient:
    return MlflowClient(store_uri(root))


def load_logged_model(root: Path, model_uri: str) -> Any:
    """The pyfunc of a logged model, read from the workspace's store (the global URI left as it was)."""
    with using_tracking_uri(store_uri(root)):
        return mlflow.pyfunc.load_model(model_uri)


def runs_of(root: Path, variant: str) -> list[Any]:
    client = mlflow_client(root)
    experiment = client.get_experiment_by_name("imdb-sentiment")
    if experiment is None:
        return []
    return client.search_runs([experiment.experiment_id], filter_string=f"tags.variant = '{variant}'")
