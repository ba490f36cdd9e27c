"""Preprocessing stages: clean, vocabulary, sequences (and readers of their outputs)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from sentiment import cleaning
from sentiment.atomic import atomic_path, write_json
from sentiment.errors import DataError
from sentiment.sequences import pad_tokenized, stratified_split
from sentiment.stages.raw import read_raw
from sentiment.stages.workspace import Workspace, read_table
from sentiment.validation.leakage import training_reviews
from sentiment.vocabulary import Vocabulary, encode, fit_vocabulary

logger = logging.getLogger(__name__)


def clean(workspace: Workspace) -> Path:
    """Stage `clean`: raw table -> the same table with cleaned text."""
    table = read_raw(workspace)
    config = workspace.params.cleaning
    # A missing text cleans to "": validate_text, the next stage, names the review and stops the pipeline.
    texts = tqdm(table["text"].fillna("").tolist(), desc="cleaning", unit=" reviews", mininterval=0.5)
    table = table.assign(text=list(cleaning.clean_texts(texts, config)))
    target = workspace.path(workspace.params.paths.clean_table)
    with atomic_path(target) as temporary:
        table.to_parquet(temporary, index=False)
    return target


def read_clean(workspace: Workspace) -> pd.DataFrame:
    path = workspace.path(workspace.params.paths.clean_table)
    return read_table(path, "cleaned reviews not found: run the clean stage first")


def vocabulary(workspace: Workspace) -> Path:
    """Stage `vocabulary`: fit the word index on the training split of the cleaned text.

    Train reviews whose text is also in test are left out under the leakage policy `drop`.
    """
    table = read_clean(workspace)
    training_texts = training_reviews(table, workspace.params.validation.leakage)["text"].tolist()
    fitted = fit_vocabulary(training_texts, workspace.params.vocabulary)
    target = workspace.path(workspace.params.paths.vocabulary)
    write_json(target, fitted.to_dict())
    return target


def read_vocabulary(workspace: Workspace) -> Vocabulary:
    import json

    path = workspace.path(workspace.params.paths.vocabulary)
    if not path.exists():
        raise DataError("vocabulary not found: run the vocabulary stage first", path)
    return Vocabulary.from_dict(json.loads(path.read_text(encoding="utf-8")))


def sequences(workspace: Workspace) -> Path:
    """Stage `sequences`: texts -> padded int32 sequences for train, validation and test."""
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
    target = workspace.path(params.paths.sequences)
    with atomic_path(target) as temporary, temporary.open("wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    return target


def read_sequences(workspace: Workspace) -> dict[str, np.ndarray]:
    path = workspace.path(workspace.params.paths.sequences)
    if not path.exists():
        raise DataError("sequences not found: run the sequences stage first", path)
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}
