"""Synthetic reviews: deterministic by seed, balanced, in the raw table's shape, needing word order."""

from __future__ import annotations

import pandas as pd
import pytest

from sentiment.config import CleaningConfig
from sentiment.data.cleaning import clean_text
from sentiment.data.ingest import COLUMNS, UNLABELED
from sentiment.data.synthetic import NEGATED_SHARE, synthetic_reviews


def test_the_same_seed_gives_the_same_reviews() -> None:
    pd.testing.assert_frame_equal(synthetic_reviews(120, 0.5, seed=3), synthetic_reviews(120, 0.5, seed=3))


def test_another_seed_gives_other_reviews() -> None:
    first, second = synthetic_reviews(120, 0.5, seed=3), synthetic_reviews(120, 0.5, seed=4)
    assert (first["text"] != second["text"]).mean() > 0.9


@pytest.mark.parametrize(("count", "test_fraction"), [(200, 0.5), (120, 0.25)])
def test_each_split_is_balanced_and_sized_as_asked(count: int, test_fraction: float) -> None:
    table = synthetic_reviews(count, test_fraction, seed=1)
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == count
    assert table["review_id"].is_unique
    assert (table["split"] == "test").sum() == round(count * test_fraction)
    for _, part in table.groupby("split"):
        assert part["label"].sum() * 2 == len(part)


def test_ratings_follow_the_labels_like_imdb() -> None:
    table = synthetic_reviews(200, 0.5, seed=2)
    assert table.loc[table["label"] == 1, "rating"].between(7, 10).all()
    assert table.loc[table["label"] == 0, "rating"].between(1, 4).all()


def test_negation_appears_as_often_in_positive_as_in_negative_reviews() -> None:
    table = synthetic_reviews(600, 0.5, seed=5)
    cleaned = table["text"].map(lambda text: set(clean_text(text, CleaningConfig()).split()))
    negated = cleaned.map(lambda words: bool(words & {"not", "never", "hardly"}))
    for label in (0, 1):
        assert abs(negated[table["label"] == label].mean() - NEGATED_SHARE) < 0.08


def test_no_word_or_word_pair_decides_the_label() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    table = synthetic_reviews(3000, 0.3, seed=7)
    texts = table["text"].map(lambda text: clean_text(text, CleaningConfig()))
    train, test = table["split"] == "train", table["split"] == "test"
    vectorizer = TfidfVectorizer(ngram_range=(1, 2))
    model = LogisticRegression(C=10.0, max_iter=2000)
    model.fit(vectorizer.fit_transform(texts[train]), table.loc[train, "label"])
    accuracy = (model.predict(vectorizer.transform(texts[test])) == table.loc[test, "label"]).mean()
    # The adjective alone is right two times in three; only reading the negation does better.
    assert 0.55 < accuracy < 0.75


def test_reviews_carry_html_for_cleaning_to_remove() -> None:
    table = synthetic_reviews(40, 0.5, seed=6)
    assert table["text"].str.contains("<br />", regex=False).all()


def test_too_few_reviews_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        synthetic_reviews(4, 0.5, seed=0)


def test_unlabeled_reviews_are_deterministic_and_leave_the_labeled_ones_as_they_were() -> None:
    labeled_only = synthetic_reviews(120, 0.25, seed=3)
    table = synthetic_reviews(120, 0.25, seed=3, unlabeled=50)
    pd.testing.assert_frame_equal(table, synthetic_reviews(120, 0.25, seed=3, unlabeled=50))
    labeled = table[table["split"] != "unsup"].reset_index(drop=True)
    pd.testing.assert_frame_equal(labeled, labeled_only)  # bit for bit: the demo's figures depend on them
    unlabeled = table[table["split"] == "unsup"]
    assert len(unlabeled) == 50 and table.index[table["split"] == "unsup"].min() == 120  # after the rest
    assert (unlabeled["label"] == UNLABELED).all() and (unlabeled["rating"] == 0).all()
    assert unlabeled["review_id"].tolist() == [f"train/unsup/{index}" for index in range(50)]
    assert unlabeled["movie"].isna().all() and unlabeled["text"].str.contains("<br />", regex=False).all()
    # More unlabeled reviews extend the same stream; another seed gives other ones.
    longer = synthetic_reviews(120, 0.25, seed=3, unlabeled=80)
    assert longer.loc[longer["split"] == "unsup", "text"].tolist()[:50] == unlabeled["text"].tolist()
    other = synthetic_reviews(120, 0.25, seed=4, unlabeled=50)
    assert (
        other.loc[other["split"] == "unsup", "text"].to_numpy() != unlabeled["text"].to_numpy()
    ).mean() > 0.9


def test_unlabeled_reviews_are_not_copies_of_labeled_ones() -> None:
    table = synthetic_reviews(200, 0.3, seed=1, unlabeled=200)
    unlabeled = table["split"] == "unsup"
    assert not table.loc[unlabeled, "text"].isin(table.loc[~unlabeled, "text"]).any()
    # Written for hidden labels of both kinds, as IMDB's unlabeled reviews are about half positive.
    words = table.loc[unlabeled, "text"].str.lower()
    assert words.str.contains("great|wonderful|excellent|brilliant|superb").mean() > 0.2
    assert words.str.contains("awful|terrible|boring|dull|dreadful").mean() > 0.2


def test_a_negative_number_of_unlabeled_reviews_is_refused() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        synthetic_reviews(8, 0.5, seed=0, unlabeled=-1)
