"""Unlabeled reviews and the labeled parts: in none of the training, validation and test parts (so never
in the vocabulary, the sequences or the validation split), and the texts to pretrain on: the training
part's and the unlabeled ones, less those identical to a validation or test review."""

from __future__ import annotations

import pandas as pd
import pytest

from sentiment.checks.leakage import cross_split_duplicates, unlabeled_duplicates, unlabeled_in_test
from sentiment.checks.parts import dataset_parts, pretraining_texts
from sentiment.config import LeakageConfig, SplitsConfig, VocabularyConfig
from sentiment.data.ingest import UNLABELED, sort_reviews
from sentiment.data.vocabulary import fit_vocabulary

DROP = LeakageConfig(policy="drop")
SEED = 7


def labeled_rows(by_movie: bool) -> list[tuple[str, str, int, int, str, str | None]]:
    """8 train reviews per label (two per movie), 4 test reviews per label; each text its own."""
    rows = []
    for split, count in (("train", 8), ("test", 4)):
        for sentiment, label, rating in (("neg", 0, 2), ("pos", 1, 9)):
            for number in range(count):
                movie = f"tt{(0 if split == 'train' else 50) + number // 2:07d}" if by_movie else None
                text = f"{sentiment} {split} review {number} words{split}{sentiment}{number}"
                rows.append((f"{split}/{sentiment}/{number}", text, label, rating, split, movie))
    return rows


def table_of(rows: list[tuple[str, str, int, int, str, str | None]]) -> pd.DataFrame:
    columns = ["review_id", "text", "label", "rating", "split", "movie"]
    return sort_reviews(pd.DataFrame.from_records(rows, columns=columns))


def unlabeled_rows(texts: list[str], movies: bool = True) -> list[tuple[str, str, int, int, str, str | None]]:
    # Null movies, and movies of the training part: neither may change how the split is drawn.
    movies_of = [None, "tt0000001"] if movies else [None, None]
    return [
        (f"train/unsup/{number}", text, UNLABELED, 0, "unsup", movies_of[number % 2])
        for number, text in enumerate(texts)
    ]


UNLABELED_TEXTS = [f"an unlabeled review number {number} wordsunsup{number}" for number in range(10)]


@pytest.mark.parametrize("by_movie", [True, False], ids=["movies", "no-movies"])
def test_unlabeled_reviews_change_no_part_nor_the_vocabulary(by_movie: bool) -> None:
    labeled = table_of(labeled_rows(by_movie))
    with_unlabeled = table_of(labeled_rows(by_movie) + unlabeled_rows(UNLABELED_TEXTS, movies=by_movie))
    splits = SplitsConfig(validation_fraction=0.25, by_movie=True)
    expected = dataset_parts(labeled, DROP, splits, SEED)
    parts = dataset_parts(with_unlabeled, DROP, splits, SEED)

    assert parts.method == expected.method == ("movie" if by_movie else "random")
    for name in ("train", "validation", "test"):
        pd.testing.assert_frame_equal(getattr(parts, name), getattr(expected, name))
        assert not getattr(parts, name)["review_id"].str.startswith("train/unsup/").any()
    config = VocabularyConfig(num_words=1000)
    vocabulary = fit_vocabulary(parts.train["text"].tolist(), config)
    assert vocabulary.to_dict() == fit_vocabulary(expected.train["text"].tolist(), config).to_dict()
    assert not any(word.startswith("wordsunsup") for word in vocabulary.word_index)


def leaky_table() -> tuple[pd.DataFrame, list[str]]:
    """Labeled reviews and unlabeled ones, of which: 0 copies a test review, 1 and 2 a validation
    review (the split seeded as in `dataset_parts`), 3 a training review, 4 has no text."""
    labeled = table_of(labeled_rows(by_movie=True))
    parts = dataset_parts(labeled, DROP, SplitsConfig(validation_fraction=0.25), SEED)
    texts = list(UNLABELED_TEXTS)
    texts[0] = parts.test["text"].iloc[3]
    texts[1] = texts[2] = parts.validation["text"].iloc[0]
    texts[3] = parts.train["text"].iloc[0]
    table = table_of(labeled_rows(by_movie=True) + unlabeled_rows(texts))
    table.loc[table["review_id"] == "train/unsup/4", "text"] = None
    return table, [parts.test["review_id"].iloc[3], parts.validation["review_id"].iloc[0]]


def test_unlabeled_duplicates_pair_each_copy_with_its_test_or_held_out_review() -> None:
    table, (test_id, validation_id) = leaky_table()
    assert unlabeled_duplicates(table, held_out_ids=[validation_id]).to_dict(orient="records") == [
        {"unsup_id": "train/unsup/0", "review_id": test_id},
        {"unsup_id": "train/unsup/1", "review_id": validation_id},
        {"unsup_id": "train/unsup/2", "review_id": validation_id},
    ]
    # Without held-out ids only the test copy; a held-out id of an unlabeled review pairs nothing.
    only_test = unlabeled_duplicates(table, held_out_ids={"train/unsup/1"})
    assert only_test.to_dict(orient="records") == [{"unsup_id": "train/unsup/0", "review_id": test_id}]
    assert unlabeled_in_test(table).sum() == 1
    assert cross_split_duplicates(table).empty  # an unlabeled copy is no train/test pair


def test_pretraining_texts_are_the_training_part_and_the_clean_unlabeled_reviews() -> None:
    table, _ = leaky_table()
    parts = dataset_parts(table, DROP, SplitsConfig(validation_fraction=0.25), SEED)
    texts = pretraining_texts(table, parts)

    unlabeled = [f"train/unsup/{number}" for number in (3, 5, 6, 7, 8, 9)]  # 4 has no text
    assert texts.index.tolist() == parts.train["review_id"].tolist() + unlabeled
    assert texts.loc["train/unsup/3"] == parts.train["text"].iloc[0]  # a training text twice is no leak
    held_out = set(parts.validation["text"]) | set(parts.test["text"])
    assert not set(texts) & held_out  # no validation or test text, by any review
    left_out = unlabeled_duplicates(table, set(parts.validation["review_id"]))["unsup_id"]
    assert set(left_out) == {"train/unsup/0", "train/unsup/1", "train/unsup/2"}
    assert not set(left_out) & set(texts.index)
    pd.testing.assert_series_equal(texts, pretraining_texts(table, parts))  # deterministic


def test_a_training_review_with_a_held_out_text_is_not_pretrained_on() -> None:
    """Under the `warn` policy a train copy of a test review stays in the training part; its text, the
    test review's, is still never pretrained on (nor a training review copying a validation one)."""
    table = table_of(labeled_rows(by_movie=False) + unlabeled_rows(UNLABELED_TEXTS, movies=False))
    warn, splits = LeakageConfig(policy="warn"), SplitsConfig(validation_fraction=0.25)
    # The random split depends on the labels and the seed only: a text changed keeps its review's part.
    copy_id = dataset_parts(table, warn, splits, SEED).train["review_id"].iloc[0]
    test_text = table.loc[table["review_id"] == "test/pos/0", "text"].item()
    table.loc[table["review_id"] == copy_id, "text"] = test_text
    parts = dataset_parts(table, warn, splits, SEED)
    assert copy_id in set(parts.train["review_id"])  # kept for training under `warn`
    texts = pretraining_texts(table, parts)
    assert copy_id not in texts.index and test_text not in set(texts)
    assert len(texts) == len(parts.train) - 1 + len(UNLABELED_TEXTS)
