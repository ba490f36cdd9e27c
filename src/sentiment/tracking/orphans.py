"""Orphaned MLflow runs: runs left RUNNING by a training process that was killed (SIGKILL, the
out-of-memory killer, a SIGTERM before MLflow could end the run), marked FAILED with the reason.

Every training run is tagged with the process that runs it (`process_tags`: pid, host, the process's
start time and the workspace). When a model's training stage starts (`mark_orphaned_runs`), each run
of that model and workspace still RUNNING whose process is gone, on this host, is set FAILED with
`sentiment.failure_reason` saying so. A run whose process is alive is left alone, and so is a run of
another host (a Dask worker elsewhere: its processes cannot be seen from here) or one without the tags.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping
from pathlib import Path

from sentiment.config.workspace import Workspace

logger = logging.getLogger(__name__)

PID_TAG = "sentiment.pid"
HOST_TAG = "sentiment.host"
# The kernel's start time of the process (clock ticks since boot, /proc/<pid>/stat): a pid reused by a
# later process does not make a dead run look alive.
PROCESS_START_TAG = "sentiment.process_start"
WORKSPACE_TAG = "sentiment.workspace"
FAILURE_REASON_TAG = "sentiment.failure_reason"
MODEL_TAG = "variant"  # the model a training run is of (a variant's name, or "baseline")


def host_name() -> str:
    return socket.gethostname()


def process_start(pid: int) -> str:
    """The start time of process `pid` as the kernel records it, or "" where it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""
    # "pid (command) state ppid ...": the command may hold spaces and parentheses; field 22 is starttime
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


def workspace_key(workspace: Workspace) -> str:
    return str(Path(workspace.root).resolve())


def process_tags(workspace: Workspace) -> dict[str, str]:
    """The tags that let a later stage tell whether the process running this run is still there."""
    return {**process_tags_of_this_process(), WORKSPACE_TAG: workspace_key(workspace)}


def process_tags_of_this_process() -> dict[str, str]:
    """This process's pid, host and start time (the part of `process_tags` that names the process)."""
    pid = os.getpid()
    return {PID_TAG: str(pid), HOST_TAG: host_name(), PROCESS_START_TAG: process_start(pid)}


def process_alive(pid: int, started: str = "") -> bool:
    """Whether process `pid` of this host exists and, if `started` is known, is the one that started then."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        pass
    if started:
        now = process_start(pid)
        if now and now != started:  # the pid was reused
            return False
    return True


def orphan_reason(tags: Mapping[str, str], host: str | None = None) -> str | None:
    """Why a RUNNING run with `tags` is orphaned, or None when it is not (or cannot be told) from here."""
    host = host_name() if host is None else host
    if tags.get(HOST_TAG) != host:
        return None
    try:
        pid = int(tags.get(PID_TAG, ""))
    except ValueError:
        return None
    if process_alive(pid, tags.get(PROCESS_START_TAG, "")):
        return None
    marked = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return (
        f"orphaned: its process {pid} on host {host} is gone (killed before it could end the run); "
        f"marked FAILED at {marked} by process {os.getpid()}"
    )


def mark_orphaned_runs(workspace: Workspace, model: str) -> list[str]:
    """Set FAILED, with the reason, every RUNNING run of `model` in this workspace whose process is gone.

    Returns the ids of the runs marked. Called when the model's training stage starts: one model's
    stage never runs twice at once in a workspace, and a live process is never touched anyway. This is
    housekeeping: a store that cannot be used now is logged and left for the next start (the training
    run, a moment later, reports it as such).
    """
    from mlflow.entities import RunStatus, ViewType
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    from sentiment.tracking.runs import experiment_name, tracking_uri
    from sentiment.tracking.uris import redacted

    uri = tracking_uri(workspace)
    client = MlflowClient(uri)
    here, host = workspace_key(workspace), host_name()
    marked: list[str] = []
    try:
        experiment = client.get_experiment_by_name(experiment_name())
        if experiment is None:
            return marked
        model_literal = model.replace("'", "\\'")
        running = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"attributes.status = 'RUNNING' and tags.{MODEL_TAG} = '{model_literal}'",
            run_view_type=ViewType.ACTIVE_ONLY,
            max_results=1000,
        )
        for run in running:
            tags = run.data.tags
            if tags.get(WORKSPACE_TAG) != here:
                continue
            reason = orphan_reason(tags, host)
            if reason is None:
                continue
            client.set_tag(run.info.run_id, FAILURE_REASON_TAG, reason)
            client.set_terminated(run.info.run_id, status=RunStatus.to_string(RunStatus.FAILED))
            logger.warning("MLflow run %s (%s) %s", run.info.run_id, model, reason)
            marked.append(run.info.run_id)
    except (MlflowException, OSError) as error:
        first_line = (str(error).splitlines() or [type(error).__name__])[0]
        logger.warning(
            "%s",
            redacted(f"could not look for orphaned MLflow runs of {model} in {uri}: {first_line}"),
        )
    return marked
