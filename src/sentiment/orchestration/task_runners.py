"""Where the training tasks run: threads of the flow's process, or the workers of a Dask cluster.

`dask_address` (a flow parameter, else the SENTIMENT_DASK_ADDRESS environment variable) picks:
- unset: a pool of SENTIMENT_TRAINING_THREADS (default 2) threads in the flow's process;
- `local` or `local:N`: a new Dask LocalCluster of N worker processes (default 2), one thread each;
- `tcp://host:8786` (any scheduler address): an existing Dask cluster, through prefect-dask.

Either way each model trains in a fresh process of its own, started by its task
(`orchestration.stage_runner`): threads are enough to run them side by side.
"""

from __future__ import annotations

import os
from typing import Any

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from sentiment.core.errors import ConfigError

DASK_ADDRESS_VARIABLE = "SENTIMENT_DASK_ADDRESS"
THREADS_VARIABLE = "SENTIMENT_TRAINING_THREADS"
DEFAULT_THREADS = 2  # models trained at once on this machine
LOCAL_CLUSTER = "local"
DEFAULT_LOCAL_WORKERS = 2


def resolve_dask_address(dask_address: str | None) -> str | None:
    """The parameter if given, else the environment variable; an empty string means no cluster."""
    address = dask_address if dask_address is not None else os.environ.get(DASK_ADDRESS_VARIABLE)
    return (address.strip() or None) if address else None


def local_cluster_workers(address: str) -> int | None:
    """N for `local` / `local:N`, None for the address of an existing cluster."""
    name, _, count = address.partition(":")
    if name != LOCAL_CLUSTER:
        return None
    if not count:
        return DEFAULT_LOCAL_WORKERS
    if not count.isdigit() or int(count) < 1:
        raise ConfigError(f"dask address {address!r}: expected 'local' or 'local:N' with N >= 1")
    return int(count)


def local_threads() -> int:
    value = os.environ.get(THREADS_VARIABLE, str(DEFAULT_THREADS))
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{THREADS_VARIABLE}: expected a positive integer, got {value!r}")
    return int(value)


def training_task_runner(dask_address: str | None = None) -> TaskRunner[Any]:
    """The task runner for the training flow (see the module docstring)."""
    address = resolve_dask_address(dask_address)
    if address is None:
        return ThreadPoolTaskRunner(max_workers=local_threads())
    from prefect_dask import DaskTaskRunner

    workers = local_cluster_workers(address)
    if workers is None:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True},
    )
