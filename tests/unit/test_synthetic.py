"""Synthetic reviews: deterministic by seed, balanced, in the raw table's shape (and verdict distances),
needing word order."""

from __future__ import annotations

import pandas as pd
import pytest

from sentiment.config import CleaningConfig, ConfigError, SyntheticConfig
from sentiment.data.cleaning import clean_text
from sentiment.data.ingest import COLUMNS, UNLABELED
from sentiment.data.layout import DISTANCE_COLUMN
from sentiment.data.synthetic import NEGATIVE, POSITIVE, synthetic_reviews


def test_the_same_seed_gives_the_same_reviews() -> None:
    pd.testing.assert_frame_equal(synthetic_reviews(120, 0.5, seed=3), synthetic_reviews(120, 0.5, seed=3))


def test_another_seed_gives_other_reviews() -> None:
    first, second = synthetic_reviews(120, 0.5, seed=3), synthetic_reviews(120, 0.5, seed=4)
    assert (first["text"] != second["text"]).mean() > 0.9


@pytest.mark.parametrize(("count", "test_fraction"), [(200, 0.5), (120, 0.25)])
def test_each_split_is_balanced_and_sized_as_asked(count: int, test_fraction: float) -> None:
    table = synthetic_reviews(count, test_fraction, seed=1)
    assert list(table.columns) == [*COLUMNS, DISTANCE_COLUMN]
    assert len(table) == count
    assert table["review_id"].is_unique
    assert (table["split"] == "test").sum() == round(count * test_fraction)
    for _, part in table.groupby("split"):
        assert part["label"].sum() * 2 == len(part)


def test_ratings_follow_the_labels_like_imdb() -> None:
    table = synthetic_reviews(200, 0.5, seed=2)
    assert table.loc[table["label"] == 1, "rating"].between(7, 10).all()
    assert table.loc[table["label"] == 0, "rating"].between(1, 4).all()


ADJECTIVES = frozenset(POSITIVE) | frozenset(NEGATIVE)


def _words(text: str) -> list[str]:
    return clean_text(text, CleaningConfig()).split()


def test_the_verdict_is_at_its_recorded_distance_and_only_opinions_that_do_not_count_follow_it() -> None:
    config = SyntheticConfig()
    table = synthetic_reviews(400, 0.3, seed=5, config=config)
    short, long = config.short_distance, config.long_distance
    quoted = 0
    for text, label, distance in zip(table["text"], table["label"], table[DISTANCE_COLUMN], strict=True):
        words = _words(text)
        verdict = len(words) - distance  # distance 1: the last word
        assert (words[verdict] in POSITIVE) == bool(label) and words[verdict] in ADJECTIVES
        assert short[0] <= distance <= short[1] or long[0] <= distance <= long[1]
        # every adjective after the verdict is someone else's ("... said it was dull") or the first
        # impression of a far turn review ("at first I found it dull"), after a verdict "in the end"
        later = [index for index in range(verdict + 1, len(words)) if words[index] in ADJECTIVES]
        for index in later:
            quote = words[index - 2 : index] == ["it", "was"] and words[index - 3] in {
                "said",
                "thought",
                "me",
            }
            assert quote or {"first", "early"} & set(words[index - 7 : index]), " ".join(words)
        quoted += bool(later)
    assert abs((table[DISTANCE_COLUMN] >= long[0]).mean() - config.long_share) < 0.1
    assert quoted > len(table) * config.long_share / 2  # most long-range reviews hold a quote


def test_turn_pairs_hold_the_same_words_in_both_classes() -> None:
    config = SyntheticConfig(quote_share=0.0)  # no quotes: a turn review holds exactly two adjectives
    table = synthetic_reviews(400, 0.3, seed=6, config=config)
    bags = table["text"].map(lambda text: tuple(sorted(_words(text))))
    turns = table["text"].map(lambda text: sum(word in ADJECTIVES for word in _words(text)) == 2)
    assert abs(turns.mean() - config.turn_share) < 0.1
    for split, part in table[turns].groupby("split"):
        by_bag = part.groupby(bags[part.index])["label"].agg(sorted)
        # each bag of words is a pair, one review per label: the words alone cannot tell them apart
        assert (by_bag.map(len) == 2).mean() > 0.95, split
        assert all(labels == [0, 1] for labels in by_bag if len(labels) == 2)


def test_no_bag_of_word_triples_reads_the_turn_reviews() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    table = synthetic_reviews(3000, 0.3, seed=7, config=SyntheticConfig(turn_share=1.0))
    texts = table["text"].map(lambda text: clean_text(text, CleaningConfig()))
    train, test = table["split"] == "train", table["split"] == "test"
    vectorizer = TfidfVectorizer(ngram_range=(1, 3))
    model = LogisticRegression(C=10.0, max_iter=2000)
    model.fit(vectorizer.fit_transform(texts[train]), table.loc[train, "label"])
    accuracy = (model.predict(vectorizer.transform(texts[test])) == table.loc[test, "label"]).mean()
    assert 0.45 < accuracy < 0.55  # a pair's two reviews get the same prediction: one is wrong


def test_unlabeled_reviews_have_no_distance() -> None:
    table = synthetic_reviews(40, 0.5, seed=2, unlabeled=10)
    unlabeled = table["split"] == "unsup"
    assert table.loc[unlabeled, DISTANCE_COLUMN].isna().all()
    assert table.loc[~unlabeled, DISTANCE_COLUMN].notna().all()


def test_a_range_upside_down_is_refused() -> None:
    with pytest.raises(ConfigError, match="long_distance"):
        SyntheticConfig(long_distance=(50, 40))


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
