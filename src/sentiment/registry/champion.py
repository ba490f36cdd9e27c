"""The MLflow model registry (MLflow 3 aliases) as sentiment uses it: versions, aliases, history, changes.

What the rules decide is elsewhere: `registry.gate` (which model is the candidate, whether it is
promoted) and `registry.decision` (the register stage's run of them against this registry). Here:
the registered model, its `champion`/`challenger` aliases, its promotion history (a JSON registered-
model tag, which `rollback` replays to give the champion back to the previous holder), and how a
change of several writes is made all-or-nothing.

MLflow has no transactions, so a change of several writes (a promotion: model card, aliases,
decision tags, description, history event; `registry.change`) is made all-or-nothing by recording
it first: `ModelRegistry.commit` writes the whole `Change` as the registered-model tag
`pending_change` (the commit point), then makes its writes, each of which sets a value and can be
repeated, and deletes the tag last. A process killed anywhere in between leaves the tag, and the next
registry command (`register`, `rollback`) starts with `ModelRegistry.recover`, which makes the same
writes again (the history event only if no event has its id) and deletes the tag. Killed before the
tag is written, a run has changed nothing but perhaps added a version without aliases, decision or
model card, which the next run finds by its training run and decides again (card included).
No file paths here: `stages.register` gathers the candidate and passes it in.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from sentiment.config import RegistryConfig
from sentiment.evaluation.behaviour import BehaviourResult
from sentiment.registry.change import PENDING_TAG, Change, log_run_file, utc_now
from sentiment.tracking.runs import model_id

logger = logging.getLogger(__name__)

HISTORY_TAG = "champion_history"
HISTORY_LIMIT = 200  # events kept in the tag (a registry tag holds at most 100,000 characters)
ROLLED_BACK_TAG = "rolled_back_at"
DECISION_RECORD_TAG = "decision_record"  # a version's decision as the register stage reported it (JSON)


@dataclass(frozen=True)
class Candidate:
    """The model a pipeline run proposes (chosen on validation), with everything its version records."""

    variant: str  # the model's name: a variant of params.yaml `models`, or "baseline"
    family: str  # "recurrent" or "count-based"
    run_id: str
    validation_score: float
    test_data_hash: str
    provenance: Mapping[str, str]  # experiment_id, git_commit, data_version, ...
    # its results on the behavioural suite (`registry.behaviour_gate`); failed: never champion
    behaviour: BehaviourResult | None = None


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
        for run_id, name, text in change.run_files:
            log_run_file(self.client, run_id, name, text)
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

    def create_version(self, model_uri: str, candidate: Candidate, test_accuracy: float) -> ModelVersion:
        tags = {
            "variant": candidate.variant,
            "model_family": candidate.family,
            "training_run_id": candidate.run_id,
            f"validation_{self.config.selection_metric}": repr(candidate.validation_score),
            "test_accuracy": repr(test_accuracy),
            "test_data_hash": candidate.test_data_hash,
            "registered_at": utc_now(),
            **candidate.provenance,
        }
        if not self.exists():
            self.client.create_registered_model(
                self.name,
                description="IMDB review sentiment: raw review text in, probability of positive out.",
            )
        # MLflow 3: a version of a logged model names it (a tracking server needs it to find the model)
        return self.client.create_model_version(
            self.name, model_uri, run_id=candidate.run_id, tags=tags, model_id=model_id(model_uri)
        )

    def promotion(
        self,
        version: ModelVersion,
        reason: str,
        decision_tags: Mapping[str, str],
        description: str,
        figures: Mapping[str, Any],
    ) -> Change:
        """The change that makes `version` the champion: its tags, the aliases, the history event (with
        the `figures` the gate decided on)."""
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
                **figures,
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
