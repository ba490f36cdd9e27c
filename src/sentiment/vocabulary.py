"""The tokenizer: a word index fitted on cleaned training text, with Keras `Tokenizer` semantics.

Keras 3 dropped `keras.preprocessing.text.Tokenizer`; this module reproduces what the course uses,
`Tokenizer(num_words, oov_token='<OOV>')`:
- index 0 is reserved for padding, the OOV token is 1, then words by descending count, ties broken
  by first appearance in the training text;
- the word index keeps every word seen, but `texts_to_sequences` maps a word whose index is at or
  above `num_words`, or a word never seen, to the OOV index.
The work is vectorised (Arrow splitting and hashing, NumPy counting) instead of a Python loop per token:
several times faster than the Keras Tokenizer, with the same output (tests/test_tokenizer_differential.py).
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


def _token_array(texts: Sequence[str]) -> tuple[pa.Array, np.ndarray]:
    """Whitespace-split every text: (all tokens as one Arrow string array, tokens per text).

    The tokens are exactly those of `str.split()`: Arrow's Unicode whitespace is Python's, but Arrow
    also yields an empty token for leading or trailing whitespace, which is dropped here.
    """
    try:
        array = pa.array(texts, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise TypeError(f"texts must be strings: {error}") from None
    if array.null_count:
        raise TypeError("texts must be strings, got None")
    lists = pc.utf8_split_whitespace(array)
    tokens = lists.flatten()
    lengths = np.diff(lists.offsets.to_numpy()).astype(np.int64)
    if len(tokens) and pc.min(pc.binary_length(tokens)).as_py() == 0:
        nonempty = pc.greater(pc.binary_length(tokens), 0)
        parents = pc.list_parent_indices(lists).to_numpy()
        lengths = np.bincount(parents[nonempty.to_numpy(zero_copy_only=False)], minlength=len(texts))
        tokens = tokens.filter(nonempty)
    return tokens, lengths.astype(np.int64)


def split_texts(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Whitespace-split every text: (all tokens as one object array, tokens per text)."""
    tokens, lengths = _token_array(texts)
    return tokens.to_numpy(zero_copy_only=False), lengths


def fit_vocabulary(texts: Sequence[str], config: VocabularyConfig) -> Vocabulary:
    """Fit the word index on cleaned, space-separated texts (the training split only)."""
    if config.num_words < 2:
        raise ValueError(f"vocabulary.num_words must be at least 2 (padding and OOV), got {config.num_words}")
    tokens, _ = _token_array(texts)
    # dictionary_encode numbers distinct words in order of first appearance, so a stable sort by
    # descending count breaks ties by first appearance, as the Keras Tokenizer does.
    encoded = pc.dictionary_encode(tokens)
    counts = np.bincount(encoded.indices.to_numpy(), minlength=len(encoded.dictionary))
    order = np.argsort(-counts, kind="stable")
    return Vocabulary(
        words=tuple(encoded.dictionary.take(pa.array(order)).to_pylist()),
        counts=tuple(counts[order].tolist()),
        num_words=config.num_words,
        oov_token=config.oov_token,
        document_count=len(texts),
    )


def encode(vocabulary: Vocabulary, texts: Sequence[str]) -> TokenizedTexts:
    """Map cleaned texts to token ids: rare (index >= num_words) and unseen words become OOV."""
    tokens, lengths = _token_array(texts)
    # Only words below num_words can appear in the output: look up just those.
    kept_words = pa.array(vocabulary.words[: max(vocabulary.num_words - 2, 0)], type=pa.large_string())
    positions = pc.index_in(tokens, value_set=kept_words)
    ids = pc.fill_null(pc.add(positions, pa.scalar(2, pa.int32())), OOV_INDEX)
    return TokenizedTexts(ids=ids.to_numpy(zero_copy_only=False, writable=True), lengths=lengths)


def texts_to_sequences(vocabulary: Vocabulary, texts: Sequence[str]) -> list[list[int]]:
    """Keras-style list of lists (convenient for small inputs; `encode` is the fast path)."""
    return encode(vocabulary, texts).to_lists()
