"""A project checkout (root and params) and the names of files that every stage shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sentiment.config import Params, load_params
from sentiment.errors import DataError

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


def shown_path(workspace: Workspace, path: Path) -> str:
    """A path as the user knows it: relative to the workspace root when inside it."""
    try:
        return str(path.relative_to(workspace.root))
    except ValueError:
        return str(path)


def read_table(path: Path, missing: str) -> pd.DataFrame:
    """A stage's Parquet output; `missing` tells the user what to run when it is not there."""
    if not path.exists():
        raise DataError(missing, path)
    return pd.read_parquet(path)
