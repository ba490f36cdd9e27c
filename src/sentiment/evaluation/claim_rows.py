"""A claim's row and the evidence it is decided on, with the helpers every claim uses (`evaluation.claims`).

Pure: plain mappings and typed config in, frozen rows out.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sentiment.config import BASELINE, ClaimsConfig, VariantConfig

HOLDS, FAILS, UNMEASURED = "holds", "does not hold", "not measured"
VERDICTS = (HOLDS, FAILS, UNMEASURED)

Numbers = dict[str, float | int | None]


@dataclass(frozen=True)
class Claim:
    """One row of the report: the course's words, what was measured, the figures, the verdict, why."""

    id: str
    statement: str
    measurement: str
    numbers: Numbers
    verdict: str
    reason: str


@dataclass(frozen=True)
class Evidence:
    """What this run measured. `metrics`: each trained model's metrics file (absent: not trained);
    `models`: params.yaml `models`; `neighbours`: variant -> probe word -> its nearest words;
    `polarity`: word -> log odds of a positive training review holding it (`evaluation.polarity`);
    `length_reviews`: test reviews per length bucket; `clipping`: `modeling.clipping.summary`."""

    metrics: Mapping[str, Mapping[str, Any]]
    models: Mapping[str, VariantConfig]
    neighbours: Mapping[str, Mapping[str, Sequence[str]]] = field(default_factory=dict)
    polarity: Mapping[str, float] = field(default_factory=dict)
    length_reviews: Mapping[str, int] = field(default_factory=dict)
    clipping: Mapping[str, float | int | None] | None = None


ClaimMaker = Callable[[Numbers, str, str], Claim]


def claim_maker(claim_id: str, statement: str, measurement: str) -> ClaimMaker:
    """A claim's row, once its numbers, verdict and reason are known."""

    def make(numbers: Numbers, verdict: str, reason: str) -> Claim:
        return Claim(claim_id, statement, measurement, numbers, verdict, reason)

    return make


def number(value: Any) -> float | None:
    """A finite number as a float; anything else (null for NaN in a metrics file, a string) None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def metric(evidence: Evidence, model: str, section: str, key: str = "accuracy") -> float | None:
    return number(((evidence.metrics.get(model) or {}).get(section) or {}).get(key))


def points(difference: float) -> str:
    return f"{difference * 100:+.2f} points"


def absent(evidence: Evidence, names: Sequence[str], section: str = "test", key: str = "accuracy") -> str:
    """Why some of `names` cannot be compared ("" when all can): not in params.yaml, or not trained."""
    problems = []
    for name in dict.fromkeys(names):
        if name != BASELINE and name not in evidence.models:
            problems.append(f"{name} is not a variant of params.yaml `models` or `students`")
        elif metric(evidence, name, section, key) is None:
            stage = BASELINE if name == BASELINE else f"train@{name}"
            problems.append(f"{name} has no {section}.{key} in its metrics (has {stage} run?)")
    return "; ".join(problems)


def beats(
    config: ClaimsConfig, make: ClaimMaker, better: Sequence[str], worse: str,
    accuracy: Callable[[str], float | None],
) -> Claim:  # fmt: skip
    """Each of `better` against `worse` by `accuracy(model)` (every one known): holds when each leads
    by `config.margin` or more."""
    values = {name: float(accuracy(name) or 0.0) for name in (worse, *better)}
    leads = {name: values[name] - values[worse] for name in better}
    numbers: Numbers = {f"{name}_accuracy": value for name, value in values.items()}
    numbers.update({f"{name}_minus_{worse}": lead for name, lead in leads.items()})
    verdict = HOLDS if all(lead >= config.margin for lead in leads.values()) else FAILS
    shown = ", ".join(f"{name} {points(lead)}" for name, lead in leads.items())
    return make(numbers, verdict, f"{shown} against {worse} (beats: {points(config.margin)} or more)")


def config_differences(
    models: Mapping[str, VariantConfig], name: str, reference: str, field_name: str
) -> str:
    """What else variant `name` changes against `reference` besides `field_name`, in words ("" if nothing)."""
    if name not in models or reference not in models:
        return ""
    one, other = dataclasses.asdict(models[name]), dataclasses.asdict(models[reference])
    changed = [key for key in one if key != field_name and one[key] != other[key]]
    if not changed:
        return ""
    listed = ", ".join(f"{key} {one[key]} ({reference}: {other[key]})" for key in changed)
    return f"; {name} also differs in {listed}: the gap is not the {field_name} alone"
