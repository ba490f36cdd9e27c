"""Leakage: the same cleaned review text in train and test (IMDB holds about a hundred pairs), and
unlabeled reviews (split "unsup") with the text of a held-out review (IMDB: over two hundred).

Pure pandas, so that the vocabulary and sequences stages can apply the `drop` policy without loading
Great Expectations. Cleaned text is compared, since it is what the model sees. No classifier trains
on an unlabeled review, but word vectors may be pretrained on its text: one identical to a test or
validation review is left out of that (`checks.parts.pretraining_texts`), whatever the leakage policy.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from sentiment.config import LeakageConfig
from sentiment.data.layout import UNSUP


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


def unlabeled_duplicates(table: pd.DataFrame, held_out_ids: Collection[str]) -> pd.DataFrame:
    """Every (unlabeled review, held-out review) pair with identical text: columns unsup_id, review_id,
    sorted. Held out are the test reviews and the labeled reviews named in `held_out_ids` (the
    validation part)."""
    present = table.dropna(subset=["text"])
    labeled = present["split"] != UNSUP
    held_out = labeled & ((present["split"] == "test") | present["review_id"].isin(list(held_out_ids)))
    unlabeled = present.loc[~labeled, ["review_id", "text"]]
    pairs = unlabeled.merge(present.loc[held_out, ["review_id", "text"]], on="text", suffixes=("_u", "_h"))
    pairs = pd.DataFrame({"unsup_id": pairs["review_id_u"], "review_id": pairs["review_id_h"]})
    return pairs.sort_values(["unsup_id", "review_id"], kind="stable").reset_index(drop=True)


def unlabeled_in_test(table: pd.DataFrame) -> pd.Series:
    """True for each unlabeled review whose text is also the text of a test review."""
    text = table["text"]
    flagged = (table["split"] == UNSUP) & text.isin(text[table["split"] == "test"])
    return (flagged & text.notna()).rename("unlabeled_in_test")
