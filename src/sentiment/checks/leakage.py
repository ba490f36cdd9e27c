"""Train/test leakage: the same cleaned review text in both splits (IMDB holds about a hundred pairs).

Pure pandas, so that the vocabulary and sequences stages can apply the `drop` policy without loading
Great Expectations. Cleaned text is compared, since it is what the model sees.
"""

from __future__ import annotations

import pandas as pd

from sentiment.config import LeakageConfig


def cross_split_duplicates(table: pd.DataFrame) -> pd.DataFrame:
    """Every (train review, test review) pair with identical text: columns train_id, test_id, sorted."""
    # Missing text is a failure of its own, not a duplicate (merge would pair nulls with nulls).
    present = table.dropna(subset=["text"])
    train = present.loc[present["split"] == "train", ["review_id", "text"]]
    test = present.loc[present["split"] == "test", ["review_id", "text"]]
    pairs = train.merge(test, on="text", suffixes=("_train", "_test"))
    pairs = pd.DataFrame({"train_id": pairs["review_id_train"], "test_id": pairs["review_id_test"]})
    return pairs.sort_values(["train_id", "test_id"], kind="stable").reset_index(drop=True)


def in_both_splits(table: pd.DataFrame) -> pd.Series:
    """True for each row (of either split) whose text also occurs in the other split."""
    is_train = table["split"] == "train"
    is_test = table["split"] == "test"
    text = table["text"]
    flagged = (is_train & text.isin(text[is_test])) | (is_test & text.isin(text[is_train]))
    return (flagged & text.notna()).rename("in_both_splits")


def dropped_train_ids(table: pd.DataFrame, config: LeakageConfig) -> frozenset[str]:
    """The train reviews that the `drop` policy leaves out of the vocabulary and the sequences."""
    if config.policy != "drop":
        return frozenset()
    return frozenset(cross_split_duplicates(table)["train_id"])


def training_reviews(table: pd.DataFrame, config: LeakageConfig) -> pd.DataFrame:
    """The train split of the cleaned table, without the rows the leakage policy drops."""
    training = table[table["split"] == "train"]
    dropped = dropped_train_ids(table, config)
    if dropped:
        training = training[~training["review_id"].isin(dropped)]
    return training.reset_index(drop=True)
