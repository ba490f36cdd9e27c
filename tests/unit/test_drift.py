"""The drift statistics (`evaluation.drift`) and their report, on prediction tables made as a served
model makes them (`serving.inputs.prediction_table`), and the strict `drift` params section."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sentiment.config import DriftConfig, params_from_mapping
from sentiment.core.errors import ConfigError
from sentiment.evaluation import drift, drift_report

ENGLISH = ("the", "film", "story", "was", "great", "awful", "acting", "plot", "and", "music", "ending")
GERMAN = ("der", "film", "war", "leider", "sehr", "langweilig", "und", "die", "musik", "zu", "laut")
VOCABULARY = frozenset(ENGLISH)
MAX_LEN = 48  # the reference (10 to 49 words) is rarely truncated
CONFIG = DriftConfig()


def scored(texts: list[str], generator: np.random.Generator, positive_share: float = 0.5) -> pd.DataFrame:
    """A prediction table for cleaned `texts`, words unknown outside VOCABULARY, read up to MAX_LEN."""
    words = [text.split() for text in texts]
    return pd.DataFrame(
        {
            "probability_positive": pd.Series([0.5] * len(texts), dtype=object),
            "label": pd.Series(
                np.where(generator.random(len(texts)) < positive_share, "positive", "negative"), dtype=object
            ),
            "error": pd.Series([None] * len(texts), dtype=object),
            "warning": pd.Series([None] * len(texts), dtype=object),
            "words": np.array([len(tokens) for tokens in words], dtype=np.int64),
            "oov_share": pd.Series(
                [sum(t not in VOCABULARY for t in tokens) / len(tokens) for tokens in words], dtype=object
            ),
            "truncated": np.array([len(tokens) > MAX_LEN for tokens in words], dtype=bool),
        }
    )


def reviews(count: int, words: tuple[str, ...], lengths: tuple[int, int], seed: int) -> list[str]:
    generator = np.random.default_rng(seed)
    return [" ".join(generator.choice(words, size=int(generator.integers(*lengths)))) for _ in range(count)]


def sample(texts: list[str], seed: int, positive_share: float = 0.5) -> drift.ReviewSample:
    return drift.review_sample(scored(texts, np.random.default_rng(seed), positive_share), texts)


REFERENCE = sample(reviews(2000, ENGLISH, (10, 50), seed=1), seed=1)


def verdicts(report: drift.DriftReport) -> dict[str, bool]:
    return {statistic.name: statistic.drift for statistic in report.statistics}


def test_a_batch_from_the_training_distribution_shows_no_drift() -> None:
    report = drift.compare(REFERENCE, sample(reviews(300, ENGLISH, (10, 50), seed=2), seed=2), CONFIG)
    assert report.verdict == drift.NO_DRIFT and report.drifted == []
    assert report.batch_reviews == 300 and report.reference_reviews == 2000
    by_name = {statistic.name: statistic for statistic in report.statistics}
    assert by_name["words"].value < CONFIG.max_word_distance / 3
    assert by_name["length"].value < CONFIG.max_length_ks


def test_reviews_in_another_language_drift_in_words_and_vocabulary() -> None:
    report = drift.compare(REFERENCE, sample(reviews(300, GERMAN, (10, 50), seed=3), seed=3), CONFIG)
    assert report.verdict == drift.DRIFT
    assert {"words", "oov"} <= set(report.drifted) and "length" not in report.drifted
    assert report.over_represented[0]["word"] in GERMAN and report.over_represented[0]["reference"] == 0


def test_much_shorter_reviews_drift_in_length() -> None:
    report = drift.compare(REFERENCE, sample(reviews(300, ENGLISH, (2, 6), seed=4), seed=4), CONFIG)
    assert report.drifted == ["length"]
    length = report.statistics[0]
    assert length.batch < 5 < 25 < length.reference and report.length_p_value < 1e-6


def test_longer_reviews_drift_in_truncation_and_a_label_shift_in_the_positive_share() -> None:
    longer = drift.compare(REFERENCE, sample(reviews(300, ENGLISH, (35, 60), seed=5), seed=5), CONFIG)
    assert {"truncated", "length"} <= set(longer.drifted)
    positive = drift.compare(
        REFERENCE, sample(reviews(300, ENGLISH, (10, 50), seed=6), seed=6, positive_share=0.9), CONFIG
    )
    assert positive.drifted == ["positive"]


def test_a_small_batch_gets_no_verdict_whatever_its_statistics() -> None:
    report = drift.compare(REFERENCE, sample(reviews(10, GERMAN, (2, 4), seed=7), seed=7), CONFIG)
    assert report.verdict == drift.TOO_FEW and report.drifted == []
    assert report.statistics[0].value > CONFIG.max_length_ks  # measured, not judged


def test_rows_without_a_prediction_are_counted_and_left_out() -> None:
    texts = reviews(150, ENGLISH, (10, 50), seed=8)
    table = scored(texts, np.random.default_rng(8))
    table.loc[[0, 5], "error"] = "review is empty"
    batch = drift.review_sample(table, [text for row, text in enumerate(texts) if row not in (0, 5)])
    assert batch.reviews == 148 and batch.unscored == 2
    with pytest.raises(ValueError, match="150 cleaned texts for 148 scored reviews"):
        drift.review_sample(table, texts)


def test_the_report_renders_as_json_markdown_and_a_self_contained_page() -> None:
    report = drift.compare(REFERENCE, sample(reviews(300, GERMAN, (10, 50), seed=3), seed=3), CONFIG)
    record = json.loads(json.dumps(report.to_dict()))
    assert record["verdict"] == "drift" and record["drift"] is True
    assert [row["name"] for row in record["statistics"]] == [
        "length",
        "oov",
        "truncated",
        "positive",
        "words",
    ]
    markdown = drift_report.drift_markdown(report, "2026-12-01")
    assert markdown.startswith("## batch 2026-12-01: drift in oov, words")
    assert "| Word distribution |" in markdown
    page = drift_report.drift_html(report, "2026-12-01", "2026-12-01T06:00:00+00:00")
    assert "<script" not in page and "http" not in page and 'class="drift"' in page
    assert page.count("<rect") == 2 * len(report.length_histogram["reference"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"max_word_distance": 1.5}, r"drift\.max_word_distance: expected in \(0, 1\]"),
        ({"min_reviews": 0}, r"drift\.min_reviews: expected >= 1"),
        ({"bins": 10}, r"drift: unknown key\(s\) \['bins'\]"),
    ],
)
def test_the_drift_params_fail_by_key(
    params_data: dict[str, object], change: dict[str, object], message: str
) -> None:
    params_data["drift"] = {**params_data["drift"], **change}  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match=message):
        params_from_mapping(params_data)


def test_a_missing_drift_section_or_key_is_named(params_data: dict[str, object]) -> None:
    section = dict(params_data.pop("drift"))  # type: ignore[call-overload]
    with pytest.raises(ConfigError, match="missing key 'drift'"):
        params_from_mapping(params_data)
    section.pop("top_words")
    params_data["drift"] = section
    with pytest.raises(ConfigError, match="drift: missing key 'top_words'"):
        params_from_mapping(params_data)
