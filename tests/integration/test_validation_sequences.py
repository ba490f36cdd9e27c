"""Expectations on the vocabulary and the padded sequences, through real Great Expectations: each fails
on sequences with one flaw (naming the review or word), and only it fails; all pass on good data."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import SMALL_OVERRIDES, WorkspaceFactory, write_params
from sentiment.checks import sequence_checks
from sentiment.checks.report import ValidationReport
from sentiment.config import Params
from sentiment.config.workspace import Workspace
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages
from sentiment.stages import readers
from support.validation import Key, assert_passes, keys, outcome, params_with, validate

VOCABULARY, SETTINGS, SEQUENCES, SPLITS = "vocabulary", "vocabulary_settings", "sequences", "sequence_splits"
IN_SET = "expect_column_values_to_be_in_set"
BETWEEN = "expect_column_values_to_be_between"
PAIR_EQUAL = "expect_column_pair_values_to_be_equal"


@dataclass
class Prepared:
    vocabulary: dict[str, Any]
    arrays: dict[str, np.ndarray]
    clean: pd.DataFrame
    params: Params

    def copy(self) -> Prepared:
        arrays = {name: array.copy() for name, array in self.arrays.items()}
        return Prepared(copy.deepcopy(self.vocabulary), arrays, self.clean.copy(), self.params)


def prepared_from(workspace: Workspace) -> Prepared:
    vocabulary = json.loads(workspace.path(workspace.params.paths.vocabulary).read_text(encoding="utf-8"))
    return Prepared(
        vocabulary, readers.read_sequences(workspace), readers.read_clean(workspace), workspace.params
    )


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    """The vocabulary and sequences of 200 synthetic reviews, made by the real stages (once per module)."""
    root = tmp_path_factory.mktemp("sequences")
    write_params(root, SMALL_OVERRIDES)
    workspace = Workspace.load(root)
    raw_stages.fetch_raw(workspace, use_synthetic=True)
    for stage in (
        preprocessing_stages.clean,
        preprocessing_stages.vocabulary,
        preprocessing_stages.sequences,
    ):
        stage(workspace)
    return prepared_from(workspace)


def check(data: Prepared, docs: Path | None = None) -> ValidationReport:
    checks, _ = sequence_checks.sequence_checks(data.vocabulary, data.arrays, data.clean, data.params)
    return validate(checks, docs)


def first_id(data: Prepared, split: str) -> str:
    return str(data.arrays[f"ids_{split}"][0])


def index_at_num_words(data: Prepared) -> str:
    data.arrays["x_train"][0, -1] = data.params.vocabulary.num_words
    return first_id(data, "train")


def negative_index(data: Prepared) -> str:
    data.arrays["x_test"][0, -1] = -3
    return first_id(data, "test")


def padding_not_zero(data: Prepared) -> str:
    data.arrays["x_validation"][0, 0] = 5  # position 0 is padding: every synthetic review is short
    return first_id(data, "validation")


def without_oov(tokens: np.ndarray) -> np.ndarray:
    """A copy with every <OOV> id (1) replaced by a word's id (2): an out-of-vocabulary rate of zero."""
    return np.where(tokens == 1, 2, tokens)


def padding_on_the_wrong_side(data: Prepared) -> str:
    row = data.arrays["x_train"][0]
    data.arrays["x_train"][0] = np.concatenate([row[row != 0], row[row == 0]])
    return first_id(data, "train")


def oov_is_not_one(data: Prepared) -> str:
    word_index = data.vocabulary["word_index"]
    second = next(word for word, index in word_index.items() if index == 2)
    word_index["<OOV>"], word_index[second] = 2, 1
    return "<OOV>"


def label_flipped(data: Prepared) -> str:
    data.arrays["y_train"][0] = 1 - data.arrays["y_train"][0]
    return first_id(data, "train")


def a_column_short(data: Prepared) -> str:
    data.arrays["x_test"] = data.arrays["x_test"][:, 1:]
    return first_id(data, "test")


def a_label_missing(data: Prepared) -> str | None:
    data.arrays["y_validation"] = data.arrays["y_validation"][:-1]
    return None


def all_test_tokens_unknown(data: Prepared) -> str | None:
    data.arrays["x_test"][data.arrays["x_test"] != 0] = 1
    return None


def vocabulary_of_other_params(data: Prepared) -> str | None:
    data.vocabulary["settings"]["num_words"] = 123
    return None


CASES: list[tuple[Callable[[Prepared], str | None], set[Key]]] = [
    (index_at_num_words, {(SEQUENCES, "max_index", BETWEEN)}),
    (negative_index, {(SEQUENCES, "min_index", BETWEEN)}),
    (padding_not_zero, {(SEQUENCES, "padding_in_place", IN_SET)}),
    (padding_on_the_wrong_side, {(SEQUENCES, "padding_in_place", IN_SET)}),
    (oov_is_not_one, {(VOCABULARY, "index", IN_SET), (VOCABULARY, "word", IN_SET)}),
    (label_flipped, {(SEQUENCES, "in_clean", IN_SET)}),
    (a_column_short, {(SEQUENCES, "width", IN_SET)}),
    (
        a_label_missing,
        {(SPLITS, "rows, label_rows", PAIR_EQUAL), (SEQUENCES, None, "expect_table_row_count_to_equal")},
    ),
    (all_test_tokens_unknown, {(SPLITS, "oov_rate", BETWEEN)}),
    (vocabulary_of_other_params, {(SETTINGS, "num_words", IN_SET)}),
]


def test_good_sequences_pass_every_expectation(good: Prepared, tmp_path: Path) -> None:
    report = check(good, tmp_path / "docs")
    assert_passes(report)
    assert (tmp_path / "docs" / "index.html").is_file()


@pytest.mark.parametrize(("flaw", "expected"), CASES, ids=[case[0].__name__ for case in CASES])
def test_each_flaw_fails_its_expectation_and_names_the_row(
    flaw: Callable[[Prepared], str | None], expected: set[Key], good: Prepared
) -> None:
    data = good.copy()
    offending = flaw(data)
    report = check(data)

    assert not report.success
    assert keys(report.failures) == expected
    if offending is not None:  # each failure names rows, among them the one the flaw touched
        assert all(outcome(report, key).examples for key in expected)
        examples = [example for key in expected for example in outcome(report, key).examples]
        assert any(example.startswith(offending) for example in examples), examples


def test_the_truncation_bound_is_configurable_and_the_share_reported(
    make_workspace: WorkspaceFactory,
) -> None:
    overrides = {"sequences": {"max_len": 5}, "validation": {"sequences": {"max_truncated_share": 0.5}}}
    workspace = make_workspace(overrides, preprocess=True)
    data = prepared_from(workspace)
    checks, metrics = sequence_checks.sequence_checks(data.vocabulary, data.arrays, data.clean, data.params)
    report = validate(checks)

    assert keys(report.failures) == {(SPLITS, "truncated_share", BETWEEN)}
    assert metrics["train_truncated_share"] == 1.0  # every synthetic review is longer than 5 words


def test_structure_errors_name_each_missing_array_and_key(good: Prepared) -> None:
    data = good.copy()
    del data.arrays["lengths_test"], data.vocabulary["word_index"]
    data.arrays["x_train"] = data.arrays["x_train"].ravel()
    assert sequence_checks.structure_errors(data.vocabulary, data.arrays) == [
        "vocabulary lacks 'word_index'",
        "'x_train' has 1 dimensions",
        "sequences lack the array 'lengths_test'",
    ]


def test_oov_rate_counts_id_one_among_the_tokens_only(good: Prepared) -> None:
    data = good.copy()
    x_test = without_oov(data.arrays["x_test"])
    data.arrays["x_test"] = x_test
    tokens = int((x_test != 0).sum())
    x_test[x_test != 0] = np.where(np.arange(tokens) % 4 == 0, 1, x_test[x_test != 0])
    _, metrics = sequence_checks.sequence_checks(data.vocabulary, data.arrays, data.clean, data.params)
    assert metrics["test_oov_rate"] == pytest.approx(len(range(0, tokens, 4)) / tokens, abs=1e-5)


def test_the_oov_bound_applies_to_validation_and_test_not_train(good: Prepared) -> None:
    data = good.copy()
    data.params = params_with({"validation": {"sequences": {"max_oov_rate": 0.0}}})
    for split in ("validation", "test"):  # a few words of 200 small reviews are in no training review
        data.arrays[f"x_{split}"] = without_oov(data.arrays[f"x_{split}"])
    data.arrays["x_train"][data.arrays["x_train"] != 0] = 1
    assert check(data).success

    data.arrays["x_validation"][0, -1] = 1
    report = check(data)
    assert keys(report.failures) == {(SPLITS, "oov_rate", BETWEEN)}
    assert outcome(report, (SPLITS, "oov_rate", BETWEEN)).examples[0].startswith("validation")
