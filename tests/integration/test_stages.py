"""The preprocessing stages on a workspace: what clean, vocabulary and sequences write, and that the
same params and seed always write the same bytes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from conftest import ArchiveFactory, WorkspaceFactory, small_review_files
from sentiment.config.workspace import Workspace
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages
from sentiment.stages import readers

SPLITS = ("train", "validation", "test")


def test_clean_writes_the_raw_table_with_cleaned_text(preprocessed_workspace: Workspace) -> None:
    raw, cleaned = readers.read_raw(preprocessed_workspace), readers.read_clean(preprocessed_workspace)
    pd.testing.assert_frame_equal(raw.drop(columns="text"), cleaned.drop(columns="text"))
    assert raw["text"].str.contains("<br />", regex=False).all()
    assert not cleaned["text"].str.contains(r"[<>&;.,A-Z]").any()


def test_sequences_hold_every_review_once_with_its_label(preprocessed_workspace: Workspace) -> None:
    params = preprocessed_workspace.params
    arrays = readers.read_sequences(preprocessed_workspace)
    raw = readers.read_raw(preprocessed_workspace).set_index("review_id")
    for split in SPLITS:
        x, y, ids = arrays[f"x_{split}"], arrays[f"y_{split}"], arrays[f"ids_{split}"]
        assert x.dtype == np.int32 and y.dtype == np.int32
        assert x.shape == (len(ids), params.sequences.max_len) == (len(y), params.sequences.max_len)
        np.testing.assert_array_equal(y, raw.loc[ids, "label"].to_numpy())
        # pre-padding: a review shorter than max_len ends with its last token, never with padding.
        assert (x[:, -1] > 0).all()
    train_ids = set(arrays["ids_train"]) | set(arrays["ids_validation"])
    assert not set(arrays["ids_train"]) & set(arrays["ids_validation"])
    assert train_ids == set(raw.index[raw["split"] == "train"])
    assert set(arrays["ids_test"]) == set(raw.index[raw["split"] == "test"])


def test_the_validation_split_is_a_stratified_share_of_train(
    preprocessed_workspace: Workspace,
) -> None:
    arrays = readers.read_sequences(preprocessed_workspace)
    fraction = preprocessed_workspace.params.splits.validation_fraction
    training_size = len(arrays["y_train"]) + len(arrays["y_validation"])
    assert len(arrays["y_validation"]) == round(training_size * fraction)
    assert arrays["y_validation"].mean() == 0.5
    assert str(arrays["validation_split"]) == "random"  # synthetic reviews have no movie


def test_the_vocabulary_is_fitted_on_the_training_split_only(
    make_workspace: WorkspaceFactory, make_archive: ArchiveFactory
) -> None:
    files = small_review_files()
    files["aclImdb/test/pos/0_8.txt"] = "zebra zebra zebra zebra zebra"
    workspace = make_workspace(fetch=False)
    raw_stages.fetch_raw(workspace, archive=make_archive(files))
    preprocessing_stages.clean(workspace)
    preprocessing_stages.vocabulary(workspace)
    preprocessing_stages.sequences(workspace)
    vocabulary = readers.read_vocabulary(workspace)
    assert "zebra" not in vocabulary.word_index
    assert vocabulary.document_count == 4
    arrays = readers.read_sequences(workspace)
    zebra_row = arrays["x_test"][list(arrays["ids_test"]).index("test/pos/0")]
    assert zebra_row[-5:].tolist() == [1] * 5  # <OOV> five times, after the padding


def test_the_same_params_and_seed_write_the_same_bytes(make_workspace: WorkspaceFactory) -> None:
    first, second = make_workspace(preprocess=True), make_workspace(preprocess=True)
    for relative in (
        first.params.paths.clean_table,
        first.params.paths.vocabulary,
        first.params.paths.sequences,
    ):
        assert (first.root / relative).read_bytes() == (second.root / relative).read_bytes(), relative


def test_another_seed_moves_the_validation_split(make_workspace: WorkspaceFactory) -> None:
    first, second = make_workspace(preprocess=True), make_workspace({"seed": 7}, preprocess=True)
    # The synthetic reviews change with the seed too; compare which positions were held out.
    held_out = [
        sorted(
            int(review.rsplit("/", 1)[1]) for review in readers.read_sequences(workspace)["ids_validation"]
        )
        for workspace in (first, second)
    ]
    assert held_out[0] != held_out[1]


def test_the_vocabulary_artifact_is_versioned_json(preprocessed_workspace: Workspace) -> None:
    path = preprocessed_workspace.root / preprocessed_workspace.params.paths.vocabulary
    artifact = json.loads(path.read_text(encoding="utf-8"))
    assert artifact["format_version"] == 1
    assert artifact["settings"]["num_words"] == preprocessed_workspace.params.vocabulary.num_words
    assert artifact["word_index"]["<OOV>"] == 1
    indices = sorted(artifact["word_index"].values())
    assert indices == list(range(1, len(indices) + 1))
