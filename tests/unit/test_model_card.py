"""The model card renderer: every section from the facts, the figures as the records hold them, the seed
spread only from a record of the same model, and the decision in words."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from sentiment.config import BASELINE, Params
from sentiment.core.errors import DataError
from sentiment.registry import card_facts
from sentiment.registry.card_records import Comparison, DataFacts, ModelCardFacts, SeedSpread, UseFacts
from sentiment.registry.model_card import NOT_MEASURED, card_summary, render_model_card
from sentiment.registry.served import TrainingRecord

SECTIONS = (
    "## Intended use and limits",
    "## Data",
    "## Model",
    "## Metrics",
    "## Comparison",
    "## Word-order sensitivity",
    "## Behavioural tests",
    "## Promotion decision",
)
METRICS = {
    "validation": {"accuracy": 0.8923, "f1": 0.8911, "log_loss": 0.2714},
    "test": {"accuracy": 0.8991, "f1": 0.9002, "shuffled_accuracy": 0.8712},
    "training": {"parameters": 33673857},
    "validation_split": "movie",
}
BASELINE_METRICS = {
    "validation": {"accuracy": 0.9000},
    "test": {"accuracy": 0.9067, "shuffled_accuracy": 0.8721},
    "training": {"features": 500000},
}
PAIRED = {
    "test_reviews": 20000,
    "candidate_correct": 17982,
    "champion_correct": 17800,
    "candidate_right_only": 612,
    "champion_right_only": 430,
    "gain": 182,
    "required_gain": 40,
    "p_value": 1.97e-08,
    "margin": 0.002,
    "alpha": 0.05,
}
BEHAVIOUR = {
    "pass_rates": {"negation flips": 0.82, "names do not matter": 0.99},
    "type_rates": {"mft": 0.82, "inv": 0.99, "dir": 0.9},
    "passed": False,
    "failed_tests": ["negation flips"],
}


def comparison(decision: str = "promoted", before: str | None = "1", paired: Any = PAIRED) -> Comparison:
    after = "2" if decision == "promoted" else before
    return Comparison(decision, "gain 182 reviews", "2", before, after, "champion", "challenger", paired)


def facts(**changes: Any) -> ModelCardFacts:
    base = ModelCardFacts(
        model_name="imdb-sentiment",
        variant="bilstm",
        family="recurrent",
        run_id="run-123",
        settings={"cell": "lstm", "units": [64], "bidirectional": True},
        size={"parameters": 33673857.0, "served_megabytes": 37.74},
        selection_metric="accuracy",
        metrics=METRICS,
        baseline_metrics=BASELINE_METRICS,
        use=UseFacts(800, "pre", 20000, "<OOV>", 0.5, 0.5),
        data=DataFacts("a606ad3e.dir", "b197ff74", "bb6f0b0e" * 8, "movie", 0.1, 42, {"train": 22410}),
        comparison=comparison(),
        seed_spread=None,
        seed_spread_note="the pipeline trains one seed, and no seed-spread record was written",
    )
    return dataclasses.replace(base, **changes)


def test_every_section_holds_the_figures_of_the_facts() -> None:
    card = render_model_card(facts())
    positions = [card.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    assert card.startswith("# Model card: imdb-sentiment version 2 (`bilstm`)")
    for shown in ("0.8923", "0.8991", "0.8911", "0.2714", "22,410", "33,673,857 parameters", "37.74 MB"):
        assert shown in card
    assert "a606ad3e.dir" in card and "b197ff74" in card and "bb6f0b0e" * 8 in card
    assert "grouped by movie" in card and "10.00% of the training reviews" in card
    assert "truncated to its last 800 words" in card and "20,000 words" in card and "`<OOV>`" in card
    # the baseline comparison, in points of accuracy, and word order (0.8991 - 0.8712)
    assert "validation 0.8923 against 0.9000 (-0.77 points)" in card
    assert "(order is worth +2.79 points)" in card
    for figure in ("17,982", "17,800", "612", "430", "+182", "required 40", "p = 1.97e-08"):
        assert figure in card


def test_without_a_spread_record_the_spread_is_not_measured_and_says_why() -> None:
    card = render_model_card(facts())
    assert f"Seed spread: {NOT_MEASURED} (the pipeline trains one seed" in card
    assert "±" not in card


def test_a_spread_is_shown_as_mean_and_sd_with_its_source() -> None:
    spread = SeedSpread((42, 43, 44), (0.8958, 0.0050), (0.9015, 0.0021), None, "ablation.py, 2026-12-01")
    card = render_model_card(facts(seed_spread=spread))
    assert "seeds 42, 43, 44" in card and "validation 89.58% ± 0.50" in card and "test 90.15% ± 0.21" in card
    assert "Source: ablation.py, 2026-12-01" in card and NOT_MEASURED not in card
    assert "seed sd 0.21 points on test" in card_summary(facts(seed_spread=spread))


@pytest.mark.parametrize(
    ("decision", "before", "paired", "expected"),
    [
        ("promoted", None, None, "Promoted: version 2 is `@champion` (the first champion)."),
        ("promoted", "1", PAIRED, "Promoted: version 2 is `@champion` (replacing version 1)."),
        (
            "challenger",
            "1",
            PAIRED,
            "Not promoted: version 2 is `@challenger`; the champion stays version 1.",
        ),
        # the behavioural gate can keep even the first model from the champion alias
        ("challenger", None, None, "Not promoted: version 2 is `@challenger`; there is no champion."),
    ],
)
def test_the_decision_is_said_in_words_in_the_card_and_its_summary(
    decision: str, before: str | None, paired: Any, expected: str
) -> None:
    shown = facts(comparison=comparison(decision, before, paired))
    card = render_model_card(shown)
    assert f"## Promotion decision\n\n{expected} Reason: gain 182 reviews." in card
    assert expected in card_summary(shown)
    if paired is None:
        assert "none before this model (the first registered): no paired test" in card


@pytest.mark.parametrize(
    ("gain", "p_value", "beats", "verdict"),
    [(164, 0.0012, True, "clears"), (-12, 0.71, False, "does not clear")],
)
def test_the_paired_test_against_the_baseline_is_shown_with_its_verdict(
    gain: int, p_value: float, beats: bool, verdict: str
) -> None:
    against = {
        "test_reviews": 20000,
        "candidate_right_only": 700 + max(gain, 0),
        "baseline_right_only": 700 - min(gain, 0),
        "gain": gain,
        "required_gain": 100,
        "p_value": p_value,
        "margin": 0.005,
        "alpha": 0.05,
        "beats_baseline": beats,
    }
    shown = facts(comparison=dataclasses.replace(comparison(), against_baseline=against))
    card = render_model_card(shown)
    line = next(line for line in card.splitlines() if line.startswith("- Baseline, McNemar"))
    assert f"gain {gain:+,}, required 100 for the margin 0.005" in line and f"p = {p_value:.4g}" in line
    assert line.endswith(f"it {verdict} the bar a network must clear to be champion.")
    assert "- Baseline, McNemar" not in render_model_card(facts())  # not tested: nothing said


def test_behaviour_is_not_run_unless_its_results_are_given() -> None:
    assert "Not run for this version." in render_model_card(facts())
    card = render_model_card(facts(behaviour=BEHAVIOUR))
    assert "Suite failed; pass rate by type: mft 82.00%, inv 99.00%, dir 90.00%." in card
    assert "Failed tests: negation flips." in card and "| names do not matter | 99.00% |" in card
    assert "Behavioural tests failed." in card_summary(facts(behaviour=BEHAVIOUR))


def test_the_summary_is_a_few_sentences_with_the_accuracies() -> None:
    summary = card_summary(facts())
    assert 2 <= len(re.findall(r"[.!?](?:\s|$)", summary)) <= 5  # the decimals are not sentence ends
    assert "validation accuracy 0.8923, test accuracy 0.8991" in summary and "\n" not in summary


def test_the_baseline_card_has_no_truncation_and_no_baseline_to_compare() -> None:
    card = render_model_card(
        facts(
            variant=BASELINE,
            baseline_metrics=None,
            use=UseFacts(None, "pre", 20000, "<OOV>", 0.5, 0.5),
        )
    )
    assert "no truncation" in card and "this model is the TF-IDF baseline" in card
    assert "warns when it truncates" not in card and "unigrams it was fitted on are ignored" in card


def record(project_config: Params, variant: str = "bilstm", **changes: Any) -> dict[str, Any]:
    entry = {
        "settings": card_facts.model_settings(variant, project_config),
        "summary": {
            "validation": {"mean": 0.8958, "sd": 0.005, "runs": 3},
            "test": {"mean": 0.9015, "sd": 0.0021, "runs": 3},
            "shuffled_test": {"mean": 0.8701, "sd": 0.0030, "runs": 3},
        },
    }
    data = {
        "source": "benchmarks/ablation.py --spread (2026-12-01)",
        "seeds": [42, 43, 44],
        "test_data_hash": "hash",
        "training": dataclasses.asdict(project_config.training),
        "models": {variant: entry},
    }
    return {**data, **changes}


def test_a_spread_record_of_the_same_model_and_test_reviews_is_used(project_config: Params) -> None:
    spread, note = card_facts.seed_spread(record(project_config), "bilstm", project_config, "hash")
    assert spread is not None and note == ""
    assert spread.validation == (0.8958, 0.005) and spread.shuffled_test == (0.8701, 0.003)
    assert spread.seeds == (42, 43, 44) and "ablation.py" in spread.source


@pytest.mark.parametrize(
    ("variant", "changes", "hash_", "why"),
    [
        ("gru", {}, "hash", "the seed-spread record is of bilstm"),
        ("bilstm", {"training": {"epochs": 99}}, "hash", "other training settings"),
        ("bilstm", {}, "other", "other test reviews"),
    ],
)
def test_a_spread_record_of_another_model_or_data_is_not_used(
    project_config: Params, variant: str, changes: dict[str, Any], hash_: str, why: str
) -> None:
    spread, note = card_facts.seed_spread(record(project_config, **changes), variant, project_config, hash_)
    assert spread is None and why in note


def test_a_spread_record_of_other_variant_settings_is_not_used(project_config: Params) -> None:
    data = record(project_config)
    data["models"]["bilstm"]["settings"] = {**data["models"]["bilstm"]["settings"], "units": [1]}
    spread, note = card_facts.seed_spread(data, "bilstm", project_config, "hash")
    assert spread is None and "other settings of `bilstm`" in note


def test_a_malformed_spread_record_fails_naming_its_file(project_config: Params) -> None:
    data = record(project_config)
    del data["models"]["bilstm"]["summary"]["test"]
    with pytest.raises(DataError, match=r"no mean and sd of 'test'.*reports/seed_spread.json"):
        card_facts.seed_spread(data, "bilstm", project_config, "hash", "reports/seed_spread.json")


def test_the_card_writer_takes_its_facts_from_the_training_records(project_config: Params) -> None:
    run = {"mlflow_run_id": "run-9"}
    candidate = TrainingRecord("bilstm", Path("models/bilstm.keras"), METRICS, run, "recurrent")
    baseline = TrainingRecord(BASELINE, Path("models/baseline.joblib"), BASELINE_METRICS, run, "count-based")
    write = card_facts.card_writer(
        candidate,
        baseline,
        project_config,
        {"data_version": "md5-of-data", "git_commit": "abc123"},
        "hash",
        {"train": 900, "validation": 100, "test": 1000},
        served_megabytes=1.25,
    )
    report = {
        "decision": "challenger",
        "reason": "below the margin",
        "candidate": {"version": "3"},
        "champion_before": {"version": "2"},
        "champion_after": "2",
        "paired_test": PAIRED,
        "against_baseline": {**PAIRED, "baseline_right_only": 430, "beats_baseline": True},
    }
    card, summary = write(report)
    assert "- Baseline, McNemar's exact test on the same 20,000 test reviews" in card
    assert "version 3" in card and "md5-of-data" in card and "abc123" in card and "run-9" in card
    assert "train 900, validation 100, test 1,000" in card and "1.25 MB" in card
    assert "grouped by movie" in card and f"Seed spread: {NOT_MEASURED}" in card
    assert "Not promoted: version 3 is `@challenger`; the champion stays version 2." in summary
