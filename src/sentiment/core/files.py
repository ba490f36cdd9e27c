"""File input and output: atomic writes (write next to the target, then rename, so no reader ever sees a
partial file) and JSON reading.

A directory is replaced whole (`atomic_directory`) only through one guard, `check_replaceable`: the
directory must lie inside the project root (and not be the root), be a real directory (not a link), and
hold nothing but the entries its writer declares, the names it writes there. Anything else (a checkout,
`data/` with other outputs in it, a user's file, a path outside the project) is refused with
`DirectoryNotReplaceable`, naming the directory, before anything is touched.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from sentiment.core.errors import DataError


class DirectoryNotReplaceable(DataError):
    """A directory the project would replace whole is outside the project or holds what it did not write."""


@functools.cache
def _umask() -> int:
    """The process's umask, read once, at first use rather than at import.

    Linux reports it in /proc/self/status; elsewhere os.umask can only be read by setting it (and
    setting it back), which is why the result is cached: the first output is written before the stages
    start threads.
    """
    with contextlib.suppress(OSError, StopIteration, ValueError):
        status = Path("/proc/self/status").read_text(encoding="ascii").splitlines()
        return int(next(line for line in status if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# mkstemp/mkdtemp create private (0600/0700) entries; outputs get the usual permissions instead.
def _file_mode() -> int:
    return 0o666 & ~_umask()


def _directory_mode() -> int:
    return 0o777 & ~_umask()


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success it replaces `target`, on error it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(descriptor)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        temporary_path.chmod(_file_mode())
        os.replace(temporary_path, target)
    finally:
        temporary_path.unlink(missing_ok=True)


def check_replaceable(target: str | Path, *, root: str | Path, entries: Collection[str]) -> None:
    """Refuse, with DirectoryNotReplaceable, to replace `target` unless the project may: it lies inside
    `root` (links resolved, the root itself excluded) and is absent, or a real directory holding only
    names in `entries` (the top-level names its writer puts there). Touches nothing."""
    target = Path(target)
    absolute = Path(os.path.abspath(target))
    try:
        # Resolve the parent (a link to elsewhere is elsewhere); the last component is checked below.
        location = absolute.parent.resolve() / absolute.name if absolute.name else absolute
        project = Path(root).resolve()
    except (OSError, RuntimeError) as error:
        raise DirectoryNotReplaceable(f"cannot tell where the directory is ({error})", target) from None
    if location == project:
        raise DirectoryNotReplaceable("refusing to replace the project root with an output directory", target)
    if project not in location.parents:
        raise DirectoryNotReplaceable(
            f"refusing to replace a directory outside the project (root {project})", target
        )
    try:
        mode = location.lstat().st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise DirectoryNotReplaceable(f"cannot inspect the directory ({error.strerror})", target) from None
    if stat.S_ISLNK(mode):
        raise DirectoryNotReplaceable(
            "refusing to replace it: it is a symbolic link, and the project replaces only directories "
            "it writes itself",
            target,
        )
    if not stat.S_ISDIR(mode):
        raise DirectoryNotReplaceable("refusing to replace it: it is not a directory", target)
    try:
        foreign = sorted(set(os.listdir(location)) - set(entries))
    except OSError as error:
        raise DirectoryNotReplaceable(f"cannot list the directory ({error.strerror})", target) from None
    if foreign:
        shown = ", ".join(repr(name) for name in foreign[:10]) + (", ..." if len(foreign) > 10 else "")
        raise DirectoryNotReplaceable(
            f"refusing to replace it: it holds entries the project does not write there: [{shown}] "
            f"(it writes only {sorted(entries)}); move them away, or choose another directory in params.yaml",
            target,
        )


@contextlib.contextmanager
def atomic_directory(target: str | Path, *, root: str | Path, entries: Collection[str]) -> Iterator[Path]:
    """Yield an empty temporary directory beside `target`; on success it replaces `target` whole.

    `root` is the project root and `entries` the top-level names the caller writes into the directory:
    `check_replaceable` refuses a target outside the root or holding anything else, both before the
    staging directory is made and again just before the swap. Staging an undeclared name is a bug
    (ValueError), and nothing is published.
    """
    target = Path(target)
    check_replaceable(target, root=root, entries=entries)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield temporary
        undeclared = sorted(set(os.listdir(temporary)) - set(entries))
        if undeclared:
            raise ValueError(
                f"staged undeclared entries {undeclared} for {target} (declared: {sorted(entries)})"
            )
        check_replaceable(target, root=root, entries=entries)
        temporary.chmod(_directory_mode())
        if target.exists():
            previous = target.with_name(f".{target.name}.old")
            shutil.rmtree(previous, ignore_errors=True)
            os.replace(target, previous)
            os.replace(temporary, target)
            shutil.rmtree(previous, ignore_errors=True)
        else:
            os.replace(temporary, target)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def write_json(target: str | Path, data: Any) -> None:
    with atomic_path(target) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def write_text(target: str | Path, text: str) -> None:
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))
