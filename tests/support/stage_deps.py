"""Which `sentiment` modules a stage's process imports, and which of them dvc.yaml's deps do not cover."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from sentiment.stages.table import BOOKKEEPING_MODULES, PACKAGE_MARKERS

# `python -X importtime` writes one line per imported module: "import time: self | cumulative | name".
IMPORT_LINE = re.compile(r"^import time:\s+\d+\s+\|\s+\d+\s+\|\s+(?P<name>\S+)\s*$")


def imported_project_modules(stderr: str) -> set[str]:
    """The `sentiment.*` modules in a `python -X importtime` run's stderr."""
    names = {match["name"] for match in map(IMPORT_LINE.match, stderr.splitlines()) if match}
    return {name for name in names if name == "sentiment" or name.startswith("sentiment.")}


def run_stage_importing(root: Path, stage: str) -> set[str]:
    """Run dvc.yaml's command for `stage` (`clean`, `train@rnn`, ...) and return what it imported."""
    name, _, variant = stage.partition("@")
    command = [sys.executable, "-X", "importtime", "-m", "sentiment.cli", "stage", name]
    completed = subprocess.run(
        [*command, *(["--variant", variant] if variant else [])],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, f"stage {stage} failed:\n{completed.stderr[-3000:]}"
    return imported_project_modules(completed.stderr)


def module_file(name: str, source_root: Path) -> Path:
    """The file of module `name` under `source_root` (the folder that holds the `sentiment` package)."""
    path = source_root.joinpath(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def is_bookkeeping(name: str) -> bool:
    return name in PACKAGE_MARKERS or any(
        name == module or name.startswith(module + ".") for module in BOOKKEEPING_MODULES
    )


def uncovered(modules: Iterable[str], deps: Iterable[str], root: Path) -> set[str]:
    """The modules whose file lies under none of `deps` (paths relative to `root`), bookkeeping aside."""
    dep_paths = [(root / dep).resolve() for dep in deps]
    return {
        name
        for name in modules
        if not is_bookkeeping(name)
        and not any(module_file(name, root / "src").resolve().is_relative_to(dep) for dep in dep_paths)
    }


def code_deps(root: Path) -> Mapping[str, list[str]]:
    """dvc.yaml's deps under src/ of every stage, by stage name (`train@rnn`), as DVC resolves them."""
    from dvc.repo import Repo
    from dvc.stage import PipelineStage

    with Repo(str(root)) as repo:
        return {
            stage.name: [str(dep.def_path) for dep in stage.deps if str(dep.def_path).startswith("src/")]
            for stage in repo.index.stages
            if isinstance(stage, PipelineStage)
        }
