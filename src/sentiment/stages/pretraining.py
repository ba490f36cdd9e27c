"""Stage `pretrain`: word vectors from the training and unlabeled reviews, for the variants that ask.

Learned once (DVC caches the table: a training change never re-runs it) from the cleaned text of the
training part and of the unlabeled reviews (`train/unsup`), never from a validation or test review,
nor from an unlabeled review whose text is one of theirs: the validation split stays unseen, so the
choices made on it stay honest. Writes the word table (`paths.word_vectors`, one row per vocabulary
index) and a report of what it was learned from (reports/pretraining.json).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from sentiment.config.workspace import Workspace
from sentiment.core.files import atomic_path, write_json
from sentiment.data.layout import UNSUP
from sentiment.stages.readers import WORD_VECTORS_KEY, read_clean, read_vocabulary


def pretrain(workspace: Workspace) -> Path:
    """Learn the word vectors and write the vocabulary's word table."""
    from sentiment.checks.parts import dataset_parts, pretraining_texts
    from sentiment.modeling import word_vectors

    params = workspace.params
    table = read_clean(workspace)
    parts = dataset_parts(table, params.validation.leakage, params.splits, params.seed)
    corpus = pretraining_texts(table, parts)
    unlabeled_ids = table.loc[table["split"] == UNSUP, "review_id"]
    started = time.perf_counter()
    vocabulary = read_vocabulary(workspace)
    learned = word_vectors.pretrain(corpus.tolist(), vocabulary, params.pretraining, params.seed)
    minutes = (time.perf_counter() - started) / 60
    target = workspace.word_vectors_file
    with atomic_path(target) as temporary, temporary.open("wb") as handle:
        np.savez(handle, **{WORD_VECTORS_KEY: learned.table})  # type: ignore[arg-type]
    write_json(
        workspace.pretraining_report,
        {
            "corpus_reviews": learned.corpus_reviews,
            "training_part_reviews": int(corpus.index.isin(parts.train["review_id"]).sum()),
            "unlabeled_reviews": int(corpus.index.isin(unlabeled_ids).sum()),
            "corpus_words": learned.corpus_words,
            "learned_words": learned.learned_words,
            "vocabulary_rows": int(learned.table.shape[0]),
            "vocabulary_words_covered": learned.covered,
        },
    )
    # the time apart, in a file git ignores: the report stays the same when the stage is repeated
    write_json(workspace.timings_file("pretrain"), {"minutes": round(minutes, 2)})
    return target
