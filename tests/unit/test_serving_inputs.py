"""The served model's preprocessing and its answer to every kind of bad input (no TensorFlow here)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sentiment.config import CleaningConfig, ConfigError, SequencesConfig, VocabularyConfig
from sentiment.data.cleaning import clean_texts
from sentiment.data.sequences import pad_tokenized
from sentiment.data.vocabulary import encode, fit_vocabulary
from sentiment.serving.inputs import (
    ServingConfig,
    input_error,
    prediction_table,
    prepare_reviews,
    reviews_from_input,
)

TRAINING_TEXTS = ["a great film with a great cast", "a dull film and a dull plot", "the cast was not great"]
CONFIG = ServingConfig(CleaningConfig(), SequencesConfig(max_len=6, padding="pre", truncating="pre"))
VOCABULARY = fit_vocabulary(
    list(clean_texts(TRAINING_TEXTS, CONFIG.cleaning)), VocabularyConfig(num_words=50)
)


def answers(values: list[object]) -> pd.DataFrame:
    prepared = prepare_reviews(values, VOCABULARY, CONFIG)
    # A stand-in network: probability = share of non-padding positions, enough to tell rows apart.
    probabilities = (prepared.sequences > 0).mean(axis=1)
    return prediction_table(prepared, probabilities, CONFIG)


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_served_sequences_equal_the_pipeline_sequences(padding: str, truncating: str) -> None:
    config = ServingConfig(
        CleaningConfig(), SequencesConfig(max_len=4, padding=padding, truncating=truncating)
    )
    reviews = ["A <b>GREAT</b> film!", "Dull, dull &amp; dull plot with a cast", "unknown words only"]
    prepared = prepare_reviews(reviews, VOCABULARY, config)
    pipeline = pad_tokenized(
        encode(VOCABULARY, list(clean_texts(reviews, config.cleaning))), 4, padding, truncating
    )
    assert np.array_equal(prepared.sequences, pipeline)
    assert prepared.valid_rows.tolist() == [0, 1, 2]


def test_each_bad_input_gets_its_documented_answer_and_hides_no_other_row() -> None:
    long_review = "great film " * 60_000  # about 660 kB of text, 120,000 words
    table = answers(
        [
            "a great film",
            None,
            float("nan"),
            5,
            True,
            "",
            "   \n",
            "<br /><br />&amp;",
            long_review,
            "Ce film était magnifique, vraiment émouvant",
            "a dull plot",
        ]
    )
    assert list(table["error"]) == [
        None,
        "review is missing (null)",
        "review is missing (null)",
        "review must be a string, got int",
        "review must be a string, got bool",
        "review is empty",
        "review is empty",
        "review has no words after cleaning (only HTML, entities or punctuation)",
        None,
        None,
        None,
    ]
    predicted = table["error"].isna()
    assert table.loc[predicted, "label"].isin(["positive", "negative"]).all()
    assert table.loc[~predicted, ["probability_positive", "label"]].isna().all().all()
    assert bool(table.loc[8, "truncated"]) and table.loc[8, "words"] == 120_000
    assert "truncated to its last 6 of 120000 words" in table.loc[8, "warning"]
    # French: only "film" is a known word.
    assert table.loc[9, "oov_share"] == pytest.approx(5 / 6)
    assert "83% of its words are not in the vocabulary" in table.loc[9, "warning"]
    assert table.loc[0, "warning"] is None and table.loc[0, "oov_share"] == 0.0


def test_answers_are_valid_json_with_nulls() -> None:
    table = answers(["a great film", None])
    text = json.dumps(table.to_dict(orient="records"), allow_nan=False)
    assert json.loads(text)[1]["probability_positive"] is None


def test_labels_follow_the_threshold() -> None:
    prepared = prepare_reviews(["great", "dull", "cast"], VOCABULARY, CONFIG)
    table = prediction_table(prepared, np.array([0.5, 0.49, 0.9]), CONFIG)
    assert list(table["label"]) == ["positive", "negative", "positive"]


def test_reviews_are_read_from_the_review_column_or_a_list() -> None:
    frame = pd.DataFrame({"id": [1, 2], "review": ["a", "b"]})
    assert reviews_from_input(frame) == ["a", "b"]
    assert reviews_from_input(pd.DataFrame({"text": ["c"]})) == ["c"]
    assert reviews_from_input(["d", None]) == ["d", None]
    assert reviews_from_input("e") == ["e"]
    with pytest.raises(ValueError, match="expected a 'review' column"):
        reviews_from_input(pd.DataFrame({"a": [1], "b": [2]}))


def test_input_error_accepts_any_non_empty_string() -> None:
    assert input_error("ok") is None and input_error(pd.NA) == "review is missing (null)"
    assert input_error([1]) == "review must be a string, got list"


def test_the_config_of_a_model_saved_with_the_old_validation_fraction_key_still_loads() -> None:
    saved = CONFIG.to_dict()
    saved["sequences"] = {**saved["sequences"], "validation_fraction": 0.1}  # before `splits` had a section
    assert ServingConfig.from_dict(saved) == CONFIG
    saved["sequences"]["shuffle"] = True
    with pytest.raises(ConfigError, match=r"sequences: unknown key\(s\) \['shuffle'\]"):
        ServingConfig.from_dict(saved)
