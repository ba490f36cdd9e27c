"""Unlabeled reviews (split "unsup") in the raw and cleaned tables, through real Great Expectations:
checked as text, their label -1 and rating 0 checked, the labeled expectations untouched by them; one
identical to a test review is a warning, counted and named in the metrics and details."""

from __future__ import annotations

import pandas as pd
import pytest

from sentiment.checks import leakage, text_checks
from sentiment.checks.report import ValidationReport
from sentiment.config import Params
from sentiment.data import cleaning, synthetic
from sentiment.data.ingest import UNLABELED
from support.validation import Key, assert_passes, keys, outcome, validate, with_leakage_policy

Tables = tuple[pd.DataFrame, pd.DataFrame]
RAW, CLEAN = "raw_reviews", "clean_reviews"
IN_SET = "expect_column_values_to_be_in_set"
PAIRS = "expect_column_pair_values_to_be_in_set"
BETWEEN = "expect_column_values_to_be_between"
UNLABELED_REVIEW, OTHER_UNLABELED, TRAIN_REVIEW, TEST_REVIEW = (
    "train/unsup/2",
    "train/unsup/5",
    "train/neg/12",
    "test/pos/1",
)


@pytest.fixture()
def tables(project_config: Params) -> Tables:
    """24 labeled synthetic reviews and 60 unlabeled ones (more than the labeled: the class balance
    must not count them), and their cleaned text."""
    raw = synthetic.synthetic_reviews(24, 0.5, seed=3, unlabeled=60)
    clean = raw.assign(text=list(cleaning.clean_texts(raw["text"].tolist(), project_config.cleaning)))
    return raw, clean


def check(tables: Tables, params: Params) -> ValidationReport:
    raw, clean = tables
    return validate(text_checks.text_checks(raw, clean, params.cleaning, params.validation))


def changed(tables: Tables, review_id: str, values: dict[str, object], raw: bool = True) -> Tables:
    """The tables with the columns of one review set to `values`: the cleaned one, and with `raw` the
    raw one."""
    result = []
    for table, change in zip(tables, (raw, True), strict=True):
        table = table.copy()
        if not change:
            result.append(table)
            continue
        for column, value in values.items():
            table.loc[table["review_id"] == review_id, column] = value
        result.append(table)
    return result[0], result[1]


def test_unlabeled_reviews_pass_as_text_and_leave_the_labeled_figures_alone(
    tables: Tables, project_config: Params
) -> None:
    report = check(tables, project_config)
    assert_passes(report)
    metrics = text_checks.text_metrics(*tables, project_config.validation)
    assert metrics["unlabeled_reviews"] == 60 and metrics["unlabeled_duplicates_of_test"] == 0
    assert (metrics["train_reviews"], metrics["test_reviews"]) == (12, 12)
    assert metrics["train_positive_share"] == metrics["test_positive_share"] == 0.5


CASES: list[tuple[str, str, dict[str, object], set[Key]]] = [
    # An unlabeled review with a rating, or with a label: its rating must be 0, a label pairs with it.
    (
        "unsup-rating-8",
        UNLABELED_REVIEW,
        {"rating": 8},
        {(RAW, "rating", IN_SET), (RAW, "label, rating", PAIRS)},
    ),
    ("unsup-label-1", UNLABELED_REVIEW, {"label": 1}, {(RAW, "label, rating", PAIRS)}),
    # A labeled review without a label is no unlabeled review: it stays a labeled split's.
    ("train-unlabeled", TRAIN_REVIEW, {"label": UNLABELED, "rating": 0}, {(RAW, "label", IN_SET)}),
    ("unknown-split", UNLABELED_REVIEW, {"split": "extra"}, {(RAW, "split", IN_SET)}),
    # Checked as text like every review.
    (
        "unsup-too-short",
        UNLABELED_REVIEW,
        {"text": "meh, no."},
        {(RAW, "words", BETWEEN), (RAW, "characters", BETWEEN)},
    ),
    (
        "unsup-html-left",
        UNLABELED_REVIEW,
        {"text": "a review with <br /> left in it"},
        {(CLEAN, "text", "expect_column_values_to_not_match_regex")},
    ),
]


@pytest.mark.parametrize(("case", "review_id", "values", "expected"), CASES, ids=[case[0] for case in CASES])
def test_a_flawed_unlabeled_review_fails_its_expectation_and_is_named(
    case: str,
    review_id: str,
    values: dict[str, object],
    expected: set[Key],
    tables: Tables,
    project_config: Params,
) -> None:
    # The raw text may hold tags, the cleaned one may not: that flaw is in the cleaned table only.
    report = check(changed(tables, review_id, values, raw=case != "unsup-html-left"), project_config)
    assert keys(report.failures) == expected
    for key in expected:
        assert any(example.startswith(review_id) for example in outcome(report, key).examples), key


def with_unlabeled_copies(tables: Tables) -> Tables:
    """Two unlabeled reviews get the text of the test review TEST_REVIEW, one the train review's."""
    copies = {UNLABELED_REVIEW: TEST_REVIEW, OTHER_UNLABELED: TEST_REVIEW, "train/unsup/7": TRAIN_REVIEW}
    result = []
    for table in tables:
        table = table.copy()
        texts = table.set_index("review_id")["text"]
        for unlabeled, original in copies.items():
            table.loc[table["review_id"] == unlabeled, "text"] = texts[original]
        result.append(table)
    return result[0], result[1]


UNLABELED_LEAK: Key = (CLEAN, "unlabeled_in_test", IN_SET)


@pytest.mark.parametrize("policy", ["fail", "warn", "drop"])
def test_unlabeled_copies_of_a_test_review_are_a_warning_named_and_counted(
    policy: str, tables: Tables, project_config: Params
) -> None:
    copied = with_unlabeled_copies(tables)
    params = with_leakage_policy(project_config, policy)
    report = check(copied, params)

    assert report.success  # whatever the policy: they are left out of pretraining, never trained on
    assert keys(report.warnings) == {UNLABELED_LEAK}
    examples = " ".join(outcome(report, UNLABELED_LEAK).examples)
    assert UNLABELED_REVIEW in examples and OTHER_UNLABELED in examples and "train/unsup/7" not in examples
    metrics = text_checks.text_metrics(*copied, params.validation)
    assert metrics["unlabeled_duplicates_of_test"] == 2
    assert metrics["duplicate_pairs_across_splits"] == 0  # an unlabeled copy is no train/test pair
    details = text_checks.leakage_details(copied[1], params.validation)["leakage"]
    assert details["unlabeled_duplicates_of_test"] == {
        "reviews": 2,
        "pairs": [
            {"unsup_id": UNLABELED_REVIEW, "review_id": TEST_REVIEW},
            {"unsup_id": OTHER_UNLABELED, "review_id": TEST_REVIEW},
        ],
    }
    assert leakage.in_both_splits(copied[1]).sum() == 0
