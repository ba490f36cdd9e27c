"""The TF-IDF baseline served like the networks: raw reviews in, the same prediction table out (a
scikit-learn pipeline fitted here on a few cleaned reviews; no MLflow, no TensorFlow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sentiment.config import BaselineConfig, CleaningConfig, SequencesConfig
from sentiment.data.cleaning import clean_texts
from sentiment.modeling.baseline import baseline_probabilities, fit_baseline
from sentiment.serving.baseline_pyfunc import BaselineSentimentModel
from sentiment.serving.inputs import OUTPUT_COLUMNS, ServingConfig

TRAINING = [
    "A great film, a great cast.",
    "Wonderful and moving, a great story.",
    "A dull film with a dull plot.",
    "Awful, boring and dull.",
]
CONFIG = ServingConfig(CleaningConfig(), SequencesConfig(max_len=4), threshold=0.5, unreliable_oov_share=0.5)
BASELINE = BaselineConfig(
    ngram_max=2, min_df=1, max_features=None, sublinear_tf=True, regularization=10.0, max_iter=200
)


@pytest.fixture(scope="module")
def served() -> BaselineSentimentModel:
    cleaned = list(clean_texts(TRAINING, CONFIG.cleaning))
    pipeline = fit_baseline(cleaned, np.array([1, 1, 0, 0]), BASELINE, seed=1)
    return BaselineSentimentModel().use(pipeline, CONFIG)


def test_the_baseline_answers_with_the_networks_columns_and_errors(served: BaselineSentimentModel) -> None:
    reviews = ["<p>A GREAT film!</p>", None, 42, "   ", "<br />", "dull, dull plot"]
    table = served.predict(None, pd.DataFrame({"review": pd.Series(reviews, dtype=object)}))
    assert list(table.columns) == list(OUTPUT_COLUMNS)
    assert table["label"].tolist() == ["positive", None, None, None, None, "negative"]
    assert table["error"].tolist()[1:5] == [
        "review is missing (null)",
        "review must be a string, got int",
        "review is empty",
        "review has no words after cleaning (only HTML, entities or punctuation)",
    ]
    # The probability is the pipeline's on the review cleaned as the clean stage cleans it.
    cleaned = list(clean_texts(["<p>A GREAT film!</p>"], CONFIG.cleaning))
    assert table["probability_positive"][0] == pytest.approx(
        baseline_probabilities(served.pipeline, cleaned)[0]
    )
    assert table["words"].tolist() == [3, 0, 0, 0, 0, 3]


def test_the_baseline_reads_whole_reviews_and_warns_of_unknown_words(served: BaselineSentimentModel) -> None:
    long_review = "great " * 5_000
    table = served.predict(None, [long_review, "zorglub blorf great film", "great film"])
    assert table["truncated"].tolist() == [False, False, False]  # longer than max_len, read whole
    assert table["words"][0] == 5_000 and table["warning"][0] is None
    assert table["oov_share"][1] == pytest.approx(0.5) and "unreliable" in table["warning"][1]
    assert table["oov_share"][2] == 0.0 and table["warning"][2] is None


def test_the_label_follows_the_threshold(served: BaselineSentimentModel) -> None:
    probability = served.predict(None, ["great film"])["probability_positive"][0]
    strict = BaselineSentimentModel().use(
        served.pipeline, ServingConfig(CONFIG.cleaning, CONFIG.sequences, 0.99)
    )
    assert probability < 0.99 and strict.predict(None, ["great film"])["label"].tolist() == ["negative"]
    assert served.predict(None, pd.DataFrame({"review": []})).empty
