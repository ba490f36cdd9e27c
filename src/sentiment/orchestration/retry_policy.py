"""Which failures are worth retrying: transient ones (a service briefly away), never deterministic ones.

A flow task retries, with exponential backoff, only when the failure is transient: the MLflow tracking
server or its database unreachable or busy, DVC's repository lock held for a moment by another command,
a Dask worker lost. A deterministic failure (data that fails validation, a bad params.yaml, missing
input: every `SentimentError`) and any unrecognised error (a bug) fail at once, since running the same
code on the same input again gives the same result and only delays the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sentiment.core.errors import SentimentError

# Error codes an MLflow server answers with when it is overloaded or briefly unavailable.
TRANSIENT_MLFLOW_CODES = frozenset(
    {"TEMPORARILY_UNAVAILABLE", "RESOURCE_EXHAUSTED", "REQUEST_LIMIT_EXCEEDED", "DEADLINE_EXCEEDED"}
)
# Raised when a Dask worker dies under a task, or its connection drops.
TRANSIENT_CLASS_NAMES = frozenset({"KilledWorker", "CommClosedError", "LockError"})
TRANSIENT_MESSAGES = ("database is locked", "connection refused", "max retries exceeded", "timed out")


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_transient(error: BaseException) -> bool:
    """True when `error`, or an error it was raised from, is one that may pass if tried again."""
    for link in _chain(error):
        if isinstance(link, SentimentError):
            return False
        if isinstance(link, ConnectionError | TimeoutError):
            return True
        class_name = type(link).__name__
        if class_name in TRANSIENT_CLASS_NAMES:
            return True
        if class_name in ("MlflowException", "RestException", "OperationalError"):
            message = str(link).lower()
            if getattr(link, "error_code", None) in TRANSIENT_MLFLOW_CODES or any(
                fragment in message for fragment in TRANSIENT_MESSAGES
            ):
                return True
        module = type(link).__module__
        if module.startswith(("requests.", "urllib3.")) and (
            "Connection" in class_name or "Timeout" in class_name
        ):
            return True
    return False


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect `retry_condition_fn`: retry a failed task run only if its exception is transient."""
    error = state.data if isinstance(state.data, BaseException) else None
    if error is None:
        try:
            error = state.result(raise_on_failure=False)
        except Exception as unreadable:  # the result itself could not be read back: treat as infrastructure
            error = unreadable
    return isinstance(error, BaseException) and is_transient(error)


RETRIES = 3
BACKOFF_SECONDS = 10.0  # then 20 s, then 40 s
JITTER = 0.2


def task_retry_options() -> dict[str, Any]:
    """Keyword arguments of `prefect.task`: retry transient failures with exponential backoff, only."""
    from prefect.tasks import exponential_backoff

    return {
        "retries": RETRIES,
        "retry_delay_seconds": exponential_backoff(backoff_factor=BACKOFF_SECONDS),
        "retry_jitter_factor": JITTER,
        "retry_condition_fn": retry_transient,
    }
