"""Read an extracted aclImdb directory, under `data.source_policy`, never following a link.

The review folders (`aclImdb/<split>/<folder>`) are opened one inside the other by descriptor, each
with `O_NOFOLLOW` relative to its parent (only the path the user gives may be a link), and each entry
is inspected with `lstat` and opened with `O_NOFOLLOW | O_NONBLOCK`, then `fstat`-ed: nothing outside
the directory is ever read, and no FIFO is waited on. Each listed entry becomes a `SourceEntry` for
the policy, which decides what is a review.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from sentiment.core.errors import DataError
from sentiment.data import source_policy as policy
from sentiment.data.layout import REVIEW_FOLDERS
from sentiment.data.source_policy import Row, SourceEntry

_KINDS = (
    (stat.S_ISREG, "regular file"),
    (stat.S_ISDIR, "directory"),
    (stat.S_ISLNK, "symbolic link"),
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)
_READ_CHUNK = 1024 * 1024
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)


def kind_of_mode(mode: int) -> str:
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
            raise DataError(f"entry is a {kind_of_mode(mode)}, not a regular file", where)
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
            f"review folder is a {kind_of_mode(mode)}, not a directory (links are not followed)", where
        )
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | (0 if parent is None else os.O_NOFOLLOW)
    try:
        descriptor = os.open(name, flags, dir_fd=parent)
    except OSError as error:
        raise DataError(f"cannot open the folder ({error.strerror})", where) from None
    stack.callback(os.close, descriptor)
    return descriptor


def _folder_entries(folder: int, prefix: str, shown: Path) -> Iterator[SourceEntry]:
    try:
        names = []
        with os.scandir(folder) as listing:
            for entry in listing:
                names.append(entry.name)
                if len(names) > policy.MAX_ENTRIES:
                    break
    except OSError as error:
        raise DataError(f"cannot list the folder ({error.strerror})", shown) from None
    for name in sorted(names):
        found = _named_entry(folder, name, prefix, shown, listed=True)
        if found is not None:
            yield found


def _named_entry(folder: int, name: str, prefix: str, shown: Path, listed: bool) -> SourceEntry | None:
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

    return SourceEntry(f"{prefix}/{name}", where, kind_of_mode(info.st_mode), info.st_size, read)


def directory_rows(directory: Path) -> list[Row]:
    """The rows of every review of the directory (`aclImdb/` or the folder holding it), or a DataError."""
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

        def entries() -> Iterator[SourceEntry]:
            for split in dict.fromkeys(split for split, _ in REVIEW_FOLDERS):
                split_folder = _open_folder(stack, root, split, shown / split)
                if split_folder is None:
                    continue
                folders = [folder for folder_split, folder in REVIEW_FOLDERS if folder_split == split]
                for name in folders:
                    folder = _open_folder(stack, split_folder, name, shown / split / name)
                    if folder is not None:
                        yield from _folder_entries(folder, f"aclImdb/{split}/{name}", shown / split / name)
                for name in folders:
                    entry = _named_entry(
                        split_folder, f"urls_{name}.txt", f"aclImdb/{split}", shown / split, listed=False
                    )
                    if entry is not None:
                        yield entry

        listed = tqdm(entries(), desc=f"reading {shown}", unit=" files", mininterval=0.5)
        return policy.source_rows(listed, str(shown), "the review folders hold")
