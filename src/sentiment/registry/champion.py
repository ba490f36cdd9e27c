"""Champion/challenger gating in the MLflow model registry (MLflow 3 aliases), its history and rollback.

The rules:
- the candidate is the variant with the best validation metric (the test split never picks it);
- it is compared with the current champion on the same test split: the champion's recorded test
  metric if it was measured on a test split with the same hash, else the champion is re-evaluated on
  the current test reviews (through its own preprocessing);
- it takes the champion alias only if it beats the champion by at least `margin`, otherwise it gets
  the challenger alias; the first model becomes champion;
- every champion change is appended to the promotion history (a JSON registered-model tag), which
  `rollback` replays to give the champion back to the previous holder.

MLflow has no transactions, so a change of several writes (a promotion: aliases, decision tags,
description, history event) is made all-or-nothing by recording it first: `ModelRegistry.commit`
writes the whole `Change` as the registered-model tag `pending_change` (the commit point), then makes
its writes, each of which sets a value and can be repeated, and deletes the tag last. A process killed
anywhere in between leaves the tag, and the next registry command (`register`, `rollback`) starts with
`ModelRegistry.recover`, which makes the same writes again (the history event only if no event has
its id) and deletes the tag. Killed before the tag is written, a run has changed nothing but perhaps
added a version without aliases or decision, which the next run finds by its training run and decides
again.
No file paths here: `stages.register` gathers the candidate and passes it in.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from sentiment.config import RegistryConfig
from sentiment.core.errors import SentimentError

logger = logging.getLogger(__name__)

LOWER_IS_BETTER = frozenset({"loss", "log_loss"})
HISTORY_TAG = "champion_history"
HISTORY_LIMIT = 200  # events kept in the tag (a registry tag holds at most 100,000 characters)
ROLLED_BACK_TAG = "rolled_back_at"
PENDING_TAG = "pending_change"  # the registered-model tag holding a change until all its writes are made
DECISION_RECORD_TAG = "decision_record"  # a version's decision as the register stage reported it (JSON)
CHANGE_KINDS = frozenset({"promotion", "challenger", "rollback"})


class RegistryError(SentimentError):
    """The registry cannot do what was asked (no previous champion, inconsistent aliases, ...)."""


@dataclass(frozen=True)
class Candidate:
    """The best variant of a pipeline run, with everything its registration records."""

    variant: str
    run_id: str
    validation_score: float
    test_score: float
    test_data_hash: str
    provenance: Mapping[str, str]  # experiment_id, git_commit, data_version, ...


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def improvement(candidate: float, reference: float, metric: str) -> float:
    """How much better `candidate` is than `reference` (positive: better), whichever way `metric` runs."""
    return reference - candidate if metric in LOWER_IS_BETTER else candidate - reference


def choose_candidate(validation_scores: Mapping[str, float], metric: str) -> str:
    """The variant with the best validation score; ties go to the first name in sorted order."""
    if not validation_scores:
        raise RegistryError("no variant to choose from")
    ordered = sorted(validation_scores)
    return max(ordered, key=lambda variant: improvement(validation_scores[variant], 0.0, metric))


def gate(candidate: float, champion: float | None, metric: str, margin: float) -> tuple[bool, str]:
    """Promote or not, and why, in words."""
    if champion is None:
        return True, f"first registered model (test {metric} {candidate:.4f})"
    gain = improvement(candidate, champion, metric)
    comparison = f"test {metric} {candidate:.4f} vs champion {champion:.4f} ({gain:+.4f}"
    if gain >= margin:
        return True, f"{comparison}, at least the margin {margin:g})"
    return False, f"{comparison}, below the margin {margin:g})"


@dataclass(frozen=True)
class Change:
    """Every write of one registry change, recorded (as JSON in PENDING_TAG) before the first of them.

    Each write sets a value, so making them again after a cut changes nothing already made: the
    version tags, then the descriptions, then the aliases (a None version: the alias is removed), then
    the history event, which is appended only if no event in the history has the change's id.
    """

    kind: str  # one of CHANGE_KINDS
    summary: str  # in words, for the log: "promotion of version 2 (champion was version 1)"
    version_tags: tuple[tuple[str, str, str], ...] = ()  # (version, key, value)
    descriptions: Mapping[str, str] = field(default_factory=dict)  # version -> description
    aliases: Mapping[str, str | None] = field(default_factory=dict)  # alias -> version, or None: remove
    event: Mapping[str, Any] | None = None  # appended to the history, with "id" set to the change's id
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


class ModelRegistry:
    """One registered model, its champion/challenger aliases and its promotion history."""

    def __init__(self, client: MlflowClient, config: RegistryConfig) -> None:
        self.client = client
        self.config = config
        self.name = config.model_name

    def exists(self) -> bool:
        return bool(self.client.search_registered_models(filter_string=f"name = '{self.name}'"))

    def holder(self, alias: str) -> ModelVersion | None:
        if not self.exists():
            return None
        try:
            return self.client.get_model_version_by_alias(self.name, alias)
        except MlflowException:
            return None

    def champion(self) -> ModelVersion | None:
        return self.holder(self.config.champion_alias)

    def versions(self) -> list[ModelVersion]:
        if not self.exists():
            return []
        found = self.client.search_model_versions(filter_string=f"name = '{self.name}'")
        return sorted(found, key=lambda version: int(version.version))

    def version_of_run(self, run_id: str) -> ModelVersion | None:
        """The version already registered from this training run, if any (so re-running is idempotent)."""
        matches = [version for version in self.versions() if version.tags.get("training_run_id") == run_id]
        return matches[-1] if matches else None

    def history(self) -> list[dict[str, Any]]:
        if not self.exists():
            return []
        tags = self.client.get_registered_model(self.name).tags
        return list(json.loads(tags.get(HISTORY_TAG, "[]")))

    def record(self, event: Mapping[str, Any]) -> None:
        history = [*self.history(), dict(event)][-HISTORY_LIMIT:]
        self.client.set_registered_model_tag(self.name, HISTORY_TAG, json.dumps(history))

    def pending(self) -> Change | None:
        """The change a killed run left half made, if any."""
        if not self.exists():
            return None
        text = self.client.get_registered_model(self.name).tags.get(PENDING_TAG)
        return None if text is None else Change.from_json(text, f"registered model '{self.name}'")

    def commit(self, change: Change) -> None:
        """Make all the writes of `change`: recorded first, so that a cut anywhere leaves it to `recover`."""
        self.client.set_registered_model_tag(self.name, PENDING_TAG, change.to_json())
        self._apply(change)
        self.client.delete_registered_model_tag(self.name, PENDING_TAG)

    def recover(self) -> Change | None:
        """Complete the change a killed run left half made (every write made again), and return it."""
        change = self.pending()
        if change is None:
            return None
        logger.warning(
            "registry: completing the %s that a run started at %s and did not finish",
            change.summary,
            change.started_at,
        )
        self._apply(change)
        self.client.delete_registered_model_tag(self.name, PENDING_TAG)
        return change

    def _apply(self, change: Change) -> None:
        for version, key, value in change.version_tags:
            self.client.set_model_version_tag(self.name, version, key, value)
        for version, description in change.descriptions.items():
            self.client.update_model_version(self.name, version, description)
        for alias, target in change.aliases.items():
            if target is not None:
                self.client.set_registered_model_alias(self.name, alias, target)
            elif alias in self.client.get_registered_model(self.name).aliases:
                self.client.delete_registered_model_alias(self.name, alias)
        if change.event is not None and not any(event.get("id") == change.id for event in self.history()):
            self.record({**change.event, "id": change.id})

    def recorded_decision(self, candidate: Candidate, champion: ModelVersion | None) -> dict[str, Any] | None:
        """The decision that made the candidate's version the champion, if the champion holds by it.

        Re-running the stage on the training run that is the champion reports that promotion again
        (so a run that completes a killed one writes what the killed run would have written).
        """
        if champion is None or champion.tags.get("training_run_id") != candidate.run_id:
            return None
        history = self.history()
        if not history or history[-1].get("event") != "promoted":
            return None  # the champion holds through a rollback, not its own promotion
        if str(history[-1].get("version")) != str(champion.version):
            return None
        try:
            record = json.loads(champion.tags.get(DECISION_RECORD_TAG, "null"))
        except ValueError:
            return None
        if not isinstance(record, dict) or record.get("test_data_hash") != candidate.test_data_hash:
            return None
        return record

    def champion_score(
        self, champion: ModelVersion, test_data_hash: str, evaluate: Callable[[str], float]
    ) -> tuple[float, str]:
        """The champion's comparison metric on the current test split, and where it came from."""
        metric = self.config.comparison_metric
        recorded = champion.tags.get(f"test_{metric}")
        if recorded is not None and champion.tags.get("test_data_hash") == test_data_hash:
            return float(recorded), "recorded at its registration, on a test split with the same hash"
        score = evaluate(f"models:/{self.name}/{champion.version}")
        return score, "re-evaluated on the current test split (its recorded split differs)"

    def create_version(self, model_uri: str, candidate: Candidate) -> ModelVersion:
        metric, comparison = self.config.selection_metric, self.config.comparison_metric
        tags = {
            "variant": candidate.variant,
            "training_run_id": candidate.run_id,
            f"validation_{metric}": repr(candidate.validation_score),
            f"test_{comparison}": repr(candidate.test_score),
            "test_data_hash": candidate.test_data_hash,
            "registered_at": utc_now(),
            **candidate.provenance,
        }
        if not self.exists():
            self.client.create_registered_model(
                self.name,
                description="IMDB review sentiment: raw review text in, probability of positive out.",
            )
        return self.client.create_model_version(self.name, model_uri, run_id=candidate.run_id, tags=tags)

    def promotion(
        self, version: ModelVersion, reason: str, decision_tags: Mapping[str, str], description: str
    ) -> Change:
        """The change that makes `version` the champion: its tags, the aliases, the history event."""
        config, number, now = self.config, str(version.version), utc_now()
        previous = self.champion()
        before = None if previous is None else str(previous.version)
        tags = [(number, key, value) for key, value in decision_tags.items()]
        tags.append((number, "champion_since", now))
        if before is not None and before != number:
            tags.append((before, "champion_until", now))
        was = "none" if before is None else f"version {before}"
        aliases: dict[str, str | None] = {config.champion_alias: number}
        challenger = self.holder(config.challenger_alias)
        if challenger is not None and str(challenger.version) == number:
            aliases[config.challenger_alias] = None
        return Change(
            kind="promotion",
            summary=f"promotion of version {number} (champion was {was})",
            version_tags=tuple(tags),
            descriptions={number: description},
            aliases=aliases,
            event={
                "event": "promoted",
                "version": number,
                "previous_version": before,
                "at": now,
                "reason": reason,
            },
            started_at=now,
        )

    def challenger_change(
        self, version: ModelVersion, decision_tags: Mapping[str, str], description: str
    ) -> Change:
        """The change that makes `version` the challenger, with its decision tags."""
        number = str(version.version)
        return Change(
            kind="challenger",
            summary=f"version {number} made {self.config.challenger_alias}",
            version_tags=tuple((number, key, value) for key, value in decision_tags.items()),
            descriptions={number: description},
            aliases={self.config.challenger_alias: number},
        )


def describe(candidate: Candidate, config: RegistryConfig, outcome: str, reason: str) -> str:
    """The version description: why this version got (or did not get) the champion alias."""
    provenance = ", ".join(f"{key} {value}" for key, value in candidate.provenance.items())
    return (
        f"Variant '{candidate.variant}' (training run {candidate.run_id}), chosen by validation "
        f"{config.selection_metric} {candidate.validation_score:.4f}. Decision: {outcome} — {reason}. "
        f"Test split sha256 {candidate.test_data_hash[:16]}…; {provenance}."
    )


def _decide(
    registry: ModelRegistry,
    candidate: Candidate,
    champion: ModelVersion | None,
    champion_score: float | None,
    score_source: str | None,
    log_model: Callable[[], str],
) -> tuple[str, str, ModelVersion]:
    """The decision for the candidate (outcome, reason, its version), with its version created if new.

    Creating the version is the only write here: a run killed after it leaves a version without
    aliases or decision, which the next run finds by its training run and decides again.
    """
    config = registry.config
    existing = registry.version_of_run(candidate.run_id)
    if existing is not None and champion is not None and str(existing.version) == str(champion.version):
        return "unchanged", "this training run is already the champion", existing
    if existing is not None and existing.tags.get(ROLLED_BACK_TAG):
        rolled_back_at = existing.tags[ROLLED_BACK_TAG]
        return (
            "rejected",
            f"version {existing.version} was rolled back at {rolled_back_at}; train a new model",
            existing,
        )
    promote, reason = gate(candidate.test_score, champion_score, config.comparison_metric, config.margin)
    if champion is not None:
        reason = f"{reason}; champion was version {champion.version}, its score {score_source}"
    version = existing or registry.create_version(log_model(), candidate)
    return ("promoted" if promote else "challenger"), reason, version


def _decision_change(
    registry: ModelRegistry, candidate: Candidate, version: ModelVersion, report: Mapping[str, Any]
) -> Change:
    """The change that records a promotion or challenger decision (`report`) in the registry."""
    outcome, reason = str(report["decision"]), str(report["reason"])
    tags = {
        "decision": outcome,
        "decision_reason": reason,
        "decided_at": utc_now(),
        DECISION_RECORD_TAG: json.dumps(report),
    }
    description = describe(candidate, registry.config, outcome, reason)
    if outcome == "promoted":
        return registry.promotion(version, reason, tags, description)
    return registry.challenger_change(version, tags, description)


def register(
    client: MlflowClient,
    config: RegistryConfig,
    candidate: Candidate,
    log_model: Callable[[], str],
    evaluate: Callable[[str], float],
) -> dict[str, Any]:
    """Register the candidate and move the aliases as the rules say; returns the decision as data.

    `log_model()` logs the served model and returns its URI (called only for a new version);
    `evaluate(model_uri)` scores a registered model on the current test reviews (only when the
    champion's recorded score was measured on another test split). Nothing is written to the
    registry before both champion score and candidate model are in hand. A change a killed run left
    half made is completed first (the report's `recovered`); a candidate whose promotion made the
    current champion gets that decision again, as its first run reported it.
    """
    if not math.isfinite(candidate.test_score) or not math.isfinite(candidate.validation_score):
        raise RegistryError(f"variant '{candidate.variant}' has a non-finite metric; it cannot be registered")
    registry = ModelRegistry(client, config)
    recovered = registry.recover()
    champion = registry.champion()
    report = registry.recorded_decision(candidate, champion)
    if report is None:
        report = _decide_and_commit(registry, candidate, champion, log_model, evaluate)
    if recovered is not None:
        report["recovered"] = recovered.record()
    return report


def _decide_and_commit(
    registry: ModelRegistry,
    candidate: Candidate,
    champion: ModelVersion | None,
    log_model: Callable[[], str],
    evaluate: Callable[[str], float],
) -> dict[str, Any]:
    config = registry.config
    champion_score, score_source = (None, None)
    if champion is not None:
        champion_score, score_source = registry.champion_score(champion, candidate.test_data_hash, evaluate)
    outcome, reason, version = _decide(registry, candidate, champion, champion_score, score_source, log_model)
    after = version if outcome == "promoted" else champion
    report = {
        "model_name": config.model_name,
        "decision": outcome,
        "reason": reason,
        "candidate": {
            "variant": candidate.variant,
            "run_id": candidate.run_id,
            "version": str(version.version),
            f"validation_{config.selection_metric}": candidate.validation_score,
            f"test_{config.comparison_metric}": candidate.test_score,
        },
        "champion_before": None
        if champion is None
        else {
            "version": str(champion.version),
            f"test_{config.comparison_metric}": champion_score,
            "source": score_source,
        },
        "champion_after": None if after is None else str(after.version),
        "margin": config.margin,
        "test_data_hash": candidate.test_data_hash,
    }
    if outcome in ("promoted", "challenger"):  # an unchanged or rejected version keeps its record
        registry.commit(_decision_change(registry, candidate, version, report))
    return report
