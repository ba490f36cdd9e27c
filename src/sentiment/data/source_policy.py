"""The one policy by which archives (`data.tar_reader`) and directories (`data.directory_reader`) are
read: which entries are reviews and URL lists, the limits on them, and the rows they give.

Each reader lists its source as `SourceEntry`s (a path in the aclImdb layout, a kind, a size, a bounded
read) and hands them to `source_rows`, so a hostile or broken source gets the same answer from either,
a `DataError` naming the entry:

- Only regular files are reviews. An entry at a review's path (`.../pos/<id>_<rating>.txt`,
  `.../train/unsup/<id>_0.txt`) that is a symbolic or hard link, a FIFO, a device or a directory is
  refused, never followed or opened; so is a review folder (`aclImdb`, `aclImdb/train`,
  `aclImdb/train/pos`, `aclImdb/train/unsup`, ...) that is not a directory. A URL list
  (`aclImdb/train/urls_pos.txt`, ..., `aclImdb/train/urls_unsup.txt`) too: a regular file or a
  DataError. Other entries (README, stray links elsewhere) are ignored unopened.
- Sizes are bounded: one review holds at most `MAX_REVIEW_BYTES`, a URL list `MAX_URL_LIST_BYTES`,
  read with bounded reads (never more than one byte past the limit); an archive expands to at most
  `MAX_SOURCE_BYTES` (the decompressed tar stream, every member counted) and a directory's reviews and
  URL lists add up to at most as much; at most `MAX_ENTRIES` entries are listed; a tar extended header
  (long name, pax record) is at most `MAX_HEADER_BYTES`. So a decompression bomb is refused, not
  expanded. The limits are read from this module when a source is read (tests lower them here).
- The file name's id has at most `MAX_ID_DIGITS` digits (ids are ordered as int64), its rating is 1-10
  for a labeled review and 0 for an unlabeled one, and an id appears once per folder.
- A URL list appears once per folder, each line is an IMDB movie URL, and it has a line for every
  review id of its folder; a review folder without a list gets null movies.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

from sentiment.core.errors import DataError
from sentiment.data import movies
from sentiment.data.layout import (
    LABELS,
    RATINGS,
    REVIEW_FOLDERS,
    UNLABELED,
    UNLABELED_RATING,
    UNSUP,
    UNSUP_FOLDER,
)
from sentiment.data.movies import ReviewKey, UrlList

MAX_REVIEW_BYTES = 1024 * 1024  # one review file (IMDB's longest review has 13,704 characters)
MAX_URL_LIST_BYTES = movies.MAX_URL_LIST_BYTES  # one URL list (IMDB: 2.5 MB for the 50,000 unsup ones)
MAX_SOURCE_BYTES = 1024**3  # an archive's decompressed tar stream (IMDB: 0.2 GiB); a directory's files
MAX_ENTRIES = 500_000  # tar members, or entries listed in a directory's review folders (IMDB: ~100,000)
MAX_HEADER_BYTES = 64 * 1024  # one tar extended header: a long member name or a pax record
MAX_CHAINED_HEADERS = 8  # extended headers in a row before one member (tarfile reads them recursively)
MAX_ID_DIGITS = 18  # review ids are ordered as int64

# The first `aclImdb` folder of a path (an archive may hold it under a prefix), ASCII digits only.
_PREFIX = r"^(?:(?!aclImdb/)[^/]*/)*aclImdb"
_FOLDERS = "|".join(f"{split}/{folder}" for split, folder in REVIEW_FOLDERS)
_SPLIT_FOLDERS = "|".join(sorted({split for split, _ in REVIEW_FOLDERS}))
_REVIEW_PATH = re.compile(_PREFIX + rf"/({_FOLDERS})/([0-9]+)_([0-9]+)\.txt$")
_REVIEW_FOLDER = re.compile(_PREFIX + rf"(?:/(?:{_SPLIT_FOLDERS})|/(?:{_FOLDERS}))?$")
_URL_LIST_PATH = re.compile(
    _PREFIX + "/(" + "|".join(f"{split}/urls_{folder}" for split, folder in REVIEW_FOLDERS) + r")\.txt$"
)
URL_LIST_NAMES = tuple(sorted({f"urls_{folder}.txt" for _, folder in REVIEW_FOLDERS}))
_FOLDER_NAMES = ("aclImdb", *sorted({name for folder in REVIEW_FOLDERS for name in folder}))

Row = tuple[str, str, int, int, str, str | None]


class SourceEntry(NamedTuple):
    """One entry of a source: its path in the aclImdb layout, how errors name it, what it is."""

    path: str
    where: str
    kind: str  # "regular file", "directory", "symbolic link", "hard link", "FIFO", ...
    size: int
    read: Callable[[int], bytes]  # at most that many bytes of a regular file


def shown_size(count: int) -> str:
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


def _require_regular(entry: SourceEntry, what: str) -> None:
    if entry.kind != "regular file":
        raise DataError(
            f"{what} is a {entry.kind}, not a regular file (links and special files are never followed "
            "or opened)",
            entry.where,
        )


def _read_bounded(entry: SourceEntry, what: str, limit: int) -> bytes:
    """The bytes of a regular file entry, read bounded (one byte past `limit` at most), or a DataError."""
    if entry.size > limit:
        raise DataError(f"{what} is larger than {shown_size(limit)}", entry.where)
    data = entry.read(limit + 1)
    if len(data) > limit:
        raise DataError(f"{what} is larger than {shown_size(limit)}", entry.where)
    return data


def _check_rating(folder: tuple[str, str], rating: str, where: str) -> int:
    """The file name's rating: 1-10 for a labeled review, 0 for an unlabeled one; else a DataError."""
    value = int(rating) if len(rating) <= 2 else None
    if folder == UNSUP_FOLDER:
        if value != UNLABELED_RATING:
            raise DataError(
                f"unlabeled review rating {_shown(rating)} is not {UNLABELED_RATING} "
                f"(aclImdb/{folder[0]}/{folder[1]}/<id>_{UNLABELED_RATING}.txt)",
                where,
            )
    elif value is None or value not in RATINGS:
        raise DataError(
            f"review rating {_shown(rating)} is out of range {RATINGS.start}-{RATINGS.stop - 1}", where
        )
    return int(rating)


def source_rows(entries: Iterable[SourceEntry], source: str, total_what: str) -> list[Row]:
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
        listed = _URL_LIST_PATH.search(entry.path) if entry.path.endswith(URL_LIST_NAMES) else None
        if listed is not None:
            split, _, name = listed.group(1).partition("/urls_")
            _require_regular(entry, "URL list")
            if (split, name) in url_lists:
                raise DataError(
                    f"URL list {split}/urls_{name}.txt appears twice",
                    f"{url_lists[split, name].where}, {entry.where}",
                )
            data = _read_bounded(entry, "URL list", MAX_URL_LIST_BYTES)
            total += len(data)
            if total > MAX_SOURCE_BYTES:
                raise DataError(f"{total_what} more than {shown_size(MAX_SOURCE_BYTES)} of reviews", source)
            url_lists[split, name] = movies.parse_url_list(data, entry.where)
            continue
        match = _REVIEW_PATH.search(entry.path) if entry.path.endswith(".txt") else None
        if match is None:
            continue
        folder_path, number, rating = match.groups()
        split, folder = folder_path.split("/")
        _require_regular(entry, "review entry")
        if len(number) > MAX_ID_DIGITS:
            raise DataError(f"review id has {len(number)} digits (at most {MAX_ID_DIGITS})", entry.where)
        score = _check_rating((split, folder), rating, entry.where)
        key = (split, folder, int(number))
        if key in seen:
            raise DataError(
                f"review id {split}/{folder}/{int(number)} appears twice", f"{seen[key]}, {entry.where}"
            )
        seen[key] = entry.where
        data = _read_bounded(entry, "review file", MAX_REVIEW_BYTES)
        total += len(data)
        if total > MAX_SOURCE_BYTES:
            raise DataError(f"{total_what} more than {shown_size(MAX_SOURCE_BYTES)} of reviews", source)
        unlabeled = (split, folder) == UNSUP_FOLDER
        rows.append(
            (
                f"{split}/{folder}/{number}",
                _decode(data, entry.where),
                UNLABELED if unlabeled else LABELS[folder],
                score,
                UNSUP if unlabeled else split,
            )
        )
        keys.append(ReviewKey(split, folder, int(number), entry.where))
    movie_ids = movies.movie_ids(url_lists, keys)
    return [(*row, movie) for row, movie in zip(rows, movie_ids, strict=True)]
