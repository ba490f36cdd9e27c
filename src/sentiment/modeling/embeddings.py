"""What an Embedding layer learned: nearest words by cosine, and the TensorBoard projector's TSV files.

Row i of the embedding matrix is the vector of the word with index i in the vocabulary (0 is padding,
1 the <OOV> token); only rows of real words (index 2 and up) are compared and exported. Pure NumPy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sentiment.data.vocabulary import Vocabulary

FIRST_WORD_INDEX = 2


def _word_rows(vocabulary: Vocabulary, matrix: np.ndarray) -> list[str]:
    """The words of the matrix's rows FIRST_WORD_INDEX.. (a matrix may have fewer rows than words)."""
    return list(vocabulary.words[: max(matrix.shape[0] - FIRST_WORD_INDEX, 0)])


def nearest_neighbours(
    matrix: np.ndarray, vocabulary: Vocabulary, probes: Sequence[str], count: int
) -> dict[str, list[dict[str, float | str]]]:
    """For each probe word in the embedded vocabulary, its `count` nearest words by cosine similarity.

    Probe words outside the embedded vocabulary are left out of the result.
    """
    words = _word_rows(vocabulary, matrix)
    vectors = np.asarray(matrix[FIRST_WORD_INDEX : FIRST_WORD_INDEX + len(words)], dtype=np.float64)
    lengths = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(lengths > 0, lengths, 1.0)
    position = {word: row for row, word in enumerate(words)}
    result: dict[str, list[dict[str, float | str]]] = {}
    for probe in probes:
        if probe not in position:
            continue
        similarity = unit @ unit[position[probe]]
        similarity[position[probe]] = -np.inf  # a word is not its own neighbour
        # stable sort on the negated similarity: ties go to the more frequent word
        order = np.argsort(-similarity, kind="stable")[: min(count, len(words) - 1)]
        result[probe] = [{"word": words[row], "cosine": round(float(similarity[row]), 6)} for row in order]
    return result


def projector_tsv(matrix: np.ndarray, vocabulary: Vocabulary, limit: int = 0) -> tuple[str, str]:
    """(vectors.tsv, metadata.tsv) for projector.tensorflow.org: one word per line, most frequent first.

    `limit` keeps the most frequent words only (0: every embedded word). metadata.tsv has a single
    column, so, as the projector expects, no header line.
    """
    words = _word_rows(vocabulary, matrix)
    if limit:
        words = words[:limit]
    vectors = np.asarray(matrix[FIRST_WORD_INDEX : FIRST_WORD_INDEX + len(words)], dtype=np.float64)
    vector_lines = ["\t".join(f"{value:.6g}" for value in row) for row in vectors]
    return "\n".join(vector_lines) + "\n", "\n".join(words) + "\n"
