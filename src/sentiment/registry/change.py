"""One registry change of several writes, recorded whole before its first write (`ModelRegistry.commit`).

MLflow has no transactions: `registry.champion` writes a `Change` as JSON into the registered-model tag
PENDING_TAG (the commit point), makes its writes, and deletes the tag last; a run killed in between
leaves the tag, and the next run makes the same writes again (`ModelRegistry.recover`). So every write
here sets a value and can be repeated: a run file (the model card) is uploaded again whole, a tag set
again, an alias moved again, the history event appended only if no event has the change's id.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlflow import MlflowClient

from sentiment.core.errors import SentimentError
from sentiment.core.files import write_text

PENDING_TAG = "pending_change"  # the registered-model tag holding a change until all its writes are made
CHANGE_KINDS = frozenset({"promotion", "challenger", "rollback"})


class RegistryError(SentimentError):
    """The registry cannot do what was asked (no previous champion, inconsistent aliases, ...)."""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Change:
    """Every write of one registry change, recorded (as JSON in PENDING_TAG) before the first of them.

    Each write sets a value, so making them again after a cut changes nothing already made: the run
    files (uploaded whole), the version tags, then the descriptions, then the aliases (a None version:
    the alias is removed), then the history event, which is appended only if no event in the history
    has the change's id.
    """

    kind: str  # one of CHANGE_KINDS
    summary: str  # in words, for the log: "promotion of version 2 (champion was version 1)"
    version_tags: tuple[tuple[str, str, str], ...] = ()  # (version, key, value)
    descriptions: Mapping[str, str] = field(default_factory=dict)  # version -> description
    aliases: Mapping[str, str | None] = field(default_factory=dict)  # alias -> version, or None: remove
    event: Mapping[str, Any] | None = None  # appended to the history, with "id" set to the change's id
    # (run id, artifact file name, text): files logged into a run's artifacts, such as the model card
    run_files: tuple[tuple[str, str, str], ...] = ()
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: str = field(default_factory=utc_now)

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "kind": self.kind,
                "summary": self.summary,
                "started_at": self.started_at,
                "version_tags": [list(tag) for tag in self.version_tags],
                "descriptions": dict(self.descriptions),
                "aliases": dict(self.aliases),
                "event": None if self.event is None else {**self.event, "id": self.id},
                "run_files": [list(entry) for entry in self.run_files],
            }
        )

    @classmethod
    def from_json(cls, text: str, where: str) -> Change:
        """The change recorded in `text`; a RegistryError naming `where` if it is not one."""
        try:
            data = json.loads(text)
            change = cls(
                kind=str(data["kind"]),
                summary=str(data["summary"]),
                version_tags=tuple((str(v), str(k), str(value)) for v, k, value in data["version_tags"]),
                descriptions={str(v): str(words) for v, words in data["descriptions"].items()},
                aliases={str(a): None if v is None else str(v) for a, v in data["aliases"].items()},
                event=None if data["event"] is None else dict(data["event"]),
                # a change recorded before run files existed has none
                run_files=tuple((str(r), str(n), str(t)) for r, n, t in data.get("run_files", [])),
                id=str(data["id"]),
                started_at=str(data["started_at"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise RegistryError(
                f"the tag '{PENDING_TAG}' of {where} does not hold a change sentiment wrote ({error!r}); "
                "check the registered model's aliases, tags and history, then delete the tag"
            ) from None
        if change.kind not in CHANGE_KINDS:
            raise RegistryError(f"the tag '{PENDING_TAG}' of {where} holds an unknown change '{change.kind}'")
        return change

    def record(self) -> dict[str, str]:
        """What a report says of this change when a later run completed it."""
        return {"change": self.kind, "summary": self.summary, "started_at": self.started_at}


def log_run_file(client: MlflowClient, run_id: str, name: str, text: str) -> None:
    """`text` as the artifact `name` of the run, written whole in a temporary folder first (a cut
    upload is made again by the next run's `recover`, since the change that holds it is pending)."""
    with tempfile.TemporaryDirectory(prefix="sentiment-run-file-") as folder:
        path = Path(folder) / name
        write_text(path, text)
        client.log_artifact(run_id, str(path))
