"""TensorFlow's start-up noise, silenced on machines without a GPU, before TensorFlow is imported.

On a CPU-only machine TensorFlow 2.21 prints "failed call to cuInit ... UNKNOWN ERROR (303)" at its first
operation, and at import, before its logging is set up, informational lines (oneDNN, "Could not find cuda
drivers") that no environment variable turns off: TF_CPP_MIN_LOG_LEVEL only reaches messages logged after
the import. Neither says anything is wrong. So, where no NVIDIA device exists, `quiet()` sets
TF_CPP_MIN_LOG_LEVEL to 3 (errors TensorFlow can act on still reach Python as exceptions) and drops those
informational lines from stderr while `tensorflow` is first imported; every other line written meanwhile
is passed on. Nothing changes where the user set TF_CPP_MIN_LOG_LEVEL, or on a machine with a GPU.

Written here because no library does it: it is a stderr filter around one import (`sentiment/__init__`
installs it, so every entry point, the CLI, the flows, the served model and the benchmarks, has it).
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import re
import sys
import tempfile
from collections.abc import Iterator, MutableMapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

LOG_LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
QUIET_LEVEL = "3"
# absl's lines before its logging is initialised: its banner and informational (I) or warning (W) lines.
NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]\d{4} .*)$"
)


def has_gpu(devices: Path = Path("/dev")) -> bool:
    """Whether the machine has an NVIDIA device (what TensorFlow would look for)."""
    return any(devices.glob("nvidia[0-9]*"))


@contextlib.contextmanager
def filtered_stderr(noise: re.Pattern[str] = NOISE) -> Iterator[None]:
    """Capture file descriptor 2 (C++ code writes there directly) and pass on every line but noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines()
            kept = [line for line in lines if not noise.match(line)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")


class _FilteredLoader(importlib.abc.Loader):
    """The real loader of `tensorflow`, run inside `filtered_stderr`; it answers anything else asked."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        created: ModuleType | None = self._loader.create_module(spec)
        return created

    def exec_module(self, module: ModuleType) -> None:
        with filtered_stderr():
            self._loader.exec_module(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` as Python would, once, and hands it to `_FilteredLoader`."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once: the real finders answer from now on
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _FilteredLoader(spec.loader)
        return spec


def quiet(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Silence TensorFlow's start-up noise where there is no GPU and the user chose no log level;
    returns whether it did."""
    if LOG_LEVEL_VARIABLE in environ or has_gpu():
        return False
    environ[LOG_LEVEL_VARIABLE] = QUIET_LEVEL
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport())
    return True
