"""Synthetic movie reviews for offline demos and fast tests, deterministic by seed.

The reviews are built so that only a sequence model reads them all right:
- the verdict is an intensified adjective, a third of the time negated ("really great" is positive,
  "not really great" negative, "never so dull" positive), and negation is as common in positive as in
  negative reviews, so neither a single word nor a word pair (a unigram + bigram bag of words) gets
  more than the two thirds that the adjective alone gives;
- the verdict sits near the start of the review, followed by 30 to 80 neutral words, so the signal
  must survive a long distance to the end of the sequence.
Reviews carry HTML line breaks and entities like real IMDB reviews, so cleaning has work to do.

Unlabeled reviews (split "unsup", label `UNLABELED`, rating 0, as the archive's train/unsup) are
written the same way, for pretraining on the offline demo. They come from a generator of their own,
seeded by (seed, `UNLABELED_STREAM`), so that asking for them leaves the labeled reviews of a seed
exactly as they were without them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sentiment.data.ingest import sort_reviews
from sentiment.data.layout import COLUMNS, UNLABELED, UNLABELED_RATING, UNSUP, UNSUP_FOLDER

POSITIVE = ("great", "wonderful", "excellent", "brilliant", "superb", "moving", "delightful", "gripping")
NEGATIVE = ("awful", "terrible", "boring", "dull", "dreadful", "clumsy", "tedious", "lifeless")
OPENINGS = (
    "I saw this film {when} and {verdict}.",
    "Having watched it {when}, {verdict}.",
    "I rented this one {when} and {verdict}.",
)
WHEN = ("last weekend", "with friends", "on a rainy evening", "at a festival", "on television", "twice")
VERDICTS = (
    "honestly it was {negation}{intensifier}{adjective}",
    "I found it {negation}{intensifier}{adjective}",
    "the whole thing felt {negation}{intensifier}{adjective}",
)
NEGATIONS = ("not ", "never ", "hardly ")
# A third of the verdicts are negated: the adjective alone is right about two times in three, which
# gives a model something to start learning from; only reading the negation gets the rest right.
NEGATED_SHARE = 1 / 3
# The second word of the unlabeled reviews' seed (the labeled ones use the seed alone).
UNLABELED_STREAM = 1
# Every verdict has an intensifier, negated or not ("really great", "not really great"), so that no
# word pair decides the label either: a bigram model sees "not really" and "really great" in both.
INTENSIFIERS = ("really ", "so ", "truly ", "quite ", "all that ")
FILLER = (
    "The story follows a {role} who moves to {place} after a family event.",
    "Most of the scenes were shot in {place} during the {season}.",
    "The {role} meets an old friend and they talk about the past for a while.",
    "There is a long sequence on a train that lasts about {number} minutes.",
    "The soundtrack uses {instrument} in several scenes &amp; the credits run over a map.",
    "The director also wrote the script, which is based on a {source}.",
    "It runs for {number} minutes and was released in {year}.",
    "Later the {role} takes a job at a {business} near the harbour.",
    "The cast includes a few actors I had seen before in {genre} films.",
    "Some of the dialogue is in {language}, with subtitles.",
)
SLOTS = {
    "role": ("teacher", "detective", "nurse", "farmer", "pilot", "painter", "student", "journalist"),
    "place": ("Lisbon", "a small town", "the mountains", "Chicago", "a fishing village", "the desert"),
    "season": ("winter", "summer", "autumn", "spring"),
    "number": tuple(str(number) for number in range(10, 130, 7)),
    "instrument": ("piano", "violins", "a guitar", "drums", "a choir"),
    "source": ("novel", "true story", "stage play", "short story", "comic book"),
    "year": tuple(str(year) for year in range(1960, 2012, 3)),
    "business": ("bakery", "hotel", "bookshop", "garage", "restaurant"),
    "genre": ("crime", "war", "comedy", "western", "science fiction"),
    "language": ("French", "Spanish", "German", "Italian", "Japanese"),
}


def _fill(template: str, generator: np.random.Generator) -> str:
    values = {name: options[generator.integers(len(options))] for name, options in SLOTS.items()}
    return template.format(**values)


def synthetic_review(generator: np.random.Generator, label: int) -> str:
    negated = bool(generator.random() < NEGATED_SHARE)
    # Positive reviews are "great" or "not awful"; negative ones "awful" or "not great".
    adjectives = POSITIVE if (label == 1) != negated else NEGATIVE
    verdict = VERDICTS[generator.integers(len(VERDICTS))].format(
        negation=NEGATIONS[generator.integers(len(NEGATIONS))] if negated else "",
        intensifier=INTENSIFIERS[generator.integers(len(INTENSIFIERS))],
        adjective=adjectives[generator.integers(len(adjectives))],
    )
    opening = OPENINGS[generator.integers(len(OPENINGS))].format(
        when=WHEN[generator.integers(len(WHEN))], verdict=verdict
    )
    sentences = [_fill(FILLER[index], generator) for index in generator.integers(len(FILLER), size=12)]
    lead = sentences[: generator.integers(0, 2)]
    tail = sentences[len(lead) : len(lead) + int(generator.integers(3, 7))]
    parts = [" ".join(lead), opening, " ".join(tail)]
    return "<br /><br />".join(part for part in parts if part)


def synthetic_reviews(count: int, test_fraction: float, seed: int, unlabeled: int = 0) -> pd.DataFrame:
    """`count` reviews, half positive, split into train and test like the IMDB archive, and
    `unlabeled` unlabeled reviews (split "unsup"), in `sort_reviews`' order.

    Their movie is unknown (null), so the validation split is a stratified random one (`data.splits`).
    The labeled reviews of a seed are the same whatever `unlabeled` is.
    """
    if count < 8:
        raise ValueError(f"synthetic_reviews must be at least 8, got {count}")
    if unlabeled < 0:
        raise ValueError(f"synthetic unlabeled reviews must be 0 or more, got {unlabeled}")
    generator = np.random.default_rng(seed)
    test_count = round(count * test_fraction)
    rows = []
    for index in range(count):
        split = "test" if index < test_count else "train"
        label = index % 2
        rating = int(generator.integers(7, 11) if label else generator.integers(1, 5))
        sentiment = "pos" if label else "neg"
        rows.append(
            (f"{split}/{sentiment}/{index}", synthetic_review(generator, label), label, rating, split, None)
        )
    rows += _unlabeled_rows(unlabeled, seed)
    return sort_reviews(pd.DataFrame.from_records(rows, columns=list(COLUMNS)))


def _unlabeled_rows(count: int, seed: int) -> list[tuple[str, str, int, int, str, None]]:
    """Reviews written like the labeled ones, each for a hidden label drawn at random, which is kept
    nowhere: like IMDB's unlabeled reviews, about as many positive as negative."""
    generator = np.random.default_rng([seed, UNLABELED_STREAM])
    folder = "/".join(UNSUP_FOLDER)
    rows = []
    for index in range(count):
        hidden = int(generator.integers(2))
        rows.append(
            (
                f"{folder}/{index}",
                synthetic_review(generator, hidden),
                UNLABELED,
                UNLABELED_RATING,
                UNSUP,
                None,
            )
        )
    return rows
