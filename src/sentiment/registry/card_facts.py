"""The facts of a model card, gathered from the records the register stage decides on: the candidate's
and the baseline's training records (metrics, run), the decision report, the data's provenance and
split counts, the served file's size, and a seed-spread record when one was measured for this model.

Pure: data in, `ModelCardFacts` out (`stages.register` reads the files). The pipeline trains one seed;
a spread is shown only from a record of the same model (settings and training settings) on the same
test reviews, as `benchmarks/ablation.py --spread` writes it, and otherwise said not measured.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sentiment.config import BASELINE, Params
from sentiment.core.errors import DataError
from sentiment.data.splits import SPLIT_KEY
from sentiment.registry.card_records import Comparison, DataFacts, ModelCardFacts, SeedSpread, UseFacts
from sentiment.registry.model_card import card_summary, render_model_card

if TYPE_CHECKING:
    from sentiment.registry.served import TrainingRecord

SPREAD_FIGURES = ("validation", "test", "shuffled_test")
DEFAULT_SPREAD_WHERE = "seed-spread record"


def _plain(value: Any) -> Any:
    """A value as JSON gives it back (tuples as lists), so that settings compare with a record's."""
    return json.loads(json.dumps(value))


def model_settings(variant: str, params: Params) -> dict[str, Any]:
    """The params.yaml settings of a model: the variant's, or the baseline's."""
    config = params.baseline if variant == BASELINE else params.networks[variant]
    return dict(_plain(dataclasses.asdict(config)))


def _figure(entry: Mapping[str, Any], name: str, where: str) -> tuple[float, float] | None:
    figure = entry.get("summary", {}).get(name)
    if figure is None and name == "shuffled_test":
        return None
    try:
        return float(figure["mean"]), float(figure["sd"])
    except (TypeError, KeyError, ValueError):
        raise DataError(f"the seed-spread record has no mean and sd of '{name}'", where) from None


def seed_spread(
    record: Mapping[str, Any] | None,
    variant: str,
    params: Params,
    test_data_hash: str,
    where: str = DEFAULT_SPREAD_WHERE,
) -> tuple[SeedSpread | None, str]:
    """The spread of `variant` from the record (ablation.py --spread), or None and why not."""
    if record is None:
        return None, "the pipeline trains one seed, and no seed-spread record was written"
    models = record.get("models")
    if not isinstance(models, Mapping):
        raise DataError("the seed-spread record has no 'models' mapping", where)
    entry = models.get(variant)
    if not isinstance(entry, Mapping):
        measured = ", ".join(sorted(models)) or "no model"
        return None, f"the pipeline trains one seed; the seed-spread record is of {measured}"
    if _plain(entry.get("settings")) != model_settings(variant, params):
        return None, f"the seed-spread record is of other settings of `{variant}` than this run's"
    if variant != BASELINE and _plain(record.get("training")) != _plain(dataclasses.asdict(params.training)):
        return None, "the seed-spread record is of other training settings than this run's"
    if record.get("test_data_hash") != test_data_hash:
        return None, "the seed-spread record was measured on other test reviews"
    figures = [_figure(entry, name, where) for name in SPREAD_FIGURES]
    validation, test = figures[0], figures[1]
    assert validation is not None and test is not None  # _figure raises for these two
    seeds = tuple(int(seed) for seed in record.get("seeds", []))
    source = str(record.get("source", where))
    return SeedSpread(seeds, validation, test, figures[2], source), ""


def _size(record: TrainingRecord, served_megabytes: float) -> dict[str, float]:
    training = record.metrics.get("training", {})
    size = {key: float(training[key]) for key in ("parameters", "features") if key in training}
    return {**size, "served_megabytes": served_megabytes}


def _comparison(report: Mapping[str, Any], params: Params) -> Comparison:
    before = report.get("champion_before")
    return Comparison(
        decision=str(report["decision"]),
        reason=str(report["reason"]),
        version=str(report["candidate"]["version"]),
        champion_before=None if before is None else str(before["version"]),
        champion_after=None if report.get("champion_after") is None else str(report["champion_after"]),
        champion_alias=params.registry.champion_alias,
        challenger_alias=params.registry.challenger_alias,
        paired_test=report.get("paired_test"),
        against_baseline=report.get("against_baseline"),
    )


def card_facts(
    report: Mapping[str, Any],
    candidate: TrainingRecord,
    baseline: TrainingRecord | None,
    params: Params,
    data: DataFacts,
    served_megabytes: float,
    spread: tuple[SeedSpread | None, str],
    behaviour: Mapping[str, Any] | None = None,
) -> ModelCardFacts:
    """The card's facts for the candidate of a decision `report` (`registry.decision.register`'s)."""
    use = UseFacts(
        max_len=None if candidate.variant == BASELINE else params.sequences.max_len,
        truncating=params.sequences.truncating,
        vocabulary_words=params.vocabulary.num_words,
        oov_token=params.vocabulary.oov_token,
        unreliable_oov_share=params.registry.unreliable_oov_share,
        threshold=params.registry.threshold,
    )
    return ModelCardFacts(
        model_name=params.registry.model_name,
        variant=candidate.variant,
        family=candidate.family,
        run_id=str(candidate.run["mlflow_run_id"]),
        settings=model_settings(candidate.variant, params),
        size=_size(candidate, served_megabytes),
        selection_metric=params.registry.selection_metric,
        metrics=candidate.metrics,
        baseline_metrics=None if baseline is None or candidate.variant == BASELINE else baseline.metrics,
        use=use,
        data=data,
        comparison=_comparison(report, params),
        seed_spread=spread[0],
        seed_spread_note=spread[1],
        behaviour=behaviour,
    )


def card_texts(facts: ModelCardFacts) -> tuple[str, str]:
    """The card (Markdown) and its summary for the version's description."""
    return render_model_card(facts), card_summary(facts)


def card_writer(
    candidate: TrainingRecord,
    baseline: TrainingRecord | None,
    params: Params,
    provenance: Mapping[str, str],
    test_data_hash: str,
    counts: Mapping[str, int],
    served_megabytes: float,
    spread_record: Mapping[str, Any] | None = None,
    behaviour: Mapping[str, Any] | None = None,
    spread_where: str = DEFAULT_SPREAD_WHERE,
) -> Callable[[Mapping[str, Any]], tuple[str, str]]:
    """What `registry.decision.register` calls with its decision report: the card and its summary.
    The spread record is checked here, before any registry write, so a bad one changes nothing."""
    spread = seed_spread(spread_record, candidate.variant, params, test_data_hash, spread_where)
    data = DataFacts(
        data_version=str(provenance.get("data_version", "unknown")),
        git_commit=str(provenance.get("git_commit", "unknown")),
        test_data_hash=test_data_hash,
        validation_split=str(candidate.metrics.get(SPLIT_KEY, "unknown")),
        validation_fraction=params.splits.validation_fraction,
        seed=params.seed,
        counts=dict(counts),
    )

    def write(report: Mapping[str, Any]) -> tuple[str, str]:
        facts = card_facts(report, candidate, baseline, params, data, served_megabytes, spread, behaviour)
        return card_texts(facts)

    return write
