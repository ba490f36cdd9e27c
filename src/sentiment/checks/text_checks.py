"""Expectations on the raw reviews, the cleaned reviews and leakage.

Per-row facts that are not a plain column (words per review, lowercase, same id/label/split as the raw
table, text shared with the other split) are derived columns computed with vectorised pandas, so
Great Expectations only checks simple columns and 95,000 reviews validate in seconds.

Unlabeled reviews (split "unsup") are checked as text (length bounds, not empty, cleaning, unique id,
movie); the label expectations and the class balance apply to train and test only, and an unlabeled
review must have label `UNLABELED` (-1) and rating 0. One identical to a test review is a warning,
whatever the leakage policy: no classifier trains on it, and it is left out of pretraining
(`checks.parts.pretraining_texts`).
"""

from __future__ import annotations

from typing import Any

import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.expectations.metadata_types import FailureSeverity
from great_expectations.expectations.row_conditions import Column

from sentiment.checks import leakage
from sentiment.checks.runner import TableCheck
from sentiment.config import CleaningConfig, ValidationConfig
from sentiment.data.layout import (
    ARCHIVE_SPLITS,
    COLUMNS,
    DISTANCE_COLUMN,
    TABLE_SPLITS,
    UNLABELED,
    UNLABELED_RATING,
    UNSUP,
)

RAW_TYPES = {"review_id": "str", "text": "str", "label": "int8", "rating": "int8", "split": "str"}
LABELS = (0, 1)
# What cleaning removes: a tag ("<" then a letter, "/" or "!") or an entity (&amp; &#39; &#x27;).
HTML_LEFT = r"<[A-Za-z/!][^<>]*>|&(?:[A-Za-z]+|#[0-9]+|#[xX][0-9A-Fa-f]+);"
HAS_NON_SPACE = r"\S"
MOVIE_ID = r"^tt[0-9]+$"  # IMDB's title id, from the archive's URL lists (null where it has none)
RAW_DERIVED = ("characters", "words")
CLEAN_DERIVED = ("lowercase", "matches_raw", "in_both_splits", "unlabeled_in_test")
LABELED = Column("split").is_in(list(ARCHIVE_SPLITS))


def _columns_expectation(derived: tuple[str, ...]) -> Any:
    return gxe.ExpectTableColumnsToMatchSet(
        column_set=[*COLUMNS, DISTANCE_COLUMN, *derived],
        exact_match=True,
        description=f"columns are exactly {list(COLUMNS)} (and {DISTANCE_COLUMN}, then the derived "
        f"{list(derived)})",
    )


def _with_distance(table: pd.DataFrame) -> pd.DataFrame:
    """The table with `verdict_distance`, null where absent: only synthetic reviews know theirs."""
    return table if DISTANCE_COLUMN in table.columns else table.assign(**{DISTANCE_COLUMN: float("nan")})


def _holds_text(table: pd.DataFrame) -> bool:
    """Whether `text` exists and holds strings; if not, its own expectations fail and say so."""
    if "text" not in table.columns:
        return False
    return pd.api.types.infer_dtype(table["text"], skipna=True) in ("string", "empty")


def raw_table(raw: pd.DataFrame) -> pd.DataFrame:
    """The raw table with derived `characters` and `words` per review (null where text is unusable)."""
    raw = _with_distance(raw)
    if not _holds_text(raw):
        return raw.assign(characters=float("nan"), words=float("nan"))
    text = raw["text"]
    return raw.assign(characters=text.str.len(), words=text.str.count(r"\S+"))


def raw_expectations(config: ValidationConfig) -> list[Any]:
    bounds = config.raw
    rating_pairs = [(0, rating) for rating in bounds.negative_ratings]
    rating_pairs += [(1, rating) for rating in bounds.positive_ratings]
    rating_pairs += [(UNLABELED, UNLABELED_RATING)]
    expectations: list[Any] = [
        _columns_expectation(RAW_DERIVED),
        *(
            gxe.ExpectColumnValuesToBeOfType(column=column, type_=type_, description=f"{column} is {type_}")
            for column, type_ in RAW_TYPES.items()
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="review_id", description="every review has an id"),
        gxe.ExpectColumnValuesToBeUnique(column="review_id", description="review ids are unique"),
        gxe.ExpectColumnValuesToNotBeNull(column="text", description="no review text is null"),
        gxe.ExpectColumnValuesToMatchRegex(
            column="text", regex=HAS_NON_SPACE, description="no review text is empty or blank"
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="label",
            value_set=list(LABELS),
            row_condition=LABELED,
            description=f"labels are 0 or 1 in {' and '.join(ARCHIVE_SPLITS)}",
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="rating",
            value_set=[UNLABELED_RATING],
            row_condition=Column("split") == UNSUP,
            description=f"unlabeled reviews ({UNSUP}) have rating {UNLABELED_RATING}",
        ),
        gxe.ExpectColumnPairValuesToBeInSet(
            column_A="label",
            column_B="rating",
            value_pairs_set=rating_pairs,
            description=(
                f"ratings agree with labels (0: {list(bounds.negative_ratings)}, "
                f"1: {list(bounds.positive_ratings)}, {UNLABELED} (no label): [{UNLABELED_RATING}])"
            ),
        ),
        gxe.ExpectColumnDistinctValuesToContainSet(
            column="split",
            value_set=list(ARCHIVE_SPLITS),
            description=f"both splits {list(ARCHIVE_SPLITS)} are present",
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="split",
            value_set=list(TABLE_SPLITS),
            description=f"every split is one of {list(TABLE_SPLITS)}",
        ),
        gxe.ExpectColumnValuesToMatchRegex(
            column="movie",
            regex=MOVIE_ID,
            description="a review's movie, where known, is an IMDB title id (tt0453418)",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="characters",
            min_value=bounds.min_characters,
            max_value=bounds.max_characters,
            description=f"reviews have {bounds.min_characters} to {bounds.max_characters} characters",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="words",
            min_value=bounds.min_words,
            max_value=bounds.max_words,
            description=f"reviews have {bounds.min_words} to {bounds.max_words} words",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column=DISTANCE_COLUMN,
            min_value=1,
            max_value=bounds.max_words,
            description=f"a verdict's distance from the end, where known (synthetic reviews), is 1 to "
            f"{bounds.max_words} words",
        ),
    ]
    expectations += [
        gxe.ExpectColumnMeanToBeBetween(
            column="label",
            min_value=bounds.min_positive_share,
            max_value=bounds.max_positive_share,
            row_condition=Column("split") == split,
            description=(
                f"class balance in {split}: positive share in "
                f"[{bounds.min_positive_share}, {bounds.max_positive_share}]"
            ),
        )
        for split in ARCHIVE_SPLITS
    ]
    return expectations


def clean_table(clean: pd.DataFrame, raw: pd.DataFrame) -> pd.DataFrame:
    """The cleaned table with derived columns: `lowercase`, `matches_raw` and `in_both_splits`."""
    needed = {"review_id", "text", "label", "split"}
    clean = _with_distance(clean)
    if not needed <= set(clean.columns) or not needed <= set(raw.columns) or not _holds_text(clean):
        return clean.assign(**dict.fromkeys(CLEAN_DERIVED, None))
    text = clean["text"]
    reference = raw.drop_duplicates("review_id").set_index("review_id")
    raw_label = clean["review_id"].map(reference["label"])
    raw_split = clean["review_id"].map(reference["split"])
    return clean.assign(
        lowercase=(text == text.str.lower()) | text.isna(),
        matches_raw=(raw_label == clean["label"]) & (raw_split == clean["split"]),
        in_both_splits=leakage.in_both_splits(clean),
        unlabeled_in_test=leakage.unlabeled_in_test(clean),
    )


def clean_expectations(raw_rows: int, cleaning: CleaningConfig, config: ValidationConfig) -> list[Any]:
    policy = config.leakage.policy
    expectations: list[Any] = [
        _columns_expectation(CLEAN_DERIVED),
        gxe.ExpectTableRowCountToEqual(value=raw_rows, description="as many rows as the raw table"),
        gxe.ExpectColumnValuesToBeUnique(column="review_id", description="review ids are unique"),
        gxe.ExpectColumnValuesToBeInSet(
            column="matches_raw",
            value_set=[True],
            description="every review keeps the id, label and split it has in the raw table",
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="text", description="no cleaned text is null"),
        gxe.ExpectColumnValuesToMatchRegex(
            column="text", regex=HAS_NON_SPACE, description="no text is empty after cleaning"
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="in_both_splits",
            value_set=[False],
            severity=FailureSeverity.CRITICAL if policy == "fail" else FailureSeverity.WARNING,
            description=f"no identical cleaned text in train and test (leakage policy: {policy})",
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="unlabeled_in_test",
            value_set=[False],
            severity=FailureSeverity.WARNING,
            description="no unlabeled review has the cleaned text of a test review (one that does is "
            "left out of pretraining)",
        ),
    ]
    if cleaning.remove_html:
        expectations.append(
            gxe.ExpectColumnValuesToNotMatchRegex(
                column="text", regex=HTML_LEFT, description="no HTML tag or entity is left after cleaning"
            )
        )
    if cleaning.lowercase:
        expectations.append(
            gxe.ExpectColumnValuesToBeInSet(
                column="lowercase", value_set=[True], description="cleaned text is lowercase"
            )
        )
    return expectations


def text_checks(
    raw: pd.DataFrame, clean: pd.DataFrame, cleaning: CleaningConfig, config: ValidationConfig
) -> list[TableCheck]:
    """The checks of the `validate_text` stage: the raw reviews, then the cleaned reviews."""
    return [
        TableCheck("raw_reviews", raw_table(raw), raw_expectations(config), row_id="review_id"),
        TableCheck(
            "clean_reviews",
            clean_table(clean, raw),
            clean_expectations(len(raw), cleaning, config),
            row_id="review_id",
        ),
    ]


def text_metrics(raw: pd.DataFrame, clean: pd.DataFrame, config: ValidationConfig) -> dict[str, Any]:
    """Figures for `dvc metrics show`: reviews and positive share per labeled split, unlabeled reviews,
    duplicates (train/test pairs; unlabeled reviews identical to a test review), dropped rows."""
    metrics: dict[str, Any] = {}
    if {"split", "label"} <= set(raw.columns):
        for split in ARCHIVE_SPLITS:
            labels = pd.to_numeric(raw.loc[raw["split"] == split, "label"], errors="coerce")
            metrics[f"{split}_reviews"] = len(labels)
            metrics[f"{split}_positive_share"] = round(float(labels.mean()), 4) if len(labels) else None
        metrics["unlabeled_reviews"] = int((raw["split"] == UNSUP).sum())
    if {"review_id", "text", "split"} <= set(clean.columns):
        pairs = leakage.cross_split_duplicates(clean)
        metrics["duplicate_pairs_across_splits"] = len(pairs)
        metrics["dropped_train_reviews"] = len(leakage.dropped_train_ids(clean, config.leakage))
        unlabeled = leakage.unlabeled_duplicates(clean, held_out_ids=())
        metrics["unlabeled_duplicates_of_test"] = int(unlabeled["unsup_id"].nunique())
    return metrics


def leakage_details(clean: pd.DataFrame, config: ValidationConfig) -> dict[str, Any]:
    """The duplicate pairs themselves and what the policy does with them, for the JSON result."""
    if not {"review_id", "text", "split"} <= set(clean.columns):
        return {}
    pairs = leakage.cross_split_duplicates(clean)
    unlabeled = leakage.unlabeled_duplicates(clean, held_out_ids=())
    return {
        "leakage": {
            "policy": config.leakage.policy,
            "pairs": pairs.to_dict(orient="records"),
            "dropped_train_ids": sorted(leakage.dropped_train_ids(clean, config.leakage)),
            # Left out of pretraining whatever the policy (with those of the validation part, which
            # the vocabulary and sequences stages draw).
            "unlabeled_duplicates_of_test": {
                "reviews": int(unlabeled["unsup_id"].nunique()),
                "pairs": unlabeled.to_dict(orient="records"),
            },
        }
    }
