"""Preprocessing stages: clean, vocabulary, sequences."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sentiment.config.workspace import Workspace
from sentiment.core.files import atomic_path, write_json
from sentiment.data import cleaning
from sentiment.data.sequences import pad_tokenized, stratified_split
from sentiment.data.vocabulary import encode, fit_vocabulary
from sentiment.stages.readers import read_clean, read_raw, read_vocabulary

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


def vocabulary(workspace: Workspace) -> Path:
    """Stage `vocabulary`: fit the word index on the training split of the cleaned text.

    Train reviews whose text is also in test are left out under the leakage policy `drop`.
    """
    from sentiment.checks.leakage import training_reviews  # here: the clean stage does not depend on it

    table = read_clean(workspace)
    training_texts = training_reviews(table, workspace.params.validation.leakage)["text"].tolist()
    fitted = fit_vocabulary(training_texts, workspace.params.vocabulary)
    target = workspace.vocabulary_file
    write_json(target, fitted.to_dict())
    return target


def sequences(workspace: Workspace) -> Path:
    """Stage `sequences`: texts -> padded int32 sequences for train, validation and test."""
    from sentiment.checks.leakage import training_reviews

    params = workspace.params
    table = read_clean(workspace)
    fitted = read_vocabulary(workspace)
    training = training_reviews(table, params.validation.leakage)
    kept, held_out = stratified_split(
        training["label"].to_numpy(), params.sequences.validation_fraction, params.seed
    )
    parts = {
        "train": training.iloc[kept],
        "validation": training.iloc[held_out],
        "test": table[table["split"] == "test"],
    }
    arrays: dict[str, np.ndarray] = {}
    for name, part in tqdm(parts.items(), desc="sequences", unit=" splits"):
        tokenized = encode(fitted, part["text"].tolist())
        arrays[f"x_{name}"] = pad_tokenized(
            tokenized, params.sequences.max_len, params.sequences.padding, params.sequences.truncating
        )
        arrays[f"y_{name}"] = part["label"].to_numpy(dtype=np.int32)
        arrays[f"ids_{name}"] = part["review_id"].to_numpy(dtype=str)
        arrays[f"lengths_{name}"] = tokenized.lengths
    target = workspace.sequences_file
    with atomic_path(target) as temporary, temporary.open("wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    return target
