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
No file paths here: `stages.register` gathers the candidate and passes it in.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from sentiment.config import RegistryConfig
from sentiment.core.errors import SentimentError

LOWER_IS_BETTER = frozenset({"loss", "log_loss"})
HISTORY_TAG = "champion_history"
HISTORY_LIMIT = 200  # events kept in the tag (a registry tag holds at most 100,000 characters)
ROLLED_BACK_TAG = "rolled_back_at"


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

    def record(self, event: dict[str, Any]) -> None:
        history = [*self.history(), event][-HISTORY_LIMIT:]
        self.client.set_registered_model_tag(self.name, HISTORY_TAG, json.dumps(history))

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

    def promote(self, version: ModelVersion, reason: str, event: str = "promoted") -> None:
        previous = self.champion()
        now = utc_now()
        self.client.set_registered_model_alias(self.name, self.config.champion_alias, str(version.version))
        challenger = self.holder(self.config.challenger_alias)
        if challenger is not None and str(challenger.version) == str(version.version):
            self.client.delete_registered_model_alias(self.name, self.config.challenger_alias)
        self.client.set_model_version_tag(self.name, str(version.version), "champion_since", now)
        if previous is not None and str(previous.version) != str(version.version):
            self.client.set_model_version_tag(self.name, str(previous.version), "champion_until", now)
        self.record(
            {
                "event": event,
                "version": str(version.version),
                "previous_version": None if previous is None else str(previous.version),
                "at": now,
                "reason": reason,
            }
        )

    def make_challenger(self, version: ModelVersion) -> None:
        self.client.set_registered_model_alias(self.name, self.config.challenger_alias, str(version.version))


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
    """The decision for the candidate (outcome, reason, its version), with its version created if new."""
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
    if promote:
        registry.promote(version, reason)
        return "promoted", reason, version
    registry.make_challenger(version)
    return "challenger", reason, version


def _record_decision(
    client: MlflowClient, config: RegistryConfig, candidate: Candidate, version: ModelVersion, outcome: str,
    reason: str,
) -> None:  # fmt: skip
    for key, value in {"decision": outcome, "decision_reason": reason, "decided_at": utc_now()}.items():
        client.set_model_version_tag(config.model_name, str(version.version), key, value)
    client.update_model_version(
        config.model_name, str(version.version), describe(candidate, config, outcome, reason)
    )


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
    registry before both champion score and candidate model are in hand.
    """
    if not math.isfinite(candidate.test_score) or not math.isfinite(candidate.validation_score):
        raise RegistryError(f"variant '{candidate.variant}' has a non-finite metric; it cannot be registered")
    registry = ModelRegistry(client, config)
    champion = registry.champion()
    champion_score, score_source = (None, None)
    if champion is not None:
        champion_score, score_source = registry.champion_score(champion, candidate.test_data_hash, evaluate)
    outcome, reason, version = _decide(registry, candidate, champion, champion_score, score_source, log_model)
    if outcome in ("promoted", "challenger"):  # an unchanged or rejected version keeps its record
        _record_decision(client, config, candidate, version, outcome, reason)
    after = registry.champion()
    return {
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
