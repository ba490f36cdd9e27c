"""The register stage's models as they are served: a candidate or the run's baseline built from the
pipeline's files, the candidate logged into its training run, and who is right on each test review.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sentiment.config import BASELINE
from sentiment.registry import decision
from sentiment.serving.inputs import ServingConfig

SERVED_MODEL_NAME = "serving_model"  # the logged model's name inside the training run


@dataclass(frozen=True)
class TrainingRecord:
    """One trained model (a variant, or the baseline): its saved model, its metrics and its MLflow run."""

    variant: str
    model_path: Path
    metrics: Mapping[str, Mapping[str, float]]
    run: Mapping[str, str]
    family: str  # config.model_family: "recurrent", "bag-of-words" or "count-based"


def served_model(record: TrainingRecord, vocabulary_path: Path, config: ServingConfig) -> Any:
    """The candidate's served pyfunc built from the pipeline's files, as it will be logged."""
    from sentiment.serving.pyfunc import InProcessModel, SentimentModel

    if record.variant == BASELINE:
        from sentiment.serving.baseline_pyfunc import BaselineSentimentModel, read_pipeline_file

        return InProcessModel(BaselineSentimentModel().use(read_pipeline_file(record.model_path), config))
    return InProcessModel(SentimentModel().load(record.model_path, vocabulary_path, config))


def log_served_model(
    record: TrainingRecord, vocabulary_path: Path, config: ServingConfig, data_hash: str
) -> str:
    """Log the candidate's pyfunc into the active run; returns its URI (also benchmarks/serving.py's)."""
    tags = {"variant": record.variant, "test_data_hash": data_hash}
    if record.variant == BASELINE:
        from sentiment.serving.baseline_pyfunc import log_baseline_serving_model

        info = log_baseline_serving_model(record.model_path, config, SERVED_MODEL_NAME, tags)
    else:
        from sentiment.serving.pyfunc import log_serving_model

        info = log_serving_model(record.model_path, vocabulary_path, config, SERVED_MODEL_NAME, tags)
    return str(info.model_uri)


def review_predictions(
    records: Mapping[str, TrainingRecord],
    best: TrainingRecord,
    vocabulary_path: Path,
    served: ServingConfig,
    test_reviews: pd.DataFrame,
    tracking_uri: str,
    against_baseline: bool = True,
) -> decision.ReviewPredictions:
    """Per raw test review, whether the candidate or, with `against_baseline`, the run's baseline
    (from their files) or a registered model is right."""
    from sentiment.serving import scoring

    texts, labels = test_reviews["text"].tolist(), test_reviews["label"].to_numpy()

    def right(record: TrainingRecord) -> Callable[[], np.ndarray]:
        return lambda: scoring.correct_predictions(
            served_model(record, vocabulary_path, served), texts, labels
        )

    baseline = records.get(BASELINE) if against_baseline else None
    return decision.ReviewPredictions(
        candidate=right(best),
        registered=lambda uri: scoring.correct_predictions(
            scoring.load_model(uri, tracking_uri), texts, labels
        ),
        baseline=None if baseline is None or best.variant == BASELINE else right(baseline),
    )
