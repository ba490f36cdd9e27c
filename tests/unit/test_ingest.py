"""Reading the aclImdb layout from a tar archive or a directory into one table, and its bad inputs."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pandas as pd
import pytest

from conftest import ArchiveFactory, small_review_files
from sentiment.core.errors import DataError
from sentiment.data.ingest import COLUMNS, read_reviews


def test_an_archive_gives_one_row_per_labeled_review(make_archive: ArchiveFactory) -> None:
    table = read_reviews(make_archive())
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == 8  # unsup/, README and the URL lists are not reviews
    assert table.groupby(["split", "label"]).size().to_dict() == {
        ("test", 0): 2, ("test", 1): 2, ("train", 0): 2, ("train", 1): 2,
    }  # fmt: skip
    row = table.set_index("review_id").loc["train/pos/1"]
    assert (row["label"], row["rating"], row["split"]) == (1, 10, "train")
    assert row["text"] == "A pos train review number 1.<br /><br />It rates 10 &amp; more."
    assert set(table.loc[table["label"] == 0, "rating"]) == {1, 3}


def test_rows_come_in_one_canonical_order_whatever_the_archive_order(make_archive: ArchiveFactory) -> None:
    files = small_review_files()
    forward = read_reviews(make_archive(files, name="forward.tar.gz"))
    backward = read_reviews(make_archive(dict(reversed(files.items())), name="backward.tar.gz"))
    pd.testing.assert_frame_equal(forward, backward)
    assert forward["review_id"].tolist()[:3] == ["test/neg/0", "test/neg/1", "test/pos/0"]


def test_an_uncompressed_tar_and_an_extracted_directory_read_the_same(
    make_archive: ArchiveFactory, tmp_path: Path
) -> None:
    expected = read_reviews(make_archive())
    pd.testing.assert_frame_equal(read_reviews(make_archive(name="plain.tar", compression="")), expected)
    with tarfile.open(make_archive()) as archive:
        archive.extractall(tmp_path / "extracted", filter="data")
    pd.testing.assert_frame_equal(read_reviews(tmp_path / "extracted" / "aclImdb"), expected)
    pd.testing.assert_frame_equal(read_reviews(tmp_path / "extracted"), expected)


def corrupt(path: Path) -> None:
    path.write_bytes(b"this is not a tar archive\n" * 40)


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (corrupt, "archive is corrupt or not a tar archive"),
        (truncate, "archive is corrupt or not a tar archive"),
        (lambda path: path.write_bytes(b""), "archive is corrupt or not a tar archive"),
        (lambda path: path.unlink(), "review source not found"),
    ],
    ids=["garbage", "truncated", "zero-bytes", "missing"],
)
def test_a_broken_archive_is_named(make_archive: ArchiveFactory, spoil: object, expected: str) -> None:
    archive = make_archive(
        small_review_files() | {f"aclImdb/train/pos/{n}_9.txt": "x " * 5000 for n in range(10, 40)}
    )
    spoil(archive)  # type: ignore[operator]
    with pytest.raises(DataError, match=expected) as raised:
        read_reviews(archive)
    assert str(archive) in str(raised.value)


def without(prefix: str) -> dict[str, str]:
    return {name: text for name, text in small_review_files().items() if not name.startswith(prefix)}


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (without("aclImdb/test/neg/"), "no reviews under aclImdb/test/neg/"),
        (without("aclImdb/train/"), "no reviews under aclImdb/train/"),
        (
            {name.replace("aclImdb/", "imdb/"): text for name, text in small_review_files().items()},
            "wrong layout",
        ),
        (
            {name.replace(".txt", ".text"): text for name, text in small_review_files().items()},
            "wrong layout",
        ),
    ],
    ids=["no-test-neg", "no-train", "other-top-directory", "other-file-names"],
)
def test_a_wrong_layout_is_named(make_archive: ArchiveFactory, files: dict[str, str], expected: str) -> None:
    archive = make_archive(files)
    with pytest.raises(DataError, match=expected) as raised:
        read_reviews(archive)
    assert str(archive) in str(raised.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "review file is empty"),
        (b"  \n\t ", "review file is empty"),
        (b"caf\xe9 latte", "not valid UTF-8"),
    ],
    ids=["empty", "blank", "latin-1"],
)
def test_a_bad_review_file_is_named_in_an_archive(
    make_archive: ArchiveFactory, content: bytes, expected: str
) -> None:
    archive = make_archive({**small_review_files(), "aclImdb/test/pos/7_9.txt": content})
    with pytest.raises(DataError, match=expected) as raised:
        read_reviews(archive)
    assert f"{archive}:aclImdb/test/pos/7_9.txt" in str(raised.value)


def test_a_bad_review_file_is_named_in_a_directory(make_archive: ArchiveFactory, tmp_path: Path) -> None:
    with tarfile.open(
        make_archive({**small_review_files(), "aclImdb/train/neg/5_2.txt": b"\xff\xfe"})
    ) as archive:
        archive.extractall(tmp_path, filter="data")
    with pytest.raises(DataError, match="not valid UTF-8") as raised:
        read_reviews(tmp_path / "aclImdb")
    assert str(tmp_path / "aclImdb" / "train" / "neg" / "5_2.txt") in str(raised.value)


def test_a_directory_without_acl_imdb_is_named(tmp_path: Path) -> None:
    (tmp_path / "train" / "pos").mkdir(parents=True)
    with pytest.raises(DataError, match="expected an 'aclImdb' directory") as raised:
        read_reviews(tmp_path)
    assert str(tmp_path) in str(raised.value)
