"""Nearest neighbours by cosine and the TensorBoard projector export, on a hand-made embedding."""

from __future__ import annotations

import numpy as np
import pytest

from sentiment.data.vocabulary import Vocabulary
from sentiment.modeling.embeddings import nearest_neighbours, projector_tsv

WORDS = ("great", "excellent", "awful", "terrible", "plot")
# rows: padding, <OOV>, then the words in index order
MATRIX = np.array(
    [
        [9.0, 9.0],  # padding: never a neighbour
        [1.0, 0.1],  # <OOV>: never a neighbour
        [1.0, 0.0],  # great
        [2.0, 0.2],  # excellent: same direction as great, longer
        [-1.0, 0.1],  # awful
        [-3.0, 0.0],  # terrible
        [0.0, 1.0],  # plot
    ]
)


def vocabulary(num_words: int = 100) -> Vocabulary:
    return Vocabulary(
        words=WORDS, counts=(5, 4, 3, 2, 1), num_words=num_words, oov_token="<OOV>", document_count=3
    )


def test_neighbours_are_ranked_by_cosine_not_length() -> None:
    found = nearest_neighbours(MATRIX, vocabulary(), ["great", "terrible", "missing"], count=2)
    assert list(found) == ["great", "terrible"]
    assert [item["word"] for item in found["great"]] == ["excellent", "plot"]
    assert found["great"][0]["cosine"] == pytest.approx(2.0 / np.hypot(2.0, 0.2))
    assert [item["word"] for item in found["terrible"]] == ["awful", "plot"]


def test_projector_files_pair_each_vector_with_its_word() -> None:
    vectors, metadata = projector_tsv(MATRIX, vocabulary())
    words = metadata.splitlines()
    rows = [[float(value) for value in line.split("\t")] for line in vectors.splitlines()]
    assert words == list(WORDS)
    assert rows == MATRIX[2:].tolist()

    vectors, metadata = projector_tsv(MATRIX, vocabulary(), limit=2)
    assert metadata.splitlines() == ["great", "excellent"] and len(vectors.splitlines()) == 2


def test_words_beyond_the_embedding_rows_are_left_out() -> None:
    # a model built for num_words=4 embeds padding, <OOV> and the two most frequent words only
    small = MATRIX[:4]
    assert projector_tsv(small, vocabulary(num_words=4))[1].splitlines() == ["great", "excellent"]
    assert list(nearest_neighbours(small, vocabulary(num_words=4), ["great", "awful"], count=5)) == ["great"]
