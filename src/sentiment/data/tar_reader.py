"""Read a tar archive (gzip, bzip2, xz or none) of the aclImdb layout, under `data.source_policy`.

The archive is read as one stream, never extracted: each member becomes a `SourceEntry` whose read is
tarfile's, and the policy decides what is a review. The stream is bounded (`MAX_SOURCE_BYTES` of
decompressed tar, every member counted, refused before tarfile skips past a huge member), and so are
tarfile's extended headers (`MAX_HEADER_BYTES` each, `MAX_CHAINED_HEADERS` in a row); sparse members are
refused. Anything broken is a `DataError` naming the archive.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import stat
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from tqdm import tqdm

from sentiment.core.errors import DataError
from sentiment.data import source_policy as policy
from sentiment.data.source_policy import Row, SourceEntry, shown_size


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
        if self.size > policy.MAX_HEADER_BYTES:
            raise DataError(
                f"a tar header of more than {shown_size(policy.MAX_HEADER_BYTES)} (at byte {self.offset}): "
                "not an IMDB archive",
                str(tarfile_.name),
            )
        # tarfile reads the header an extended header applies to recursively: bound the chain.
        depth = getattr(tarfile_, "_chained_headers", 0)
        if depth >= policy.MAX_CHAINED_HEADERS:
            raise DataError(
                f"more than {policy.MAX_CHAINED_HEADERS} tar extended headers in a row "
                f"(at byte {self.offset}): not an IMDB archive",
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


def _member_entries(tar: tarfile.TarFile, archive: Path) -> Iterator[SourceEntry]:
    declared = 0  # what the headers say the archive expands to, refused before tarfile skips past it
    for member in tar:
        declared += tarfile.BLOCKSIZE + member.size
        if declared > policy.MAX_SOURCE_BYTES:
            raise _ArchiveTooLarge

        def read(size: int, member: tarfile.TarInfo = member) -> bytes:
            handle = tar.extractfile(member)
            return b"" if handle is None else handle.read(size)

        yield SourceEntry(
            member.name.rstrip("/"), f"{archive}:{member.name}", _kind_of_member(member), member.size, read
        )


def archive_rows(archive: Path) -> list[Row]:
    """The rows of every review of the archive, in member order, or a DataError naming it."""
    try:  # O_NONBLOCK: a FIFO put in its place since read_reviews looked is not waited on
        descriptor = os.open(archive, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise DataError(f"cannot open the archive ({error.strerror})", archive) from None
    try:
        with contextlib.ExitStack() as stack:
            raw = stack.enter_context(os.fdopen(descriptor, "rb"))
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                raise DataError("review source is no longer a regular file", archive)
            stream = _Bounded(stack.enter_context(_decompressed(raw)), policy.MAX_SOURCE_BYTES)
            tar = stack.enter_context(
                tarfile.open(name=str(archive), mode="r|", fileobj=stream, tarinfo=_BoundedTarInfo)  # type: ignore[call-overload]
            )
            entries = tqdm(
                _member_entries(tar, archive), desc=f"reading {archive.name}", unit=" files", mininterval=0.5
            )
            return policy.source_rows(entries, str(archive), "the archive holds")
    except _ArchiveTooLarge:
        raise DataError(
            f"archive expands to more than {shown_size(policy.MAX_SOURCE_BYTES)}: not an IMDB archive",
            archive,
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
