"""Reading the aclImdb layout from a tar archive or a directory into one table, and its bad inputs."""

from __future__ import annotations

import io
import os
import re
import signal
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from conftest import ArchiveFactory, small_review_files
from sentiment.core.errors import DataError
from sentiment.data import source_policy
from sentiment.data.ingest import COLUMNS, read_reviews
from support.archives import unpack


def test_an_archive_gives_one_row_per_review(make_archive: ArchiveFactory) -> None:
    table = read_reviews(make_archive())
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == 9  # the README is not a review
    assert table.groupby(["split", "label"]).size().to_dict() == {
        ("test", 0): 2, ("test", 1): 2, ("train", 0): 2, ("train", 1): 2, ("unsup", -1): 1,
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
        unpack(archive, tmp_path / "extracted")
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
        unpack(archive, tmp_path)
    with pytest.raises(DataError, match="not valid UTF-8") as raised:
        read_reviews(tmp_path / "aclImdb")
    assert str(tmp_path / "aclImdb" / "train" / "neg" / "5_2.txt") in str(raised.value)


def test_a_directory_without_acl_imdb_is_named(tmp_path: Path) -> None:
    (tmp_path / "train" / "pos").mkdir(parents=True)
    with pytest.raises(DataError, match="expected an 'aclImdb' directory") as raised:
        read_reviews(tmp_path)
    assert str(tmp_path) in str(raised.value)


# --- one safe reader for archives and directories: links, special files, sizes, ids and ratings ----


def extracted(
    make_archive: ArchiveFactory, tmp_path: Path, files: dict[str, str | bytes] | None = None
) -> Path:
    """The archive of `files` (default: the small review files) extracted into a directory; its aclImdb/."""
    with tarfile.open(make_archive(files)) as archive:
        unpack(archive, tmp_path / "extracted")
    return tmp_path / "extracted" / "aclImdb"


@pytest.fixture()
def alarm() -> Iterator[None]:
    """Fail a test that blocks (a FIFO opened for reading waits for a writer forever) after 10 s."""

    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("the reader blocked")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(10)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def link_outside(entry: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    entry.symlink_to(secret)


DIRECTORY_SPOILERS: dict[str, tuple[Callable[[Path, Path], None], str]] = {
    "link-outside": (link_outside, "is a symbolic link, not a regular file"),
    "link-to-dev-zero": (lambda entry, tmp: entry.symlink_to("/dev/zero"), "is a symbolic link"),
    "link-to-sibling": (lambda entry, tmp: entry.symlink_to("1_10.txt"), "is a symbolic link"),
    "self-loop": (lambda entry, tmp: entry.symlink_to(entry.name), "is a symbolic link"),
    "fifo": (lambda entry, tmp: os.mkfifo(entry), "is a FIFO, not a regular file"),
    "directory": (lambda entry, tmp: entry.mkdir(), "is a directory, not a regular file"),
}


@pytest.mark.parametrize("case", sorted(DIRECTORY_SPOILERS))
def test_a_review_entry_that_is_not_a_regular_file_is_refused_in_a_directory(
    case: str, make_archive: ArchiveFactory, tmp_path: Path, alarm: None
) -> None:
    root = extracted(make_archive, tmp_path)
    entry = root / "train" / "pos" / "3000_9.txt"
    spoil, expected = DIRECTORY_SPOILERS[case]
    spoil(entry, tmp_path)
    with pytest.raises(DataError, match=expected) as raised:
        read_reviews(root)
    assert str(entry) in str(raised.value)


def test_a_linked_folder_is_not_followed(make_archive: ArchiveFactory, tmp_path: Path) -> None:
    root = extracted(make_archive, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    (root / "test" / "neg").rename(elsewhere)
    (root / "test" / "neg").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(DataError, match="is a symbolic link, not a directory") as raised:
        read_reviews(root)
    assert str(root / "test" / "neg") in str(raised.value)


def test_links_and_special_files_outside_the_review_folders_are_ignored(
    make_archive: ArchiveFactory, tmp_path: Path, alarm: None
) -> None:
    root = extracted(make_archive, tmp_path)
    (root / "loop").symlink_to("loop")
    (root / "train" / "unsup" / "notes").symlink_to("/etc/passwd")
    (root / "test" / "unsup").mkdir()  # not a folder of the layout (unlabeled reviews are in train)
    (root / "test" / "unsup" / "9_0.txt").symlink_to("/etc/passwd")
    os.mkfifo(root / "train" / "pipe")
    (root / "train" / "pos" / "notes").symlink_to("notes")
    pd.testing.assert_frame_equal(read_reviews(root), read_reviews(make_archive()))


def tar_with(member: tarfile.TarInfo, data: bytes = b"") -> Callable[[Path], None]:
    def write(path: Path) -> None:
        files = small_review_files()
        with tarfile.open(path, "w:gz") as archive:
            for name, text in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(text.encode("utf-8"))
                archive.addfile(info, io.BytesIO(text.encode("utf-8")))
            archive.addfile(member, io.BytesIO(data) if data else None)

    return write


def special_member(kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo("aclImdb/train/pos/3000_9.txt")
    member.type, member.linkname = kind, linkname
    return member


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        (special_member(tarfile.SYMTYPE, "/etc/passwd"), "is a symbolic link, not a regular file"),
        (special_member(tarfile.LNKTYPE, "aclImdb/train/pos/0_8.txt"), "is a hard link, not a regular file"),
        (special_member(tarfile.FIFOTYPE), "is a FIFO, not a regular file"),
        (special_member(tarfile.CHRTYPE), "is a character device, not a regular file"),
        (special_member(tarfile.DIRTYPE), "is a directory, not a regular file"),
    ],
    ids=["symlink", "hardlink", "fifo", "device", "directory"],
)
def test_a_review_entry_that_is_not_a_regular_file_is_refused_in_an_archive(
    tmp_path: Path, member: tarfile.TarInfo, expected: str
) -> None:
    archive = tmp_path / "special.tar.gz"
    tar_with(member)(archive)
    with pytest.raises(DataError, match=expected) as raised:
        read_reviews(archive)
    assert f"{archive}:aclImdb/train/pos/3000_9.txt" in str(raised.value)


def test_a_source_that_is_a_special_file_is_refused(tmp_path: Path, alarm: None) -> None:
    os.mkfifo(tmp_path / "archive.tar.gz")
    with pytest.raises(DataError, match="neither a regular file nor a directory"):
        read_reviews(tmp_path / "archive.tar.gz")
    with pytest.raises(DataError, match="neither a regular file nor a directory"):
        read_reviews(Path("/dev/zero"))


def test_a_review_over_the_size_limit_is_named(make_archive: ArchiveFactory, tmp_path: Path) -> None:
    big = "x" * (source_policy.MAX_REVIEW_BYTES + 1)
    files: dict[str, str | bytes] = {**small_review_files(), "aclImdb/train/pos/7_9.txt": big}
    archive = make_archive(files)
    with pytest.raises(DataError, match="review file is larger than 1 MiB") as raised:
        read_reviews(archive)
    assert f"{archive}:aclImdb/train/pos/7_9.txt" in str(raised.value)
    root = extracted(make_archive, tmp_path, files)
    with pytest.raises(DataError, match="review file is larger than 1 MiB") as raised:
        read_reviews(root)
    assert str(root / "train" / "pos" / "7_9.txt") in str(raised.value)


def test_a_review_of_exactly_the_size_limit_is_read(make_archive: ArchiveFactory) -> None:
    files: dict[str, str | bytes] = {
        **small_review_files(),
        "aclImdb/train/pos/7_9.txt": "x" * source_policy.MAX_REVIEW_BYTES,
    }
    table = read_reviews(make_archive(files)).set_index("review_id")
    assert len(table.loc["train/pos/7", "text"]) == source_policy.MAX_REVIEW_BYTES


def test_a_review_is_read_with_bounded_reads(
    make_archive: ArchiveFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that grows after it was listed (or a tar member whose header lies) is never read whole."""
    monkeypatch.setattr(source_policy, "MAX_REVIEW_BYTES", 100)
    root = extracted(make_archive, tmp_path)
    entry = root / "train" / "pos" / "0_8.txt"
    real_open = os.open

    def grow_then_open(path: object, *args: object, **kwargs: object) -> int:
        if path == entry.name:
            entry.write_bytes(b"y" * 10_000)
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    sizes: list[int] = []
    real_read = os.read

    def counted_read(descriptor: int, size: int) -> bytes:
        sizes.append(size)
        return real_read(descriptor, size)

    monkeypatch.setattr(os, "open", grow_then_open)
    monkeypatch.setattr(os, "read", counted_read)
    with pytest.raises(DataError, match="review file is larger than 100 bytes") as raised:
        read_reviews(root)
    assert str(entry) in str(raised.value)
    assert sizes and max(sizes) <= 101


def test_an_archive_that_expands_past_the_limit_is_named(
    make_archive: ArchiveFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source_policy, "MAX_SOURCE_BYTES", 64 * 1024)
    files: dict[str, str | bytes] = {**small_review_files(), "aclImdb/README.md": b"\0" * 200_000}
    archive = make_archive(files)
    assert archive.stat().st_size < 2000  # a bomb: 200 kB of zeros compress to almost nothing
    with pytest.raises(DataError, match="expands to more than 64 KiB") as raised:
        read_reviews(archive)
    assert str(archive) in str(raised.value)
    many = {**small_review_files(), **{f"aclImdb/train/pos/{n}_9.txt": "y" * 5000 for n in range(100, 120)}}
    root = extracted(make_archive, tmp_path, many)
    with pytest.raises(DataError, match="hold more than 64 KiB of reviews") as raised:
        read_reviews(root)
    assert str(root) in str(raised.value)


def test_too_many_entries_are_named(
    make_archive: ArchiveFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source_policy, "MAX_ENTRIES", 10)
    files = {**small_review_files(), **{f"aclImdb/train/pos/{n}_9.txt": "fine" for n in range(100, 120)}}
    archive = make_archive(files)
    with pytest.raises(DataError, match="more than 10 entries") as raised:
        read_reviews(archive)
    assert str(archive) in str(raised.value)
    root = extracted(make_archive, tmp_path, files)
    with pytest.raises(DataError, match="more than 10 entries") as raised:
        read_reviews(root)
    assert str(root) in str(raised.value)


def test_a_huge_tar_header_is_refused_before_it_is_read(tmp_path: Path) -> None:
    member = tarfile.TarInfo("aclImdb/train/pos/3000_9.txt")
    member.pax_headers = {"comment": "z" * (2 * 1024 * 1024)}
    member.size = 4
    archive = tmp_path / "pax.tar.gz"
    with tarfile.open(archive, "w:gz", format=tarfile.PAX_FORMAT) as opened:
        for name, text in small_review_files().items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode("utf-8"))
            opened.addfile(info, io.BytesIO(text.encode("utf-8")))
        opened.addfile(member, io.BytesIO(b"good"))
    with pytest.raises(DataError, match="tar header of more than 64 KiB") as raised:
        read_reviews(archive)
    assert str(archive) in str(raised.value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("aclImdb/train/pos/1009_265.txt", "rating 265 is out of range 1-10"),
        ("aclImdb/train/pos/1009_0.txt", "rating 0 is out of range 1-10"),
        ("aclImdb/test/neg/1009_11.txt", "rating 11 is out of range 1-10"),
        ("aclImdb/test/neg/1009_" + "9" * 5000 + ".txt", "rating 9999999999... is out of range 1-10"),
        ("aclImdb/train/neg/" + "1" * 24 + "_2.txt", "review id has 24 digits (at most 18)"),
    ],
    ids=["rating-265", "rating-0", "rating-11", "rating-5000-digits", "id-24-digits"],
)
def test_an_out_of_range_rating_or_id_is_named(
    make_archive: ArchiveFactory, tmp_path: Path, name: str, expected: str
) -> None:
    files: dict[str, str | bytes] = {**small_review_files(), name: "A review."}
    archive = make_archive(files)
    with pytest.raises(DataError, match=re.escape(expected)) as raised:
        read_reviews(archive)
    assert f"{archive}:{name}" in str(raised.value)
    if len(name.rsplit("/", 1)[1]) <= 255:  # a file name the file system can hold
        root = extracted(make_archive, tmp_path, files)
        with pytest.raises(DataError, match=re.escape(expected)) as raised:
            read_reviews(root)
        assert str(root.parent / name) in str(raised.value)


def test_the_largest_id_and_every_rating_are_read(make_archive: ArchiveFactory) -> None:
    files: dict[str, str | bytes] = {
        **small_review_files(),
        "aclImdb/train/pos/" + "9" * 18 + "_10.txt": "Top.",
    }
    files |= {f"aclImdb/test/neg/{100 + rating}_{rating}.txt": "Fine." for rating in range(1, 11)}
    table = read_reviews(make_archive(files)).set_index("review_id")
    assert table.loc["train/pos/" + "9" * 18, "rating"] == 10
    assert sorted(table.loc[[f"test/neg/{100 + r}" for r in range(1, 11)], "rating"]) == list(range(1, 11))


def test_a_review_id_twice_is_named(make_archive: ArchiveFactory) -> None:
    files: dict[str, str | bytes] = {**small_review_files(), "aclImdb/train/pos/1_9.txt": "Again, rated 9."}
    archive = make_archive(files)  # aclImdb/train/pos/1_10.txt is there too
    with pytest.raises(DataError, match="review id train/pos/1 appears twice") as raised:
        read_reviews(archive)
    assert "aclImdb/train/pos/1_10.txt" in str(raised.value)
    assert "aclImdb/train/pos/1_9.txt" in str(raised.value)


def chained_headers(kind: str, count: int) -> bytes:
    """A plain tar whose README member comes after `count` extended headers in a row."""
    out = io.BytesIO()
    for _ in range(count):
        header = tarfile.TarInfo("././@LongLink" if kind == "gnu" else "pax")
        header.type = tarfile.GNUTYPE_LONGNAME if kind == "gnu" else tarfile.XHDTYPE
        record = b"aclImdb/README\0" if kind == "gnu" else b"18 comment=abcdef\n"
        header.size = len(record)
        out.write(header.tobuf(format=tarfile.GNU_FORMAT if kind == "gnu" else tarfile.USTAR_FORMAT))
        out.write(record.ljust(tarfile.BLOCKSIZE, b"\0"))
    member = tarfile.TarInfo("aclImdb/README")
    member.size = 2
    out.write(member.tobuf(format=tarfile.USTAR_FORMAT) + b"hi".ljust(tarfile.BLOCKSIZE, b"\0"))
    return out.getvalue() + b"\0" * 2 * tarfile.BLOCKSIZE


@pytest.mark.parametrize("kind", ["gnu", "pax"])
def test_a_chain_of_extended_headers_is_named_not_a_recursion_error(tmp_path: Path, kind: str) -> None:
    archive = tmp_path / "chain.tar"
    archive.write_bytes(chained_headers(kind, 3000))
    with pytest.raises(DataError, match="more than 8 tar extended headers in a row") as raised:
        read_reviews(archive)
    assert str(archive) in str(raised.value)


def sparse_archive(path: Path, kind: str) -> None:
    files = small_review_files()
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        for name, text in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(text.encode("utf-8"))
            archive.addfile(info, io.BytesIO(text.encode("utf-8")))
        member = tarfile.TarInfo("aclImdb/train/pos/5_9.txt")
        data = b"9" * 10
        if kind == "gnu":
            member.type = tarfile.GNUTYPE_SPARSE
        else:  # GNU sparse 1.0: the map ("count, then offset and size per line") opens the data
            member.pax_headers = {
                "GNU.sparse.major": "1",
                "GNU.sparse.minor": "0",
                "GNU.sparse.realsize": "10",
            }
            data = b"99999999\n" + b"0\n10\n" * 5 + data
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))


@pytest.mark.parametrize("kind", ["gnu", "pax-1.0"])
def test_a_sparse_member_is_refused(tmp_path: Path, kind: str) -> None:
    archive = tmp_path / "sparse.tar"
    sparse_archive(archive, kind)
    with pytest.raises(DataError, match=r"sparse tar member .* is not supported") as raised:
        read_reviews(archive)
    assert str(archive) in str(raised.value)
