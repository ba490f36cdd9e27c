"""The TF-IDF baseline as a registered model: the same raw-text pyfunc as the networks' (`serving.pyfunc`).

Same signature, same input formats (a `review` column, its only column, a list of strings), same
output columns (`serving.inputs.prediction_table`), so `sentiment predict`, `sentiment score` and
`sentiment serve` work whichever model is the champion. Around the scikit-learn pipeline it does what
the pipeline did to its training texts: the clean stage's cleaning (params.yaml `cleaning`), then the
pipeline's TF-IDF and logistic regression; `label` is `probability_positive >= threshold`.

What differs from a network, and how the columns say it:
- the baseline reads every word of a review, so `truncated` is always false;
- its vocabulary is the n-grams its TF-IDF kept (`min_df`, `max_features`): `oov_share` is the share
  of a review's words that are not among its unigrams, and a review with at least
  `unreliable_oov_share` of them gets the same "unreliable" warning as from a network.

The stage saves the pipeline with joblib (a pickle); the logged artifact is the skops format
instead, which loads only the types it is told to trust (scikit-learn's and the text selector).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models.model import ModelInfo

from sentiment.core.files import read_json
from sentiment.modeling import baseline as count_baseline
from sentiment.serving.inputs import (
    REVIEW_COLUMN,
    CleanedReviews,
    ReviewCounts,
    ServingConfig,
    clean_reviews,
    prediction_table,
)
from sentiment.serving.pyfunc import (
    CONFIG_ARTIFACT,
    INPUT_EXAMPLE,
    pip_requirements,
    preprocessing_params,
    signature,
    write_config,
)

PIPELINE_ARTIFACT = "pipeline"
REQUIREMENTS = ("mlflow", "scikit-learn", "skops", "numpy", "pandas", "pyarrow")


def read_pipeline_file(path: Path) -> Any:
    """The baseline stage's own model file (joblib, written by this project's stage)."""
    import joblib

    return joblib.load(path)


def count_words(cleaned: CleanedReviews, known_words: frozenset[str], rows: int) -> ReviewCounts:
    """Words and unknown words per input row, as the TF-IDF tokenizes the cleaned text (by spaces)."""
    words = np.zeros(rows, dtype=np.int64)
    unknown = np.zeros(rows, dtype=np.int64)
    for position, text in zip(cleaned.valid_rows.tolist(), cleaned.texts, strict=True):
        tokens = text.split()
        words[position] = len(tokens)
        unknown[position] = sum(token not in known_words for token in tokens)
    return ReviewCounts(cleaned.valid_rows, cleaned.errors, words, unknown, max_len=None)


def unigrams(pipeline: Any) -> frozenset[str]:
    """The single words of the fitted TF-IDF vocabulary (its bigrams hold a space)."""
    vocabulary = pipeline.named_steps["tfidf"].vocabulary_
    return frozenset(term for term in vocabulary if " " not in term)


class BaselineSentimentModel(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined]
    """Raw reviews in (a `review` column or a list of strings), one prediction row per review out."""

    def load_context(self, context: Any) -> None:
        import skops.io

        pipeline = skops.io.load(
            context.artifacts[PIPELINE_ARTIFACT], trusted=list(count_baseline.TRUSTED_TYPES)
        )
        self.use(pipeline, ServingConfig.from_dict(read_json(context.artifacts[CONFIG_ARTIFACT])))

    def use(self, pipeline: Any, config: ServingConfig) -> BaselineSentimentModel:
        """Serve this fitted pipeline (the register stage scores a candidate this way before logging)."""
        self.pipeline = pipeline
        self.config = config
        self.known_words = unigrams(pipeline)
        return self

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> Any:
        from sentiment.serving.inputs import reviews_from_input

        reviews = reviews_from_input(model_input)
        cleaned = clean_reviews(reviews, self.config.cleaning)
        counts = count_words(cleaned, self.known_words, len(reviews))
        probabilities = (
            count_baseline.baseline_probabilities(self.pipeline, cleaned.texts)
            if cleaned.texts
            else np.zeros(0, dtype=np.float64)
        )
        return prediction_table(counts, probabilities, self.config)


def log_baseline_serving_model(
    model_path: Path, config: ServingConfig, name: str = "model", model_params: dict[str, Any] | None = None
) -> ModelInfo:
    """Log the baseline's pyfunc to the active MLflow run; returns its ModelInfo (model_uri, model_id)."""
    import skops.io

    pipeline = read_pipeline_file(model_path)
    with tempfile.TemporaryDirectory() as staging:
        pipeline_path = Path(staging) / "baseline.skops"
        skops.io.dump(pipeline, pipeline_path)
        config_path = write_config(config, Path(staging))
        flat_params = {**preprocessing_params(config), **(model_params or {})}
        for key in ("max_len", "padding", "truncating"):
            flat_params.pop(key)  # the baseline reads whole reviews
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=BaselineSentimentModel(),
            artifacts={PIPELINE_ARTIFACT: str(pipeline_path), CONFIG_ARTIFACT: str(config_path)},
            signature=signature(),
            input_example=pd.DataFrame({REVIEW_COLUMN: INPUT_EXAMPLE}),
            pip_requirements=pip_requirements(REQUIREMENTS),
            metadata={"serving_config": config.to_dict(), "model_family": "count-based"},
            params={key: str(value) for key, value in flat_params.items()},
        )
