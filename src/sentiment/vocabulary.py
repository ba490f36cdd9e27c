"""The tokenizer: a word index fitted on cleaned training text, with Keras `Tokenizer` semantics.

Keras 3 dropped `keras.preprocessing.text.Tokenizer`; this module reproduces what the course uses,
`Tokenizer(num_words, oov_token='<OOV>')`:
- index 0 is reserved for padding, the OOV token is 1, then words by descending count, ties broken
  by first appearance in the training text;
- the word index keeps every word seen, but `texts_to_sequences` maps a word whose index is at or
  above `num_words`, or a word never seen, to the OOV index.
The work is vectorised (pandas hashing, NumPy counting) instead of a Python loop per token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

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
        return [self.ids[start:end].tolist() for start, end in zip(bounds[:-1], bounds[1:], strict=True)]


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
    token_lists = [text.split() for text in texts]
    lengths = np.fromiter((len(tokens) for tokens in token_lists), dtype=np.int64, count=len(token_lists))
    flat = np.empty(int(lengths.sum()), dtype=object)
    position = 0
    for tokens, length in zip(token_lists, lengths.tolist(), strict=True):
        flat[position : position + length] = tokens
        position += length
    return flat, lengths


def fit_vocabulary(texts: Sequence[str], config: VocabularyConfig) -> Vocabulary:
    """Fit the word index on cleaned, space-separated texts (the training split only)."""
    if config.num_words < 2:
        raise ValueError(f"vocabulary.num_words must be at least 2 (padding and OOV), got {config.num_words}")
    tokens, _ = split_texts(texts)
    # factorize numbers distinct words in order of first appearance, so a stable sort by
    # descending count breaks ties by first appearance, as the Keras Tokenizer does.
    codes, uniques = pd.factorize(tokens)
    counts = np.bincount(codes, minlength=len(uniques))
    order = np.argsort(-counts, kind="stable")
    return Vocabulary(
        words=tuple(str(word) for word in np.asarray(uniques, dtype=object)[order]),
        counts=tuple(int(count) for count in counts[order]),
        num_words=config.num_words,
        oov_token=config.oov_token,
        document_count=len(texts),
    )


def encode(vocabulary: Vocabulary, texts: Sequence[str]) -> TokenizedTexts:
    """Map cleaned texts to token ids: rare (index >= num_words) and unseen words become OOV."""
    tokens, lengths = split_texts(texts)
    # Only words below num_words can appear in the output: index just those.
    kept_words = pd.Index(vocabulary.words[: max(vocabulary.num_words - 2, 0)], dtype=object)
    positions = kept_words.get_indexer(tokens)
    ids = np.where(positions >= 0, positions + 2, OOV_INDEX).astype(np.int32)
    return TokenizedTexts(ids=ids, lengths=lengths)


def texts_to_sequences(vocabulary: Vocabulary, texts: Sequence[str]) -> list[list[int]]:
    """Keras-style list of lists (convenient for small inputs; `encode` is the fast path)."""
    return encode(vocabulary, texts).to_lists()
