"""Word2vec vectors laid out as the embedding's word table: aligned by index, reproducible, and
learning something (words used alike end up alike)."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment.config import PretrainingConfig, VocabularyConfig
from sentiment.data.vocabulary import Vocabulary, fit_vocabulary
from sentiment.modeling import word_vectors
from sentiment.modeling.embeddings import nearest_neighbours

CONFIG = PretrainingConfig(vector_size=16, window=2, min_count=2, negative=5, epochs=20, threads=1)


def corpus(reviews: int = 400, seed: int = 0) -> list[str]:
    """Two kinds of review: praise words share contexts with each other, scorn words with each other."""
    rng = np.random.default_rng(seed)
    praise, scorn = ["great", "superb", "wonderful"], ["awful", "dreadful", "terrible"]
    texts = []
    for index in range(reviews):
        words = praise if index % 2 else scorn
        context = ["truly", "simply"] if index % 2 else ["really", "utterly"]
        texts.append(" ".join(f"{rng.choice(context)} {rng.choice(words)} film" for _ in range(6)))
    return texts


def test_row_i_holds_the_vector_of_the_word_with_index_i() -> None:
    texts = corpus()
    vocabulary = fit_vocabulary([*texts, "rare"], VocabularyConfig(num_words=100))
    vectors = word_vectors.learn(texts, CONFIG, seed=1)
    table, covered = word_vectors.vocabulary_table(vectors, vocabulary, seed=1)
    assert table.shape == (vocabulary.size, 16) and table.dtype == np.float32
    index = vocabulary.word_index
    for word in ("great", "awful", "film"):
        np.testing.assert_array_equal(table[index[word]], vectors[word])
    assert covered == vocabulary.size - 3  # every word but "rare" (seen once: below min_count)
    assert not np.any(table[0])  # padding
    np.testing.assert_allclose(table[1], vectors.vectors.mean(axis=0), rtol=1e-5)  # <OOV>
    assert np.any(table[index["rare"]])  # a random row, not zeros


def test_the_same_texts_config_and_seed_give_the_same_table() -> None:
    texts = corpus()
    vocabulary = fit_vocabulary(texts, VocabularyConfig(num_words=100))
    first = word_vectors.pretrain(texts, vocabulary, CONFIG, seed=3)
    again = word_vectors.pretrain(texts, vocabulary, CONFIG, seed=3)
    other = word_vectors.pretrain(texts, vocabulary, CONFIG, seed=4)
    np.testing.assert_array_equal(first.table, again.table)
    assert not np.array_equal(first.table, other.table)
    assert (first.corpus_reviews, first.corpus_words) == (400, 400 * 18)


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_words_used_alike_get_similar_vectors(architecture: str) -> None:
    texts = corpus(reviews=800)
    vocabulary = fit_vocabulary(texts, VocabularyConfig(num_words=100))
    config = PretrainingConfig(
        architecture=architecture,
        vector_size=16,
        window=1,
        min_count=2,
        epochs=30,
        threads=1,  # type: ignore[arg-type]
    )
    learned = word_vectors.pretrain(texts, vocabulary, config, seed=5)
    found = nearest_neighbours(learned.table, vocabulary, ["great", "awful"], count=2)
    assert {item["word"] for item in found["great"]} == {"superb", "wonderful"}
    assert {item["word"] for item in found["awful"]} == {"dreadful", "terrible"}


def test_an_empty_vocabulary_has_padding_and_oov_rows_only() -> None:
    vocabulary = Vocabulary(words=(), counts=(), num_words=10, oov_token="<OOV>", document_count=0)
    vectors = word_vectors.learn(corpus(), CONFIG, seed=1)
    table, covered = word_vectors.vocabulary_table(vectors, vocabulary, seed=1)
    assert table.shape == (2, 16) and covered == 0
