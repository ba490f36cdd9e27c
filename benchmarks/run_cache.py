"""Runs kept for reuse: a run is a pure function of the prepared params, the model, the seed, the
code and the archive on one machine (the project is deterministic there), so a comparison that
trains params.yaml's own value again, as every `settings.py` study does, can take the run a study
before made instead of training it again. A run is reused only when all of those are the same; the
report says which runs were reused."""

from __future__ import annotations

import hashlib
import platform
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sentiment.core.files import read_json, write_json

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def code_revision() -> str:
    """The commit of the project and a hash of any uncommitted change to its code, so that an edited
    source tree never reuses a run of another one."""

    def git(*arguments: str) -> str:
        return subprocess.run(
            ["git", *arguments], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout

    changes = git("diff", "HEAD", "--", "src", "benchmarks")
    return git("rev-parse", "HEAD").strip() + ":" + hashlib.sha256(changes.encode()).hexdigest()[:16]


def archive_identity(archive: Path | None) -> str:
    if archive is None:
        return "synthetic"
    status = archive.stat()
    return f"{archive.resolve()}:{status.st_size}:{status.st_mtime_ns}"


def run_key(params: str, model: str, seed: int, archive: Path | None) -> str:
    facts = [params, model, str(seed), code_revision(), archive_identity(archive), platform.node()]
    return hashlib.sha256("\0".join(facts).encode()).hexdigest()


def cached_run(cache: Path | None, key: str, train: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The run stored under `key` in `cache` (marked reused), else `train()` stored there."""
    if cache is None:
        return train()
    entry = cache / f"{key}.json"
    if entry.is_file():
        return {**read_json(entry), "reused": True}
    run = train()
    cache.mkdir(parents=True, exist_ok=True)
    write_json(entry, run)
    return run
