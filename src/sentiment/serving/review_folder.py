"""A folder of new reviews, one `.txt` file each (UTF-8), as the table that `sentiment score` reads.

Reviews dropped into a folder by another system are read without trusting it: each `.txt` entry is
inspected without following links, and a link is read only when it resolves to a regular file inside
the folder (a link to /etc/passwd is refused, naming the link). Anything that is not a readable UTF-8
regular file stops the batch with an error naming the file, before anything is written. Subfolders
and other names are left alone. The rows come in file-name order, so a batch scores the same way
each time.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd

from sentiment.core.errors import DataError
from sentiment.data.directory_reader import kind_of_mode

REVIEW_SUFFIX = ".txt"
FILE_COLUMN = "file"
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
# A review file larger than this is no review (IMDB's longest is 14 kB): refused, not read into memory.
MAX_REVIEW_BYTES = 10 * 1024 * 1024


def _target_inside(folder: Path, entry: Path) -> Path:
    """Where the link `entry` leads, when that is inside `folder`; else a DataError naming it."""
    target = entry.resolve()
    if not target.is_relative_to(folder):
        raise DataError(f"the review file is a link to {target}, outside the folder (not followed)", entry)
    return target


def _read_regular(path: Path, shown: Path) -> str:
    """The UTF-8 text of the regular file at `path` (opened without following a link)."""
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        raise DataError(f"cannot open the review file ({error.strerror})", shown) from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise DataError(f"the review file is a {kind_of_mode(status.st_mode)}, not a regular file", shown)
        if status.st_size > MAX_REVIEW_BYTES:
            raise DataError(f"the review file holds {status.st_size} bytes, over {MAX_REVIEW_BYTES}", shown)
        with os.fdopen(os.dup(descriptor), "rb") as handle:
            data = handle.read(MAX_REVIEW_BYTES + 1)
    except OSError as error:
        raise DataError(f"cannot read the review file ({error.strerror})", shown) from None
    finally:
        os.close(descriptor)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(
            f"the review file is not UTF-8 text ({error.reason} at byte {error.start})", shown
        ) from None


def read_review_folder(folder: Path, column: str) -> pd.DataFrame:
    """One row per `.txt` file of `folder`: its name (`file`) and its text (`column`)."""
    if not folder.is_dir():
        raise DataError("input folder not found", folder)
    root = folder.resolve()
    names = sorted(name for name in os.listdir(root) if name.endswith(REVIEW_SUFFIX))
    if not names:
        raise DataError(f"the folder holds no {REVIEW_SUFFIX} review files", folder)
    texts = []
    for name in names:
        entry = root / name
        mode = os.lstat(entry).st_mode
        if stat.S_ISDIR(mode):
            raise DataError("a folder named like a review file: expected a regular file", entry)
        texts.append(_read_regular(_target_inside(root, entry) if stat.S_ISLNK(mode) else entry, entry))
    return pd.DataFrame({FILE_COLUMN: pd.Series(names, dtype=object), column: pd.Series(texts, dtype=object)})
