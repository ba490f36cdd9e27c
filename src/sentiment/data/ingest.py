"""Read IMDB reviews from the official archive layout into one table.

Accepts a tar archive (gzip, bzip2, xz or none) or an extracted directory holding
`aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`, and the URL lists
`aclImdb/{train,test}/urls_{pos,neg}.txt` that name each review's movie (`data.movies`). The unlabeled
`train/unsup` part and every other file are ignored. The table has one row per review: review_id,
text, label, rating, split, movie (the IMDB id, "tt0453418"; null where the archive has no URL list
for the review's folder, as in a labeled-only copy).

Both sources go through one reader with one policy (`_rows`), so a hostile or broken source gets the
same answer from either, a `DataError` naming the entry:

- Only regular files are reviews. An entry at a review's path (`.../pos/<id>_<rating>.txt`) that is a
  symbolic or hard link, a FIFO, a device or a directory is refused, never followed or opened; so is a
  review folder (`aclImdb`, `aclImdb/train`, `aclImdb/train/pos`, ...) that is not a directory. A
  directory is walked without following any link (`os.open` with `O_NOFOLLOW` relative to the folder's
  descriptor, then `fstat`), so nothing outside it is ever read. A labeled folder's URL list
  (`aclImdb/train/urls_pos.txt`, ...) is read the same way: a regular file or a DataError. Other
  entries (README, `unsup/` and its URL list, stray links elsewhere) are ignored unopened.
- Sizes are bounded: one review holds at most `MAX_REVIEW_BYTES`, a URL list `MAX_URL_LIST_BYTES`,
  read with bounded reads (never more than one byte past the limit); an archive expands to at most
  `MAX_SOURCE_BYTES` (the decompressed tar stream, every member counted) and a directory's reviews and
  URL lists add up to at most as much; at most `MAX_ENTRIES` entries are listed; a tar extended header
  (long name, pax record) is at most `MAX_HEADER_BYTES`. So a decompression bomb is refused, not
  expanded.
- The file name's id has at most `MAX_ID_DIGITS` digits (ids are ordered as int64), its rating is 1-10
  (IMDB's labeled reviews; unsup's 0 is not read), and an id appears once per folder.
- A URL list appears once per folder, each line is an IMDB movie URL, and it has a line for every
  review id of its folder; a review folder without a list gets null movies.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import re
import stat
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple, cast

import pandas as pd
from tqdm import tqdm

from sentiment.core.errors import DataError
from sentiment.data import movies
from sentiment.data.movies import MAX_URL_LIST_BYTES, ReviewKey, UrlList

COLUMNS = ("review_id", "text", "label", "rating", "split", "movie")
ARCHIVE_SPLITS = ("train", "test")  # the archive's folders (validation is drawn from train later)
LABELS = {"neg": 0, "pos": 1}
RATINGS = range(1, 11)  # a labeled review's rating (the unlabeled train/unsup ones are 0)

MAX_REVIEW_BYTES = 1024 * 1024  # one review file (IMDB's longest review has 13,704 characters)
MAX_SOURCE_BYTES = 1024**3  # an archive's decompressed tar stream; a directory's reviews together
MAX_ENTRIES = 500_000  # tar members, or entries listed in a directory's review folders (IMDB: ~100,000)
MAX_HEADER_BYTES = 64 * 1024  # one tar extended header: a long member name or a pax record
MAX_CHAINED_HEADERS = 8  # extended headers in a row before one member (tarfile reads them recursively)
MAX_ID_DIGITS = 18  # review ids are ordered as int64

# The first `aclImdb` folder of a path (an archive may hold it under a prefix), ASCII digits only.
_PREFIX = r"^(?:(?!aclImdb/)[^/]*/)*aclImdb"
_REVIEW_PATH = re.compile(_PREFIX + r"/(train|test)/(pos|neg)/([0-9]+)_([0-9]+)\.txt$")
_REVIEW_FOLDER = re.compile(_PREFIX + r"(?:/(?:train|test)(?:/(?:pos|neg))?)?$")
_URL_LIST_PATH = re.compile(_PREFIX + r"/(train|test)/urls_(pos|neg)\.txt$")
_URL_LIST_NAMES = tuple(f"urls_{sentiment}.txt" for sentiment in LABELS)
_FOLDER_NAMES = ("aclImdb", *ARCHIVE_SPLITS, *LABELS)
_READ_CHUNK = 1024 * 1024

Row = tuple[str, str, int, int, str, str | None]


class _Entry(NamedTuple):
    """One entry of a source: its path in the aclImdb layout, how errors name it, what it is."""

    path: str
    where: str
    kind: str  # "regular file", "directory", "symbolic link", "hard link", "FIFO", ...
    size: int
    read: Callable[[int], bytes]  # at most that many bytes of a regular file


def _size(count: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= factor and count % factor == 0:
            return f"{count // factor} {unit}"
    return f"{count} bytes"


def _shown(digits: str) -> str:
    return digits if len(digits) <= 10 else digits[:10] + "..."


def _decode(raw: bytes, where: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(
            f"review file is not valid UTF-8 ({error.reason} at byte {error.start})", where
        ) from None
    if not text.strip():
        raise DataError("review file is empty", where)
    return text


def _url_list(entry: _Entry, url_lists: dict[tuple[str, str], UrlList], folder: tuple[str, str]) -> bytes:
    """The bytes of a folder's URL list (a regular file, read bounded, once), or a DataError."""
    if entry.kind != "regular file":
        raise DataError(
            f"URL list is a {entry.kind}, not a regular file (links and special files are never followed "
            "or opened)",
            entry.where,
        )
    if folder in url_lists:
        raise DataError(
            f"URL list {folder[0]}/urls_{folder[1]}.txt appears twice",
            f"{url_lists[folder].where}, {entry.where}",
        )
    if entry.size > MAX_URL_LIST_BYTES:
        raise DataError(f"URL list is larger than {_size(MAX_URL_LIST_BYTES)}", entry.where)
    data = entry.read(MAX_URL_LIST_BYTES + 1)
    if len(data) > MAX_URL_LIST_BYTES:
        raise DataError(f"URL list is larger than {_size(MAX_URL_LIST_BYTES)}", entry.where)
    return data


def _rows(entries: Iterable[_Entry], source: str, total_what: str) -> list[Row]:
    """The one policy for archives and directories: the rows of the review entries, or a DataError."""
    rows: list[tuple[str, str, int, int, str]] = []
    keys: list[ReviewKey] = []  # each row's folder and id, to find its movie once every list is read
    url_lists: dict[tuple[str, str], UrlList] = {}
    seen: dict[tuple[str, str, int], str] = {}
    total = 0
    for count, entry in enumerate(entries, start=1):
        if count > MAX_ENTRIES:
            raise DataError(f"more than {MAX_ENTRIES} entries: not an IMDB review source", source)
        if "aclImdb" not in entry.path:  # a quick way past most of what is ignored
            continue
        if entry.path.endswith(_FOLDER_NAMES) and _REVIEW_FOLDER.search(entry.path):
            if entry.kind != "directory":
                raise DataError(
                    f"review folder is a {entry.kind}, not a directory (links are not followed)", entry.where
                )
            continue
        listed = _URL_LIST_PATH.search(entry.path) if entry.path.endswith(_URL_LIST_NAMES) else None
        if listed is not None:
            folder = (listed.group(1), listed.group(2))
            data = _url_list(entry, url_lists, folder)
            total += len(data)
            if total > MAX_SOURCE_BYTES:
                raise DataError(f"{total_what} more than {_size(MAX_SOURCE_BYTES)} of reviews", source)
            url_lists[folder] = movies.parse_url_list(data, entry.where)
            continue
        match = _REVIEW_PATH.search(entry.path) if entry.path.endswith(".txt") else None
        if match is None:
            continue
        split, sentiment, number, rating = match.groups()
        if entry.kind != "regular file":
            raise DataError(
                f"review entry is a {entry.kind}, not a regular file (links and special files are never "
                "followed or opened)",
                entry.where,
            )
        if len(number) > MAX_ID_DIGITS:
            raise DataError(f"review id has {len(number)} digits (at most {MAX_ID_DIGITS})", entry.where)
        if len(rating) > 2 or int(rating) not in RATINGS:
            raise DataError(
                f"review rating {_shown(rating)} is out of range {RATINGS.start}-{RATINGS.stop - 1}",
                entry.where,
            )
        key = (split, sentiment, int(number))
        if key in seen:
            raise DataError(
                f"review id {split}/{sentiment}/{int(number)} appears twice", f"{seen[key]}, {entry.where}"
            )
        seen[key] = entry.where
        if entry.size > MAX_REVIEW_BYTES:
            raise DataError(f"review file is larger than {_size(MAX_REVIEW_BYTES)}", entry.where)
        data = entry.read(MAX_REVIEW_BYTES + 1)
        if len(data) > MAX_REVIEW_BYTES:
            raise DataError(f"review file is larger than {_size(MAX_REVIEW_BYTES)}", entry.where)
        total += len(data)
        if total > MAX_SOURCE_BYTES:
            raise DataError(f"{total_what} more than {_size(MAX_SOURCE_BYTES)} of reviews", source)
        rows.append(
            (
                f"{split}/{sentiment}/{number}",
                _decode(data, entry.where),
                LABELS[sentiment],
                int(rating),
                split,
            )
        )
        keys.append(ReviewKey(split, sentiment, int(number), entry.where))
    movie_ids = movies.movie_ids(url_lists, keys)
    return [(*row, movie) for row, movie in zip(rows, movie_ids, strict=True)]


# --- archives ------------------------------------------------------------------------------------


class _ArchiveTooLarge(Exception):
    """Raised from inside tarfile's reads; turned into a DataError naming the archive."""


class _Bounded:
    """A read-only stream that refuses to yield more than `limit` bytes in total."""

    def __init__(self, stream: io.BufferedIOBase, limit: int) -> None:
        self.stream, self.limit, self.count = stream, limit, 0

    def read(self, size: int = -1) -> bytes:
        allowed = self.limit + 1 - self.count
        data = self.stream.read(allowed if size is None or size < 0 else min(size, allowed))
        self.count += len(data)
        if self.count > self.limit:
            raise _ArchiveTooLarge
        return data

    def close(self) -> None:
        self.stream.close()


_EXTENDED_HEADERS = (
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
)


class _BoundedTarInfo(tarfile.TarInfo):
    """tarfile's member headers, with extended headers bounded before tarfile reads them.

    `_proc_member` is tarfile's documented hook for subclasses; the GNU sparse formats are refused
    (IMDB has none, and their maps are read unbounded).
    """

    def _proc_member(self, tarfile_: tarfile.TarFile) -> Any:
        if self.type == tarfile.GNUTYPE_SPARSE:
            raise DataError(f"a sparse tar member (byte {self.offset}) is not supported", str(tarfile_.name))
        if self.type not in _EXTENDED_HEADERS:
            return super()._proc_member(tarfile_)  # type: ignore[misc]
        if self.size > MAX_HEADER_BYTES:
            raise DataError(
                f"a tar header of more than {_size(MAX_HEADER_BYTES)} (at byte {self.offset}): "
                "not an IMDB archive",
                str(tarfile_.name),
            )
        # tarfile reads the header an extended header applies to recursively: bound the chain.
        depth = getattr(tarfile_, "_chained_headers", 0)
        if depth >= MAX_CHAINED_HEADERS:
            raise DataError(
                f"more than {MAX_CHAINED_HEADERS} tar extended headers in a row (at byte {self.offset}): "
                "not an IMDB archive",
                str(tarfile_.name),
            )
        tarfile_._chained_headers = depth + 1  # type: ignore[attr-defined]
        try:
            return super()._proc_member(tarfile_)  # type: ignore[misc]
        finally:
            tarfile_._chained_headers = depth  # type: ignore[attr-defined]

    def _proc_gnusparse_10(self, next: Any, pax_headers: Any, tarfile_: tarfile.TarFile) -> None:
        raise DataError(f"a sparse tar member (byte {self.offset}) is not supported", str(tarfile_.name))


_MEMBER_KINDS = {
    **dict.fromkeys((tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE), "regular file"),
    tarfile.DIRTYPE: "directory",
    tarfile.SYMTYPE: "symbolic link",
    tarfile.LNKTYPE: "hard link",
    tarfile.FIFOTYPE: "FIFO",
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
}


def _kind_of_member(member: tarfile.TarInfo) -> str:
    return _MEMBER_KINDS.get(member.type) or f"special entry (tar type {member.type!r})"


def _decompressed(raw: IO[bytes]) -> io.BufferedIOBase:
    head = raw.read(6)
    raw.seek(0)
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if head.startswith(b"BZh"):
        return bz2.BZ2File(raw, mode="rb")
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw, mode="rb")
    return cast(io.BufferedIOBase, raw)


def _member_entries(tar: tarfile.TarFile, archive: Path) -> Iterator[_Entry]:
    declared = 0  # what the headers say the archive expands to, refused before tarfile skips past it
    for member in tar:
        declared += tarfile.BLOCKSIZE + member.size
        if declared > MAX_SOURCE_BYTES:
            raise _ArchiveTooLarge

        def read(size: int, member: tarfile.TarInfo = member) -> bytes:
            handle = tar.extractfile(member)
            return b"" if handle is None else handle.read(size)

        yield _Entry(
            member.name.rstrip("/"), f"{archive}:{member.name}", _kind_of_member(member), member.size, read
        )


def _archive_rows(archive: Path) -> list[Row]:
    try:  # O_NONBLOCK: a FIFO put in its place since read_reviews looked is not waited on
        descriptor = os.open(archive, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise DataError(f"cannot open the archive ({error.strerror})", archive) from None
    try:
        with contextlib.ExitStack() as stack:
            raw = stack.enter_context(os.fdopen(descriptor, "rb"))
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise DataError("review source is no longer a regular file", archive)
            stream = _Bounded(stack.enter_context(_decompressed(raw)), MAX_SOURCE_BYTES)
            tar = stack.enter_context(
                tarfile.open(name=str(archive), mode="r|", fileobj=stream, tarinfo=_BoundedTarInfo)  # type: ignore[call-overload]
            )
            entries = tqdm(
                _member_entries(tar, archive), desc=f"reading {archive.name}", unit=" files", mininterval=0.5
            )
            return _rows(entries, str(archive), "the archive holds")
    except _ArchiveTooLarge:
        raise DataError(
            f"archive expands to more than {_size(MAX_SOURCE_BYTES)}: not an IMDB archive", archive
        ) from None
    except (
        tarfile.TarError,
        EOFError,
        zlib.error,
        lzma.LZMAError,
        OSError,
        ValueError,
        RecursionError,
    ) as error:
        raise DataError(f"archive is corrupt or not a tar archive ({error})", archive) from None


# --- directories ---------------------------------------------------------------------------------

_KINDS = (
    (stat.S_ISREG, "regular file"),
    (stat.S_ISDIR, "directory"),
    (stat.S_ISLNK, "symbolic link"),
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)


def _kind_of_mode(mode: int) -> str:
    return next((kind for test, kind in _KINDS if test(mode)), "special file")


def _read_file(folder: int, name: str, where: str, size: int) -> bytes:
    """At most `size` bytes of the regular file `name` (a review or URL list) in the open folder; never
    follows a link."""
    try:
        descriptor = os.open(name, _OPEN_FLAGS, dir_fd=folder)
    except OSError as error:
        raise DataError(f"cannot open the file ({error.strerror})", where) from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):  # replaced since it was listed
            raise DataError(f"entry is a {_kind_of_mode(mode)}, not a regular file", where)
        chunks: list[bytes] = []
        remaining = size
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, _READ_CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    except OSError as error:
        raise DataError(f"cannot read the file ({error.strerror})", where) from None
    finally:
        os.close(descriptor)


def _open_folder(stack: contextlib.ExitStack, parent: int | None, name: str, where: Path) -> int | None:
    """The descriptor of directory `name` in `parent` (None: a path given by the user, links followed
    there only); None when absent; a DataError when it is anything but a directory."""
    try:
        mode = os.stat(name, dir_fd=parent, follow_symlinks=parent is None).st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        raise DataError(f"cannot inspect the folder ({error.strerror})", where) from None
    if not stat.S_ISDIR(mode):
        raise DataError(
            f"review folder is a {_kind_of_mode(mode)}, not a directory (links are not followed)", where
        )
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | (0 if parent is None else os.O_NOFOLLOW)
    try:
        descriptor = os.open(name, flags, dir_fd=parent)
    except OSError as error:
        raise DataError(f"cannot open the folder ({error.strerror})", where) from None
    stack.callback(os.close, descriptor)
    return descriptor


def _folder_entries(folder: int, prefix: str, shown: Path) -> Iterator[_Entry]:
    try:
        names = []
        with os.scandir(folder) as listing:
            for entry in listing:
                names.append(entry.name)
                if len(names) > MAX_ENTRIES:
                    break
    except OSError as error:
        raise DataError(f"cannot list the folder ({error.strerror})", shown) from None
    for name in sorted(names):
        found = _named_entry(folder, name, prefix, shown, listed=True)
        if found is not None:
            yield found


def _named_entry(folder: int, name: str, prefix: str, shown: Path, listed: bool) -> _Entry | None:
    """The entry `name` of the open folder, never following a link; None when it is absent (and was
    not `listed`: a listed entry that is gone by now is an error)."""
    where = str(shown / name)
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError as error:
        if listed:
            raise DataError(f"cannot inspect the entry ({error.strerror})", where) from None
        return None
    except OSError as error:
        raise DataError(f"cannot inspect the entry ({error.strerror})", where) from None

    def read(size: int) -> bytes:
        return _read_file(folder, name, where, size)

    return _Entry(f"{prefix}/{name}", where, _kind_of_mode(info.st_mode), info.st_size, read)


def _directory_rows(directory: Path) -> list[Row]:
    with contextlib.ExitStack() as stack:
        if directory.name == "aclImdb":
            root, shown = _open_folder(stack, None, str(directory), directory), directory
        else:
            parent = _open_folder(stack, None, str(directory), directory)
            shown = directory / "aclImdb"
            root = None if parent is None else _open_folder(stack, parent, "aclImdb", shown)
        if root is None:
            raise DataError(
                "expected an 'aclImdb' directory (aclImdb/{train,test}/{pos,neg}/*.txt)", directory
            )

        def entries() -> Iterator[_Entry]:
            for split in ARCHIVE_SPLITS:
                split_folder = _open_folder(stack, root, split, shown / split)
                if split_folder is None:
                    continue
                for sentiment in LABELS:
                    folder = _open_folder(stack, split_folder, sentiment, shown / split / sentiment)
                    if folder is not None:
                        yield from _folder_entries(
                            folder, f"aclImdb/{split}/{sentiment}", shown / split / sentiment
                        )
                for name in _URL_LIST_NAMES:
                    entry = _named_entry(split_folder, name, f"aclImdb/{split}", shown / split, listed=False)
                    if entry is not None:
                        yield entry

        listed = tqdm(entries(), desc=f"reading {shown}", unit=" files", mininterval=0.5)
        return _rows(listed, str(shown), "the review folders hold")


# --- the table -----------------------------------------------------------------------------------


def read_reviews(source: Path) -> pd.DataFrame:
    """All labeled reviews of an archive or directory, sorted by split, label and id."""
    source = Path(source)
    try:
        mode = source.stat().st_mode
    except FileNotFoundError:
        raise DataError("review source not found", source) from None
    except OSError as error:
        raise DataError(f"cannot inspect the review source ({error.strerror})", source) from None
    if stat.S_ISDIR(mode):
        rows = _directory_rows(source)
    elif stat.S_ISREG(mode):
        rows = _archive_rows(source)
    else:
        raise DataError(
            f"review source is a {_kind_of_mode(mode)}: neither a regular file nor a directory", source
        )
    table = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    check_layout(table, str(source))
    return sort_reviews(table)


def check_layout(table: pd.DataFrame, where: str) -> None:
    """Every split must hold both positive and negative reviews."""
    for split in ARCHIVE_SPLITS:
        for sentiment, label in LABELS.items():
            if not ((table["split"] == split) & (table["label"] == label)).any():
                raise DataError(
                    f"wrong layout: no reviews under aclImdb/{split}/{sentiment}/<id>_<rating>.txt", where
                )


def sort_reviews(table: pd.DataFrame) -> pd.DataFrame:
    """A canonical row order (the archive's member order is not guaranteed) with compact dtypes."""
    table = table.astype({"label": "int8", "rating": "int8"})
    number = table["review_id"].str.rsplit("/", n=1).str[-1].astype("int64")
    order = pd.DataFrame({"split": table["split"], "label": table["label"], "number": number})
    table = table.loc[order.sort_values(["split", "label", "number"], kind="stable").index]
    return table.reset_index(drop=True)
