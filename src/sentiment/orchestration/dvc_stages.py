"""Run pipeline stages from Prefect so that DVC always agrees with what a flow run did.

The choice: a flow task asks DVC itself whether its stage (as named in dvc.yaml, e.g. `clean` or
`train@lstm`) is up to date, using the same content hashes, params and dvc.lock as `dvc repro`. If it
is, the task does nothing. If DVC's run cache holds the outputs of the same deps and params (`dvc
repro` ran it before), they are checked out, as `dvc repro` would. Otherwise the task calls the stage
function (a training stage in a process of its own: `orchestration.stage_runner`) and then records the
outputs in dvc.lock and the DVC cache (`dvc commit`).

Why not `dvc repro STAGE` from each task: DVC holds its repository lock for the whole reproduction,
so the variants would train one at a time. Here DVC's lock (and a file lock that orders this
project's own callers) is held only to ask and to record, never while a stage computes, so variants
train concurrently; and dvc.lock stays DVC's own record, so `dvc status` and a later `dvc repro` see
the flow's work as theirs.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from sentiment.config.workspace import Workspace
from sentiment.core.errors import SentimentError
from sentiment.stages.table import UnknownStage

if TYPE_CHECKING:
    from dvc.repo import Repo
    from dvc.stage import Stage

logger = logging.getLogger(__name__)

# Lock names (Workspace.lock_file knows where they live).
DVC_API_LOCK = "dvc-api"
PIPELINE_LOCK = "pipeline"


class StageOutcome(enum.StrEnum):
    UP_TO_DATE = "up to date"
    RESTORED = "restored from the DVC run cache"
    RAN = "ran"


class PipelineBusy(SentimentError):
    """Another pipeline run holds the workspace."""


# Set while this process (or the run that started it: a flow's stage processes) holds the workspace.
PIPELINE_LOCK_HOLDER_VARIABLE = "SENTIMENT_PIPELINE_LOCK_HOLDER"


def _holder_file(root: Path) -> Path:
    return Workspace.lock_file(root, PIPELINE_LOCK).with_suffix(".holder")


def _holder_description(root: Path) -> str:
    try:
        holder = json.loads(_holder_file(root).read_text(encoding="utf-8"))
        return f"{holder['holder']} (process {holder['pid']}, since {holder['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another pipeline run"


@contextlib.contextmanager
def pipeline_lock(root: Path, timeout_seconds: float, holder: str = "a pipeline run") -> Iterator[None]:
    """Hold the workspace for one pipeline run, so two runs never write the same outputs at once.

    Every entry point takes it: the flows for their whole run, and `sentiment fetch` / `sentiment stage`
    (so `dvc repro`) for each stage (`stage_lock`). A second run waits up to `timeout_seconds` (0: not
    at all), then fails with PipelineBusy naming the holder. While it is held, PIPELINE_LOCK_HOLDER_VARIABLE
    is set, so the stage processes a flow starts run under the flow's hold. The lock is an OS file lock:
    it is released when its holder exits, even by SIGKILL, so a crashed run never leaves it locked.
    """
    path = Workspace.lock_file(root, PIPELINE_LOCK)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=timeout_seconds)
    try:
        lock.acquire()
    except Timeout:
        raise PipelineBusy(
            f"the workspace {root} is held by {_holder_description(root)} (lock file {path}); waited "
            f"{timeout_seconds:g} s. Wait for it to finish, or run in another checkout."
        ) from None
    try:
        since = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        _holder_file(root).write_text(
            json.dumps({"holder": holder, "pid": os.getpid(), "since": since}), encoding="utf-8"
        )
        os.environ[PIPELINE_LOCK_HOLDER_VARIABLE] = str(os.getpid())
        yield
    finally:
        os.environ.pop(PIPELINE_LOCK_HOLDER_VARIABLE, None)
        _holder_file(root).unlink(missing_ok=True)
        lock.release()


STAGE_LOCK_TIMEOUT_VARIABLE = "SENTIMENT_LOCK_TIMEOUT"


@contextlib.contextmanager
def workspace_hold(root: Path, holder: str, timeout_seconds: float | None = None) -> Iterator[None]:
    """`pipeline_lock` for an entry point, unless this process (a flow's thread) or the run that started
    it (a flow's stage process) already holds the workspace.

    A stage command started by `dvc repro` while a flow runs fails at once by default (or after
    SENTIMENT_LOCK_TIMEOUT seconds) rather than wait: `dvc repro` holds DVC's own lock meanwhile, which
    the flow needs to record its stages, so waiting could only end in a timeout on one side or the other.
    """
    if os.environ.get(PIPELINE_LOCK_HOLDER_VARIABLE):
        yield
        return
    if timeout_seconds is None:
        timeout_seconds = float(os.environ.get(STAGE_LOCK_TIMEOUT_VARIABLE) or 0)
    with pipeline_lock(root, timeout_seconds, holder):
        yield


@contextlib.contextmanager
def locked_repo(root: Path) -> Iterator[Repo]:
    """DVC's repository, locked for this caller only: first our file lock, then DVC's own lock.

    DVC resolves some paths (its run cache's `dvc.yaml`) against the current directory, as its CLI
    always runs in the repository, so the calls run there. The working directory is process-wide: the
    file lock keeps DVC calls from overlapping, and stage functions use only absolute paths
    (`Workspace.path`), so a stage computing in another thread meanwhile is unaffected.
    """
    from dvc.repo import Repo, lock_repo

    lock_path = Workspace.lock_file(root, DVC_API_LOCK)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(lock_path), contextlib.chdir(root), Repo(str(root)) as repo, lock_repo(repo):
        yield repo


def _target(repo: Repo, stage_name: str) -> str:
    # Absolute: DVC resolves a bare stage name against the current directory, not the repo's root.
    return f"{Path(repo.root_dir) / 'dvc.yaml'}:{stage_name}"


def _collect_stage(repo: Repo, stage_name: str) -> Stage:
    from dvc.stage.exceptions import StageNotFound

    try:
        found = repo.stage.collect(_target(repo, stage_name))
    except StageNotFound:
        found = []
    if len(found) != 1:
        raise UnknownStage(f"dvc.yaml has no stage named {stage_name!r} [{repo.root_dir}/dvc.yaml]")
    return found[0]


def _restore_from_run_cache(stage: Stage) -> bool:
    """Check out the outputs DVC's run cache holds for exactly these deps and params, as `dvc repro` does.

    No dry run first: DVC decides from the deps' hashes it computes while restoring (a dry run would
    look up the hashes recorded in dvc.lock). Outputs already in place are in the DVC cache, so the
    checkout replaces them safely.
    """
    from dvc.stage.cache import RunCacheNotFoundError

    try:
        stage.repo.stage_cache.restore(stage)
    except RunCacheNotFoundError:
        return False
    return True


def is_dvc_project(root: Path) -> bool:
    return (Path(root) / "dvc.yaml").is_file() and (Path(root) / ".dvc").is_dir()


def run_stage(
    root: Path, stage_name: str, compute: Callable[[], object], force: bool = False
) -> StageOutcome:
    """Bring one dvc.yaml stage up to date by calling `compute` (its stage function) only if needed.

    Outside a DVC project (no dvc.yaml and .dvc/ at `root`, e.g. a scratch directory with a params.yaml)
    there is nothing to ask or record: the stage simply runs.
    """
    root = Path(root)
    if not is_dvc_project(root):
        compute()
        return StageOutcome.RAN
    with locked_repo(root) as repo:
        stage = _collect_stage(repo, stage_name)
        if not force and not stage.changed():
            logger.info("stage %s is up to date (DVC): skipped", stage_name)
            return StageOutcome.UP_TO_DATE
        if not force and _restore_from_run_cache(stage):
            repo.commit(_target(repo, stage_name), force=True)
            logger.info("stage %s restored from the DVC run cache", stage_name)
            return StageOutcome.RESTORED
    started = time.perf_counter()
    compute()
    with locked_repo(root) as repo:
        # force: record the deps and outputs as they are now, without DVC's interactive confirmation.
        repo.commit(_target(repo, stage_name), force=True)
    logger.info(
        "stage %s ran in %.1f s and is recorded in dvc.lock", stage_name, time.perf_counter() - started
    )
    return StageOutcome.RAN


def export_environment(values: Mapping[str, str | None]) -> None:
    """Set (or, for None, unset) environment variables in this process.

    Tasks on Dask workers run in other processes, which do not see the flow's environment, so the flow
    passes the values it means (tracking URI, pipeline-run id) explicitly and each task exports them.
    No restore afterwards: in the flow's own process the values are already the flow's, and restoring
    from one thread would pull them from under a concurrent task in another.
    """
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@contextlib.contextmanager
def environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """`export_environment` for the duration of a flow run, then the previous values back."""
    previous = {name: os.environ.get(name) for name in values}
    try:
        export_environment(values)
        yield
    finally:
        export_environment(previous)
