"""The pipeline stages: one function per stage, and the only module that knows file paths.

`dvc.yaml` runs these through the CLI (`sentiment stage NAME`) and the Prefect flows call them
directly, so both orchestrators run exactly the same code. Each stage reads its inputs from the
paths in params.yaml, relative to the workspace root, and writes its outputs atomically.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from sentiment import cleaning, ingest, synthetic
from sentiment.atomic import atomic_directory, atomic_path, write_json
from sentiment.config import Params, load_params
from sentiment.download import DownloadError, download, sha256_of
from sentiment.errors import DataError
from sentiment.sequences import pad_tokenized, stratified_split
from sentiment.vocabulary import Vocabulary, encode, fit_vocabulary

logger = logging.getLogger(__name__)

ARCHIVE_ENVIRONMENT_VARIABLE = "IMDB_ARCHIVE"
RAW_DVC_FILE = "data.dvc"
DOWNLOAD_DIR = ".cache/downloads"
SPLIT_NAMES = ("train", "validation", "test")


@dataclass(frozen=True)
class Workspace:
    """A project checkout: its root directory and its parameters."""

    root: Path
    params: Params

    @classmethod
    def load(cls, root: Path | str = ".", params_file: str = "params.yaml") -> Workspace:
        root = Path(root).resolve()
        return cls(root=root, params=load_params(root / params_file))

    def path(self, relative: str) -> Path:
        return self.root / relative


# --- raw reviews -------------------------------------------------------------------------------


def fetch_raw(workspace: Workspace, archive: Path | None = None, use_synthetic: bool = False) -> Path:
    """Obtain the raw reviews into `paths.raw_dir` as one table, from the first source that applies.

    Sources, in order: synthetic reviews when asked; `archive` (a tar archive or an extracted
    `aclImdb/` directory); the IMDB_ARCHIVE environment variable; the official download.
    """
    params = workspace.params
    environment_archive = os.environ.get(ARCHIVE_ENVIRONMENT_VARIABLE)
    provenance: dict[str, object]
    if use_synthetic:
        table = synthetic.synthetic_reviews(
            params.source.synthetic_reviews, params.source.synthetic_test_fraction, params.seed
        )
        provenance = {"kind": "synthetic", "reviews": params.source.synthetic_reviews, "seed": params.seed}
    else:
        source = archive or (Path(environment_archive) if environment_archive else None)
        if source is None:
            source = _download_official(workspace)
        table = ingest.read_reviews(source)
        provenance = {"kind": "archive" if source.is_file() else "directory", "location": str(source)}
        if source.is_file():
            provenance["sha256"] = sha256_of(source)
    provenance["counts"] = {
        f"{split}/{'pos' if label else 'neg'}": int(count)
        for (split, label), count in table.groupby(["split", "label"]).size().items()
    }
    raw_dir = workspace.path(params.paths.raw_dir)
    table_name = Path(params.paths.raw_table).relative_to(params.paths.raw_dir)
    with atomic_directory(raw_dir) as staging:
        table.to_parquet(staging / table_name, index=False)
        write_json(staging / "source.json", provenance)
    logger.info("wrote %d raw reviews to %s", len(table), raw_dir)
    return raw_dir


def _download_official(workspace: Workspace) -> Path:
    source = workspace.params.source
    destination = workspace.path(DOWNLOAD_DIR) / Path(source.url).name
    try:
        return download(source.url, destination, source.sha256)
    except DownloadError as error:
        raise DownloadError(
            f"{error}\nNo IMDB data available offline. Either point {ARCHIVE_ENVIRONMENT_VARIABLE} at a "
            f"local copy of the archive (IMDB_ARCHIVE=/path/to/aclImdb_v1.tar.gz make run; an extracted "
            f"aclImdb/ directory works too), or run `make demo` for the same pipeline on synthetic reviews."
        ) from None


def record_raw_version(workspace: Workspace) -> Path:
    """Record the current raw reviews as a new version in data.dvc (and the DVC cache)."""
    from dvc.repo import Repo

    dvc_file = workspace.path(RAW_DVC_FILE)
    if not dvc_file.exists():
        dvc_file.write_text(f"outs:\n- path: {workspace.params.paths.raw_dir}\n", encoding="utf-8")
    with Repo(str(workspace.root)) as repo:
        repo.commit(RAW_DVC_FILE, force=True)
    return dvc_file


def read_raw(workspace: Workspace) -> pd.DataFrame:
    path = workspace.path(workspace.params.paths.raw_table)
    if not path.exists():
        raise DataError("raw reviews not found: run `sentiment fetch` first", path)
    return pd.read_parquet(path)


# --- preprocessing stages ----------------------------------------------------------------------


def clean(workspace: Workspace) -> Path:
    """Stage `clean`: raw table -> the same table with cleaned text."""
    table = read_raw(workspace)
    config = workspace.params.cleaning
    texts = tqdm(table["text"].tolist(), desc="cleaning", unit=" reviews", mininterval=0.5)
    table = table.assign(text=list(cleaning.clean_texts(texts, config)))
    target = workspace.path(workspace.params.paths.clean_table)
    with atomic_path(target) as temporary:
        table.to_parquet(temporary, index=False)
    return target


def read_clean(workspace: Workspace) -> pd.DataFrame:
    path = workspace.path(workspace.params.paths.clean_table)
    if not path.exists():
        raise DataError("cleaned reviews not found: run the clean stage first", path)
    return pd.read_parquet(path)


def vocabulary(workspace: Workspace) -> Path:
    """Stage `vocabulary`: fit the word index on the training split of the cleaned text."""
    table = read_clean(workspace)
    training_texts = table.loc[table["split"] == "train", "text"].tolist()
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
    training = table[table["split"] == "train"].reset_index(drop=True)
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
