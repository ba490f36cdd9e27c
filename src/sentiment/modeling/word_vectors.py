"""Word vectors learned from unlabeled text (gensim's word2vec), laid out as an Embedding's word table.

Row i of the table is the vector of the word with vocabulary index i (0 padding, 1 <OOV>, words from 2
on, as in `modeling.embeddings`). A vocabulary word that word2vec left out (seen fewer than
`min_count` times in the corpus) gets a random vector of the learned vectors' scale, and <OOV> the
mean of the learned vectors (what an unknown word is, on average); padding stays zero (it is masked).
Pure: texts and config in, arrays out; gensim is imported only when vectors are trained.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from tqdm import tqdm

from sentiment.config import PretrainingConfig
from sentiment.data.vocabulary import Vocabulary
from sentiment.modeling.embeddings import FIRST_WORD_INDEX

OOV_INDEX = 1


@dataclass(frozen=True)
class WordVectors:
    """What the pretrain stage keeps: the table, and what it was learned from."""

    table: np.ndarray  # float32, (vocabulary size, vector_size)
    covered: int  # vocabulary words with a learned vector (the others: random rows)
    corpus_reviews: int
    corpus_words: int
    learned_words: int  # words word2vec kept (min_count), in or out of the vocabulary


class _Texts:
    """The texts as lists of words, split afresh on each pass (gensim reads the corpus once per epoch
    and once for its vocabulary; 17 million words held as lists would take gigabytes)."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = texts

    def __iter__(self) -> Iterator[list[str]]:
        return (text.split() for text in self.texts)


def _stable_hash(text: str) -> int:
    # gensim seeds some vectors with hash(word); Python's str hash changes with every process
    # (PYTHONHASHSEED), so a fixed hash keeps the vectors the same from one run to the next.
    return zlib.crc32(text.encode("utf-8"))


def _epoch_progress(epochs: int) -> Any:
    from gensim.models.callbacks import CallbackAny2Vec

    class EpochProgress(CallbackAny2Vec):
        def __init__(self) -> None:
            self.bar = tqdm(total=epochs, desc="word2vec", unit="epoch")

        def on_epoch_end(self, model: Any) -> None:
            self.bar.update(1)

        def on_train_end(self, model: Any) -> None:
            self.bar.close()

    return EpochProgress()


def learn(texts: Sequence[str], config: PretrainingConfig, seed: int) -> Any:
    """gensim KeyedVectors learned from the cleaned `texts` (words separated by spaces)."""
    from gensim.models import Word2Vec

    model = Word2Vec(
        sentences=_Texts(texts),
        vector_size=config.vector_size,
        window=config.window,
        min_count=config.min_count,
        negative=config.negative,
        epochs=config.epochs,
        sg=1 if config.architecture == "skipgram" else 0,
        workers=config.threads,
        seed=seed,
        hashfxn=_stable_hash,
        callbacks=[_epoch_progress(config.epochs)],
    )
    return model.wv


def vocabulary_table(vectors: Any, vocabulary: Vocabulary, seed: int) -> tuple[np.ndarray, int]:
    """The embedding word table for `vocabulary` from gensim `vectors`, and how many words it covers."""
    learned = np.asarray(vectors.vectors, dtype=np.float32)
    table = np.zeros((vocabulary.size, learned.shape[1]), dtype=np.float32)
    rng = np.random.default_rng(seed)
    scale = float(learned.std()) if learned.size else 1.0
    covered = 0
    for index, word in enumerate(vocabulary.words[: vocabulary.size - FIRST_WORD_INDEX], FIRST_WORD_INDEX):
        if word in vectors.key_to_index:
            table[index] = learned[vectors.key_to_index[word]]
            covered += 1
        else:
            table[index] = rng.normal(0.0, scale, learned.shape[1])
    if vocabulary.size > OOV_INDEX and len(learned):
        table[OOV_INDEX] = learned.mean(axis=0)
    return table, covered


def pretrain(
    texts: Sequence[str], vocabulary: Vocabulary, config: PretrainingConfig, seed: int
) -> WordVectors:
    """Word2vec on `texts`, then the word table of `vocabulary`."""
    vectors = learn(texts, config, seed)
    table, covered = vocabulary_table(vectors, vocabulary, seed)
    return WordVectors(
        table=table,
        covered=covered,
        corpus_reviews=len(texts),
        corpus_words=sum(text.count(" ") + 1 for text in texts if text),
        learned_words=len(vectors.key_to_index),
    )
