"""Fetch and preprocess a 2,000-review sample of the shared IMDB archive (real reviews, real layout),
and the validation split of both shared archives: by movie on the 95k one, at random on the 45k one.

The sample (500 reviews per split and label) is built in a temp dir from ../shared/data/imdb; a test
is skipped, with the reason, when its archive is absent. Nothing from them enters the repository.
"""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import WorkspaceFactory
from sentiment import cli
from sentiment.checks.leakage import unlabeled_duplicates
from sentiment.checks.parts import dataset_parts, pretraining_texts
from sentiment.config import Params
from sentiment.data import cleaning, ingest
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import readers

pytestmark = pytest.mark.shared_data

PER_GROUP = 500
GROUP = re.compile(r"^aclImdb/(train|test)/(pos|neg)/\d+_\d+\.txt$")


@pytest.fixture(scope="module")
def sample_archive(shared_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 500 reviews of each of train/pos, train/neg, test/pos and test/neg, as a tar.gz."""
    target = tmp_path_factory.mktemp("sample") / "aclImdb_sample.tar.gz"
    taken: dict[tuple[str, ...], int] = {}
    with tarfile.open(shared_archive, "r|gz") as source, tarfile.open(target, "w:gz") as sample:
        for member in source:
            match = GROUP.match(member.name)
            if match is None or not member.isfile() or taken.get(match.groups(), 0) >= PER_GROUP:
                continue
            taken[match.groups()] = taken.get(match.groups(), 0) + 1
            sample.addfile(member, source.extractfile(member))
            if len(taken) == 4 and min(taken.values()) >= PER_GROUP:
                break
    assert sorted(taken.values()) == [PER_GROUP] * 4
    return target


def test_a_sample_of_real_reviews_goes_through_fetch_and_preprocessing(
    sample_archive: Path, make_workspace: WorkspaceFactory
) -> None:
    workspace = make_workspace(fetch=False)
    assert (
        cli.main(["--root", str(workspace.root), "fetch", "--no-record", "--archive", str(sample_archive)])
        == 0
    )
    raw = readers.read_raw(workspace)
    assert raw.groupby(["split", "label"]).size().tolist() == [PER_GROUP] * 4
    assert raw.loc[raw["label"] == 1, "rating"].between(7, 10).all()
    assert raw.loc[raw["label"] == 0, "rating"].between(1, 4).all()

    preprocessing_stages.clean(workspace)
    cleaned = readers.read_clean(workspace)
    assert not cleaned["text"].str.contains("<br", regex=False).any()
    assert (cleaned["text"].str.len() > 0).all()

    preprocessing_stages.vocabulary(workspace)
    vocabulary = readers.read_vocabulary(workspace)
    words = vocabulary.word_index
    assert words["<OOV>"] == 1
    assert vocabulary.words[0] == "the"  # no stopword removal by default
    for word in ("not", "good", "bad", "great", "movie", "film"):
        assert words[word] < 500, word
    assert "br" not in words  # the <br /> tags went with cleaning, not into the vocabulary
    assert all(re.fullmatch(r"[\w']+", word) for word in vocabulary.words)
    validation_size = round(2 * PER_GROUP * workspace.params.splits.validation_fraction)
    assert vocabulary.document_count == 2 * PER_GROUP - validation_size  # the training part only

    preprocessing_stages.sequences(workspace)
    arrays = readers.read_sequences(workspace)
    max_len = workspace.params.sequences.max_len
    assert arrays["x_train"].shape == (2 * PER_GROUP - validation_size, max_len)
    assert arrays["x_validation"].shape == (validation_size, max_len)
    assert arrays["x_test"].shape == (2 * PER_GROUP, max_len)
    assert arrays["y_validation"].mean() == 0.5 and arrays["y_test"].mean() == 0.5
    assert str(arrays["validation_split"]) == "random"  # the 45k archive has no URL lists: no movies
    assert all(arrays[f"x_{split}"].dtype == np.int32 for split in ("train", "validation", "test"))
    assert arrays["x_train"].max() < vocabulary.size
    # Words unseen in 900 training reviews: a minority of the test tokens, not most of them.
    test_tokens = arrays["x_test"][arrays["x_test"] > 0]
    assert 0.01 < np.mean(test_tokens == 1) < 0.15
    # Some reviews are longer than max_len: they are cut to it, with no padding left.
    long_reviews = arrays["lengths_test"] > max_len
    assert long_reviews.any()
    assert (arrays["x_test"][long_reviews] > 0).all()


def test_the_95k_archive_names_every_reviews_movie_and_validation_keeps_movies_apart(
    shared_archive_95k: Path, project_config: Params
) -> None:
    """Ingest and cleaning only (no pipeline): the URL lists give each review its movie, the default
    split is by movie, each label at its target share, no movie on both sides, and no unlabeled review
    in any part nor, where it copies a held-out review, in the texts to pretrain on."""
    table = ingest.read_reviews(shared_archive_95k)
    assert table.groupby("split").size().to_dict() == {"test": 20_000, "train": 25_000, "unsup": 49_944}
    assert table["movie"].notna().all() and table["movie"].str.fullmatch(r"tt[0-9]{7}").all()
    # train/pos/0 is about tt0453418 (line 0 of train/urls_pos.txt)
    assert table.set_index("review_id").loc["train/pos/0", "movie"] == "tt0453418"
    unlabeled = table[table["split"] == "unsup"]
    assert (unlabeled["label"] == ingest.UNLABELED).all() and (unlabeled["rating"] == 0).all()

    config = project_config
    parts = dataset_parts(table, config.validation.leakage, config.splits, config.seed)
    labeled_only = dataset_parts(
        table[table["split"] != "unsup"], config.validation.leakage, config.splits, config.seed
    )
    pd.testing.assert_frame_equal(parts.validation, labeled_only.validation)  # unlabeled: in no part
    assert parts.method == "movie"
    train_movies, validation_movies = set(parts.train["movie"]), set(parts.validation["movie"])
    assert not train_movies & validation_movies
    pool = pd.concat([parts.train, parts.validation])
    for label in (0, 1):
        target = round(int((pool["label"] == label).sum()) * config.splits.validation_fraction)
        assert int((parts.validation["label"] == label).sum()) == target, label
    assert 300 < len(validation_movies) < 400 < 3000 < len(train_movies)

    # Some unlabeled reviews are copies of test or validation reviews: none of them is pretrained on.
    clean = table.assign(text=list(cleaning.clean_texts(table["text"].tolist(), config.cleaning)))
    clean_parts = dataset_parts(clean, config.validation.leakage, config.splits, config.seed)
    texts = pretraining_texts(clean, clean_parts)
    held_out = set(clean_parts.validation["text"]) | set(clean_parts.test["text"])
    assert not set(texts) & held_out
    duplicates = set(unlabeled_duplicates(clean, set(clean_parts.validation["review_id"]))["unsup_id"])
    pretrained_unlabeled = {review_id for review_id in texts.index if review_id.startswith("train/unsup/")}
    assert len(duplicates) > 100 and len(pretrained_unlabeled) == 49_944 - len(duplicates)
    assert not duplicates & pretrained_unlabeled


def test_the_45k_archive_has_no_movies_and_falls_back_to_the_random_split(
    shared_archive: Path, project_config: Params
) -> None:
    table = ingest.read_reviews(shared_archive)
    assert table["movie"].isna().all()
    config = project_config
    parts = dataset_parts(table, config.validation.leakage, config.splits, config.seed)
    assert parts.method == "random"
    pool = len(parts.train) + len(parts.validation)
    assert abs(len(parts.validation) - pool * config.splits.validation_fraction) <= 1
