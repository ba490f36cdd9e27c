"""Each review's movie, from the URL lists of the archive's labeled folders, and their bad inputs."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from conftest import SMALL_MOVIES, ArchiveFactory, movie_url, small_review_files
from sentiment.core.errors import DataError
from sentiment.data import movies, source_policy
from sentiment.data.ingest import read_reviews
from support.archives import unpack

WHERE = "archive.tar.gz:aclImdb/train/urls_pos.txt"


def test_each_line_gives_the_movie_id_of_its_url() -> None:
    data = f"{movie_url('tt0453418')}\nhttps://imdb.com/title/tt0000001/\r\nhttp://www.imdb.com/title/tt9\n"
    assert movies.parse_url_list(data.encode(), WHERE) == (["tt0453418", "tt0000001", "tt9"], WHERE)
    assert movies.parse_url_list(b"", WHERE).movies == []
    assert movies.parse_url_list(movie_url("tt1").encode(), WHERE).movies == ["tt1"]  # no final newline


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (f"{movie_url('tt1')}\n\n{movie_url('tt2')}\n", "URL list line 2 is not an IMDB movie URL"),
        (f"{movie_url('tt1')}\nhttp://www.imdb.com/name/nm0000001/\n", "line 2 is not an IMDB movie URL"),
        ("http://example.org/title/tt1/usercomments\n", "line 1 is not an IMDB movie URL"),
        ("http://www.imdb.com/title/tt/usercomments\n", "line 1 is not an IMDB movie URL"),
        (f" {movie_url('tt1')}\n", "line 1 is not an IMDB movie URL"),
        (f"{movie_url('tt1')}\n{movie_url('tt1')} and more\n", "line 2 is not"),
    ],
    ids=["empty-line", "a-person", "another-site", "no-number", "leading-space", "trailing-text"],
)
def test_a_malformed_line_is_named_with_its_number_and_the_file(data: str, expected: str) -> None:
    with pytest.raises(DataError, match=expected) as raised:
        movies.parse_url_list(data.encode(), WHERE)
    assert str(raised.value).endswith(f"[{WHERE}]")


def test_a_url_list_that_is_not_utf8_is_named() -> None:
    with pytest.raises(DataError, match="URL list is not valid UTF-8"):
        movies.parse_url_list(b"http://www.imdb.com/title/tt1/\xff\n", WHERE)


def expected_movies(table_ids: list[str]) -> list[str | None]:
    found = []
    for review_id in table_ids:
        split, sentiment, number = review_id.split("/")
        found.append(SMALL_MOVIES[(split, sentiment)][int(number)])
    return found


def test_an_archive_with_url_lists_gives_each_review_its_movie(make_archive: ArchiveFactory) -> None:
    table = read_reviews(make_archive(small_review_files(movies=True)))
    assert table["movie"].tolist() == expected_movies(table["review_id"].tolist())
    assert table.set_index("review_id").loc["train/neg/0", "movie"] == "tt0000001"


def test_an_archive_and_its_extracted_directory_give_the_same_movies(
    make_archive: ArchiveFactory, tmp_path: Path
) -> None:
    archive = make_archive(small_review_files(movies=True))
    with tarfile.open(archive) as opened:
        unpack(opened, tmp_path / "extracted")
    from_archive = read_reviews(archive)
    assert from_archive["movie"].notna().all()
    pd.testing.assert_frame_equal(read_reviews(tmp_path / "extracted"), from_archive)
    pd.testing.assert_frame_equal(read_reviews(tmp_path / "extracted" / "aclImdb"), from_archive)


def test_a_folder_without_a_url_list_has_null_movies(make_archive: ArchiveFactory) -> None:
    files = small_review_files(movies=True)
    del files["aclImdb/test/urls_neg.txt"]
    table = read_reviews(make_archive(files))
    unknown = table.loc[table["movie"].isna(), "review_id"].tolist()
    assert unknown == ["test/neg/0", "test/neg/1"]
    assert read_reviews(make_archive(small_review_files()))["movie"].isna().all()  # labeled-only archive


def test_a_url_list_shorter_than_the_ids_need_names_the_list_the_line_and_the_review(
    make_archive: ArchiveFactory, tmp_path: Path
) -> None:
    files = small_review_files(movies=True) | {"aclImdb/train/pos/2_9.txt": "A third review."}
    archive = make_archive(files)
    with pytest.raises(
        DataError, match=r"URL list has 2 lines: review .*train/pos/2_9\.txt needs line 3"
    ) as raised:
        read_reviews(archive)
    assert str(raised.value).endswith(f"[{archive}:aclImdb/train/urls_pos.txt]")
    with tarfile.open(archive) as opened:
        unpack(opened, tmp_path)
    with pytest.raises(DataError, match="URL list has 2 lines") as raised:
        read_reviews(tmp_path / "aclImdb")
    assert str(tmp_path / "aclImdb" / "train" / "urls_pos.txt") in str(raised.value)


def test_a_malformed_url_list_is_named_in_an_archive_and_a_directory(
    make_archive: ArchiveFactory, tmp_path: Path
) -> None:
    files = small_review_files(movies=True) | {
        "aclImdb/test/urls_pos.txt": f"{movie_url('tt1')}\nnot a url\n"
    }
    archive = make_archive(files)
    with pytest.raises(DataError, match="URL list line 2 is not an IMDB movie URL") as raised:
        read_reviews(archive)
    assert f"{archive}:aclImdb/test/urls_pos.txt" in str(raised.value)
    with tarfile.open(archive) as opened:
        unpack(opened, tmp_path)
    with pytest.raises(DataError, match="URL list line 2") as raised:
        read_reviews(tmp_path)
    assert str(tmp_path / "aclImdb" / "test" / "urls_pos.txt") in str(raised.value)


def test_the_unlabeled_reviews_url_list_is_read_like_the_others(
    make_archive: ArchiveFactory, tmp_path: Path
) -> None:
    files = small_review_files(movies=True)
    table = read_reviews(make_archive(files)).set_index("review_id")
    assert table.loc["train/unsup/0", "movie"] == SMALL_MOVIES["train", "unsup"][0]
    del files["aclImdb/train/urls_unsup.txt"]
    table = read_reviews(make_archive(files)).set_index("review_id")
    assert pd.isna(table.loc["train/unsup/0", "movie"])  # no list: null movies, as for a labeled folder
    assert table.drop(index="train/unsup/0")["movie"].notna().all()
    bad = small_review_files(movies=True) | {"aclImdb/train/urls_unsup.txt": b"\xff not a list"}
    archive = make_archive(bad)
    with pytest.raises(DataError, match="URL list is not valid UTF-8") as raised:
        read_reviews(archive)
    assert f"{archive}:aclImdb/train/urls_unsup.txt" in str(raised.value)
    with tarfile.open(archive) as opened:
        unpack(opened, tmp_path)
    with pytest.raises(DataError, match="URL list is not valid UTF-8") as raised:
        read_reviews(tmp_path)
    assert str(tmp_path / "aclImdb" / "train" / "urls_unsup.txt") in str(raised.value)


def test_a_url_list_over_the_size_limit_is_refused(
    make_archive: ArchiveFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = small_review_files(movies=True)
    limit = len(files["aclImdb/train/urls_neg.txt"]) - 1
    monkeypatch.setattr(source_policy, "MAX_URL_LIST_BYTES", limit)
    archive = make_archive(files)
    with pytest.raises(DataError, match=f"URL list is larger than {limit} bytes") as raised:
        read_reviews(archive)
    assert "urls_" in str(raised.value)
    with tarfile.open(archive) as opened:
        unpack(opened, tmp_path)
    with pytest.raises(DataError, match="URL list is larger than"):
        read_reviews(tmp_path)
    assert movies.MAX_URL_LIST_BYTES == 4 * 1024 * 1024  # the real bound: IMDB's lists are 612,500 bytes


def test_a_url_list_that_is_a_link_is_refused_not_followed(
    make_archive: ArchiveFactory, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text(f"{movie_url('tt7')}\n{movie_url('tt8')}\n", encoding="utf-8")
    with tarfile.open(make_archive(small_review_files(movies=True))) as opened:
        unpack(opened, tmp_path / "source")
    listed = tmp_path / "source" / "aclImdb" / "train" / "urls_pos.txt"
    listed.unlink()
    listed.symlink_to(outside)
    with pytest.raises(DataError, match="URL list is a symbolic link, not a regular file") as raised:
        read_reviews(tmp_path / "source")
    assert str(listed) in str(raised.value)
    listed.unlink()
    os.mkfifo(listed)
    with pytest.raises(DataError, match="URL list is a FIFO, not a regular file"):
        read_reviews(tmp_path / "source")


def archive_with_member(path: Path, member: tarfile.TarInfo, data: bytes | None = None) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in small_review_files(movies=True).items():
            if name != member.name:
                info = tarfile.TarInfo(name)
                info.size = len(text.encode())
                archive.addfile(info, io.BytesIO(text.encode()))
        archive.addfile(member, None if data is None else io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    ("kind", "expected"),
    [(tarfile.SYMTYPE, "symbolic link"), (tarfile.LNKTYPE, "hard link"), (tarfile.DIRTYPE, "directory")],
)
def test_a_url_list_member_that_is_not_a_regular_file_is_refused(
    tmp_path: Path, kind: bytes, expected: str
) -> None:
    member = tarfile.TarInfo("aclImdb/test/urls_neg.txt")
    member.type, member.linkname = kind, "/etc/passwd"
    archive = archive_with_member(tmp_path / "archive.tar.gz", member)
    with pytest.raises(DataError, match=f"URL list is a {expected}, not a regular file") as raised:
        read_reviews(archive)
    assert f"{archive}:aclImdb/test/urls_neg.txt" in str(raised.value)


def test_a_url_list_twice_in_an_archive_is_refused(tmp_path: Path) -> None:
    member = tarfile.TarInfo("aclImdb/train/urls_neg.txt")
    data = f"{movie_url('tt5')}\n{movie_url('tt6')}\n".encode()
    member.size = len(data)
    path = tmp_path / "archive.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, text in small_review_files(movies=True).items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            archive.addfile(info, io.BytesIO(text.encode()))
        archive.addfile(member, io.BytesIO(data))  # the same list again, with other movies
    with pytest.raises(DataError, match=r"URL list train/urls_neg\.txt appears twice"):
        read_reviews(path)
