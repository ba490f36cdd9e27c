"""Frozen configuration of the behavioural suite: the params.yaml section `behaviour`.

The suite itself (templates and lexicons, `config/behaviour_suite.yaml`, read by
`evaluation.behaviour_suite`) says what is checked; this section says how many cases each test draws
and the pass rate each type of test must reach for a model to pass the registry's behavioural gate.
`sentiment.config` re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from sentiment.config.schema import Range

Share = Annotated[float, Range(ge=0, le=1)]
# The suite's own seed (numpy's range), so that the same cases are drawn whichever seed trains the models.
SuiteSeed = Annotated[int, Range(ge=0, le=2**32 - 1, why="numpy's seeds are 0 to 2**32 - 1")]
TEST_TYPES = ("mft", "inv", "dir")


@dataclass(frozen=True)
class BehaviourThresholds:
    """The pass rate every test of a type must reach (0: that type never fails a model)."""

    mft: Share = 0.0
    inv: Share = 0.0
    dir: Share = 0.0

    def of(self, test_type: str) -> float:
        return float(getattr(self, test_type))


@dataclass(frozen=True)
class BehaviourConfig:
    """params.yaml `behaviour`: `cases_per_test` cases drawn from each test's templates (all of them
    when there are fewer), with `seed`; a direction case passes unless the probability moves against
    its direction by more than `direction_tolerance`; `examples` failing cases per test are kept in
    the reports. A model passes when each test reaches its type's threshold."""

    thresholds: BehaviourThresholds
    cases_per_test: Annotated[int, Range(ge=1)] = 25
    seed: SuiteSeed = 0
    direction_tolerance: Annotated[float, Range(ge=0, lt=1)] = 0.0
    examples: Annotated[int, Range(ge=0)] = 3
