"""Errors that a user can act on: each names the problem and the file it concerns."""

from __future__ import annotations

from pathlib import Path


class SentimentError(Exception):
    """Base class for errors reported to the user without a traceback."""


class ConfigError(SentimentError):
    """params.yaml (or another config mapping) does not match the expected schema."""


class DataError(SentimentError):
    """Input data is missing, corrupt or malformed."""

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = None if path is None else str(path)
        super().__init__(f"{message} [{self.path}]" if self.path else message)


class ValidationFailed(DataError):
    """The data broke expectations of the validation stage; the message names each failed one."""
