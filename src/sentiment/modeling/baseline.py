"""The course's count-based baseline: TF-IDF of word n-grams, then a logistic regression (scikit-learn).

Every recurrent model is judged against it: it reads the whole review (no truncation) as a bag of
words and word pairs, so it knows nothing of word order beyond bigrams. Pure: texts in, model out.

With `naive_bayes`, each TF-IDF feature is also scaled by its naive Bayes log-count ratio before the
regression (Wang and Manning 2012, "NBSVM"): an n-gram found mostly in positive training reviews weighs
more, one found as often on both sides weighs nothing. The students' count teacher `nb_baseline` is that
model (config.StudentConfig); the baseline itself stays the course's plain TF-IDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sentiment.config import BaselineConfig

TEXT_COLUMN = "text"
# The cleaned text is already lowercased and split by spaces: every space-separated token is a word.
TOKEN_PATTERN = r"\S+"
# What a safe loader (skops, MLflow's sklearn format) must trust beyond scikit-learn's own types.
TRUSTED_TYPES = ("sentiment.modeling.baseline.as_texts",)


def as_texts(reviews: Any) -> list[str]:
    """Accept a list of strings, a pandas Series, or a DataFrame (its `text` column, else its only one),
    as MLflow's pyfunc hands a DataFrame to the model."""
    if isinstance(reviews, pd.DataFrame):
        column = TEXT_COLUMN if TEXT_COLUMN in reviews else reviews.columns[0]
        reviews = reviews[column]
    return [str(review) for review in np.asarray(reviews, dtype=object).reshape(-1)]


class NaiveBayesWeights(TransformerMixin, BaseEstimator):
    """Scales each feature by log((p_f / |p|) / (q_f / |q|)), p_f (q_f) the number of positive
    (negative) training reviews holding feature f plus `smoothing` (Wang and Manning's binarized counts,
    alpha 1). A hand-written transformer, as scikit-learn has none: ten lines, and it keeps the model
    one Pipeline that joblib saves whole."""

    def __init__(self, smoothing: float = 1.0) -> None:
        self.smoothing = smoothing

    def fit(self, features: Any, labels: Any) -> NaiveBayesWeights:
        present = sparse.csr_matrix(features > 0, dtype=np.float64)
        positive = np.asarray(labels).reshape(-1) == 1
        counts = [
            self.smoothing + np.asarray(present[rows].sum(axis=0)).ravel() for rows in (positive, ~positive)
        ]
        self.ratios_ = np.log(counts[0] / counts[0].sum()) - np.log(counts[1] / counts[1].sum())
        return self

    def transform(self, features: Any) -> Any:
        return sparse.csr_matrix(features) @ sparse.diags(self.ratios_)


def build_baseline(config: BaselineConfig, seed: int, naive_bayes: bool = False) -> Pipeline:
    weights = [("naive_bayes", NaiveBayesWeights())] if naive_bayes else []
    return Pipeline(
        [
            ("texts", FunctionTransformer(as_texts)),
            (
                "tfidf",
                TfidfVectorizer(
                    ngram_range=(1, config.ngram_max),
                    min_df=config.min_df,
                    max_features=config.max_features,
                    sublinear_tf=config.sublinear_tf,
                    token_pattern=TOKEN_PATTERN,
                    lowercase=False,
                    dtype=np.float64,
                ),
            ),
            *weights,
            (
                "classifier",
                LogisticRegression(C=config.regularization, max_iter=config.max_iter, random_state=seed),
            ),
        ]
    )


def fit_baseline(
    texts: Sequence[str], labels: np.ndarray, config: BaselineConfig, seed: int, naive_bayes: bool = False
) -> Pipeline:
    """Fit the TF-IDF vocabulary (and the naive Bayes weights) and the classifier on the training texts."""
    return build_baseline(config, seed, naive_bayes).fit(list(texts), np.asarray(labels))


def baseline_probabilities(model: Pipeline, texts: Sequence[str]) -> np.ndarray:
    """P(positive) per text."""
    return np.asarray(model.predict_proba(list(texts))[:, 1], dtype=np.float64)


def vocabulary_size(model: Pipeline) -> int:
    return len(model.named_steps["tfidf"].vocabulary_)
