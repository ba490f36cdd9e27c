"""The behavioural gate of the register stage: every candidate run on the suite, and what it records.

Each trained model (every variant and the baseline) is scored on the suite's cases through its served
raw-text model (`evaluation.behaviour`). Only models that pass compete on validation for the registry;
when none passes, the best on validation is still registered, but `registry.decision` never gives it
the champion alias. The results go to reports/registry.json (`report["behaviour"][model]`), to the
decided version's tags (in its decision's `Change`, so all-or-nothing) and to each model's training run
as metrics (after the decision: a killed register leaves at most the metrics of the decision it made).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from sentiment.config import BehaviourConfig
from sentiment.evaluation.behaviour import BehaviourResult, run_suite
from sentiment.evaluation.behaviour_suite import Case

PREFIX = "behaviour"


def _predictor(model: Any) -> Callable[[list[str]], np.ndarray]:
    from sentiment.serving import scoring

    return lambda reviews: scoring.probabilities(model, reviews, description="behavioural suite")


def run_behaviour(
    names: Sequence[str],
    served: Callable[[str], Any],
    cases: Sequence[Case],
    config: BehaviourConfig,
    threshold: float,
) -> dict[str, BehaviourResult]:
    """Each model's results on the cases; `served(name)` builds its served pyfunc (one at a time)."""
    return {name: run_suite(cases, _predictor(served(name)), config, threshold) for name in sorted(names)}


def eligible(scores: Mapping[str, float], results: Mapping[str, BehaviourResult]) -> dict[str, float]:
    """The validation scores of the models that passed the suite (all of them when none did: the best
    is then registered, as a challenger only)."""
    passing = {name: score for name, score in scores.items() if results[name].passed}
    return passing or dict(scores)


def version_tags(result: BehaviourResult) -> dict[str, str]:
    """The version's tags: `behaviour.passed`, `behaviour.<test>` and `behaviour.type.<mft|inv|dir>`."""
    tags = {f"{PREFIX}.passed": "true" if result.passed else "false"}
    tags.update({f"{PREFIX}.{name}": repr(rate) for name, rate in result.pass_rates.items()})
    tags.update({f"{PREFIX}.type.{kind}": repr(rate) for kind, rate in result.type_rates.items()})
    if result.failed_tests:
        tags[f"{PREFIX}.failed_tests"] = ",".join(result.failed_tests)
    return tags


def metrics(result: BehaviourResult) -> dict[str, float]:
    """The same as metrics of the model's training run (passed: 1.0 or 0.0)."""
    values = {f"{PREFIX}.passed": 1.0 if result.passed else 0.0}
    values.update({f"{PREFIX}.{name}": rate for name, rate in result.pass_rates.items()})
    values.update({f"{PREFIX}.type.{kind}": rate for kind, rate in result.type_rates.items()})
    return values


def log_metrics(client: Any, run_ids: Mapping[str, str], results: Mapping[str, BehaviourResult]) -> None:
    """Every model's results as metrics of its (finished) training run, in one batch per run."""
    from mlflow.entities import Metric

    stamp = int(time.time() * 1000)
    for name, result in results.items():
        batch = [Metric(key, value, stamp, 0) for key, value in metrics(result).items()]
        client.log_batch(run_ids[name], metrics=batch)


def report_section(results: Mapping[str, BehaviourResult], examples: int) -> dict[str, Any]:
    """`report["behaviour"]`: each model's results, with `examples` failing cases per test."""
    return {name: result.to_dict(examples) for name, result in sorted(results.items())}
