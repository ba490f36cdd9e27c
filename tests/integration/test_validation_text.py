"""Expectations on the raw and cleaned reviews and on train/test leakage, through real Great
Expectations: each fails on a small table with one flaw, naming the offending review, and only it
fails; all pass on good data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from sentiment.checks import leakage, text_checks
from sentiment.checks.report import ValidationReport
from sentiment.config import Params
from sentiment.data import cleaning, synthetic
from support.validation import Key, assert_passes, keys, outcome, validate, with_leakage_policy

Tables = tuple[pd.DataFrame, pd.DataFrame]
RAW, CLEAN = "raw_reviews", "clean_reviews"
NOT_NULL = "expect_column_values_to_not_be_null"
IN_SET = "expect_column_values_to_be_in_set"
UNIQUE = "expect_column_values_to_be_unique"
BETWEEN = "expect_column_values_to_be_between"
# Rows of the good tables that the flaws touch (synthetic ids: split/sentiment/number).
POSITIVE_TRAIN, OTHER_POSITIVE_TRAIN, POSITIVE_TEST = "train/pos/13", "train/pos/15", "test/pos/1"


UNLABELED_REVIEWS = 6  # beside the labeled ones in every table: each check runs with them present


@pytest.fixture()
def good_tables(project_config: Params) -> Tables:
    """24 synthetic reviews (12 per split, half positive), 6 unlabeled ones, and their cleaned text."""
    raw = synthetic.synthetic_reviews(24, 0.5, seed=3, unlabeled=UNLABELED_REVIEWS)
    clean = raw.assign(text=list(cleaning.clean_texts(raw["text"].tolist(), project_config.cleaning)))
    return raw, clean


def check(tables: Tables, params: Params, docs: Path | None = None) -> ValidationReport:
    raw, clean = tables
    return validate(text_checks.text_checks(raw, clean, params.cleaning, params.validation), docs)


def row(table: pd.DataFrame, review_id: str) -> int:
    (index,) = table.index[table["review_id"] == review_id]
    return int(index)


def set_value(tables: Tables, review_id: str, column: str, value: object, *, raw: bool = True) -> Tables:
    """Tables with `column` of one review changed, in the cleaned table and (with `raw`) the raw one."""
    changed = []
    for table, change in zip(tables, (raw, True), strict=True):
        table = table.copy()
        if change:
            table.loc[row(table, review_id), column] = value
        changed.append(table)
    return changed[0], changed[1]


def null_text(tables: Tables) -> Tables:
    return set_value(tables, POSITIVE_TRAIN, "text", None)


def label_two(tables: Tables) -> Tables:
    return set_value(tables, POSITIVE_TRAIN, "label", 2)


def rating_of_a_negative_review(tables: Tables) -> Tables:
    return set_value(tables, POSITIVE_TRAIN, "rating", 2)


def duplicate_id(tables: Tables) -> Tables:
    return set_value(tables, OTHER_POSITIVE_TRAIN, "review_id", POSITIVE_TRAIN)


def html_tag_left(tables: Tables) -> Tables:
    return set_value(tables, POSITIVE_TRAIN, "text", "i liked it <br /> a lot", raw=False)


def html_entity_left(tables: Tables) -> Tables:
    return set_value(tables, POSITIVE_TRAIN, "text", "rock &amp; roll", raw=False)


def uppercase_left(tables: Tables) -> Tables:
    return set_value(tables, POSITIVE_TRAIN, "text", "i liked it A lot", raw=False)


def empty_after_cleaning(tables: Tables) -> Tables:
    return set_value(tables, POSITIVE_TRAIN, "text", "", raw=False)


def id_unknown_to_raw(tables: Tables) -> Tables:
    return set_value(tables, POSITIVE_TRAIN, "review_id", "train/pos/99999", raw=False)


def row_lost_in_cleaning(tables: Tables) -> Tables:
    raw, clean = tables
    return raw, clean.drop(index=row(clean, POSITIVE_TRAIN)).reset_index(drop=True)


def too_many_words(tables: Tables) -> Tables:
    long_text = "word " * 3500
    return set_value(tables, POSITIVE_TRAIN, "text", long_text)


def too_short(tables: Tables) -> Tables:
    raw, _ = set_value(tables, POSITIVE_TRAIN, "text", "Bad.")
    _, clean = set_value(tables, POSITIVE_TRAIN, "text", "bad")
    return raw, clean


def one_split_missing(tables: Tables) -> Tables:
    raw, clean = tables
    return raw[raw["split"] == "train"], clean[clean["split"] == "train"]


def only_positive_training_reviews(tables: Tables) -> Tables:
    raw, clean = tables
    negative_train = (raw["split"] == "train") & (raw["label"] == 0)
    return (
        raw.assign(label=raw["label"].mask(negative_train, 1), rating=raw["rating"].mask(negative_train, 8)),
        clean.assign(
            label=clean["label"].mask(negative_train, 1), rating=clean["rating"].mask(negative_train, 8)
        ),
    )


def labels_as_int64(tables: Tables) -> Tables:
    raw, clean = tables
    return raw.astype({"label": "int64"}), clean


def rating_column_missing(tables: Tables) -> Tables:
    raw, clean = tables
    return raw.drop(columns="rating"), clean


CASES: list[tuple[Callable[[Tables], Tables], set[Key], str | None]] = [
    (null_text, {(RAW, "text", NOT_NULL), (CLEAN, "text", NOT_NULL)}, POSITIVE_TRAIN),
    (
        label_two,
        {(RAW, "label", IN_SET), (RAW, "label, rating", "expect_column_pair_values_to_be_in_set")},
        POSITIVE_TRAIN,
    ),
    (
        rating_of_a_negative_review,
        {(RAW, "label, rating", "expect_column_pair_values_to_be_in_set")},
        POSITIVE_TRAIN,
    ),
    (duplicate_id, {(RAW, "review_id", UNIQUE), (CLEAN, "review_id", UNIQUE)}, POSITIVE_TRAIN),
    (html_tag_left, {(CLEAN, "text", "expect_column_values_to_not_match_regex")}, POSITIVE_TRAIN),
    (html_entity_left, {(CLEAN, "text", "expect_column_values_to_not_match_regex")}, POSITIVE_TRAIN),
    (uppercase_left, {(CLEAN, "lowercase", IN_SET)}, POSITIVE_TRAIN),
    (empty_after_cleaning, {(CLEAN, "text", "expect_column_values_to_match_regex")}, POSITIVE_TRAIN),
    (id_unknown_to_raw, {(CLEAN, "matches_raw", IN_SET)}, "train/pos/99999"),
    (row_lost_in_cleaning, {(CLEAN, None, "expect_table_row_count_to_equal")}, None),
    (too_many_words, {(RAW, "words", BETWEEN)}, POSITIVE_TRAIN),
    (too_short, {(RAW, "words", BETWEEN), (RAW, "characters", BETWEEN)}, POSITIVE_TRAIN),
    (
        one_split_missing,
        {
            (RAW, "split", "expect_column_distinct_values_to_contain_set"),
            (RAW, "label", "expect_column_mean_to_be_between"),
        },
        None,
    ),
    (only_positive_training_reviews, {(RAW, "label", "expect_column_mean_to_be_between")}, None),
    (labels_as_int64, {(RAW, "label", "expect_column_values_to_be_of_type")}, None),
    (
        rating_column_missing,
        {
            (RAW, None, "expect_table_columns_to_match_set"),
            (RAW, "rating", "expect_column_values_to_be_of_type"),
            (RAW, "rating", IN_SET),
            (RAW, "label, rating", "expect_column_pair_values_to_be_in_set"),
        },
        None,
    ),
]


def test_good_reviews_pass_every_expectation(
    good_tables: Tables, project_config: Params, tmp_path: Path
) -> None:
    report = check(good_tables, project_config, tmp_path / "docs")
    assert_passes(report)
    assert report.table_rows == {RAW: 24 + UNLABELED_REVIEWS, CLEAN: 24 + UNLABELED_REVIEWS}
    assert (tmp_path / "docs" / "index.html").is_file()


@pytest.mark.parametrize(
    ("flaw", "expected", "offending_id"), CASES, ids=[case[0].__name__ for case in CASES]
)
def test_each_flaw_fails_its_expectation_and_names_the_review(
    flaw: Callable[[Tables], Tables],
    expected: set[Key],
    offending_id: str | None,
    good_tables: Tables,
    project_config: Params,
) -> None:
    report = check(flaw(good_tables), project_config)

    assert not report.success
    assert keys(report.failures) == expected
    if offending_id is not None:
        for key in expected:
            assert any(example.startswith(offending_id) for example in outcome(report, key).examples), key


def with_a_review_in_both_splits(tables: Tables) -> Tables:
    """The test review POSITIVE_TEST gets the text of the train review POSITIVE_TRAIN (same label)."""
    raw, clean = tables
    raw_text = raw.loc[row(raw, POSITIVE_TRAIN), "text"]
    clean_text = clean.loc[row(clean, POSITIVE_TRAIN), "text"]
    raw, _ = set_value((raw, clean), POSITIVE_TEST, "text", raw_text)
    _, clean = set_value((raw, clean), POSITIVE_TEST, "text", clean_text, raw=False)
    return raw, clean


LEAKAGE: Key = (CLEAN, "in_both_splits", IN_SET)


def test_a_train_test_duplicate_fails_under_the_fail_policy_naming_both_reviews(
    good_tables: Tables, project_config: Params
) -> None:
    tables = with_a_review_in_both_splits(good_tables)
    report = check(tables, with_leakage_policy(project_config, "fail"))

    assert keys(report.failures) == {LEAKAGE}
    examples = " ".join(outcome(report, LEAKAGE).examples)
    assert POSITIVE_TRAIN in examples and POSITIVE_TEST in examples
    pairs = leakage.cross_split_duplicates(tables[1])
    assert pairs.to_dict(orient="records") == [{"train_id": POSITIVE_TRAIN, "test_id": POSITIVE_TEST}]


@pytest.mark.parametrize("policy", ["warn", "drop"])
def test_a_train_test_duplicate_is_a_warning_under_warn_and_drop(
    policy: str, good_tables: Tables, project_config: Params
) -> None:
    tables = with_a_review_in_both_splits(good_tables)
    params = with_leakage_policy(project_config, policy)
    report = check(tables, params)

    assert report.success
    assert keys(report.warnings) == {LEAKAGE}
    dropped = leakage.dropped_train_ids(tables[1], params.validation.leakage)
    assert dropped == ({POSITIVE_TRAIN} if policy == "drop" else set())
    training = leakage.training_reviews(tables[1], params.validation.leakage)
    assert (POSITIVE_TRAIN in set(training["review_id"])) == (policy == "warn")
