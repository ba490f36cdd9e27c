"""The unlabeled reviews (aclImdb/train/unsup/<id>_0.txt): read from archives and directories under the
same policy as the labeled ones, as rows of split "unsup" with no label and rating 0."""

from __future__ import annotations

import io
import os
import re
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from conftest import ArchiveFactory, movie_url, small_review_files
from sentiment.core.errors import DataError
from sentiment.data.ingest import UNLABELED, read_reviews
from support.archives import unpack

UNSUP_FILES = {
    "aclImdb/train/unsup/0_0.txt": "An unlabeled review.<br />Read as text, never as a label.",
    "aclImdb/train/unsup/2_0.txt": "Another one, about a film I saw twice.",
    "aclImdb/train/unsup/10_0.txt": "A third, longer than the others &amp; with an entity.",
}


def files_with_unlabeled(movies: bool = False) -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {**small_review_files(movies=movies), **UNSUP_FILES}
    if movies:
        lines = [movie_url(f"tt00001{number:02d}") for number in range(11)]
        files["aclImdb/train/urls_unsup.txt"] = "".join(f"{line}\n" for line in lines)
    return files


def extract(archive: Path, target: Path) -> Path:
    with tarfile.open(archive) as opened:
        unpack(opened, target)
    return target / "aclImdb"


def test_unlabeled_reviews_are_rows_of_split_unsup_without_a_label(
    make_archive: ArchiveFactory, tmp_path: Path
) -> None:
    archive = make_archive(files_with_unlabeled(movies=True))
    table = read_reviews(archive)
    unlabeled = table[table["split"] == "unsup"]
    assert UNLABELED == -1
    assert unlabeled["review_id"].tolist() == ["train/unsup/0", "train/unsup/2", "train/unsup/10"]
    assert (unlabeled["label"] == UNLABELED).all() and (unlabeled["rating"] == 0).all()
    assert unlabeled["text"].tolist() == list(UNSUP_FILES.values())
    assert unlabeled["movie"].tolist() == ["tt0000100", "tt0000102", "tt0000110"]  # line <id> of the list
    # After the labeled reviews, which keep their labels, ratings and movies.
    assert table["split"].tolist() == ["test"] * 4 + ["train"] * 4 + ["unsup"] * 3
    labeled = table[table["split"] != "unsup"]
    assert set(labeled["label"]) == {0, 1} and labeled["rating"].between(1, 10).all()
    assert labeled["movie"].notna().all()
    pd.testing.assert_frame_equal(read_reviews(extract(archive, tmp_path)), table)


def test_an_archive_without_unlabeled_reviews_has_no_unsup_rows(make_archive: ArchiveFactory) -> None:
    labeled_only = {name: text for name, text in small_review_files().items() if "/unsup/" not in name}
    table = read_reviews(make_archive(labeled_only))
    assert len(table) == 8 and set(table["split"]) == {"train", "test"}


def test_unlabeled_reviews_have_null_movies_without_their_url_list(make_archive: ArchiveFactory) -> None:
    table = read_reviews(make_archive(files_with_unlabeled()))
    assert table.loc[table["split"] == "unsup", "movie"].isna().all()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("aclImdb/train/unsup/5_7.txt", "unlabeled review rating 7 is not 0"),
        ("aclImdb/train/unsup/5_10.txt", "unlabeled review rating 10 is not 0"),
        ("aclImdb/train/unsup/5_" + "0" * 200 + ".txt", "unlabeled review rating 0000000000... is not 0"),
        ("aclImdb/train/pos/5_0.txt", "review rating 0 is out of range 1-10"),
        ("aclImdb/train/unsup/" + "1" * 24 + "_0.txt", "review id has 24 digits (at most 18)"),
    ],
    ids=["unsup-rating-7", "unsup-rating-10", "unsup-rating-200-digits", "labeled-rating-0", "unsup-id-24"],
)
def test_a_wrong_rating_or_id_is_named_in_an_archive_and_a_directory(
    make_archive: ArchiveFactory, tmp_path: Path, name: str, expected: str
) -> None:
    files = {**files_with_unlabeled(), name: "A review of some words."}
    archive = make_archive(files)
    with pytest.raises(DataError, match=re.escape(expected)) as raised:
        read_reviews(archive)
    assert f"{archive}:{name}" in str(raised.value)
    root = extract(archive, tmp_path)
    with pytest.raises(DataError, match=re.escape(expected)) as raised:
        read_reviews(root)
    assert str(root.parent / name) in str(raised.value)


def test_an_unlabeled_id_twice_is_named(make_archive: ArchiveFactory) -> None:
    archive = make_archive({**files_with_unlabeled(), "aclImdb/train/unsup/02_0.txt": "Again, review two."})
    with pytest.raises(DataError, match="review id train/unsup/2 appears twice") as raised:
        read_reviews(archive)
    assert "aclImdb/train/unsup/2_0.txt" in str(raised.value)
    assert "aclImdb/train/unsup/02_0.txt" in str(raised.value)


def test_an_unlabeled_review_that_is_a_link_is_refused_in_a_directory(
    make_archive: ArchiveFactory, tmp_path: Path
) -> None:
    root = extract(make_archive(files_with_unlabeled()), tmp_path)
    link = root / "train" / "unsup" / "7_0.txt"
    link.symlink_to("/etc/passwd")
    with pytest.raises(DataError, match="review entry is a symbolic link, not a regular file") as raised:
        read_reviews(root)
    assert str(link) in str(raised.value)
    link.unlink()
    os.mkfifo(link)
    with pytest.raises(DataError, match="review entry is a FIFO, not a regular file"):
        read_reviews(root)


def test_a_linked_unlabeled_folder_is_not_followed(make_archive: ArchiveFactory, tmp_path: Path) -> None:
    root = extract(make_archive(files_with_unlabeled()), tmp_path / "source")
    elsewhere = tmp_path / "elsewhere"
    (root / "train" / "unsup").rename(elsewhere)
    (root / "train" / "unsup").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(DataError, match="review folder is a symbolic link, not a directory") as raised:
        read_reviews(root)
    assert str(root / "train" / "unsup") in str(raised.value)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (tarfile.SYMTYPE, "review entry is a symbolic link, not a regular file"),
        (tarfile.LNKTYPE, "review entry is a hard link, not a regular file"),
    ],
    ids=["symlink", "hardlink"],
)
def test_an_unlabeled_review_that_is_a_link_is_refused_in_an_archive(
    tmp_path: Path, kind: bytes, expected: str
) -> None:
    archive = tmp_path / "linked.tar"
    with tarfile.open(archive, "w") as opened:
        for name, text in small_review_files().items():
            info = tarfile.TarInfo(name)
            data = text.encode("utf-8")
            info.size = len(data)
            opened.addfile(info, io.BytesIO(data))
        member = tarfile.TarInfo("aclImdb/train/unsup/9_0.txt")
        member.type, member.linkname = kind, "aclImdb/train/unsup/0_0.txt"
        opened.addfile(member)
    with pytest.raises(DataError, match=expected) as raised:
        read_reviews(archive)
    assert f"{archive}:aclImdb/train/unsup/9_0.txt" in str(raised.value)


@pytest.mark.parametrize(
    ("url_list", "expected"),
    [
        (f"{movie_url('tt1')}\nnot a url\n", "URL list line 2 is not an IMDB movie URL"),
        (f"{movie_url('tt1')}\n", r"URL list has 1 lines: review \S+/train/unsup/[0-9]+_0\.txt needs line"),
    ],
    ids=["malformed-line", "too-short"],
)
def test_a_bad_unlabeled_url_list_is_named(
    make_archive: ArchiveFactory, tmp_path: Path, url_list: str, expected: str
) -> None:
    files = {**files_with_unlabeled(movies=True), "aclImdb/train/urls_unsup.txt": url_list}
    archive = make_archive(files)
    with pytest.raises(DataError, match=expected) as raised:
        read_reviews(archive)
    assert f"{archive}:aclImdb/train/urls_unsup.txt" in str(raised.value)
    root = extract(archive, tmp_path)
    with pytest.raises(DataError, match=expected) as raised:
        read_reviews(root)
    assert str(root / "train" / "urls_unsup.txt") in str(raised.value)


def test_an_unlabeled_url_list_that_is_a_link_is_refused(
    make_archive: ArchiveFactory, tmp_path: Path
) -> None:
    root = extract(make_archive(files_with_unlabeled(movies=True)), tmp_path)
    url_list = root / "train" / "urls_unsup.txt"
    url_list.unlink()
    url_list.symlink_to(root / "train" / "urls_pos.txt")
    with pytest.raises(DataError, match="URL list is a symbolic link, not a regular file") as raised:
        read_reviews(root)
    assert str(url_list) in str(raised.value)
