"""The word index with Keras Tokenizer(num_words, oov_token='<OOV>') semantics, and its JSON artifact."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sentiment.config import CleaningConfig, VocabularyConfig
from sentiment.data.cleaning import clean_texts
from sentiment.data.sequences import pad_sequences
from sentiment.data.vocabulary import OOV_INDEX, Vocabulary, encode, fit_vocabulary, texts_to_sequences

COURSE_TEXTS = [
    "I love machine learning",
    "It is an interesting subject",
    "Machine Learning is a very boring subject",
]
COURSE_WORD_INDEX = {
    "<OOV>": 1, "machine": 2, "learning": 3, "is": 4, "subject": 5, "i": 6, "love": 7,
    "it": 8, "an": 9, "interesting": 10, "a": 11, "very": 12, "boring": 13,
}  # fmt: skip


def fit(texts: list[str], num_words: int = 100) -> Vocabulary:
    return fit_vocabulary(texts, VocabularyConfig(num_words=num_words, oov_token="<OOV>"))


@pytest.fixture()
def course_texts() -> list[str]:
    return list(clean_texts(COURSE_TEXTS, CleaningConfig()))


def test_the_course_worked_example(course_texts: list[str]) -> None:
    vocabulary = fit(course_texts)
    assert vocabulary.word_index == COURSE_WORD_INDEX
    sequences = texts_to_sequences(vocabulary, course_texts)
    assert sequences == [[6, 7, 2, 3], [8, 4, 9, 10, 5], [2, 3, 4, 11, 12, 13, 5]]
    padded = pad_sequences(sequences, 5, padding="post", truncating="post")
    np.testing.assert_array_equal(padded, [[6, 7, 2, 3, 0], [8, 4, 9, 10, 5], [2, 3, 4, 11, 12]])


def test_words_at_or_above_num_words_become_oov(course_texts: list[str]) -> None:
    vocabulary = fit(course_texts, num_words=5)
    # The word index still holds every word; only the sequences are cut.
    assert vocabulary.word_index == COURSE_WORD_INDEX
    assert texts_to_sequences(vocabulary, course_texts) == [
        [1, 1, 2, 3],
        [1, 4, 1, 1, 1],
        [2, 3, 4, 1, 1, 1, 1],
    ]
    assert vocabulary.size == 5


def test_num_words_larger_than_the_vocabulary_keeps_every_word(course_texts: list[str]) -> None:
    vocabulary = fit(course_texts, num_words=1000)
    assert all(OOV_INDEX not in sequence for sequence in texts_to_sequences(vocabulary, course_texts))
    assert vocabulary.size == len(COURSE_WORD_INDEX) + 1  # plus padding


def test_ties_are_broken_by_first_appearance() -> None:
    vocabulary = fit(["zeta alpha", "alpha zeta mid", "mid beta beta beta"])
    # beta 3; then zeta, alpha, mid with 2 each, in the order they first appear.
    assert vocabulary.words == ("beta", "zeta", "alpha", "mid")
    assert vocabulary.counts == (3, 2, 2, 2)


def test_unseen_words_become_oov() -> None:
    vocabulary = fit(["good film"])
    assert texts_to_sequences(vocabulary, ["good unseen film", "unseen"]) == [[2, 1, 3], [1]]


def test_empty_texts_give_empty_sequences() -> None:
    vocabulary = fit(["good film", ""])
    assert vocabulary.document_count == 2
    tokenized = encode(vocabulary, ["", "film", ""])
    assert tokenized.lengths.tolist() == [0, 1, 0]
    assert tokenized.ids.dtype == np.int32
    assert tokenized.to_lists() == [[], [3], []]
    assert fit([]).words == ()


def test_num_words_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="num_words"):
        fit(["good film"], num_words=1)


def test_the_artifact_round_trips_through_json(course_texts: list[str]) -> None:
    vocabulary = fit(course_texts, num_words=7)
    artifact = json.loads(json.dumps(vocabulary.to_dict()))
    assert artifact["format_version"] == 1
    assert artifact["settings"] == {"num_words": 7, "oov_token": "<OOV>"}
    assert artifact["word_index"] == COURSE_WORD_INDEX
    assert artifact["word_counts"]["machine"] == 2
    restored = Vocabulary.from_dict(artifact)
    assert restored == vocabulary
    assert texts_to_sequences(restored, course_texts) == texts_to_sequences(vocabulary, course_texts)


def test_an_artifact_of_another_format_version_is_refused(course_texts: list[str]) -> None:
    artifact = fit(course_texts).to_dict() | {"format_version": 99}
    with pytest.raises(ValueError, match="format_version"):
        Vocabulary.from_dict(artifact)
