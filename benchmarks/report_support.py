"""What every benchmark script shares: the machine it ran on, a workspace prepared from the archive,
and its section of BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

import yaml

from sentiment.config.workspace import Workspace
from sentiment.core.files import write_text
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(encoding="utf-8"), re.MULTILINE)
        model = match.group(1).strip() if match else model
    return f"{model}, {os.cpu_count()} cores, {platform.system()}"


def load_average() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def prepare(root: Path, archive: Path | None, synthetic: int | None = None) -> Workspace:
    """A workspace in `root` with the project's params.yaml and the archive's reviews preprocessed
    (fetch, clean, vocabulary, sequences); a workspace that has its sequences already is reused.
    With `synthetic`, that many of the built-in synthetic reviews instead of the archive's (a quick
    check that a benchmark runs, not a measurement)."""
    text = (PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8")
    if synthetic is not None:
        params = yaml.safe_load(text)
        params["source"]["synthetic_reviews"] = synthetic
        text = yaml.safe_dump(params, sort_keys=False)
    (root / "params.yaml").write_text(text, encoding="utf-8")
    workspace = Workspace.load(root)
    if not workspace.path(workspace.params.paths.sequences).exists():
        raw_stages.fetch_raw(workspace, archive=archive, use_synthetic=synthetic is not None)
        for stage in (
            preprocessing_stages.clean,
            preprocessing_stages.vocabulary,
            preprocessing_stages.sequences,
        ):
            stage(workspace)
    return workspace


def write_section(path: Path, title: str, section: str) -> None:
    """Replace the `## title` section of a Markdown file (up to the next `## `), or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    write_text(path, text.rstrip("\n") + "\n")


def publish(path: Path, title: str, section: str) -> None:
    """Print a benchmark's section and write it into the Markdown file at `path`."""
    print(section)
    write_section(path, title, section)
    print(f"wrote the '{title}' section of {path}")
