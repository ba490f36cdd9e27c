"""The course's claims, decided on metrics made to order: every claim holds on numbers that say so, turns
to "does not hold" when one figure says otherwise, and is "not measured" (naming what is missing) when a
model is absent from params.yaml or was not trained. The report and its metric carry the verdicts."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from sentiment.config import ConfigError, Params, params_from_mapping
from sentiment.evaluation import claims_report
from sentiment.evaluation.claims import FAILS, HOLDS, UNMEASURED, Claim, Evidence, evaluate_claims

CLAIM_IDS = [
    "sequence_models_read_order",
    "simple_rnn_gradient_vanishes",
    "clipping_stops_explosion",
    "gated_beat_simple_rnn",
    "gated_beat_simple_rnn_long",
    "bidirectional_helps",
    "stacking_helps",
    "embedding_groups_similar_words",
    "recurrent_beat_tfidf",
]


def model_metrics(
    test: float, validation: float, shuffled: float, long: float | None = None, ratio: float | None = None
) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "validation": {"accuracy": validation},
        "test": {"accuracy": test, "shuffled_accuracy": shuffled},
    }
    if long is not None:
        metrics["test"]["accuracy_by_length"] = {"1-100": test, "101-400": test, "401-inf": long}
    if ratio is not None:
        metrics["gradients"] = {"far_distance": 200.0, "norm_at_1": 1.0, "ratio_far_to_1": ratio}
    return metrics


def holding_metrics() -> dict[str, dict[str, Any]]:
    """Metrics on which every claim of params.yaml `claims` (1-point margins, 100x decay) holds."""
    return {
        "rnn": model_metrics(0.80, 0.80, 0.78, long=0.70, ratio=0.001),
        "gru": model_metrics(0.85, 0.85, 0.84, long=0.84, ratio=0.5),
        "lstm": model_metrics(0.85, 0.84, 0.84, long=0.83, ratio=0.4),
        "bilstm": model_metrics(0.90, 0.90, 0.85, ratio=0.6),
        "deep": model_metrics(0.87, 0.86, 0.86),
        "bag": model_metrics(0.84, 0.84, 0.84),
        "baseline": model_metrics(0.86, 0.86, 0.84),
    }


NEIGHBOURS = {"bilstm": {"great": ["superb", "fine"], "awful": ["dreadful", "poor"]}}
POLARITY = {"great": 1.0, "superb": 0.8, "fine": 0.3, "awful": -1.2, "dreadful": -0.9, "poor": -0.7}
CLIPPING: dict[str, float | int | None] = {
    "clipnorm": 1.0,
    "clipped_first_loss": 2.0,
    "clipped_max_finite_loss": 2.5,
    "clipped_first_non_finite_step": None,
    "clipped_max_gradient_norm": 679.0,
    "clipped_first_non_finite_gradient_step": None,
    "clipped_max_applied_norm": 1.0000001,
    "unclipped_first_loss": 2.0,
    "unclipped_max_finite_loss": 1e18,
    "unclipped_first_non_finite_step": 3,
    "unclipped_max_gradient_norm": 679.0,
    "unclipped_first_non_finite_gradient_step": 2,
    "unclipped_max_applied_norm": float("inf"),
}


def evidence_of(config: Params, **changes: Any) -> Evidence:
    evidence = Evidence(
        metrics=holding_metrics(), models=config.models, neighbours=NEIGHBOURS, polarity=POLARITY,
        length_reviews={"1-100": 50, "101-400": 30, "401-inf": 20}, clipping=CLIPPING,
    )  # fmt: skip
    return dataclasses.replace(evidence, **changes)


def by_id(claims: list[Claim]) -> dict[str, Claim]:
    return {claim.id: claim for claim in claims}


def test_every_claim_holds_on_numbers_that_say_so(project_config: Params) -> None:
    claims = evaluate_claims(evidence_of(project_config), project_config.claims)
    assert [claim.id for claim in claims] == CLAIM_IDS
    assert {claim.id: claim.verdict for claim in claims} == dict.fromkeys(CLAIM_IDS, HOLDS)
    found = by_id(claims)
    assert found["gated_beat_simple_rnn"].numbers["gru_minus_rnn"] == pytest.approx(0.05)
    # the longest length bucket decides, and the report says how many reviews it holds
    assert found["gated_beat_simple_rnn_long"].numbers["lstm_minus_rnn"] == pytest.approx(0.13)
    assert "401 or more tokens (20 reviews)" in found["gated_beat_simple_rnn_long"].measurement
    assert found["embedding_groups_similar_words"].numbers["same_polarity_share"] == 1.0
    # the best recurrent variant is chosen on validation (bilstm), then compared on test
    assert "bilstm (best recurrent variant on validation)" in found["recurrent_beat_tfidf"].reason
    # the bidirectional variant changes more than its direction: the row says so
    assert "also differs in" in found["bidirectional_helps"].reason
    assert "also differs" not in found["stacking_helps"].reason


def set_metric(model: str, section: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(metrics: dict[str, Any]) -> None:
        metrics[model][section][key] = value

    return change


def set_long(model: str, value: float) -> Callable[[dict[str, Any]], None]:
    def change(metrics: dict[str, Any]) -> None:
        metrics[model]["test"]["accuracy_by_length"]["401-inf"] = value

    return change


@pytest.mark.parametrize(
    ("claim_id", "change"),
    [
        # the sequence model barely minds shuffled words; or the bag minds them as much
        ("sequence_models_read_order", set_metric("bilstm", "test", "shuffled_accuracy", 0.895)),
        ("sequence_models_read_order", set_metric("bag", "test", "shuffled_accuracy", 0.80)),
        # the simple RNN keeps half its gradient; or a gated cell keeps less than 10x its share
        ("simple_rnn_gradient_vanishes", set_metric("rnn", "gradients", "ratio_far_to_1", 0.5)),
        ("simple_rnn_gradient_vanishes", set_metric("gru", "gradients", "ratio_far_to_1", 0.005)),
        ("simple_rnn_gradient_vanishes", set_metric("lstm", "gradients", "ratio_far_to_1", 0.0)),
        # half a point is not "beats" (the margin is one point)
        ("gated_beat_simple_rnn", set_metric("lstm", "test", "accuracy", 0.805)),
        ("gated_beat_simple_rnn_long", set_long("gru", 0.70)),
        ("bidirectional_helps", set_metric("bilstm", "test", "accuracy", 0.855)),
        ("stacking_helps", set_metric("deep", "test", "accuracy", 0.845)),
        ("recurrent_beat_tfidf", set_metric("baseline", "test", "accuracy", 0.95)),
    ],
)
def test_a_claim_does_not_hold_when_its_numbers_say_so(
    project_config: Params, claim_id: str, change: Callable[[dict[str, Any]], None]
) -> None:
    metrics = holding_metrics()
    change(metrics)
    claims = by_id(evaluate_claims(evidence_of(project_config, metrics=metrics), project_config.claims))
    assert claims[claim_id].verdict == FAILS, claims[claim_id].reason
    others = {other: claim.verdict for other, claim in claims.items() if other != claim_id}
    assert set(others.values()) <= {HOLDS, FAILS}  # nothing else became unmeasurable


def test_a_gated_cell_keeping_less_gradient_than_the_simple_rnn_is_named(project_config: Params) -> None:
    metrics = holding_metrics()
    metrics["lstm"]["gradients"]["ratio_far_to_1"] = 1e-9  # below the simple RNN's
    claims = by_id(evaluate_claims(evidence_of(project_config, metrics=metrics), project_config.claims))
    row = claims["simple_rnn_gradient_vanishes"]
    assert row.verdict == FAILS
    assert "lstm keeps less of it than rnn" in row.reason and "gru" not in row.reason.split("; ")[-1]
    holding = by_id(evaluate_claims(evidence_of(project_config), project_config.claims))
    assert "less of it" not in holding["simple_rnn_gradient_vanishes"].reason


def test_a_single_lstm_at_the_ceiling_leaves_no_room_and_the_row_says_so(project_config: Params) -> None:
    metrics = holding_metrics()
    for model in ("lstm", "bilstm", "deep"):
        metrics[model]["test"]["accuracy"] = 1.0
    claims = by_id(evaluate_claims(evidence_of(project_config, metrics=metrics), project_config.claims))
    for claim_id in ("bidirectional_helps", "stacking_helps"):
        assert claims[claim_id].verdict == FAILS
        assert "lstm is at 100.00%" in claims[claim_id].reason and "no room" in claims[claim_id].reason
    # below the ceiling, no such note
    assert (
        "no room"
        not in by_id(evaluate_claims(evidence_of(project_config), project_config.claims))[
            "stacking_helps"
        ].reason
    )


@pytest.mark.parametrize(
    "changes",
    [
        {
            "unclipped_max_gradient_norm": 50.0,
            "unclipped_first_non_finite_gradient_step": None,
        },  # no explosion
        {"unclipped_first_non_finite_step": None, "unclipped_max_finite_loss": 3.0},  # nor divergence
        {"clipped_max_finite_loss": 1e5},  # clipping did not keep the loss bounded
        {"clipped_first_non_finite_step": 4},
        {"clipped_max_applied_norm": 1.5},  # a gradient larger than clipnorm was applied
    ],
)
def test_the_clipping_claim_does_not_hold_when_its_figures_say_so(
    project_config: Params, changes: dict[str, Any]
) -> None:
    evidence = evidence_of(project_config, clipping={**CLIPPING, **changes})
    claim = by_id(evaluate_claims(evidence, project_config.claims))["clipping_stops_explosion"]
    assert claim.verdict == FAILS, claim.reason


def test_neighbours_of_the_other_polarity_break_the_embedding_claim(project_config: Params) -> None:
    flipped = {**POLARITY, "superb": -0.8, "fine": -0.3}  # "great" now has two negative neighbours
    claim = by_id(evaluate_claims(evidence_of(project_config, polarity=flipped), project_config.claims))[
        "embedding_groups_similar_words"
    ]
    assert claim.verdict == FAILS and claim.numbers["same_polarity_share"] == 0.5


def test_far_verdict_distances_decide_the_long_dependency_claim_when_recorded(project_config: Params) -> None:
    metrics = holding_metrics()
    for model, far in (("rnn", 0.60), ("gru", 0.605), ("lstm", 0.90)):  # gru does not beat rnn far away
        metrics[model]["test"]["accuracy_by_distance"] = {"1-20": 0.9, "21-60": 0.8, "61-inf": far}
    claim = by_id(evaluate_claims(evidence_of(project_config, metrics=metrics), project_config.claims))[
        "gated_beat_simple_rnn_long"
    ]
    assert claim.verdict == FAILS
    assert "verdict is 61 or more tokens from the end" in claim.measurement
    assert claim.numbers["gru_minus_rnn"] == pytest.approx(0.005)
    assert claim.numbers["lstm_minus_rnn"] == pytest.approx(0.30)


def test_a_variant_missing_from_params_leaves_its_claims_not_measured(project_config: Params) -> None:
    models = {name: variant for name, variant in project_config.models.items() if name != "gru"}
    metrics = {name: value for name, value in holding_metrics().items() if name != "gru"}
    claims = by_id(
        evaluate_claims(evidence_of(project_config, models=models, metrics=metrics), project_config.claims)
    )
    for claim_id in ("gated_beat_simple_rnn", "gated_beat_simple_rnn_long", "simple_rnn_gradient_vanishes"):
        assert claims[claim_id].verdict == UNMEASURED
        assert "gru is not a variant of params.yaml `models`" in claims[claim_id].reason
    assert claims["bidirectional_helps"].verdict == HOLDS


def test_an_untrained_model_or_a_missing_measurement_is_named(project_config: Params) -> None:
    metrics = holding_metrics()
    del metrics["deep"], metrics["baseline"]
    for model in ("rnn", "gru", "lstm"):
        del metrics[model]["test"]["accuracy_by_length"]
    evidence = evidence_of(project_config, metrics=metrics, neighbours={}, clipping=None)
    claims = by_id(evaluate_claims(evidence, project_config.claims))
    assert claims["stacking_helps"].verdict == UNMEASURED
    assert "deep has no test.accuracy in its metrics (has train@deep run?)" in claims["stacking_helps"].reason
    assert (
        claims["recurrent_beat_tfidf"].verdict == UNMEASURED
        and "baseline" in claims["recurrent_beat_tfidf"].reason
    )
    assert "diagnostics.length_buckets" in claims["gated_beat_simple_rnn_long"].reason
    for claim_id in (
        "gated_beat_simple_rnn_long",
        "embedding_groups_similar_words",
        "clipping_stops_explosion",
    ):
        assert claims[claim_id].verdict == UNMEASURED, claim_id
    assert claims["gated_beat_simple_rnn"].verdict == HOLDS


def test_the_report_and_its_metric_carry_each_verdict(project_config: Params) -> None:
    metrics = holding_metrics()
    metrics["deep"]["test"]["accuracy"] = 0.845
    del metrics["baseline"]
    claims = evaluate_claims(evidence_of(project_config, metrics=metrics), project_config.claims)
    markdown = claims_report.claims_markdown(
        claims, ["pipeline run repro-1"], ["![figure](clipping/clipping.png)"]
    )
    table = [line for line in markdown.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(table) == len(CLAIM_IDS)
    assert "7 of 9 claims hold, 1 do not, 1 not measured" in markdown
    stacking = next(line for line in table if "Deep RNN" in line)
    assert "**does not hold**" in stacking and "deep -0.50 points against lstm" in stacking
    assert "- pipeline run repro-1" in markdown and markdown.rstrip().endswith("(clipping/clipping.png)")
    data = claims_report.claims_metrics(claims)
    assert data["summary"] == {"holds": 7, "does_not_hold": 1, "not_measured": 1}
    assert (
        data["claims"]["stacking_helps"]["holds"] == 0 and data["claims"]["bidirectional_helps"]["holds"] == 1
    )
    assert data["claims"]["recurrent_beat_tfidf"]["holds"] is None
    flat = claims_report.claims_run_metrics(claims)
    assert flat["claim_stacking_helps"] == 0.0 and "claim_recurrent_beat_tfidf" not in flat
    assert flat["stacking_helps.deep_minus_lstm"] == pytest.approx(-0.005)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("claims", "margin"), 1.5, r"claims.margin: expected in \[0, 1\), got 1.5"),
        (("claims", "gradient_decay"), 0.5, "claims.gradient_decay: expected >= 1"),
        (("claims", "same_polarity"), 0, r"claims.same_polarity: expected in \(0, 1\]"),
        (("claims", "variants", "gated"), [], "claims.variants.gated: expected at least one variant"),
        (("claims", "variants", "deep"), "Deep!", "claims.variants.deep: expected a variant name"),
        (
            ("claims", "clipping", "activation"),
            "sigmoid",
            r"claims.clipping.activation: 'sigmoid' is not one of",
        ),
        (("claims", "clipping", "steps"), 1, "claims.clipping.steps: expected >= 2"),
        (("claims", "clipping", "extra"), 1, r"claims.clipping: unknown key\(s\) \['extra'\]"),
        (("claims", "extra"), 1, r"claims: unknown key\(s\) \['extra'\]"),
        (
            ("diagnostics", "length_buckets"),
            [200, 100],
            "diagnostics.length_buckets: expected strictly increasing",
        ),
        (("diagnostics", "length_buckets"), [0], r"diagnostics.length_buckets\[0\]: expected >= 1"),
    ],
)
def test_the_claims_section_is_loaded_strictly_by_key(
    params_data: dict[str, Any], path: tuple[str, ...], value: object, expected: str
) -> None:
    data = copy.deepcopy(params_data)
    section = data
    for key in path[:-1]:
        section = section[key]
    section[path[-1]] = value
    with pytest.raises(ConfigError, match=f"^params.yaml: {expected}"):
        params_from_mapping(data)


def test_the_claims_section_may_not_be_left_out(params_data: dict[str, Any]) -> None:
    del params_data["claims"]["clipping"]
    with pytest.raises(ConfigError, match="claims: missing key 'clipping'"):
        params_from_mapping(params_data)


def test_the_embedding_of_the_variant_best_on_validation_decides(project_config: Params) -> None:
    # rnn's neighbours are of the other polarity; bilstm's, the best on validation, are right
    neighbours = {**NEIGHBOURS, "rnn": {"great": ["dreadful", "poor"], "awful": ["superb", "fine"]}}
    claim = by_id(evaluate_claims(evidence_of(project_config, neighbours=neighbours), project_config.claims))[
        "embedding_groups_similar_words"
    ]
    assert claim.verdict == HOLDS and claim.reason.startswith("bilstm (best on validation): 4 of 4")
    assert claim.numbers["rnn_same_polarity_share"] == 0.0
    metrics = holding_metrics()
    metrics["rnn"]["validation"]["accuracy"] = 0.95
    claim = by_id(
        evaluate_claims(
            evidence_of(project_config, neighbours=neighbours, metrics=metrics), project_config.claims
        )
    )["embedding_groups_similar_words"]
    assert claim.verdict == FAILS and claim.reason.startswith("rnn (best on validation)")
