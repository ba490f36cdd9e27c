"""Lineage tags on every run: the git commit, the MD5 of the data files it trained on (DVC's hash of a
file is its MD5) and of data.dvc's recorded raw reviews, an MD5 of the parsed params, and
`pipeline_run`, shared by the runs of one execution of the pipeline so that they can be selected
and compared side by side. The Prefect flow sets it through SENTIMENT_PIPELINE_RUN; otherwise (under
`dvc repro`) it is derived from the git commit, the sequences' MD5 and the params' MD5: stable, so
all variants trained from the same code, data and params share it, and a re-run of one changed
variant gets a new one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import yaml

from sentiment.config import Params
from sentiment.config.workspace import Workspace

PIPELINE_RUN_VARIABLE = "SENTIMENT_PIPELINE_RUN"
UNKNOWN = "unknown"


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_commit(root: Path) -> str:
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN
    return completed.stdout.strip() or UNKNOWN


def params_md5(params: Params) -> str:
    canonical = json.dumps(dataclasses.asdict(params), sort_keys=True, default=str)
    return hashlib.md5(canonical.encode("utf-8")).hexdigest()


def recorded_md5(dvc_file: Path) -> str:
    """The hash data.dvc records for its output (the raw reviews' version), or "" when there is none."""
    try:
        outs = yaml.safe_load(Path(dvc_file).read_text(encoding="utf-8")).get("outs") or []
        return str(outs[0].get("md5") or "")
    except (OSError, AttributeError, IndexError, yaml.YAMLError):
        return ""


@dataclasses.dataclass(frozen=True)
class Lineage:
    git_commit: str
    data_md5: dict[str, str]  # data file name (e.g. "sequences") -> MD5 of the file used
    raw_data_md5: str
    params_md5: str
    pipeline_run: str

    def tags(self) -> dict[str, str]:
        tags = {
            "pipeline_run": self.pipeline_run,
            "git_commit": self.git_commit,
            "mlflow.source.git.commit": self.git_commit,
            "params_md5": self.params_md5,
            "data.raw_md5": self.raw_data_md5 or UNKNOWN,
        }
        tags.update({f"data.{name}_md5": digest for name, digest in self.data_md5.items()})
        return tags


def lineage(workspace: Workspace, data_files: Mapping[str, Path]) -> Lineage:
    """Lineage of a run trained on `data_files` (the first one names the data in the derived pipeline run)."""
    commit = git_commit(workspace.root)
    data = {name: file_md5(path) for name, path in data_files.items()}
    parameters = params_md5(workspace.params)
    pipeline_run = os.environ.get(PIPELINE_RUN_VARIABLE, "")
    if not pipeline_run:
        first = next(iter(data.values()), "")
        pipeline_run = "repro-" + hashlib.md5(f"{commit}:{first}:{parameters}".encode()).hexdigest()[:12]
    return Lineage(commit, data, recorded_md5(workspace.raw_dvc_file), parameters, pipeline_run)
