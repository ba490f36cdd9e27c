"""The tokenizer: a word index fitted on cleaned training text, with Keras `Tokenizer` semantics.

Keras 3 dropped `keras.preprocessing.text.Tokenizer`; this module reproduces what the course uses,
`Tokenizer(num_words, oov_token='<OOV>')`:
- index 0 is reserved for padding, the OOV token is 1, then words by descending count, ties broken
  by first appearance in the training text;
- the word index keeps every word seen, but `texts_to_sequences` maps a word whose index is at or
  above `num_words`, or a word never seen, to the OOV index.
The work is vectorised (tokens found by `data.tokens` without a Python object each, hashed by
Arrow, counted by NumPy) instead of a Python loop per token: several times faster than the Keras
Tokenizer, with the same output (tests/unit/test_tokenizer_differential.py; figures in BENCHMARKS.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sentiment.config import VocabularyConfig
from sentiment.data.tokens import word_keys, words_of

PADDING_INDEX = 0
OOV_INDEX = 1
FORMAT_VERSION = 1


@dataclass(frozen=True)
class TokenizedTexts:
    """Token ids of many texts, flat, with each text's length (a ragged array without Python lists)."""

    ids: np.ndarray  # int32, concatenated token ids of all texts
    lengths: np.ndarray  # int64, number of tokens of each text

    def to_lists(self) -> list[list[int]]:
        bounds = np.concatenate([[0], np.cumsum(self.lengths)])
        return [self.ids[start:end].tolist() for start, end in itertools.pairwise(bounds)]


@dataclass(frozen=True)
class Vocabulary:
    """A fitted word index. `words` holds the words in index order, starting at index 2."""

    words: tuple[str, ...]
    counts: tuple[int, ...]
    num_words: int
    oov_token: str
    document_count: int

    @property
    def word_index(self) -> dict[str, int]:
        index = {self.oov_token: OOV_INDEX}
        index.update({word: position + 2 for position, word in enumerate(self.words)})
        return index

    @property
    def index_word(self) -> dict[int, str]:
        return {index: word for word, index in self.word_index.items()}

    @property
    def size(self) -> int:
        """Number of distinct indices a model's Embedding needs (padding and OOV included)."""
        return min(self.num_words, len(self.words) + 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "settings": {"num_words": self.num_words, "oov_token": self.oov_token},
            "document_count": self.document_count,
            "word_index": self.word_index,
            "word_counts": dict(zip(self.words, self.counts, strict=True)),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocabulary:
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported vocabulary format_version {data.get('format_version')!r}")
        settings = data["settings"]
        counts = data["word_counts"]
        ordered = sorted(counts, key=data["word_index"].__getitem__)
        return cls(
            words=tuple(ordered),
            counts=tuple(int(counts[word]) for word in ordered),
            num_words=int(settings["num_words"]),
            oov_token=str(settings["oov_token"]),
            document_count=int(data["document_count"]),
        )


def split_texts(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Whitespace-split every text: (all tokens as one object array, tokens per text)."""
    keys, lengths = word_keys(texts)
    return words_of(keys).to_numpy(zero_copy_only=False), lengths


def fit_vocabulary(texts: Sequence[str], config: VocabularyConfig) -> Vocabulary:
    """Fit the word index on cleaned, space-separated texts (the training split only)."""
    if config.num_words < 2:
        raise ValueError(f"vocabulary.num_words must be at least 2 (padding and OOV), got {config.num_words}")
    keys, _ = word_keys(texts)
    # dictionary_encode numbers distinct keys in order of first appearance. Keys of one word (which
    # differ in the spaces after it) merge in the order of their first appearance, so a stable sort by
    # descending count breaks ties by first appearance, as the Keras Tokenizer does.
    by_key = pc.dictionary_encode(keys)
    key_counts = np.bincount(by_key.indices.to_numpy(), minlength=len(by_key.dictionary))
    by_word = pc.dictionary_encode(words_of(by_key.dictionary))
    counts = np.bincount(by_word.indices.to_numpy(), weights=key_counts, minlength=len(by_word.dictionary))
    counts = counts.astype(np.int64)
    order = np.argsort(-counts, kind="stable")
    return Vocabulary(
        words=tuple(by_word.dictionary.take(pa.array(order)).to_pylist()),
        counts=tuple(counts[order].tolist()),
        num_words=config.num_words,
        oov_token=config.oov_token,
        document_count=len(texts),
    )


def encode(vocabulary: Vocabulary, texts: Sequence[str]) -> TokenizedTexts:
    """Map cleaned texts to token ids: rare (index >= num_words) and unseen words become OOV."""
    keys, lengths = word_keys(texts)
    by_key = pc.dictionary_encode(keys)
    # Look up each distinct key once, and only among the words below num_words (the others are OOV).
    kept_words = pa.array(vocabulary.words[: max(vocabulary.num_words - 2, 0)], type=by_key.dictionary.type)
    positions = pc.index_in(words_of(by_key.dictionary), value_set=kept_words)
    key_ids = pc.fill_null(pc.add(positions, pa.scalar(2, pa.int32())), OOV_INDEX).to_numpy()
    ids = np.take(key_ids.astype(np.int32), by_key.indices.to_numpy())
    return TokenizedTexts(ids=ids, lengths=lengths)


def texts_to_sequences(vocabulary: Vocabulary, texts: Sequence[str]) -> list[list[int]]:
    """Keras-style list of lists (convenient for small inputs; `encode` is the fast path)."""
    return encode(vocabulary, texts).to_lists()
