"""The naive-Bayes-weighted count model (a students' teacher, `nb_baseline`): each feature scaled by its
log-count ratio, computed by hand here, inside the same TF-IDF pipeline as the baseline."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse

from sentiment.config import BaselineConfig
from sentiment.modeling.baseline import NaiveBayesWeights, baseline_probabilities, fit_baseline

CONFIG = BaselineConfig(
    ngram_max=1, min_df=1, max_features=None, sublinear_tf=True, regularization=10.0, max_iter=1000
)


def test_each_feature_is_scaled_by_its_log_count_ratio() -> None:
    # columns: in both positives only, in every review, in both negatives only (present: counted once)
    features = sparse.csr_matrix(np.array([[1.0, 1, 0], [2, 1, 0], [0, 1, 5], [0, 1, 1]]))
    labels = np.array([1, 1, 0, 0])
    weights = NaiveBayesWeights().fit(features, labels)
    positive = np.array([1 + 2, 1 + 2, 1 + 0])  # smoothing 1 plus the positive reviews holding it
    negative = np.array([1 + 0, 1 + 2, 1 + 2])
    expected = [
        math.log((p / positive.sum()) / (q / negative.sum())) for p, q in zip(positive, negative, strict=True)
    ]
    assert weights.ratios_ == pytest.approx(expected)
    assert expected[0] > 0 > expected[2] and expected[1] == pytest.approx(0.0)  # equal totals: 7 and 7
    scaled = weights.transform(features).toarray()
    assert scaled == pytest.approx(features.toarray() * np.array(expected))


def test_the_weighted_model_reads_the_words_of_each_side_and_the_baseline_stays_plain() -> None:
    texts = ["good fun film", "good acting", "bad dull film", "bad acting", "fun and good", "dull and bad"]
    labels = np.array([1, 1, 0, 0, 1, 0])
    weighted = fit_baseline(texts, labels, CONFIG, seed=0, naive_bayes=True)
    plain = fit_baseline(texts, labels, CONFIG, seed=0)
    assert "naive_bayes" in weighted.named_steps and "naive_bayes" not in plain.named_steps
    probabilities = baseline_probabilities(weighted, ["good fun", "dull bad", "film acting"])
    assert probabilities[0] > 0.5 > probabilities[1]
    # words as frequent on both sides weigh nothing: the review of them alone sits at the intercept
    ratios = weighted.named_steps["naive_bayes"].ratios_
    vocabulary = weighted.named_steps["tfidf"].vocabulary_
    assert ratios[vocabulary["film"]] == pytest.approx(0.0) and ratios[vocabulary["acting"]] == pytest.approx(
        0.0
    )
