"""Differential tests on real IMDB reviews: our preprocessing against the references it must match.

- The tokenizer (`fit_vocabulary`, `encode`, `texts_to_sequences`, `pad_tokenized`, `pad_sequences`)
  against the legacy `tf_keras` `Tokenizer(num_words, oov_token='<OOV>')` and `pad_sequences`, fitted on
  the same cleaned training reviews: same word index, word counts, sequences and padded arrays.
- The tokenization (NumPy passes over Arrow buffers) against `str.split()` on texts full of awkward
  whitespace, where the Keras Tokenizer's own splitting would differ.
- The cleaning (byte operations and NumPy) against its definition as two regular expressions, as it
  was first written, so that speeding it up cannot change a single token.

A few thousand reviews of the shared archive keep this to seconds; the tests that need them are skipped,
with the reason, when ../shared is absent.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sentiment.config import CleaningConfig, VocabularyConfig
from sentiment.data import ingest, tokens
from sentiment.data.cleaning import clean_text, clean_texts, remove_html
from sentiment.data.sequences import Side, pad_sequences, pad_tokenized
from sentiment.data.tokens import ASCII_WHITESPACE, NON_ASCII_WHITESPACE
from sentiment.data.vocabulary import (
    OOV_INDEX,
    Vocabulary,
    encode,
    fit_vocabulary,
    split_texts,
    texts_to_sequences,
)

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


# --- the tokenization against str.split() ------------------------------------------------------

# Words, Unicode letters, emoji, controls that are not whitespace, and every kind of whitespace.
PIECES = [
    "a",
    "b",
    "é",
    "²",
    "😀",
    "x\x00",
    "\x7f",
    "'",
    " ",
    " ",
    "  ",
    "\t",
    "\n",
    "\x1c",
    "\xa0",
    "\u3000",
]


def python_tokenizer(train: list[str], num_words: int) -> tuple[list[str], Callable[[str], list[int]]]:
    """The Keras Tokenizer's semantics on `str.split()` tokens, in plain Python."""
    counts: dict[str, int] = {}
    for text in train:
        for word in text.split():
            counts[word] = counts.get(word, 0) + 1
    words = sorted(counts, key=counts.__getitem__, reverse=True)  # stable: ties keep first appearance
    index = {word: position + 2 for position, word in enumerate(words)}
    return words, lambda text: [
        index[word] if index.get(word, num_words) < num_words else OOV_INDEX for word in text.split()
    ]


def test_python_whitespace_is_known() -> None:
    python_whitespace = {chr(code) for code in range(0x110000) if chr(code).isspace()}
    assert set(" " + ASCII_WHITESPACE + NON_ASCII_WHITESPACE) == python_whitespace


@pytest.mark.parametrize("chunk_bytes", [tokens._CHUNK_BYTES, 5], ids=["default chunks", "tiny chunks"])
def test_tokens_are_those_of_str_split_whatever_the_whitespace(
    monkeypatch: pytest.MonkeyPatch, chunk_bytes: int
) -> None:
    # Tiny chunks of text put chunk boundaries everywhere, as a long corpus does.
    monkeypatch.setattr(tokens, "_CHUNK_BYTES", chunk_bytes)
    generator = random.Random(7)
    for trial in range(400):
        # Half the trials use only the space as whitespace (the fast path), half use any.
        other_whitespace = set(ASCII_WHITESPACE + NON_ASCII_WHITESPACE)
        pieces = PIECES if trial % 2 else [piece for piece in PIECES if not other_whitespace & set(piece)]
        texts = [
            "".join(generator.choices(pieces, k=generator.randint(0, 15)))
            for _ in range(generator.randint(0, 6))
        ]
        train, test = texts[: len(texts) // 2 + 1], texts[len(texts) // 2 :]
        num_words = generator.choice([2, 4, 100])
        words, to_sequence = python_tokenizer(train, num_words)
        vocabulary = fit_vocabulary(train, VocabularyConfig(num_words=num_words))
        assert list(vocabulary.words) == words, train
        assert texts_to_sequences(vocabulary, test) == [to_sequence(text) for text in test], test
        split_words, lengths = split_texts(test)
        assert split_words.tolist() == [word for text in test for word in text.split()], test
        assert lengths.tolist() == [len(text.split()) for text in test], test


# --- the cleaning against its original definition ------------------------------------------------

# The cleaning as first written, with regular expressions: every non-word character but the apostrophe
# (and "_") separates tokens, then so do apostrophes that do not join two word characters.
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
    "l'été ça α'β ٣'٤ a²'b Ⅻ'x x\u0301'y İstanbul \u212a'K ǅ",
    "UPPER'Case MiXeD's 10/10 3'4\" ÉCOLE’S «quoted» … — –",
    "tabs\tand\nnewlines\x0bvertical\x1cfile\x85next\xa0nbsp\u3000ideographic",
    "<br />html<i>tags</i> &amp;quot;ent&#39;s&quot; 5 < 6 &eacute;t&eacute;",
    "emoji😀'😀 a😀b controls\x00\x07x lone\ud800surrogate",
    "",
    "   ",
    "'",
    "\n",
]


def test_word_characters_are_the_alphanumeric_ones() -> None:
    """What the cleaning relies on: for the regex engine, a word character is alphanumeric or "_"."""
    word = re.compile(r"\w")
    for code in range(0x110000):
        character = chr(code)
        assert bool(word.match(character)) == (character.isalnum() or character == "_"), hex(code)


@pytest.mark.parametrize("lowercase", [True, False])
@pytest.mark.parametrize("html", [True, False])
def test_cleaning_matches_its_original_definition_on_awkward_text(lowercase: bool, html: bool) -> None:
    config = CleaningConfig(lowercase=lowercase, remove_html=html)
    expected = [reference_clean(text, config) for text in AWKWARD_TEXTS]
    assert [clean_text(text, config) for text in AWKWARD_TEXTS] == expected
    assert list(clean_texts(AWKWARD_TEXTS, config)) == expected
    # Every pair of them, in one text, either way round.
    pairs = [first + second for first in AWKWARD_TEXTS for second in AWKWARD_TEXTS]
    assert list(clean_texts(pairs, config)) == [reference_clean(text, config) for text in pairs]


@pytest.mark.shared_data
@pytest.mark.parametrize("lowercase", [True, False])
def test_cleaning_matches_its_original_definition_on_real_reviews(sample: Sample, lowercase: bool) -> None:
    config = CleaningConfig(lowercase=lowercase)
    assert any(not text.isascii() for text in sample.raw)  # both kinds of review are there
    expected = [reference_clean(text, config) for text in sample.raw]
    assert list(clean_texts(sample.raw, config)) == expected
    assert [clean_text(text, config) for text in sample.raw[::10]] == expected[::10]
