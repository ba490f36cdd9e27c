"""The model card of a registered version: what the model is for, what it was trained and tested on, how
well it does, how it compares, and why it was (or was not) promoted.

Pure: `ModelCardFacts` in (`registry.card_records`, built by `registry.card_facts` from the records the
register stage decides on), Markdown out. The card is logged as `model_card.md` beside the version's
training run (`registry.decision`), and `card_summary` goes into the version's description.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sentiment.registry.card_records import Comparison, ModelCardFacts

CARD_FILE = "model_card.md"
NOT_MEASURED = "not measured for this run"
NOT_RUN = "not run"
METRIC_ROWS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
SPLIT_WORDS = {"movie": "grouped by movie", "random": "stratified random"}


def _number(value: Any, places: int = 4) -> str:
    return f"{value:.{places}f}" if isinstance(value, int | float) else "-"


def _percent(value: Any) -> str:
    return f"{100 * value:.2f}%" if isinstance(value, int | float) else "-"


def _accuracy(metrics: Mapping[str, Mapping[str, Any]], split: str) -> Any:
    return metrics.get(split, {}).get("accuracy")


def _points(difference: float) -> str:
    return f"{100 * difference:+.2f} points"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join([*lines, *("| " + " | ".join(row) + " |" for row in rows)])


def _use(facts: ModelCardFacts) -> str:
    use = facts.use
    if use.max_len is None:  # the TF-IDF baseline: its own n-gram vocabulary, no truncation
        length = "every word of a review is counted (no truncation: a TF-IDF bag of n-grams)"
        unknown = "words outside the unigrams it was fitted on are ignored"
    else:
        kept = "last" if use.truncating == "pre" else "first"
        length = (
            f"a review longer than {use.max_len} words is truncated to its {kept} {use.max_len} words; "
            "the served prediction warns when it truncates"
        )
        unknown = (
            f"the vocabulary holds {use.vocabulary_words:,} words; any other word reads as `{use.oov_token}`"
        )
    return f"""## Intended use and limits

- Input: the raw text of an English movie review (IMDB-style, HTML allowed); output: the probability
  that it is positive, and the label at threshold {use.threshold}.
- Trained and tested on IMDB reviews only: other languages, other domains (products, tweets) and
  mixed or neutral texts are outside what it was measured on.
- Length: {length}.
- Unknown words: {unknown}, and a review with {_percent(use.unreliable_oov_share)} or more unknown
  words gets a warning that its prediction is unreliable.
- Not for decisions about people: it scores the opinion of a text, nothing else."""


def _data(facts: ModelCardFacts) -> str:
    data = facts.data
    split = SPLIT_WORDS.get(data.validation_split, data.validation_split)
    counts = ", ".join(f"{split_name} {count:,}" for split_name, count in data.counts.items())
    return f"""## Data

- Reviews: {counts}.
- Validation: {_percent(data.validation_fraction)} of the training reviews, {split} (seed
  {data.seed}); every choice (early stopping, the candidate) was made on it. The test split only reports.
- Data version (data.dvc md5): `{data.data_version}`; code: git commit `{data.git_commit}`.
- Test split SHA-256: `{data.test_data_hash}`."""


def _model(facts: ModelCardFacts) -> str:
    size = facts.size
    parts = []
    if "parameters" in size:
        parts.append(f"{int(size['parameters']):,} parameters")
    if "features" in size:
        parts.append(f"{int(size['features']):,} features")
    if "served_megabytes" in size:
        parts.append(f"served file {size['served_megabytes']:.2f} MB")
    settings = ", ".join(f"{key} {value}" for key, value in facts.settings.items())
    return f"""## Model

- Variant `{facts.variant}` ({facts.family}); training run `{facts.run_id}`.
- Size: {"; ".join(parts) or "-"}.
- Settings (params.yaml): {settings}."""


def _spread(facts: ModelCardFacts) -> str:
    spread = facts.seed_spread
    if spread is None:
        return f"- Seed spread: {NOT_MEASURED} ({facts.seed_spread_note})."
    shown = [f"validation {_mean_sd(spread.validation)}", f"test {_mean_sd(spread.test)}"]
    if spread.shuffled_test is not None:
        shown.append(f"test with words shuffled {_mean_sd(spread.shuffled_test)}")
    seeds = ", ".join(map(str, spread.seeds))
    return f"- Seed spread (seeds {seeds}; mean ± sample sd): {'; '.join(shown)}. Source: {spread.source}."


def _mean_sd(figure: tuple[float, float]) -> str:
    return f"{100 * figure[0]:.2f}% ± {100 * figure[1]:.2f}"


def _metrics(facts: ModelCardFacts) -> str:
    rows = [
        [name, _number(facts.metrics["validation"].get(name)), _number(facts.metrics["test"].get(name))]
        for name in METRIC_ROWS
        if name in facts.metrics["validation"] or name in facts.metrics["test"]
    ]
    table = _table(["metric", "validation", "test (report only)"], rows)
    return f"""## Metrics

One training run (the pipeline's seed {facts.data.seed}); the candidate was chosen on validation
{facts.selection_metric}.

{table}

{_spread(facts)}"""


def _comparison(facts: ModelCardFacts) -> str:
    lines = ["## Comparison", ""]
    if facts.baseline_metrics is None:
        lines.append("- Baseline: this model is the TF-IDF baseline.")
    else:
        pairs = []
        for split in ("validation", "test"):
            mine, theirs = _accuracy(facts.metrics, split), _accuracy(facts.baseline_metrics, split)
            if isinstance(mine, int | float) and isinstance(theirs, int | float):
                pairs.append(f"{split} {_number(mine)} against {_number(theirs)} ({_points(mine - theirs)})")
        lines.append(f"- Baseline (TF-IDF), accuracy as each training measured it: {'; '.join(pairs)}.")
    comparison = facts.comparison
    if comparison.against_baseline is not None:
        lines.append(_baseline_test(comparison.against_baseline))
    paired = comparison.paired_test
    if paired is None:
        lines.append("- Champion: none before this model (the first registered): no paired test.")
    else:
        lines.append(
            f"- Champion (version {comparison.champion_before}), McNemar's exact test on the same "
            f"{paired['test_reviews']:,} test reviews: this model right on {paired['candidate_correct']:,}, "
            f"the champion on {paired['champion_correct']:,}; only this model right on "
            f"{paired['candidate_right_only']:,}, only the champion on {paired['champion_right_only']:,} "
            f"(gain {paired['gain']:+,}, required {paired['required_gain']:,} for the margin "
            f"{paired['margin']}); p = {paired['p_value']:.4g} (alpha {paired['alpha']})."
        )
    return "\n".join(lines)


def _baseline_test(paired: Mapping[str, Any]) -> str:
    """The registry's paired test of the network against the baseline: the bar a champion must clear."""
    verdict = "clears" if paired["beats_baseline"] else "does not clear"
    return (
        f"- Baseline, McNemar's exact test on the same {paired['test_reviews']:,} test reviews: only this "
        f"model right on {paired['candidate_right_only']:,}, only the baseline on "
        f"{paired['baseline_right_only']:,} (gain {paired['gain']:+,}, required {paired['required_gain']:,} "
        f"for the margin {paired['margin']}); p = {paired['p_value']:.4g} (alpha {paired['alpha']}): it "
        f"{verdict} the bar a network must clear to be champion."
    )


def _word_order(facts: ModelCardFacts) -> str:
    def line(name: str, metrics: Mapping[str, Mapping[str, Any]]) -> str:
        test = metrics.get("test", {})
        plain, shuffled = test.get("accuracy"), test.get("shuffled_accuracy")
        if not isinstance(plain, int | float) or not isinstance(shuffled, int | float):
            return f"- {name}: {NOT_MEASURED}."
        return (
            f"- {name}: test accuracy {_number(plain)}, with the words of each review shuffled "
            f"{_number(shuffled)} (order is worth {_points(plain - shuffled)})."
        )

    lines = ["## Word-order sensitivity", "", line(f"`{facts.variant}`", facts.metrics)]
    if facts.baseline_metrics is not None:
        lines.append(line("Baseline (TF-IDF)", facts.baseline_metrics))
    return "\n".join(lines)


def _behaviour(facts: ModelCardFacts) -> str:
    behaviour = facts.behaviour
    if behaviour is None:
        return f"## Behavioural tests\n\n{NOT_RUN.capitalize()} for this version."
    verdict = "passed" if behaviour.get("passed") else "failed"
    types = ", ".join(
        f"{kind} {_percent(rate)}" for kind, rate in dict(behaviour.get("type_rates", {})).items()
    )
    rows = [[str(name), _percent(rate)] for name, rate in dict(behaviour.get("pass_rates", {})).items()]
    failed = list(behaviour.get("failed_tests", []))
    parts = [
        "## Behavioural tests",
        "",
        f"- Suite {verdict}; pass rate by type: {types or '-'}.",
        f"- Failed tests: {', '.join(failed) if failed else 'none'}.",
    ]
    if rows:
        parts += ["", _table(["test", "pass rate"], rows)]
    return "\n".join(parts)


def _decision(facts: ModelCardFacts) -> str:
    return (
        f"## Promotion decision\n\n{decision_sentence(facts.comparison)} Reason: {facts.comparison.reason}."
    )


def decision_sentence(comparison: Comparison) -> str:
    """The decision in one sentence: which alias the version took and who is champion."""
    if comparison.decision == "promoted":
        before = comparison.champion_before
        was = "the first champion" if before is None else f"replacing version {before}"
        return f"Promoted: version {comparison.version} is `@{comparison.champion_alias}` ({was})."
    champion = (
        "there is no champion"
        if comparison.champion_after is None
        else f"the champion stays version {comparison.champion_after}"
    )
    return f"Not promoted: version {comparison.version} is `@{comparison.challenger_alias}`; {champion}."


def render_model_card(facts: ModelCardFacts) -> str:
    """The card as Markdown: use and limits, data, model, metrics, comparison, word order, behaviour,
    decision."""
    title = f"# Model card: {facts.model_name} version {facts.comparison.version} (`{facts.variant}`)"
    sections = [
        title,
        card_summary(facts),
        _use(facts),
        _data(facts),
        _model(facts),
        _metrics(facts),
        _comparison(facts),
        _word_order(facts),
        _behaviour(facts),
        _decision(facts),
    ]
    return "\n\n".join(sections) + "\n"


def card_summary(facts: ModelCardFacts) -> str:
    """Two or three sentences for the version's description."""
    validation, test = _accuracy(facts.metrics, "validation"), _accuracy(facts.metrics, "test")
    first = (
        f"`{facts.variant}` ({facts.family}) for English movie reviews: validation accuracy "
        f"{_number(validation)}, test accuracy {_number(test)} (one seed"
        + (f"; seed sd {100 * facts.seed_spread.test[1]:.2f} points on test" if facts.seed_spread else "")
        + ")."
    )
    behaviour = facts.behaviour
    tested = (
        "Behavioural tests not run."
        if behaviour is None
        else f"Behavioural tests {'passed' if behaviour.get('passed') else 'failed'}."
    )
    return f"{first} {decision_sentence(facts.comparison)} {tested} Card: {CARD_FILE} in the training run."
