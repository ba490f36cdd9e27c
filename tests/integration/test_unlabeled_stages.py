"""Unlabeled reviews through the real preprocessing and validation stages: cleaned like the others,
checked as text, and nowhere in the vocabulary, the sequences or the validation split."""

from __future__ import annotations

import json

import numpy as np

from conftest import SMALL_SYNTHETIC_UNLABELED, WorkspaceFactory
from sentiment.checks.parts import dataset_parts, pretraining_texts
from sentiment.stages import data_validation, readers


def test_unlabeled_reviews_leave_the_vocabulary_and_the_sequences_byte_for_byte_alone(
    make_workspace: WorkspaceFactory,
) -> None:
    without = make_workspace({"source": {"synthetic_unlabeled": 0}}, preprocess=True)
    with_unlabeled = make_workspace(preprocess=True)  # SMALL_SYNTHETIC_UNLABELED of them

    raw, clean = readers.read_raw(with_unlabeled), readers.read_clean(with_unlabeled)
    assert (raw["split"] == "unsup").sum() == (clean["split"] == "unsup").sum() == SMALL_SYNTHETIC_UNLABELED
    assert not clean.loc[clean["split"] == "unsup", "text"].str.contains("<br", regex=False).any()
    assert (readers.read_raw(without)["split"] != "unsup").sum() == (raw["split"] != "unsup").sum()
    assert with_unlabeled.vocabulary_file.read_bytes() == without.vocabulary_file.read_bytes()
    arrays, expected = readers.read_sequences(with_unlabeled), readers.read_sequences(without)
    assert sorted(arrays) == sorted(expected)
    for name, array in expected.items():
        np.testing.assert_array_equal(arrays[name], array, err_msg=name)
    sequence_ids = {
        review_id for split in ("train", "validation", "test") for review_id in arrays[f"ids_{split}"]
    }
    assert not {review_id for review_id in sequence_ids if review_id.startswith("train/unsup/")}


def test_both_validations_pass_with_unlabeled_reviews_and_count_them(
    make_workspace: WorkspaceFactory,
) -> None:
    workspace = make_workspace(preprocess=True)
    text = json.loads(data_validation.validate_text(workspace).read_text(encoding="utf-8"))
    sequences = json.loads(data_validation.validate_sequences(workspace).read_text(encoding="utf-8"))

    assert text["success"] and sequences["success"] and text["warnings"] == 0
    assert text["metrics"]["unlabeled_reviews"] == SMALL_SYNTHETIC_UNLABELED
    assert text["metrics"]["unlabeled_duplicates_of_test"] == 0
    assert text["tables"]["raw_reviews"] == len(readers.read_raw(workspace))
    # What a pretraining stage would read: the training part and every unlabeled review.
    params = workspace.params
    clean = readers.read_clean(workspace)
    parts = dataset_parts(clean, params.validation.leakage, params.splits, params.seed)
    texts = pretraining_texts(clean, parts)
    assert len(texts) == len(parts.train) + SMALL_SYNTHETIC_UNLABELED
    assert not set(texts.index) & (set(parts.validation["review_id"]) | set(parts.test["review_id"]))
