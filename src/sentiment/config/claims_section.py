"""Frozen configuration of the course's claims, checked on every run: the params.yaml section `claims`.

Each claim of the course notes is a comparison of this run's models (`evaluation.claims`); this
section says which variants each comparison reads and the thresholds that turn a measurement into
"holds" or "does not hold". The variants are named, not looked up: a variant named here that
params.yaml `models` does not have makes its claims "not measured", saying which. `clipping` sets up
the one experiment the claims stage runs itself (`modeling.clipping`). `sentiment.config`
re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from sentiment.config.schema import NonEmpty, Range
from sentiment.config.sections import VariantName

Positive = Annotated[int, Range(ge=1)]
# A difference of accuracies: 0.01 is one point of accuracy.
Points = Annotated[float, Range(ge=0, lt=1)]
Factor = Annotated[float, Range(ge=1)]
Share = Annotated[float, Range(gt=0, le=1)]


@dataclass(frozen=True)
class ClaimVariantsConfig:
    """Which variants each claim compares (params.yaml `claims.variants`).

    `simple_rnn` against each of `gated` (overall, on the long reviews or far verdicts, and by the
    gradient reaching far tokens); `bidirectional` and `deep` each against `lstm`, the one-layer,
    one-direction LSTM; `sequence`, the sequence model whose word-order sensitivity is set against
    the `bag` of words'.
    """

    simple_rnn: VariantName
    gated: Annotated[tuple[VariantName, ...], NonEmpty("variant")]
    lstm: VariantName
    bidirectional: VariantName
    deep: VariantName
    sequence: VariantName
    bag: VariantName


@dataclass(frozen=True)
class ClippingConfig:
    """The exploding-gradient experiment (params.yaml `claims.clipping`, `modeling.clipping`).

    A SimpleRNN of `units` units with `activation`, whose recurrent weights are `recurrent_gain` times
    the identity, reads the last `tokens` tokens of the `reviews` longest training reviews (half of
    each label), embedded in `embedding_dim` dimensions, and is trained for `steps` steps of plain
    SGD at `learning_rate` on them, once with `training.clipnorm` and once without. "Explodes": the
    unclipped gradient's norm reaches `explosion` times the clipnorm and its loss leaves
    `loss_growth` times its first value; "bounded": the clipped run's loss stays finite and within it.
    """

    reviews: Annotated[int, Range(ge=2, why="half of each label")] = 64
    tokens: Positive = 50
    units: Positive = 16
    embedding_dim: Positive = 8
    activation: Literal["relu", "tanh"] = "relu"
    recurrent_gain: Annotated[float, Range(gt=0)] = 1.1
    learning_rate: Annotated[float, Range(gt=0)] = 0.01
    steps: Annotated[int, Range(ge=2)] = 20
    explosion: Factor = 100.0
    loss_growth: Factor = 10.0


@dataclass(frozen=True)
class ClaimsConfig:
    """The thresholds of the course's claims (params.yaml `claims`).

    `margin`: "beats" is a test accuracy higher by at least this much (0.01: one point). `order_drop`:
    a model "reads order" when it loses at least this much accuracy with each review's words shuffled.
    `gradient_decay`: the simple RNN's gradient "vanishes" when its norm at the far distance
    (`diagnostics.gradient_distance`) is at most 1/`gradient_decay` of its norm at the last token;
    `gradient_advantage`: a gated cell keeps "far more" when its far-to-last ratio is at least this
    many times the simple RNN's. `same_polarity`: the embedding "puts similar words together" when at
    least this share of the probe words' nearest neighbours have the probe word's polarity in the
    training reviews.
    """

    variants: ClaimVariantsConfig
    margin: Points
    order_drop: Points
    gradient_decay: Factor
    gradient_advantage: Factor
    same_polarity: Share
    clipping: ClippingConfig
