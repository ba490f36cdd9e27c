"""Differential tests on real IMDB reviews: our preprocessing against the references it must match.

- The tokenizer (`fit_vocabulary`, `encode`, `texts_to_sequences`, `pad_tokenized`, `pad_sequences`)
  against the legacy `tf_keras` `Tokenizer(num_words, oov_token='<OOV>')` and `pad_sequences`, fitted on
  the same cleaned training reviews: same word index, word counts, sequences and padded arrays.
- The cleaning (an ASCII fast path plus a regex for the rest) against its original two-regex
  definition, so that speeding it up cannot change a single token.

A few thousand reviews of the shared archive keep this to seconds; the tests that need them are skipped,
with the reason, when ../shared is absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sentiment import ingest
from sentiment.cleaning import clean_text, clean_texts, remove_html
from sentiment.config import CleaningConfig, VocabularyConfig
from sentiment.sequences import Side, pad_sequences, pad_tokenized
from sentiment.vocabulary import OOV_INDEX, Vocabulary, encode, fit_vocabulary, texts_to_sequences

TRAIN_STEP = 15  # every 15th training review: 1,667 (of both labels: rows are sorted by label)
TEST_STEP = 25  # every 25th test review: 800
NUM_WORDS = (2, 50, 1000, 20000, None)  # None: Keras keeps every word; ours gets a huge num_words
MAX_LENS = (1, 100, 500)
SIDES = ("pre", "post")
UNLIMITED = 10**9


@dataclass(frozen=True)
class Sample:
    train: list[str]  # cleaned
    test: list[str]  # cleaned
    raw: list[str]


@pytest.fixture(scope="module")
def sample(shared_archive: Path) -> Sample:
    table = ingest.read_reviews(shared_archive)
    train = table[table["split"] == "train"].iloc[::TRAIN_STEP]
    test = table[table["split"] == "test"].iloc[::TEST_STEP]
    config = CleaningConfig()
    return Sample(
        train=list(clean_texts(train["text"], config)),
        test=list(clean_texts(test["text"], config)),
        raw=train["text"].tolist() + test["text"].tolist(),
    )


@dataclass(frozen=True)
class Legacy:
    """A legacy Keras tokenizer fitted on the sample's training texts, and its sequences."""

    tokenizer: Any
    train: list[list[int]]
    test: list[list[int]]

    def pad(
        self, sequences: list[list[int]], max_len: int | None, padding: str, truncating: str
    ) -> np.ndarray:
        from tf_keras.preprocessing.sequence import pad_sequences as legacy_pad_sequences

        return legacy_pad_sequences(sequences, maxlen=max_len, padding=padding, truncating=truncating)


@pytest.fixture(scope="module")
def legacy(sample: Sample) -> Callable[[int | None], Legacy]:
    """Legacy tokenizers by num_words, each fitted once for the whole module."""
    text_module = pytest.importorskip(
        "tf_keras.preprocessing.text", reason="tf-keras (a dev extra) is absent"
    )
    fitted: dict[int | None, Legacy] = {}

    def factory(num_words: int | None) -> Legacy:
        if num_words not in fitted:
            tokenizer = text_module.Tokenizer(num_words=num_words, oov_token="<OOV>")
            tokenizer.fit_on_texts(sample.train)
            fitted[num_words] = Legacy(
                tokenizer,
                tokenizer.texts_to_sequences(sample.train),
                tokenizer.texts_to_sequences(sample.test),
            )
        return fitted[num_words]

    return factory


def ours(train: list[str], num_words: int | None) -> Vocabulary:
    return fit_vocabulary(train, VocabularyConfig(num_words=num_words or UNLIMITED, oov_token="<OOV>"))


# --- the tokenizer against tf_keras --------------------------------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize("num_words", NUM_WORDS)
def test_word_index_and_sequences_match_keras(
    sample: Sample, legacy: Callable[[int | None], Legacy], num_words: int | None
) -> None:
    reference = legacy(num_words)
    tokenizer = reference.tokenizer
    vocabulary = ours(sample.train, num_words)
    assert len(vocabulary.word_index) > 20_000  # a real vocabulary, not a toy one
    assert vocabulary.word_index == tokenizer.word_index
    assert list(vocabulary.word_index) == list(tokenizer.word_index)
    assert dict(zip(vocabulary.words, vocabulary.counts, strict=True)) == dict(tokenizer.word_counts)
    assert vocabulary.document_count == tokenizer.document_count
    for texts, expected in ((sample.train, reference.train), (sample.test, reference.test)):
        assert texts_to_sequences(vocabulary, texts) == expected
        tokenized = encode(vocabulary, texts)
        assert tokenized.lengths.tolist() == [len(sequence) for sequence in expected]


@pytest.mark.shared_data
@pytest.mark.parametrize("num_words", [1000])
@pytest.mark.parametrize("max_len", MAX_LENS)
@pytest.mark.parametrize("padding", SIDES)
@pytest.mark.parametrize("truncating", SIDES)
def test_padded_arrays_match_keras(
    sample: Sample,
    legacy: Callable[[int | None], Legacy],
    num_words: int,
    max_len: int,
    padding: Side,
    truncating: Side,
) -> None:
    reference = legacy(num_words)
    vocabulary = ours(sample.train, num_words)
    for texts, sequences in ((sample.train, reference.train), (sample.test, reference.test)):
        expected = reference.pad(sequences, max_len, padding, truncating)
        padded = pad_tokenized(encode(vocabulary, texts), max_len, padding, truncating)
        assert padded.dtype == expected.dtype == np.int32
        np.testing.assert_array_equal(padded, expected)
        listed = pad_sequences(texts_to_sequences(vocabulary, texts), max_len, padding, truncating)
        np.testing.assert_array_equal(listed, expected)


@pytest.mark.shared_data
def test_padding_to_the_longest_review_matches_keras_without_maxlen(
    sample: Sample, legacy: Callable[[int | None], Legacy]
) -> None:
    reference = legacy(20000)
    tokenized = encode(ours(sample.train, 20000), sample.test)
    expected = reference.pad(reference.test, None, "pre", "pre")
    np.testing.assert_array_equal(pad_tokenized(tokenized, int(tokenized.lengths.max())), expected)


@pytest.mark.shared_data
def test_unseen_and_rare_test_words_map_to_oov_as_in_keras(
    sample: Sample, legacy: Callable[[int | None], Legacy]
) -> None:
    vocabulary = ours(sample.train, 1000)
    word_index = vocabulary.word_index
    test_words = {word for text in sample.test for word in text.split()}
    unseen = sorted(test_words - set(word_index))
    rare = sorted(word for word in test_words if word_index.get(word, 0) >= 1000)
    assert len(unseen) > 100 and len(rare) > 100  # the check below is not vacuous
    tokenizer = legacy(1000).tokenizer
    for words in (unseen, rare):
        assert texts_to_sequences(vocabulary, words) == [[OOV_INDEX]] * len(words)
        assert tokenizer.texts_to_sequences(words) == [[OOV_INDEX]] * len(words)
    # A frequent word keeps its own index.
    assert texts_to_sequences(vocabulary, ["the"]) == [[word_index["the"]]]
    assert tokenizer.texts_to_sequences(["the"]) == [[word_index["the"]]]


# --- the cleaning against its original definition ------------------------------------------------

# The original cleaning, before its ASCII fast path: every non-word character but the apostrophe
# (and "_") separates tokens, then apostrophes that do not join two word characters do too.
_SPECIAL = re.compile(r"[^\w']+|_+")
_STRAY_APOSTROPHE = re.compile(r"(?<!\w)'+|'+(?!\w)")


def reference_clean(text: str, config: CleaningConfig) -> str:
    if config.remove_html:
        text = remove_html(text)
    if config.lowercase:
        text = text.lower()
    text = text.replace("\u2019", "'").replace("`", "'")
    return " ".join(_STRAY_APOSTROPHE.sub(" ", _SPECIAL.sub(" ", text)).split())


AWKWARD_TEXTS = [
    "a''b",
    "''hello'' 'tis rock'n'roll",
    "don't_stop x_'y __a__ a'_b a'''b a''''b ''' '",
    "it's  fine’s `quoted` ab' cd 'ab",
    "l'été ça α'β ٣'٤ a²'b Ⅻ'x x\u0301'y İstanbul",
    "UPPER'Case MiXeD's 10/10 3'4\"",
    "tabs\tand\nnewlines\x0bvertical\x1cfile\x85next\xa0nbsp",
    "<br />html<i>tags</i> &amp;quot;ent&#39;s&quot; 5 < 6",
    "",
    "   ",
]


@pytest.mark.parametrize("lowercase", [True, False])
@pytest.mark.parametrize("html", [True, False])
def test_cleaning_matches_its_original_definition_on_awkward_text(lowercase: bool, html: bool) -> None:
    config = CleaningConfig(lowercase=lowercase, remove_html=html)
    for text in AWKWARD_TEXTS:
        assert clean_text(text, config) == reference_clean(text, config), text
        # The ASCII fast path and the general path agree: the same text with one non-ASCII word.
        assert clean_text(text + " é", config) == reference_clean(text + " é", config), text


@pytest.mark.shared_data
@pytest.mark.parametrize("lowercase", [True, False])
def test_cleaning_matches_its_original_definition_on_real_reviews(sample: Sample, lowercase: bool) -> None:
    config = CleaningConfig(lowercase=lowercase)
    assert any(not text.isascii() for text in sample.raw)  # both paths are exercised
    assert [clean_text(text, config) for text in sample.raw] == [
        reference_clean(text, config) for text in sample.raw
    ]
