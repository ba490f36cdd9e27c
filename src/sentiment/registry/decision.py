"""The register stage's decision against the registry: a new version, champion or challenger, and why.

The candidate (chosen on validation by `registry.gate.choose_candidate`, among the models that passed
the behavioural suite, `registry.behaviour_gate`) is compared with the current
champion on the same test reviews: both predict them through their served pyfunc (the candidate from
the pipeline's files, the champion as registered, so a champion from an older run is scored by its own
preprocessing), and `registry.gate.paired_gate` decides on the counts; a candidate that failed the
behavioural suite (none of the models passed) is made challenger whatever the counts, and so is a
network that does not beat the run's count baseline on those reviews (`registry.baseline_margin`,
the report's `against_baseline`). Nothing is
written before both predictions and the candidate's logged model are in hand; the decision is then one
`Change` (`registry.champion`), made all-or-nothing.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion

from sentiment.config import RegistryConfig
from sentiment.evaluation.paired import PairedCounts, paired_counts
from sentiment.registry import behaviour_gate, gate
from sentiment.registry.champion import (
    DECISION_RECORD_TAG,
    ROLLED_BACK_TAG,
    Candidate,
    ModelRegistry,
)
from sentiment.registry.change import Change, RegistryError, utc_now
from sentiment.registry.model_card import CARD_FILE

# The decision report in, the model card (Markdown) and its summary for the description out.
CardWriter = Callable[[Mapping[str, Any]], tuple[str, str]]
CARD_TAG = "model_card"  # the decided version's tag: where its card is (runs:/<run id>/model_card.md)


@dataclass(frozen=True)
class ReviewPredictions:
    """Who is right on each test review (the same reviews, in the same order, for every model);
    computed only when a decision needs them."""

    candidate: Callable[[], np.ndarray]  # the candidate's served model, built from the pipeline's files
    registered: Callable[[str], np.ndarray]  # a registered version's pyfunc, by its models:/ URI
    # the run's count baseline, built from its files; None when the candidate is the baseline or the
    # run has none
    baseline: Callable[[], np.ndarray] | None = None


@dataclass(frozen=True)
class Outcome:
    """What was decided for the candidate, and on which figures (None where no test was needed)."""

    decision: str  # promoted, challenger, unchanged, rejected
    reason: str
    version: ModelVersion
    test_accuracy: float | None = None
    counts: PairedCounts | None = None
    verdict: gate.GateDecision | None = None
    baseline_counts: PairedCounts | None = None
    baseline_verdict: gate.GateDecision | None = None


def describe(candidate: Candidate, config: RegistryConfig, outcome: str, reason: str) -> str:
    """The version description: why this version got (or did not get) the champion alias."""
    provenance = ", ".join(f"{key} {value}" for key, value in candidate.provenance.items())
    return (
        f"Model '{candidate.variant}' ({candidate.family}, training run {candidate.run_id}), chosen by "
        f"validation {config.selection_metric} {candidate.validation_score:.4f}. Decision: {outcome} — "
        f"{reason}. Test split sha256 {candidate.test_data_hash[:16]}…; {provenance}."
    )


def _without_test(existing: ModelVersion | None, champion: ModelVersion | None) -> Outcome | None:
    """The decisions that need no test predictions: the candidate is already champion, or was rolled back."""
    if existing is None:
        return None
    if champion is not None and str(existing.version) == str(champion.version):
        return Outcome("unchanged", "this training run is already the champion", existing)
    if existing.tags.get(ROLLED_BACK_TAG):
        at = existing.tags[ROLLED_BACK_TAG]
        reason = f"version {existing.version} was rolled back at {at}; train a new model"
        return Outcome("rejected", reason, existing)
    return None


def _decide(
    registry: ModelRegistry,
    candidate: Candidate,
    champion: ModelVersion | None,
    log_model: Callable[[], str],
    predictions: ReviewPredictions,
) -> Outcome:
    """The decision for the candidate, with its version created if new.

    Creating the version is the only write here: a run killed after it leaves a version without
    aliases or decision, which the next run finds by its training run and decides again.
    """
    existing = registry.version_of_run(candidate.run_id)
    shortcut = _without_test(existing, champion)
    if shortcut is not None:
        return shortcut
    candidate_right = np.asarray(predictions.candidate(), dtype=bool)
    reviews, correct = int(candidate_right.size), int(candidate_right.sum())
    if reviews == 0:
        raise RegistryError("no test review to compare the candidate on")
    counts = None
    if champion is None:
        verdict = gate.first_model(correct, reviews)
    else:
        champion_right = predictions.registered(f"models:/{registry.name}/{champion.version}")
        counts = paired_counts(candidate_right, champion_right)
        verdict = gate.paired_gate(counts, registry.config.margin, registry.config.alpha)
    accuracy = correct / reviews
    version = existing or registry.create_version(log_model(), candidate, accuracy)
    reason = (
        verdict.reason if champion is None else f"{verdict.reason}; champion was version {champion.version}"
    )
    decision = "promoted" if verdict.promote else "challenger"
    baseline_counts = baseline_verdict = None
    if predictions.baseline is not None:
        baseline_counts = paired_counts(candidate_right, predictions.baseline())
        config = registry.config
        margin = config.baseline_margin or 0.0  # predictions.baseline is None when no margin is set
        baseline_verdict = gate.paired_gate(baseline_counts, margin, config.alpha, "baseline")
        if not baseline_verdict.promote:  # a network the TF-IDF baseline does as well as is not served
            decision = "challenger"
            reason = f"does not beat the count baseline: {baseline_verdict.reason}; {reason}"
    behaviour = candidate.behaviour
    if behaviour is not None and not behaviour.passed:  # whatever its accuracy: the suite vetoes
        decision = "challenger"
        reason = (
            f"failed the behavioural tests {behaviour.reason()} (params.yaml behaviour.thresholds): "
            f"never made champion; {reason}"
        )
    return Outcome(decision, reason, version, accuracy, counts, verdict, baseline_counts, baseline_verdict)


def _paired_figures(
    counts: PairedCounts, verdict: gate.GateDecision, margin: float, alpha: float, reference: str
) -> dict[str, Any]:
    return {
        "test_reviews": counts.reviews,
        "candidate_correct": counts.candidate_correct,
        f"{reference}_correct": counts.champion_correct,
        "candidate_right_only": counts.candidate_right_only,
        f"{reference}_right_only": counts.champion_right_only,
        "gain": counts.gain,
        "required_gain": verdict.required_gain,
        "p_value": verdict.p_value,
        "margin": margin,
        "alpha": alpha,
    }


def _against_baseline(outcome: Outcome, config: RegistryConfig) -> dict[str, Any] | None:
    """The candidate against the run's count baseline, on the same test reviews (None: not tested)."""
    counts, verdict = outcome.baseline_counts, outcome.baseline_verdict
    if counts is None or verdict is None:
        return None
    figures = _paired_figures(counts, verdict, config.baseline_margin or 0.0, config.alpha, "baseline")
    return {
        **figures,
        "baseline_test_accuracy": counts.accuracy("champion"),
        "beats_baseline": verdict.promote,
    }


def _figures(outcome: Outcome, config: RegistryConfig) -> dict[str, Any]:
    """The gate's figures, for the report, the version's tags and the history event."""
    counts, verdict = outcome.counts, outcome.verdict
    if counts is None or verdict is None:
        return {}
    return _paired_figures(counts, verdict, config.margin, config.alpha, "champion")


# Tags of the decided version, beside decision and decision_reason (the full report is decision_record).
FIGURE_TAGS = (
    "champion_test_accuracy",
    "candidate_right_only",
    "champion_right_only",
    "p_value",
    "margin",
    "alpha",
)

# ... and, for a network tested against the run's baseline, these (tag: key of `against_baseline`).
BASELINE_TAGS = {"baseline_gain": "gain", "baseline_p_value": "p_value", "beats_baseline": "beats_baseline"}


def _decision_change(
    registry: ModelRegistry,
    candidate: Candidate,
    version: ModelVersion,
    report: Mapping[str, Any],
    card: CardWriter | None = None,
) -> Change:
    """The change that records a promotion or challenger decision (`report`) in the registry, with the
    version's model card (`card`) logged into its training run as part of the same change."""
    outcome, reason = str(report["decision"]), str(report["reason"])
    paired = report["paired_test"] or {}  # empty for a first model: no champion to test against
    if paired:
        paired = {"champion_test_accuracy": report["champion_before"]["test_accuracy"], **paired}
    tags = {"decision": outcome, "decision_reason": reason, "decided_at": utc_now()}
    tags.update({key: repr(paired[key]) for key in FIGURE_TAGS if paired})
    against_baseline = report.get("against_baseline") or {}
    tags.update({tag: repr(against_baseline[key]) for tag, key in BASELINE_TAGS.items() if against_baseline})
    if candidate.behaviour is not None:
        tags.update(behaviour_gate.version_tags(candidate.behaviour))
    tags[DECISION_RECORD_TAG] = json.dumps(report)
    description = describe(candidate, registry.config, outcome, reason)
    run_files: tuple[tuple[str, str, str], ...] = ()
    if card is not None:
        text, summary = card(report)
        description = f"{description} {summary}"
        tags[CARD_TAG] = f"runs:/{candidate.run_id}/{CARD_FILE}"
        run_files = ((candidate.run_id, CARD_FILE, text),)
    if outcome == "promoted":
        event = {
            "variant": candidate.variant,
            f"validation_{registry.config.selection_metric}": candidate.validation_score,
            "test_accuracy": report["candidate"]["test_accuracy"],
            **paired,
            "decision": outcome,
        }
        change = registry.promotion(version, reason, tags, description, event)
    else:
        change = registry.challenger_change(version, tags, description)
    return dataclasses.replace(change, run_files=run_files)


def _report(
    registry: ModelRegistry, candidate: Candidate, champion: ModelVersion | None, outcome: Outcome
) -> dict[str, Any]:
    config = registry.config
    after = outcome.version if outcome.decision == "promoted" else champion
    test_accuracy = outcome.test_accuracy
    if test_accuracy is None:  # unchanged or rejected: the accuracy its version recorded
        recorded = outcome.version.tags.get("test_accuracy")
        test_accuracy = None if recorded is None else float(recorded)
    figures = _figures(outcome, config)
    return {
        "model_name": config.model_name,
        "decision": outcome.decision,
        "reason": outcome.reason,
        "candidate": {
            "variant": candidate.variant,
            "model_family": candidate.family,
            "run_id": candidate.run_id,
            "version": str(outcome.version.version),
            f"validation_{config.selection_metric}": candidate.validation_score,
            "test_accuracy": test_accuracy,
            "behaviour_passed": None if candidate.behaviour is None else candidate.behaviour.passed,
        },
        "champion_before": None
        if champion is None
        else {
            "version": str(champion.version),
            "variant": champion.tags.get("variant"),
            "test_accuracy": None if outcome.counts is None else outcome.counts.accuracy("champion"),
        },
        "paired_test": figures or None,
        "against_baseline": _against_baseline(outcome, config),
        "champion_after": None if after is None else str(after.version),
        "margin": config.margin,
        "alpha": config.alpha,
        "test_data_hash": candidate.test_data_hash,
    }


def register(
    client: MlflowClient,
    config: RegistryConfig,
    candidate: Candidate,
    log_model: Callable[[], str],
    predictions: ReviewPredictions,
    card: CardWriter | None = None,
) -> dict[str, Any]:
    """Register the candidate and move the aliases as the rules say; returns the decision as data.

    `log_model()` logs the served model and returns its URI (called only for a new version).
    `card(report)` writes the model card of a promotion or challenger decision, which is logged as
    `model_card.md` into the candidate's training run within the decision's change (all-or-nothing).
    A change a killed run left half made is completed first (the report's `recovered`); a candidate
    whose promotion made the current champion gets that decision again, as its first run reported it.
    """
    if not math.isfinite(candidate.validation_score):
        raise RegistryError(f"model '{candidate.variant}' has a non-finite metric; it cannot be registered")
    registry = ModelRegistry(client, config)
    recovered = registry.recover()
    champion = registry.champion()
    report = registry.recorded_decision(candidate, champion)
    if report is None:
        outcome = _decide(registry, candidate, champion, log_model, predictions)
        report = _report(registry, candidate, champion, outcome)
        if outcome.decision in (
            "promoted",
            "challenger",
        ):  # an unchanged or rejected version keeps its record
            registry.commit(_decision_change(registry, candidate, outcome.version, report, card))
    if recovered is not None:
        report["recovered"] = recovered.record()
    return report
