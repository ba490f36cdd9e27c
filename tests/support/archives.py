"""Unpacking the archives the tests build themselves."""

from __future__ import annotations

import tarfile
from pathlib import Path


def unpack(archive: tarfile.TarFile, target: Path) -> None:
    """`archive.extractall(target)` with the "data" filter where Python has it (3.11.4 on, and the
    default from 3.14): pyproject admits every 3.11, and a 3.11.2 has no `filter` argument."""
    if hasattr(tarfile, "data_filter"):
        archive.extractall(target, filter="data")
    else:  # the archive is one the test itself wrote: nothing in it leaves `target`
        archive.extractall(target)
