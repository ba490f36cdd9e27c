"""Readers of the stages' outputs, shared by the stages that consume them (and by tests and benchmarks).

Each names the stage to run when its file is missing, so a user who skipped a stage is told what to do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sentiment.config.workspace import Workspace
from sentiment.core.errors import DataError
from sentiment.core.files import read_json
from sentiment.data.vocabulary import Vocabulary

# The array of the pretrain stage's file: the word table, one row per vocabulary index.
WORD_VECTORS_KEY = "table"


def _read_table(workspace: Workspace, relative: str, missing: str) -> pd.DataFrame:
    path = workspace.path(relative)
    if not path.exists():
        raise DataError(missing, path)
    return pd.read_parquet(path)


def read_raw(workspace: Workspace) -> pd.DataFrame:
    return _read_table(
        workspace, workspace.params.paths.raw_table, "raw reviews not found: run `sentiment fetch` first"
    )


def read_clean(workspace: Workspace) -> pd.DataFrame:
    return _read_table(
        workspace, workspace.params.paths.clean_table, "cleaned reviews not found: run the clean stage first"
    )


def read_vocabulary(workspace: Workspace) -> Vocabulary:
    path = workspace.vocabulary_file
    if not path.exists():
        raise DataError("vocabulary not found: run the vocabulary stage first", path)
    return Vocabulary.from_dict(read_json(path))


def read_sequences(workspace: Workspace) -> dict[str, np.ndarray]:
    path = workspace.sequences_file
    if not path.exists():
        raise DataError("sequences not found: run the sequences stage first", path)
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def read_word_vectors(workspace: Workspace, rows: int, dimensions: int) -> np.ndarray:
    """The pretrain stage's word table, checked against the embedding it is to fill."""
    path = workspace.word_vectors_file
    if not path.exists():
        raise DataError("word vectors not found: run the pretrain stage first", path)
    with np.load(path, allow_pickle=False) as data:
        table = data[WORD_VECTORS_KEY]
    if table.shape != (rows, dimensions):
        raise DataError(
            f"word vectors of shape {table.shape}, expected ({rows}, {dimensions}) for this vocabulary "
            "and embedding_dim: re-run the pretrain stage",
            path,
        )
    return table
