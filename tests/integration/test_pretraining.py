"""The pretrain stage on synthetic reviews: it learns from the training part and the unlabeled
reviews only (never a validation or test review, nor an unlabeled copy of one), writes one vector per
vocabulary index, and a variant with `pretrained: word2vec` starts its word table from them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from conftest import WorkspaceFactory
from sentiment.checks.parts import Parts, dataset_parts, pretraining_texts
from sentiment.config import TrainingConfig
from sentiment.config.workspace import Workspace
from sentiment.core.errors import DataError
from sentiment.core.files import read_json
from sentiment.data.layout import UNLABELED, UNSUP
from sentiment.stages import pretraining, readers

PRETRAINING = {"vector_size": 8, "epochs": 2, "min_count": 1}


def with_unlabeled_reviews(workspace: Workspace) -> pd.DataFrame:
    """The cleaned table (its synthetic unlabeled reviews too) plus two unlabeled reviews: one new, one
    with the text of a test review."""
    table = readers.read_clean(workspace)
    test_text = table.loc[table["split"] == "test", "text"].iloc[0]
    unlabeled = pd.DataFrame(
        {
            "review_id": ["train/unsup/900", "train/unsup/901"],
            "text": ["an unlabeled review of words", test_text],
            "label": UNLABELED,
            "rating": 0,
            "split": UNSUP,
            "movie": None,
        }
    )
    table = pd.concat([table, unlabeled.astype({"label": table["label"].dtype})], ignore_index=True)
    table.to_parquet(workspace.clean_table, index=False)
    return table


def parts_of(workspace: Workspace, table: pd.DataFrame) -> Parts:
    params = workspace.params
    return dataset_parts(table, params.validation.leakage, params.splits, params.seed)


def test_the_corpus_is_the_training_part_and_the_unlabeled_reviews_never_held_out_text(
    make_workspace: WorkspaceFactory,
) -> None:
    workspace = make_workspace({"pretraining": PRETRAINING}, preprocess=True)
    table = with_unlabeled_reviews(workspace)
    parts = parts_of(workspace, table)
    corpus = pretraining_texts(table, parts)
    held_out = set(parts.validation["text"]) | set(parts.test["text"])
    unlabeled = table[table["split"] == UNSUP]
    assert len(parts.validation) > 0 and len(unlabeled) > 2
    assert not held_out & set(corpus)
    assert "an unlabeled review of words" in set(corpus)
    expected = [
        *(text for text in parts.train["text"] if text not in held_out),
        *(text for text in unlabeled["text"] if text not in held_out),
    ]
    assert corpus.tolist() == expected


def test_the_stage_writes_one_vector_per_vocabulary_index_and_says_what_it_read(
    make_workspace: WorkspaceFactory,
) -> None:
    workspace = make_workspace({"pretraining": PRETRAINING}, preprocess=True)
    table = with_unlabeled_reviews(workspace)
    written = pretraining.pretrain(workspace)
    vocabulary = readers.read_vocabulary(workspace)
    vectors = readers.read_word_vectors(workspace, vocabulary.size, 8)
    assert written == workspace.word_vectors_file
    assert vectors.shape == (vocabulary.size, 8) and np.isfinite(vectors).all()
    report = read_json(workspace.pretraining_report)
    corpus = pretraining_texts(table, parts_of(workspace, table))
    unlabeled = int(corpus.index.isin(table.loc[table["split"] == UNSUP, "review_id"]).sum())
    assert unlabeled == int((table["split"] == UNSUP).sum()) - 1  # the copy of a test review is out
    assert report["corpus_reviews"] == len(corpus) == report["training_part_reviews"] + unlabeled
    assert report["unlabeled_reviews"] == unlabeled
    assert report["vocabulary_words_covered"] == vocabulary.size - 2  # min_count 1: every word
    again = readers.read_word_vectors(workspace, vocabulary.size, 8)
    pretraining.pretrain(workspace)
    np.testing.assert_array_equal(readers.read_word_vectors(workspace, vocabulary.size, 8), again)


def test_vectors_of_another_shape_or_none_at_all_are_refused_with_the_stage_to_run(
    make_workspace: WorkspaceFactory,
) -> None:
    workspace = make_workspace({"pretraining": PRETRAINING}, preprocess=True)
    size = readers.read_vocabulary(workspace).size
    with pytest.raises(DataError, match="word vectors not found: run the pretrain stage first"):
        readers.read_word_vectors(workspace, size, 8)
    pretraining.pretrain(workspace)
    with pytest.raises(DataError, match=rf"shape \({size}, 8\), expected \({size}, 16\).*pretrain stage"):
        readers.read_word_vectors(workspace, size, 16)


@pytest.mark.parametrize("pairs", [0, 64])
def test_a_pretrained_variant_starts_from_the_vectors(make_workspace: WorkspaceFactory, pairs: int) -> None:
    from sentiment.modeling import training

    workspace = make_workspace({"pretraining": PRETRAINING}, preprocess=True)
    pretraining.pretrain(workspace)
    vocabulary = readers.read_vocabulary(workspace)
    table = readers.read_word_vectors(workspace, vocabulary.size, 8)
    variant = dataclasses.replace(
        workspace.params.models["lstm"],
        embedding_dim=8,
        units=(4,),
        bigram_buckets=pairs,
        pretrained="word2vec",
    )
    # A step too small to move a weight: what the model holds is where it started.
    barely = TrainingConfig(learning_rate=1e-12, epochs=1, batch_size=64)
    arrays = readers.read_sequences(workspace)
    started = training.train(variant, barely, arrays, vocabulary.size, seed=0, verbose=0, word_vectors=table)
    np.testing.assert_allclose(started.model.get_layer("embedding").get_weights()[0], table, atol=1e-6)
    fresh = training.train(variant, barely, arrays, vocabulary.size, seed=0, verbose=0)
    assert not np.allclose(fresh.model.get_layer("embedding").get_weights()[0], table, atol=1e-3)
