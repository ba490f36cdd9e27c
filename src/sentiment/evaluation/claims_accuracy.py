"""The course's claims about which model classifies better, decided on the test accuracy of this run's
models (`evaluation.claims`). The test split only reports here: every comparison is fixed in
params.yaml `claims.variants` beforehand, and the one choice among models (the best recurrent
variant, against TF-IDF) is made on the validation split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sentiment.config import BASELINE, ClaimsConfig
from sentiment.evaluation import buckets
from sentiment.evaluation.claim_rows import (
    UNMEASURED,
    Claim,
    Evidence,
    Numbers,
    absent,
    beats,
    claim_maker,
    config_differences,
    metric,
    number,
)


def gated_overall(evidence: Evidence, config: ClaimsConfig) -> Claim:
    simple, gated = config.variants.simple_rnn, config.variants.gated
    make = claim_maker(
        "gated_beat_simple_rnn",
        '"LSTM and GRU ... incorporate gating mechanisms to better control the flow of information": '
        "the gated cells beat the simple RNN",
        f"test accuracy of {', '.join(gated)} against {simple}",
    )
    missing = absent(evidence, [simple, *gated])
    if missing:
        return make({}, UNMEASURED, missing)
    return beats(config, make, gated, simple, lambda name: metric(evidence, name, "test"))


def far_bucket(evidence: Evidence, names: Sequence[str]) -> tuple[str, int, dict[str, float]] | None:
    """(metric, lower bound, accuracy by model) of the farthest bucket all `names` have: verdict
    distances when all of them record those, else review lengths; None when neither goes past the
    first bucket."""
    for name_of_metric in (buckets.DISTANCE_METRIC, buckets.LENGTH_METRIC):
        tables: list[Mapping[str, object]] = []
        for name in names:
            table = ((evidence.metrics.get(name) or {}).get("test") or {}).get(name_of_metric)
            if isinstance(table, Mapping) and table:
                tables.append(table)
        if len(tables) < len(names):
            continue
        common = [
            bucket for bucket in tables[0] if all(number(table.get(bucket)) is not None for table in tables)
        ]
        if not common:
            continue
        far = max(common, key=buckets.lower_bound)
        if buckets.lower_bound(far) <= 1:
            return None
        accuracy = {name: float(number(table[far]) or 0.0) for name, table in zip(names, tables, strict=True)}
        return name_of_metric, buckets.lower_bound(far), accuracy
    return None


def gated_long(evidence: Evidence, config: ClaimsConfig) -> Claim:
    simple, gated = config.variants.simple_rnn, config.variants.gated
    statement = (
        '"GRUs and LSTMs help to mitigate ... inability to capture long term dependencies": the gated '
        "cells beat the simple RNN on long reviews (or far verdicts)"
    )
    missing = absent(evidence, [simple, *gated])
    found = None if missing else far_bucket(evidence, [simple, *gated])
    if found is None:
        reason = missing or (
            "no test.accuracy_by_length (nor accuracy_by_distance) past the first bucket in the metrics: "
            "set diagnostics.length_buckets and retrain"
        )
        return Claim("gated_beat_simple_rnn_long", statement, "test accuracy on the longest reviews", {},
                     UNMEASURED, reason)  # fmt: skip
    name_of_metric, low, accuracy = found
    if name_of_metric == buckets.DISTANCE_METRIC:
        measurement = f"test accuracy on the reviews whose verdict is {low} or more tokens from the end"
    else:
        count = next(
            (
                reviews
                for bucket, reviews in evidence.length_reviews.items()
                if buckets.lower_bound(bucket) == low
            ),
            None,
        )
        measurement = f"test accuracy on the reviews of {low} or more tokens" + (
            f" ({count} reviews)" if count is not None else ""
        )
    make = claim_maker("gated_beat_simple_rnn_long", statement, measurement)
    row = beats(config, make, gated, simple, accuracy.get)
    return Claim(row.id, row.statement, row.measurement, {**row.numbers, "bucket_from": low}, row.verdict,
                 row.reason)  # fmt: skip


def _against_lstm(
    evidence: Evidence, config: ClaimsConfig, claim_id: str, statement: str, name: str, field_name: str
) -> Claim:
    lstm = config.variants.lstm
    make = claim_maker(claim_id, statement, f"test accuracy of {name} against {lstm}")
    missing = absent(evidence, [name, lstm])
    if missing:
        return make({}, UNMEASURED, missing)
    row = beats(config, make, [name], lstm, lambda model: metric(evidence, model, "test"))
    caveat = _ceiling(config, lstm, metric(evidence, lstm, "test")) + config_differences(
        evidence.models, name, lstm, field_name
    )
    return Claim(row.id, row.statement, row.measurement, row.numbers, row.verdict, row.reason + caveat)


def _ceiling(config: ClaimsConfig, name: str, accuracy: float | None) -> str:
    """Why no gain can show where `name` is already within the margin of 100% (the verdict stands)."""
    if accuracy is None or accuracy + config.margin <= 1.0:
        return ""
    return (
        f"; {name} is at {100 * accuracy:.2f}%, less than {100 * config.margin:.2f} points from 100%: "
        "these reviews leave no room for the gain"
    )


def bidirectional(evidence: Evidence, config: ClaimsConfig) -> Claim:
    return _against_lstm(
        evidence, config, "bidirectional_helps",
        '"Bidirectional RNN has backward flow of information as well": reading both ways helps '
        "(implied by the notes, not said)",
        config.variants.bidirectional, "bidirectional",
    )  # fmt: skip


def deep(evidence: Evidence, config: ClaimsConfig) -> Claim:
    return _against_lstm(
        evidence, config, "stacking_helps",
        '"Deep RNN are simply stacking many RNN layers on top of each other": stacking layers helps '
        "(implied by the notes, not said)",
        config.variants.deep, "units",
    )  # fmt: skip


def tfidf(evidence: Evidence, config: ClaimsConfig) -> Claim:
    make = claim_maker(
        "recurrent_beat_tfidf",
        '"Unlike the sparse and high-dimensional vectors in the Bag of Words model, word embeddings ... '
        'capture semantic relationships": the recurrent models beat count-based TF-IDF',
        "test accuracy of the recurrent variant best on validation against the TF-IDF baseline",
    )
    recurrent = [name for name, variant in evidence.models.items() if variant.recurrent]
    trained = [name for name in recurrent if metric(evidence, name, "validation") is not None]
    missing = absent(evidence, [BASELINE])
    if missing or not trained:
        return make({}, UNMEASURED, missing or "no recurrent variant has validation metrics")
    best = max(trained, key=lambda name: (metric(evidence, name, "validation") or 0.0, name))
    missing = absent(evidence, [best])
    if missing:
        return make({}, UNMEASURED, missing)
    row = beats(config, make, [best], BASELINE, lambda model: metric(evidence, model, "test"))
    numbers: Numbers = {**row.numbers, f"{best}_validation_accuracy": metric(evidence, best, "validation")}
    reason = f"{best} (best recurrent variant on validation) {row.reason.split(' ', 1)[1]}"
    return Claim(row.id, row.statement, row.measurement, numbers, row.verdict, reason)
