"""Fetch and preprocess a 2,000-review sample of the shared IMDB archive (real reviews, real layout).

The sample (500 reviews per split and label) is built in a temp dir from ../shared/data/imdb; the test
is skipped, with the reason, when that archive is absent. Nothing from it enters the repository.
"""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

import numpy as np
import pytest

from conftest import WorkspaceFactory
from sentiment import cli
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
    assert vocabulary.document_count == 2 * PER_GROUP

    preprocessing_stages.sequences(workspace)
    arrays = readers.read_sequences(workspace)
    max_len = workspace.params.sequences.max_len
    validation_size = round(2 * PER_GROUP * workspace.params.sequences.validation_fraction)
    assert arrays["x_train"].shape == (2 * PER_GROUP - validation_size, max_len)
    assert arrays["x_validation"].shape == (validation_size, max_len)
    assert arrays["x_test"].shape == (2 * PER_GROUP, max_len)
    assert arrays["y_validation"].mean() == 0.5 and arrays["y_test"].mean() == 0.5
    assert all(arrays[f"x_{split}"].dtype == np.int32 for split in ("train", "validation", "test"))
    assert arrays["x_train"].max() < vocabulary.size
    # Words unseen in 1,000 training reviews: a minority of the test tokens, not most of them.
    test_tokens = arrays["x_test"][arrays["x_test"] > 0]
    assert 0.01 < np.mean(test_tokens == 1) < 0.15
    # Some reviews are longer than max_len: they are cut to it, with no padding left.
    long_reviews = arrays["lengths_test"] > max_len
    assert long_reviews.any()
    assert (arrays["x_test"][long_reviews] > 0).all()
