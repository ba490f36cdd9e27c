"""Differential tests: our preprocessing against the references it must match.

- The tokenizer (`fit_vocabulary`, `encode`, `texts_to_sequences`, `pad_tokenized`, `pad_sequences`)
  against the legacy `tf_keras` `Tokenizer(num_words, oov_token='<OOV>')` and `pad_sequences`, fitted on
  the same cleaned training reviews: same word index, word counts, sequences and padded arrays.
- The tokenization (NumPy passes over Arrow buffers) against `str.split()` on texts full of awkward
  whitespace, where the Keras Tokenizer's own splitting would differ.
- The cleaning (byte operations and NumPy) against its definition as two regular expressions, as it
  was first written, so that speeding it up cannot change a single token.

The tokenizer and the cleaning are compared on two samples of reviews (the `sample` fixture's params):
- "generated", always there (a fresh clone without ../shared included): synthetic reviews
  (`sentiment.data.synthetic`) and, from the same seed, awkward ones: made-up words with Zipf-like
  frequencies, in ASCII and other scripts, dressed in punctuation, apostrophes, case, HTML tags and
  entities, numbers, emoji and runs of every kind of whitespace;
- "imdb": a few thousand reviews of the shared archive, which keeps this to seconds; its tests are
  marked shared_data and skipped, with the reason, when ../shared is absent.
"""

from __future__ import annotations

import itertools
import random
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment.config import CleaningConfig, VocabularyConfig
from sentiment.data import ingest, tokens
from sentiment.data.cleaning import clean_text, clean_texts, remove_html
from sentiment.data.sequences import Side, pad_sequences, pad_tokenized
from sentiment.data.synthetic import synthetic_reviews
from sentiment.data.tokens import ASCII_WHITESPACE, NON_ASCII_WHITESPACE
from sentiment.data.vocabulary import (
    OOV_INDEX,
    TokenizedTexts,
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
    min_words: int  # its vocabulary has more words than this: a real one, not a toy one


def imdb_sample(archive: Path) -> Sample:
    table = ingest.read_reviews(archive)
    train = table[table["split"] == "train"].iloc[::TRAIN_STEP]
    test = table[table["split"] == "test"].iloc[::TEST_STEP]
    config = CleaningConfig()
    return Sample(
        train=list(clean_texts(train["text"], config)),
        test=list(clean_texts(test["text"], config)),
        raw=train["text"].tolist() + test["text"].tolist(),
        min_words=20_000,
    )


# The generated sample: synthetic reviews, and awkward ones (made-up words dressed in what cleaning and
# tokenizing must get right), from one seed.
GENERATED_SEED = 11
SYNTHETIC_REVIEWS = 400  # half of them test reviews
AWKWARD_REVIEWS = 1200  # as many train as test reviews
MADE_UP_WORDS = 4000
# Made-up words are runs of these: ASCII and other letters and digits, some that change length when
# lowercased or uppercased ("İ", "ß", "ﬁ"), some alphanumeric only for Unicode ("²", "½", "Ⅻ", "٣").
WORD_CHARACTERS = string.ascii_letters + string.digits + "éÉèçÇßøÅæŒñÜīąŁőžșțЯжшэ中文字αβΓλΩςİıﬁ²½Ⅻ٣ǅ"
# Characters that separate words: ASCII punctuation, typographic quotes and dashes, symbols, emoji, a
# lone combining accent, controls that are not whitespace, a lone surrogate.
NON_WORD_CHARACTERS = string.punctuation + "—–…«»“”„•·©®°±×÷€£¥§¶😀👍🏽\u0301\x00\x07\x7f\ud800"
APOSTROPHES = ("'", "\u2019", "`", "''", "'''")
# What goes between two pieces: nothing (they run together), spaces, any other whitespace.
GAPS = ("", " ", " ", " ", "  ", "   ", "\r\n", *"\t\n\x0b\x1c\x85\xa0\u2009\u3000")
MARKUP = (
    "<br />",
    "<br /><br />",
    "<br/>",
    "<i>",
    "</i>",
    "<p>",
    "<!-- x -->",
    '<a href="x.html">',
    "&amp;",
    "&quot;",
    "&#39;",
    "&eacute;",
    "&amp;quot;",
    "&lt;",
    "&gt;",
    "&nbsp;",
    "&#8217;",
    " < ",
    " > ",
)
NUMBERS = ("10/10", "3.5", "1,000", "2nd", "90's", "1950s", "$5", "-7", "50%", "007", "½")
ODDITIES = ("_", "__init__", "snake_case", "...", "?!", "--", "- -", "'", "''", "``", "'n'")


class AwkwardReviews:
    """Random reviews of made-up words with Zipf-like frequencies (frequent words, rare ones, and many
    tied in count), dressed in punctuation, apostrophes, case, markup, numbers and whitespace."""

    def __init__(self, generator: random.Random) -> None:
        self.generator = generator
        self.words = [
            "".join(generator.choices(WORD_CHARACTERS, k=generator.randint(1, 7)))
            for _ in range(MADE_UP_WORDS)
        ]
        self.cumulative_weights = list(itertools.accumulate(1 / rank for rank in range(1, MADE_UP_WORDS + 1)))

    def word(self) -> str:
        return self.generator.choices(self.words, cum_weights=self.cumulative_weights)[0]

    def piece(self) -> str:
        generator, word, other = self.generator, self.word(), self.word()
        kind = generator.random()
        if kind < 0.45:
            return word
        if kind < 0.55:
            return generator.choice((str.upper, str.title, str.swapcase))(word)
        if kind < 0.67:  # apostrophes inside, around, doubled: don't, 'quoted', rock'n'roll, x''y
            mark = generator.choice(APOSTROPHES)
            return generator.choice(
                (
                    f"{word}{mark}{other}",
                    f"{mark}{word}{mark}",
                    f"{word}{mark}",
                    f"{mark}{word}",
                    f"{word}{mark}{other}{mark}{word}",
                    f"{word}{mark}s",
                    f"{word}n{mark}t",
                )
            )
        if kind < 0.77:  # punctuation before, after or between words
            marks = "".join(generator.choices(NON_WORD_CHARACTERS, k=generator.randint(1, 3)))
            return generator.choice((f"{word}{marks}", f"{marks}{word}", f"{word}{marks}{other}"))
        if kind < 0.87:  # markup and entities, also inside a word
            tag = generator.choice(MARKUP)
            return generator.choice(
                (tag, f"{word}{tag}", f"{tag}{word}", f"<i>{word}</i>", f"{word}{tag}{other}")
            )
        if kind < 0.94:
            return generator.choice((str(generator.randint(0, 2000)), generator.choice(NUMBERS)))
        return generator.choice(ODDITIES)

    def review(self) -> str:
        """Up to 40 pieces, with a gap before each and at the end (some reviews are empty)."""
        pieces = [self.piece() for _ in range(self.generator.randint(0, 40))] + [""]
        gaps = self.generator.choices(GAPS, k=len(pieces))
        return "".join(gap + piece for gap, piece in zip(gaps, pieces, strict=True))


def generated_sample() -> Sample:
    generator = random.Random(GENERATED_SEED)
    awkward = AwkwardReviews(generator)
    synthetic = synthetic_reviews(SYNTHETIC_REVIEWS, 0.5, seed=GENERATED_SEED)
    raw = {}
    for split in ("train", "test"):
        raw[split] = [awkward.review() for _ in range(AWKWARD_REVIEWS // 2)]
        raw[split] += synthetic.loc[synthetic["split"] == split, "text"].tolist()
        generator.shuffle(raw[split])  # the synthetic words first appear among the made-up ones
    config = CleaningConfig()
    return Sample(
        train=list(clean_texts(raw["train"], config)),
        test=list(clean_texts(raw["test"], config)),
        raw=raw["train"] + raw["test"],
        min_words=2_000,
    )


@pytest.fixture(scope="module", params=["generated", pytest.param("imdb", marks=pytest.mark.shared_data)])
def sample(request: pytest.FixtureRequest) -> Sample:
    """The generated sample, always; the real one when ../shared is there (else those tests skip)."""
    if request.param == "imdb":
        return imdb_sample(request.getfixturevalue("shared_archive"))
    return generated_sample()


@dataclass(frozen=True)
class Legacy:
    """A legacy Keras tokenizer fitted on the sample's training texts, and its sequences."""

    tokenizer: Any
    train: list[list[int]]
    test: list[list[int]]

    def pad(
        self, sequences: list[list[int]], max_len: int | None, padding: str, truncating: str
    ) -> np.ndarray:
        return legacy_pad(sequences, max_len, padding, truncating)


def legacy_pad(sequences: list[list[int]], max_len: int | None, padding: str, truncating: str) -> np.ndarray:
    from tf_keras.preprocessing.sequence import pad_sequences as legacy_pad_sequences

    return legacy_pad_sequences(sequences, maxlen=max_len, padding=padding, truncating=truncating)


@pytest.fixture(scope="module")
def legacy_text() -> Any:
    """The legacy `tf_keras.preprocessing.text` module (its `Tokenizer`)."""
    return pytest.importorskip("tf_keras.preprocessing.text", reason="tf-keras (a dev extra) is absent")


@pytest.fixture(scope="module")
def legacy(sample: Sample, legacy_text: Any) -> Callable[[int | None], Legacy]:
    """Legacy tokenizers by num_words, each fitted once for the whole module."""
    fitted: dict[int | None, Legacy] = {}

    def factory(num_words: int | None) -> Legacy:
        if num_words not in fitted:
            tokenizer = legacy_text.Tokenizer(num_words=num_words, oov_token="<OOV>")
            tokenizer.fit_on_texts(sample.train)
            fitted[num_words] = Legacy(
                tokenizer,
                tokenizer.texts_to_sequences(sample.train),
                tokenizer.texts_to_sequences(sample.test),
            )
        return fitted[num_words]

    return factory


def our_vocabulary(train: list[str], num_words: int | None) -> Vocabulary:
    return fit_vocabulary(train, VocabularyConfig(num_words=num_words or UNLIMITED, oov_token="<OOV>"))


@dataclass(frozen=True)
class Ours:
    """Our vocabulary fitted on the sample's training texts, and both splits (train, test) encoded."""

    vocabulary: Vocabulary
    encoded: tuple[TokenizedTexts, TokenizedTexts]  # by `encode`
    sequences: tuple[list[list[int]], list[list[int]]]  # by `texts_to_sequences`


@pytest.fixture(scope="module")
def ours(sample: Sample) -> Callable[[int | None], Ours]:
    """Our tokenizers by num_words, each fitted once for the whole module (as `legacy`)."""
    fitted: dict[int | None, Ours] = {}

    def factory(num_words: int | None) -> Ours:
        if num_words not in fitted:
            vocabulary = our_vocabulary(sample.train, num_words)
            splits = (sample.train, sample.test)
            fitted[num_words] = Ours(
                vocabulary,
                (encode(vocabulary, splits[0]), encode(vocabulary, splits[1])),
                (texts_to_sequences(vocabulary, splits[0]), texts_to_sequences(vocabulary, splits[1])),
            )
        return fitted[num_words]

    return factory


# --- the tokenizer against tf_keras --------------------------------------------------------------


@pytest.mark.parametrize("num_words", NUM_WORDS)
def test_word_index_and_sequences_match_keras(
    sample: Sample,
    legacy: Callable[[int | None], Legacy],
    ours: Callable[[int | None], Ours],
    num_words: int | None,
) -> None:
    reference, mine = legacy(num_words), ours(num_words)
    tokenizer, vocabulary = reference.tokenizer, mine.vocabulary
    assert len(vocabulary.word_index) > sample.min_words  # a real vocabulary, not a toy one
    assert vocabulary.word_index == tokenizer.word_index
    assert list(vocabulary.word_index) == list(tokenizer.word_index)
    assert dict(zip(vocabulary.words, vocabulary.counts, strict=True)) == dict(tokenizer.word_counts)
    assert vocabulary.document_count == tokenizer.document_count
    for sequences, tokenized, expected in zip(
        mine.sequences, mine.encoded, (reference.train, reference.test), strict=True
    ):
        assert sequences == expected
        assert tokenized.lengths.tolist() == [len(sequence) for sequence in expected]


@pytest.mark.parametrize("num_words", [1000])
@pytest.mark.parametrize("max_len", MAX_LENS)
@pytest.mark.parametrize("padding", SIDES)
@pytest.mark.parametrize("truncating", SIDES)
def test_padded_arrays_match_keras(
    legacy: Callable[[int | None], Legacy],
    ours: Callable[[int | None], Ours],
    num_words: int,
    max_len: int,
    padding: Side,
    truncating: Side,
) -> None:
    reference, mine = legacy(num_words), ours(num_words)
    for tokenized, sequences, reference_sequences in zip(
        mine.encoded, mine.sequences, (reference.train, reference.test), strict=True
    ):
        expected = reference.pad(reference_sequences, max_len, padding, truncating)
        padded = pad_tokenized(tokenized, max_len, padding, truncating)
        assert padded.dtype == expected.dtype == np.int32
        np.testing.assert_array_equal(padded, expected)
        listed = pad_sequences(sequences, max_len, padding, truncating)
        np.testing.assert_array_equal(listed, expected)


def test_padding_to_the_longest_review_matches_keras_without_maxlen(
    legacy: Callable[[int | None], Legacy], ours: Callable[[int | None], Ours]
) -> None:
    reference = legacy(20000)
    tokenized = ours(20000).encoded[1]
    expected = reference.pad(reference.test, None, "pre", "pre")
    np.testing.assert_array_equal(pad_tokenized(tokenized, int(tokenized.lengths.max())), expected)


def test_unseen_and_rare_test_words_map_to_oov_as_in_keras(
    sample: Sample, legacy: Callable[[int | None], Legacy], ours: Callable[[int | None], Ours]
) -> None:
    vocabulary = ours(1000).vocabulary
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


# Texts that Hypothesis makes up, and shrinks to a smallest one when ours and Keras differ: short words
# over a few letters (so that words repeat and tie in count), joined by apostrophes, punctuation or
# whitespace or run together; any Unicode; and the generated sample's markup, numbers and oddities.
_made_up_words = st.text(alphabet="abAB0éÉİıßﬁ²Ⅻ", min_size=1, max_size=3)
_joints = st.sampled_from(
    APOSTROPHES + GAPS + ("-", "_", ".", ",", "!?", "&", "<", ">", "/", '"', "(", "😀", "\u0301", "\x00")
)
_awkward_texts = st.lists(
    st.one_of(
        st.tuples(_made_up_words, _joints, _made_up_words).map("".join),
        _made_up_words,
        _joints,
        st.text(max_size=3),
        st.sampled_from(MARKUP + NUMBERS + ODDITIES),
    ),
    max_size=10,
).map("".join)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    raw_train=st.lists(_awkward_texts, min_size=1, max_size=5),
    raw_test=st.lists(_awkward_texts, min_size=1, max_size=3),
    num_words=st.sampled_from([2, 3, 5, None]),
    max_len=st.integers(1, 8),
    padding=st.sampled_from(SIDES),
    truncating=st.sampled_from(SIDES),
)
def test_made_up_texts_clean_tokenize_and_pad_as_the_references_do(
    legacy_text: Any,
    raw_train: list[str],
    raw_test: list[str],
    num_words: int | None,
    max_len: int,
    padding: Side,
    truncating: Side,
) -> None:
    """Cleaning, word index, counts, sequences and padding all match on texts Hypothesis makes up."""
    config = CleaningConfig()
    train, test = list(clean_texts(raw_train, config)), list(clean_texts(raw_test, config))
    assert train + test == [reference_clean(text, config) for text in raw_train + raw_test]
    tokenizer = legacy_text.Tokenizer(num_words=num_words, oov_token="<OOV>")
    tokenizer.fit_on_texts(train)
    vocabulary = our_vocabulary(train, num_words)
    assert list(vocabulary.word_index.items()) == list(tokenizer.word_index.items())
    assert dict(zip(vocabulary.words, vocabulary.counts, strict=True)) == dict(tokenizer.word_counts)
    assert vocabulary.document_count == tokenizer.document_count
    for texts in (train, test):
        expected = tokenizer.texts_to_sequences(texts)
        assert texts_to_sequences(vocabulary, texts) == expected
        padded = pad_tokenized(encode(vocabulary, texts), max_len, padding, truncating)
        np.testing.assert_array_equal(padded, legacy_pad(expected, max_len, padding, truncating))


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
    every_character = "".join(map(chr, range(0x110000)))
    word = set(re.findall(r"\w", every_character))
    alphanumeric = set(filter(str.isalnum, every_character)) | {"_"}
    assert word == alphanumeric, sorted(hex(ord(character)) for character in word ^ alphanumeric)


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


@pytest.mark.parametrize("lowercase", [True, False])
def test_cleaning_matches_its_original_definition_on_the_sample(sample: Sample, lowercase: bool) -> None:
    config = CleaningConfig(lowercase=lowercase)
    assert any(not text.isascii() for text in sample.raw)  # both kinds of review are there
    expected = [reference_clean(text, config) for text in sample.raw]
    assert list(clean_texts(sample.raw, config)) == expected
    assert [clean_text(text, config) for text in sample.raw[::10]] == expected[::10]
