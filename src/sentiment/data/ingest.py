"""Read IMDB reviews from the official archive layout into one table.

Accepts a tar archive (gzip, bzip2, xz or none; `data.tar_reader`) or an extracted directory
(`data.directory_reader`) holding the labeled reviews `aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt`,
the unlabeled ones `aclImdb/train/unsup/<id>_0.txt` where the archive has them (the official one does;
a labeled-only copy has none), and the URL lists `aclImdb/<split>/urls_<folder>.txt` that name each
review's movie (`data.movies`). Every other file is ignored. The table's columns are `data.layout`'s:
review_id, text, label, rating, split ("train", "test", or "unsup" with label `UNLABELED` and rating
0), movie (null where the archive has no URL list for the review's folder).

Both readers go through one policy, `data.source_policy` (regular files only, no link followed,
bounded sizes, ids once per folder, ratings 1-10 labeled and 0 unlabeled), so a hostile or broken
source gets the same answer from either: a `DataError` naming the entry.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pandas as pd

from sentiment.core.errors import DataError
from sentiment.data.directory_reader import directory_rows, kind_of_mode
from sentiment.data.layout import (
    ARCHIVE_SPLITS,
    COLUMNS,
    LABELS,
    RATINGS,
    TABLE_SPLITS,
    UNLABELED,
    UNLABELED_RATING,
    UNSUP,
)
from sentiment.data.tar_reader import archive_rows

__all__ = [
    "ARCHIVE_SPLITS",
    "COLUMNS",
    "LABELS",
    "RATINGS",
    "TABLE_SPLITS",
    "UNLABELED",
    "UNLABELED_RATING",
    "UNSUP",
    "check_layout",
    "read_reviews",
    "sort_reviews",
]


def read_reviews(source: Path) -> pd.DataFrame:
    """All reviews of an archive or directory, labeled and unlabeled, in `sort_reviews`' order."""
    source = Path(source)
    try:
        mode = source.stat().st_mode
    except FileNotFoundError:
        raise DataError("review source not found", source) from None
    except OSError as error:
        raise DataError(f"cannot inspect the review source ({error.strerror})", source) from None
    if stat.S_ISDIR(mode):
        rows = directory_rows(source)
    elif stat.S_ISREG(mode):
        rows = archive_rows(source)
    else:
        raise DataError(
            f"review source is a {kind_of_mode(mode)}: neither a regular file nor a directory", source
        )
    table = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    check_layout(table, str(source))
    return sort_reviews(table)


def check_layout(table: pd.DataFrame, where: str) -> None:
    """Every labeled split must hold both positive and negative reviews (unlabeled ones are optional)."""
    for split in ARCHIVE_SPLITS:
        for sentiment, label in LABELS.items():
            if not ((table["split"] == split) & (table["label"] == label)).any():
                raise DataError(
                    f"wrong layout: no reviews under aclImdb/{split}/{sentiment}/<id>_<rating>.txt", where
                )


def sort_reviews(table: pd.DataFrame) -> pd.DataFrame:
    """A canonical row order (the archive's member order is not guaranteed) with compact dtypes.

    By split, label and id: the test reviews, then train, then the unlabeled ones ("unsup" sorts after
    both), each split negative before positive; the sort is stable, so equal keys keep their order.
    """
    table = table.astype({"label": "int8", "rating": "int8"})
    number = table["review_id"].str.rsplit("/", n=1).str[-1].astype("int64")
    order = pd.DataFrame({"split": table["split"], "label": table["label"], "number": number})
    table = table.loc[order.sort_values(["split", "label", "number"], kind="stable").index]
    return table.reset_index(drop=True)
