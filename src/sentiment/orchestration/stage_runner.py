"""How a flow task calls a stage's function: model training in a process of its own, the rest in-process.

Keras/TensorFlow training is reproducible (same params and seed, same weights and metrics) in a process
of its own: the `sentiment stage train --variant NAME` command that dvc.yaml runs gives the same numbers
every time. Inside a longer-lived process that does other work at the same time it is not. Measured
here: two variants trained at once in threads of one process (they share Python's and TensorFlow's
random state) got other metrics than each trained alone; a variant trained inside a Dask worker process
(whose event loop runs beside the task) got different validation losses from one run to the next. So a
flow task runs a training stage exactly as dvc.yaml does, in a fresh Python process, wherever the task
itself runs (a thread here, a Dask worker elsewhere); the other stages, deterministic pure Python, run
in the task's own process.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from collections.abc import Callable

from sentiment.config.workspace import Workspace
from sentiment.core.errors import SentimentError
from sentiment.stages import table

logger = logging.getLogger(__name__)

# The claims stage trains too (the clipping experiment): its numbers are reproducible in a process of its own.
OWN_PROCESS_STAGES = frozenset({"train", "distill", "claims"})
ERROR_LINES = 25  # of the stage process's stderr, in the error when it fails


class StageProcessFailed(SentimentError):
    """A stage run in its own process exited with an error (deterministic: not retried)."""


class StageProcessKilled(SentimentError):
    """A stage's process was killed by a signal.

    Not retried: the usual killers are the kernel's out-of-memory killer, which would kill the same
    training again, and an operator stopping the run on purpose.
    """


def stage_command(workspace: Workspace, name: str, variant: str | None) -> list[str]:
    """dvc.yaml's command for the stage (`sentiment stage NAME [--variant V]`), with this Python."""
    command = [sys.executable, "-m", "sentiment.cli", "--root", str(workspace.root), "stage", name]
    return [*command, "--variant", variant] if variant else command


def run_in_own_process(workspace: Workspace, name: str, variant: str | None) -> None:
    """Run the stage in a fresh process; its progress goes to this process's stdout.

    The child inherits this process's environment, so the tracking URI and pipeline-run id the task
    exported reach it.
    """
    command = stage_command(workspace, name, variant)
    completed = subprocess.run(command, cwd=workspace.root, stderr=subprocess.PIPE, text=True, check=False)
    stage_name = f"{name}@{variant}" if variant else name
    tail = "\n".join(completed.stderr.strip().splitlines()[-ERROR_LINES:])
    if completed.returncode < 0:
        signal_name = signal.Signals(-completed.returncode).name
        raise StageProcessKilled(
            f"stage {stage_name} was killed by {signal_name} while it ran (out of memory, or stopped "
            f"by hand?); its outputs were not recorded. Run the pipeline again.\n{tail}"
        )
    if completed.returncode != 0:
        errors = [line for line in completed.stderr.splitlines() if line.startswith("error: ")]
        summary = errors[-1].removeprefix("error: ") if errors else f"exit status {completed.returncode}"
        raise StageProcessFailed(f"stage {stage_name} failed: {summary}\n{tail}")
    logger.debug("stage %s: %s", stage_name, tail)


def stage_function(stage_name: str) -> Callable[[Workspace], object]:
    """What a flow task calls for dvc.yaml's stage `stage_name` (`clean`, `train@lstm`, ...)."""
    name, _, variant = stage_name.partition("@")
    if name in OWN_PROCESS_STAGES:
        if not variant and name in table.VARIANT_STAGES:
            raise table.UnknownStage(f"stage {name} runs per variant: name it as {name}@VARIANT")
        return lambda workspace: run_in_own_process(workspace, name, variant or None)
    if variant:
        variant_function = table.variant_stage_function(name)
        return lambda workspace: variant_function(workspace, variant)
    return table.stage_function(name)
