"""Preprocessing stages: clean, vocabulary, sequences."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from sentiment.config.workspace import Workspace
from sentiment.core.files import atomic_path, write_json
from sentiment.data import cleaning
from sentiment.data.layout import DISTANCE_COLUMN
from sentiment.data.sequences import DISTANCES, pad_tokenized
from sentiment.data.splits import SPLIT_KEY
from sentiment.data.vocabulary import encode, fit_vocabulary
from sentiment.stages.readers import read_clean, read_raw, read_vocabulary

if TYPE_CHECKING:
    from sentiment.checks.parts import Parts

logger = logging.getLogger(__name__)


def clean(workspace: Workspace) -> Path:
    """Stage `clean`: raw table -> the same table with cleaned text."""
    table = read_raw(workspace)
    config = workspace.params.cleaning
    # A missing text cleans to "": validate_text, the next stage, names the review and stops the pipeline.
    texts = tqdm(table["text"].fillna("").tolist(), desc="cleaning", unit=" reviews", mininterval=0.5)
    table = table.assign(text=list(cleaning.clean_texts(texts, config)))
    target = workspace.clean_table
    with atomic_path(target) as temporary:
        table.to_parquet(temporary, index=False)
    return target


def _parts(workspace: Workspace) -> Parts:
    from sentiment.checks.parts import dataset_parts  # here: the clean stage does not depend on it

    params = workspace.params
    return dataset_parts(read_clean(workspace), params.validation.leakage, params.splits, params.seed)


def vocabulary(workspace: Workspace) -> Path:
    """Stage `vocabulary`: fit the word index on the training part of the cleaned text.

    Never on the validation part (nor test): a word seen only in validation reviews is out of the
    vocabulary, as it is for a new review. Train reviews whose text is also in test are left out under
    the leakage policy `drop`.
    """
    fitted = fit_vocabulary(_parts(workspace).train["text"].tolist(), workspace.params.vocabulary)
    target = workspace.vocabulary_file
    write_json(target, fitted.to_dict())
    return target


def sequences(workspace: Workspace) -> Path:
    """Stage `sequences`: texts -> padded int32 sequences for train, validation and test.

    The file also holds `validation_split`, a 0-d string array: "movie" or "random", how the
    validation part was drawn (the training stages report it), and, where every review of a split
    has one (synthetic reviews), `distances_<split>`: each verdict's distance from the end in words.
    """
    config = workspace.params.sequences
    parts = _parts(workspace)
    fitted = read_vocabulary(workspace)
    named = {"train": parts.train, "validation": parts.validation, "test": parts.test}
    arrays: dict[str, np.ndarray] = {SPLIT_KEY: np.array(parts.method)}
    for name, part in tqdm(named.items(), desc="sequences", unit=" splits"):
        tokenized = encode(fitted, part["text"].tolist())
        arrays[f"x_{name}"] = pad_tokenized(tokenized, config.max_len, config.padding, config.truncating)
        arrays[f"y_{name}"] = part["label"].to_numpy(dtype=np.int32)
        arrays[f"ids_{name}"] = part["review_id"].to_numpy(dtype=str)
        arrays[f"lengths_{name}"] = tokenized.lengths
        if DISTANCE_COLUMN in part.columns and part[DISTANCE_COLUMN].notna().all():
            # synthetic reviews: each verdict's distance from the end, for accuracy by distance
            arrays[f"{DISTANCES}_{name}"] = part[DISTANCE_COLUMN].to_numpy(dtype=np.int32)
    logger.info(
        "validation split by %s: %d training, %d validation reviews",
        parts.method,
        len(parts.train),
        len(parts.validation),
    )
    target = workspace.sequences_file
    with atomic_path(target) as temporary, temporary.open("wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    return target
