"""The inputs of a pipeline run besides the code: where its raw reviews come from, and parameter changes.

Both go through DVC's own records, so that a flow run and `dvc status` never disagree:
- the raw reviews: `tracked` uses the version recorded in data.dvc (checked out from the DVC cache, or
  pulled from the DVC remote on a machine that lacks it); any other source is fetched and recorded as
  a new version of data.dvc, as `sentiment fetch` does;
- a parameter change (a deployment's `epochs`) is written into params.yaml before the run, as
  `dvc exp run --set-param` does, so that dvc.lock records what was actually trained; a choice of
  `variants` only selects which training stages run, and never edits params.yaml.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from sentiment.config import DEFAULT_PARAMS_FILE, load_yaml, params_from_mapping
from sentiment.config.workspace import RAW_DVC_FILE, Workspace
from sentiment.core.errors import ConfigError, DataError
from sentiment.core.files import write_text
from sentiment.orchestration.dvc_stages import locked_repo

logger = logging.getLogger(__name__)

TRACKED = "tracked"
SYNTHETIC = "synthetic"
DOWNLOAD = "download"
SOURCES = (TRACKED, SYNTHETIC, DOWNLOAD, "<path to an aclImdb archive or directory>")


def bring_raw_data(workspace: Workspace, source: str) -> str:
    """Put the raw reviews of `source` (one of SOURCES) in place; returns what was done."""
    from sentiment.stages.raw import fetch_raw

    if source == TRACKED:
        return checkout_tracked_data(workspace)
    if source == SYNTHETIC:
        fetch_raw(workspace, use_synthetic=True, record=True)
    elif source == DOWNLOAD:
        fetch_raw(workspace, record=True)
    else:
        archive = Path(source).expanduser()
        if not archive.exists():
            raise DataError(f"source is neither one of {list(SOURCES[:3])} nor an existing path", archive)
        fetch_raw(workspace, archive=archive, record=True)
    return f"fetched from {source} and recorded in {RAW_DVC_FILE}"


def checkout_tracked_data(workspace: Workspace) -> str:
    """Make the raw reviews the version data.dvc records: as they are, from the DVC cache, or the remote."""
    from dvc.exceptions import DvcException

    dvc_file = workspace.raw_dvc_file
    if not dvc_file.exists():
        raise DataError(
            "no raw reviews are recorded yet: run the pipeline once with source 'download', 'synthetic' "
            "or an archive path (or `sentiment fetch`)",
            dvc_file,
        )
    with locked_repo(workspace.root) as repo:
        (data_stage,) = repo.stage.collect(str(dvc_file))
        if not data_stage.changed():
            return f"raw reviews as recorded in {RAW_DVC_FILE}"
        raw = workspace.raw_dir
        if raw.exists():
            raise DataError(
                f"{raw} differs from the version recorded in {RAW_DVC_FILE}: record it "
                f"(`dvc commit {RAW_DVC_FILE}`) or restore the recorded one "
                f"(`dvc checkout {RAW_DVC_FILE}`) before a run with source 'tracked'",
                dvc_file,
            )
        has_remote = bool(repo.config.get("core", {}).get("remote"))
        try:
            if has_remote:
                repo.pull(targets=[str(dvc_file)])
            else:
                repo.checkout(targets=[str(dvc_file)])
        except DvcException as error:
            where = "the DVC remote" if has_remote else "the DVC cache (no default remote is configured)"
            raise DataError(
                f"cannot restore the recorded raw reviews from {where}: {error}", dvc_file
            ) from None
    return f"raw reviews restored from {'the DVC remote' if has_remote else 'the DVC cache'}"


def selected_variants(workspace: Workspace, variants: Sequence[str] | None) -> list[str]:
    """The networks a run trains: `variants` (a choice among params.yaml's `models` and `students`), or
    all of them, in params.yaml's order.

    A choice never edits params.yaml: the other variants keep their settings and their trained models,
    and the next run without a choice trains (or finds up to date) every variant again.
    """
    defined = list(workspace.params.networks)
    if variants is None:
        return defined
    unknown = sorted(set(variants) - set(defined))
    if unknown or not variants:
        raise ConfigError(
            f"variants: {unknown or 'none given'}; params.yaml defines {defined} [{workspace.params_file}]"
        )
    return [name for name in defined if name in variants]


def apply_param_changes(root: Path, epochs: int | None) -> dict[str, Any]:
    """Write a run's parameter changes (`epochs`) into params.yaml; returns the changes made.

    The file is edited line by line, so its comments and layout stay as they are; the result is read
    back and checked before it replaces params.yaml.
    """
    params_file = Path(root) / DEFAULT_PARAMS_FILE
    current = load_yaml(params_file)
    changes: dict[str, Any] = {}
    if epochs is not None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ConfigError(f"epochs: expected a positive integer, got {epochs!r} [{params_file}]")
        if current["training"]["epochs"] != epochs:
            changes["training.epochs"] = epochs
    if not changes:
        return changes
    lines = params_file.read_text(encoding="utf-8").splitlines(keepends=True)
    lines = _set_value(lines, "training", "epochs", str(epochs), params_file)
    text = "".join(lines)
    edited = params_from_mapping(yaml.safe_load(text), str(params_file))
    if edited.training.epochs != epochs:
        raise ConfigError(f"cannot apply {changes} to params.yaml: edit it by hand [{params_file}]")
    write_text(params_file, text)
    logger.warning("params.yaml changed for this run (as `dvc exp run --set-param`): %s", changes)
    return changes


def _section(lines: list[str], section: str, path: Path) -> tuple[int, int]:
    """The line range of a top-level `section:` block: from its header to the next top-level key."""
    start = next((index for index, line in enumerate(lines) if line.startswith(f"{section}:")), None)
    if start is None:
        raise ConfigError(f"no top-level '{section}:' section to edit [{path}]")
    end = start + 1
    while end < len(lines) and not re.match(r"[A-Za-z_#]", lines[end]):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():  # blank lines belong to what follows
        end -= 1
    return start, end


def _set_value(lines: list[str], section: str, key: str, value: str, path: Path) -> list[str]:
    start, end = _section(lines, section, path)
    pattern = re.compile(rf"^(\s+{key}:\s*)[^#\s]+(.*)$", re.DOTALL)
    for index in range(start + 1, end):
        match = pattern.match(lines[index])
        if match:
            return [*lines[:index], f"{match.group(1)}{value}{match.group(2)}", *lines[index + 1 :]]
    raise ConfigError(f"no '{section}.{key}' to edit [{path}]")
