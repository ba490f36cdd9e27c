"""Expectations on the vocabulary and the padded sequences.

The arrays become small tables first, computed with NumPy: one row per word of the word index, one
row per sequence (its width, smallest and largest id, whether padding sits where it should, whether it
is a cleaned review of its split) and one row per split (array rows, out-of-vocabulary rate, share of
truncated reviews). Great Expectations then checks plain columns of those tables.
"""

from __future__ import annotations

from typing import Any

import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
from great_expectations.expectations.metadata_types import FailureSeverity
from great_expectations.expectations.row_conditions import Column

from sentiment.checks import leakage
from sentiment.checks.parts import Parts, dataset_parts
from sentiment.checks.runner import TableCheck
from sentiment.config import Params
from sentiment.data.sequences import SPLITS
from sentiment.data.splits import SPLIT_KEY
from sentiment.data.vocabulary import OOV_INDEX, PADDING_INDEX

ARRAY_KINDS = ("x", "y", "ids", "lengths")
VOCABULARY_KEYS = ("settings", "document_count", "word_index", "word_counts")


def structure_errors(vocabulary: dict[str, Any], arrays: dict[str, np.ndarray]) -> list[str]:
    """What makes the files unreadable as a vocabulary and sequences (checked before any expectation)."""
    errors = [f"vocabulary lacks '{key}'" for key in VOCABULARY_KEYS if key not in vocabulary]
    if not isinstance(vocabulary.get("word_index", {}), dict):
        errors.append("vocabulary 'word_index' is not a mapping")
    for split in SPLITS:
        for kind in ARRAY_KINDS:
            name = f"{kind}_{split}"
            if name not in arrays:
                errors.append(f"sequences lack the array '{name}'")
            elif arrays[name].ndim != (2 if kind == "x" else 1):
                errors.append(f"'{name}' has {arrays[name].ndim} dimensions")
    if SPLIT_KEY not in arrays:
        errors.append(f"sequences lack the array '{SPLIT_KEY}' (how the validation split was drawn)")
    elif arrays[SPLIT_KEY].ndim != 0:
        errors.append(f"'{SPLIT_KEY}' has {arrays[SPLIT_KEY].ndim} dimensions")
    return errors


def vocabulary_table(vocabulary: dict[str, Any]) -> pd.DataFrame:
    """One row per word of the word index: word, index and training count (none for <OOV>)."""
    words = list(vocabulary["word_index"])
    counts = vocabulary.get("word_counts", {})
    return pd.DataFrame(
        {
            "word": pd.Series(words, dtype=object),
            "index": pd.Series([vocabulary["word_index"][word] for word in words], dtype="int64"),
            "count": pd.Series([counts.get(word) for word in words], dtype="float64"),
        }
    )


def vocabulary_expectations(params: Params, rows: int) -> list[Any]:
    oov_token = params.vocabulary.oov_token
    return [
        gxe.ExpectColumnValuesToBeUnique(column="index", description="each index names one word"),
        gxe.ExpectColumnValuesToBeBetween(
            column="index",
            min_value=OOV_INDEX,
            max_value=max(rows, OOV_INDEX),
            description=f"indices run from {OOV_INDEX} without gaps ({PADDING_INDEX} is for padding)",
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="index",
            value_set=[OOV_INDEX],
            row_condition=Column("word") == oov_token,
            description=f"{oov_token} has index {OOV_INDEX}",
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="word",
            value_set=[oov_token],
            row_condition=Column("index") == OOV_INDEX,
            description=f"index {OOV_INDEX} is {oov_token}",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="count", min_value=1, description="every word was seen in the training text"
        ),
    ]


def settings_table(vocabulary: dict[str, Any], expected_documents: int) -> pd.DataFrame:
    settings = vocabulary["settings"]
    return pd.DataFrame(
        {
            "name": ["vocabulary"],
            "num_words": [settings.get("num_words")],
            "oov_token": [settings.get("oov_token")],
            "document_count": [vocabulary["document_count"]],
            "training_reviews": [expected_documents],
        }
    )


def settings_expectations(params: Params) -> list[Any]:
    return [
        gxe.ExpectColumnValuesToBeInSet(
            column="num_words",
            value_set=[params.vocabulary.num_words],
            description="fitted with vocabulary.num_words of params.yaml",
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="oov_token",
            value_set=[params.vocabulary.oov_token],
            description="fitted with vocabulary.oov_token of params.yaml",
        ),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="document_count",
            column_B="training_reviews",
            description="fitted on the training part only (no validation review, after the leakage policy)",
        ),
    ]


def _padding_in_place(x: np.ndarray, lengths: np.ndarray, max_len: int, side: str) -> np.ndarray:
    """Per row: ids are non-zero exactly on the kept tokens, with the zeros on the `side` of padding."""
    kept = np.minimum(lengths, max_len)[:, None]
    positions = np.arange(x.shape[1])[None, :]
    tokens = positions >= (x.shape[1] - kept) if side == "pre" else positions < kept
    return np.asarray(((x != PADDING_INDEX) == tokens).all(axis=1))


def sequence_tables(
    arrays: dict[str, np.ndarray], clean: pd.DataFrame, params: Params, parts: Parts
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per sequence, one row per split) with the derived facts the expectations check."""
    max_len = params.sequences.max_len
    leaked_ids = set(leakage.cross_split_duplicates(clean)["train_id"])
    rows, splits = [], []
    for split in SPLITS:
        # Each sequence must be a review of the part params draw for its split, with that label.
        reference = getattr(parts, split).drop_duplicates("review_id").set_index("review_id")["label"]
        x, labels, ids, lengths = (arrays[f"{kind}_{split}"] for kind in ARRAY_KINDS)
        count = min(len(x), len(labels), len(ids), len(lengths))
        x, labels, ids, lengths = x[:count], labels[:count], ids[:count].astype(str), lengths[:count]
        empty = x.shape[1] == 0
        tokens, oov = int((x != PADDING_INDEX).sum()), int((x == OOV_INDEX).sum())
        ids_series = pd.Series(ids, dtype=object)
        rows.append(
            pd.DataFrame(
                {
                    "split": split,
                    "review_id": ids_series,
                    "label": labels,
                    "width": x.shape[1],
                    "min_index": x.min(axis=1) if not empty else np.zeros(count, dtype=np.int64),
                    "max_index": x.max(axis=1) if not empty else np.zeros(count, dtype=np.int64),
                    "tokens": lengths,
                    "padding_in_place": _padding_in_place(x, lengths, max_len, params.sequences.padding),
                    "in_clean": (ids_series.map(reference) == pd.Series(labels)).to_numpy(),
                    "leaked": ids_series.isin(leaked_ids).to_numpy() & (split != "test"),
                }
            )
        )
        splits.append(
            {
                "split": split,
                "rows": len(arrays[f"x_{split}"]),
                "label_rows": len(arrays[f"y_{split}"]),
                "id_rows": len(arrays[f"ids_{split}"]),
                "length_rows": len(arrays[f"lengths_{split}"]),
                "oov_rate": oov / tokens if tokens else 0.0,
                "truncated_share": float(np.mean(lengths > max_len)) if count else 0.0,
                "drawn_by": str(arrays[SPLIT_KEY]),
            }
        )
    return pd.concat(rows, ignore_index=True), pd.DataFrame(splits)


def sequence_expectations(params: Params, expected_rows: int) -> list[Any]:
    policy = params.validation.leakage.policy
    max_len, num_words = params.sequences.max_len, params.vocabulary.num_words
    return [
        gxe.ExpectTableRowCountToEqual(
            value=expected_rows,
            description=f"one sequence per cleaned review ({expected_rows}, after the leakage policy)",
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="review_id", description="every sequence has a review id"),
        gxe.ExpectColumnValuesToBeUnique(column="review_id", description="each review appears once"),
        gxe.ExpectColumnValuesToBeInSet(
            column="in_clean",
            value_set=[True],
            description=(
                "each sequence is a cleaned review of its split (the validation split that params' "
                "seed and splits draw), with the same label"
            ),
        ),
        gxe.ExpectColumnValuesToBeInSet(column="label", value_set=[0, 1], description="labels are 0 or 1"),
        gxe.ExpectColumnValuesToBeInSet(
            column="width", value_set=[max_len], description=f"shape (n, {max_len}): sequences.max_len ids"
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="min_index", min_value=PADDING_INDEX, description="no negative index"
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="max_index",
            max_value=num_words - 1,
            description=f"every index is below num_words={num_words}",
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="padding_in_place",
            value_set=[True],
            description=(
                f"padding is {PADDING_INDEX}, only on the '{params.sequences.padding}' side; "
                f"every kept token is an id >= {OOV_INDEX}"
            ),
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="leaked",
            value_set=[False],
            severity=FailureSeverity.WARNING if policy == "warn" else FailureSeverity.CRITICAL,
            description=f"no train or validation review has a text also in test (leakage policy: {policy})",
        ),
    ]


def split_expectations(params: Params, method: str) -> list[Any]:
    bounds = params.validation.sequences
    expectations: list[Any] = [
        gxe.ExpectColumnDistinctValuesToEqualSet(
            column="split", value_set=list(SPLITS), description=f"the splits are {list(SPLITS)}"
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="drawn_by",
            value_set=[method],
            description=f"the sequences say their validation split was drawn by {method}, as params' is",
        ),
        *(
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="rows", column_B=other, description=f"x and {name} have the same number of rows"
            )
            for other, name in (("label_rows", "y"), ("id_rows", "ids"), ("length_rows", "lengths"))
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="oov_rate",
            max_value=bounds.max_oov_rate,
            row_condition=Column("split").is_in(["validation", "test"]),
            description=f"out-of-vocabulary rate of validation and test at most {bounds.max_oov_rate}",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="truncated_share",
            max_value=bounds.max_truncated_share,
            description=f"share of reviews longer than max_len at most {bounds.max_truncated_share}",
        ),
    ]
    return expectations


def sequence_checks(
    vocabulary: dict[str, Any], arrays: dict[str, np.ndarray], clean: pd.DataFrame, params: Params
) -> tuple[list[TableCheck], dict[str, Any]]:
    """The checks of the `validate_sequences` stage, and the figures for `dvc metrics show`."""
    parts = dataset_parts(clean, params.validation.leakage, params.splits, params.seed)
    expected_rows = len(parts.train) + len(parts.validation) + len(parts.test)
    words = vocabulary_table(vocabulary)
    per_sequence, per_split = sequence_tables(arrays, clean, params, parts)
    checks = [
        TableCheck("vocabulary", words, vocabulary_expectations(params, len(words)), row_id="word"),
        TableCheck(
            "vocabulary_settings",
            settings_table(vocabulary, len(parts.train)),
            settings_expectations(params),
            row_id="name",
        ),
        TableCheck(
            "sequences", per_sequence, sequence_expectations(params, expected_rows), row_id="review_id"
        ),
        TableCheck("sequence_splits", per_split, split_expectations(params, parts.method), row_id="split"),
    ]
    metrics: dict[str, Any] = {"vocabulary_words": len(words), SPLIT_KEY: str(arrays[SPLIT_KEY])}
    for row in per_split.to_dict(orient="records"):
        metrics[f"{row['split']}_sequences"] = int(row["rows"])
        metrics[f"{row['split']}_oov_rate"] = round(float(row["oov_rate"]), 5)
        metrics[f"{row['split']}_truncated_share"] = round(float(row["truncated_share"]), 5)
    return checks, metrics
