"""Read IMDB reviews from the official archive layout into one table.

Accepts a tar archive (gzip or not) or an extracted directory holding
`aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`. The unlabeled `train/unsup` part and every other
file are ignored. The table has one row per review: review_id, text, label, rating, split.
"""

from __future__ import annotations

import re
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from sentiment.core.errors import DataError

COLUMNS = ("review_id", "text", "label", "rating", "split")
ARCHIVE_SPLITS = ("train", "test")  # the archive's folders (validation is drawn from train later)
LABELS = {"neg": 0, "pos": 1}
_REVIEW_PATH = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


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


def _row(match: re.Match[str], text: str) -> tuple[str, str, int, int, str]:
    split, sentiment, number, rating = match.groups()
    return f"{split}/{sentiment}/{number}", text, LABELS[sentiment], int(rating), split


def _archive_rows(archive: Path) -> Iterator[tuple[str, str, int, int, str]]:
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tqdm(tar, desc=f"reading {archive.name}", unit=" files", mininterval=0.5):
                match = _REVIEW_PATH.search(member.name)
                if match is None or not member.isfile():
                    continue
                handle = tar.extractfile(member)
                if handle is None:
                    continue
                yield _row(match, _decode(handle.read(), f"{archive}:{member.name}"))
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise DataError("archive not found", archive) from None
        raise DataError(f"archive is corrupt or not a tar archive ({error})", archive) from None


def _directory_rows(directory: Path) -> Iterator[tuple[str, str, int, int, str]]:
    root = directory if directory.name == "aclImdb" else directory / "aclImdb"
    if not root.is_dir():
        raise DataError("expected an 'aclImdb' directory (aclImdb/{train,test}/{pos,neg}/*.txt)", directory)
    files = sorted(root.glob("*/*/*.txt"))
    for path in tqdm(files, desc=f"reading {root}", unit=" files", mininterval=0.5):
        match = _REVIEW_PATH.search(path.as_posix())
        if match is not None:
            yield _row(match, _decode(path.read_bytes(), str(path)))


def read_reviews(source: Path) -> pd.DataFrame:
    """All labeled reviews of an archive or directory, sorted by split, label and id."""
    source = Path(source)
    if not source.exists():
        raise DataError("review source not found", source)
    rows = list(_directory_rows(source) if source.is_dir() else _archive_rows(source))
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
