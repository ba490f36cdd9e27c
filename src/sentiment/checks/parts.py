"""The one place that splits the cleaned reviews into the training, validation and test parts.

The vocabulary stage fits the word index on the training part, the sequences stage encodes all three
and validate_sequences checks the sequences against them: all three call `dataset_parts`, so the
vocabulary never sees a validation review and the parts cannot drift apart. The train reviews the
leakage policy drops (`leakage.training_reviews`) are in none of them; the validation part is drawn
from the rest by `data.splits` (by movie where every review has one). Pure pandas, beside the
leakage policy it applies, so the stages need not load Great Expectations.

Only labeled reviews are in the parts: an unlabeled review (split "unsup") is in none of them, so it
never reaches the vocabulary, the sequences, the validation split or any model's evaluation. Its
text serves pretraining, through `pretraining_texts`, and the students' training, with their
teachers' targets, through `unlabeled_texts`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sentiment.checks.leakage import training_reviews
from sentiment.config import LeakageConfig, SplitsConfig
from sentiment.core.errors import DataError
from sentiment.data.layout import UNSUP
from sentiment.data.splits import Method, validation_split

MOVIE_COLUMN = "movie"


@dataclass(frozen=True)
class Parts:
    """The cleaned reviews of each part, in table order, and how the validation part was drawn."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    method: Method


def dataset_parts(table: pd.DataFrame, leakage: LeakageConfig, splits: SplitsConfig, seed: int) -> Parts:
    """The training, validation and test parts of the cleaned table under params' policy and seed."""
    if MOVIE_COLUMN not in table.columns:
        raise DataError(
            f"the reviews have no '{MOVIE_COLUMN}' column (fetched by an older version): "
            "run `sentiment fetch` again"
        )
    training = training_reviews(table, leakage)
    split = validation_split(
        training["label"].to_numpy(),
        training[MOVIE_COLUMN].to_numpy(dtype=object),
        splits.validation_fraction,
        seed,
        by_movie=splits.by_movie,
    )
    return Parts(
        train=training.iloc[split.train].reset_index(drop=True),
        validation=training.iloc[split.validation].reset_index(drop=True),
        test=table[table["split"] == "test"].reset_index(drop=True),
        method=split.method,
    )


def pretraining_texts(table: pd.DataFrame, parts: Parts) -> pd.Series:
    """The cleaned texts to pretrain word vectors on, indexed by review id: the training part's, in its
    order, then the unlabeled reviews' in table order; never a validation or test review's text.

    So an unlabeled review identical to a test or validation review (`leakage.unlabeled_duplicates`)
    is left out, and so is a training-part review with the text of one (IMDB's train split holds a
    few copies across movies, and the `warn` policy keeps train copies of test reviews), as is any
    missing text. `parts` are `dataset_parts` of this same table.
    """
    held_out = pd.concat([parts.validation["text"], parts.test["text"]]).dropna()
    unlabeled = table.loc[table["split"] == UNSUP, ["review_id", "text"]]
    texts = pd.concat([parts.train[["review_id", "text"]], unlabeled]).dropna(subset=["text"])
    return texts[~texts["text"].isin(held_out)].set_index("review_id")["text"]


def unlabeled_texts(table: pd.DataFrame, parts: Parts) -> pd.Series:
    """The unlabeled reviews a student may learn from, indexed by review id, in table order: those of
    `pretraining_texts` (none with the text of a validation or test review)."""
    allowed = pretraining_texts(table, parts)
    unlabeled_ids = table.loc[table["split"] == UNSUP, "review_id"]
    return allowed[allowed.index.isin(unlabeled_ids)]
