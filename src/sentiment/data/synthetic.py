"""Synthetic movie reviews for offline demos and fast tests, deterministic by seed.

Each labeled review has a verdict, a sentiment adjective whose distance from the end of the review
(1: the last word) is drawn from a short or a long range (`SyntheticConfig`), followed by neutral
filler up to the end. Two kinds of review, mixed:
- a plain review says its verdict once ("I found it great"): any model that sees the word gets it,
  once the signal survives the distance to the end;
- a turn review says first the opposite ("at first I found it awful ... in the end I found it great")
  and is written twice, once per label, with the two adjectives swapped: the two reviews of a pair hold
  exactly the same words and the same word pairs and triples (the adjectives are always three or more
  words apart), so a bag of words or of n-grams up to three gets one of the two right, and only the
  order (which opinion comes last) decides.
The verdict's distance is kept (`verdict_distance`, in words as the review is written, which cleaning
with the defaults keeps): the training stages report accuracy per distance bucket.
Reviews carry HTML line breaks like real IMDB reviews, so cleaning has work to do.

Unlabeled reviews (split "unsup", label `UNLABELED`, rating 0, as the archive's train/unsup) are
written the same way, for pretraining on the offline demo. They come from a generator of their own,
seeded by (seed, `UNLABELED_STREAM`), so that asking for them leaves the labeled reviews of a seed
exactly as they were without them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sentiment.config import SyntheticConfig
from sentiment.data.ingest import sort_reviews
from sentiment.data.layout import COLUMNS, DISTANCE_COLUMN, UNLABELED, UNLABELED_RATING, UNSUP, UNSUP_FOLDER

POSITIVE = ("great", "wonderful", "excellent", "brilliant", "superb", "moving", "delightful", "gripping")
NEGATIVE = ("awful", "terrible", "boring", "dull", "dreadful", "clumsy", "tedious", "lifeless")
# An opinion: the adjective ends its sentence, three or more words after the words that say whether it
# comes first ("at first ...") or last ("in the end ..."): no word triple holds both.
OPINIONS = (
    "I found it {adjective}",
    "honestly the whole thing felt {adjective}",
    "to me the film was {adjective}",
    "the acting seemed quite {adjective}",
)
FIRST = ("At first", "Early on", "For the first hour")
LAST = ("In the end", "By the end", "Looking back")
# Filler words after the verdict, whole sentences cut to the length the distance asks for.
FILLER = (
    "The story follows a {role} who moves to {place} after a family event.",
    "Most of the scenes were shot in {place} during the {season}.",
    "The {role} meets an old friend and they talk about the past for a while.",
    "There is a long sequence on a train near the end of the second part.",
    "The soundtrack uses {instrument} in several scenes and the credits run over a map.",
    "The director also wrote the script which is based on a {source}.",
    "Later the {role} takes a job at a {business} near the harbour.",
    "The cast includes a few actors I had seen before in {genre} films.",
    "Some of the dialogue is in {language} with subtitles.",
)
SLOTS = {
    "role": ("teacher", "detective", "nurse", "farmer", "pilot", "painter", "student", "journalist"),
    "place": ("Lisbon", "a small town", "the mountains", "Chicago", "a fishing village", "the desert"),
    "season": ("winter", "summer", "autumn", "spring"),
    "instrument": ("piano", "violins", "a guitar", "drums", "a choir"),
    "source": ("novel", "true story", "stage play", "short story", "comic book"),
    "business": ("bakery", "hotel", "bookshop", "garage", "restaurant"),
    "genre": ("crime", "war", "comedy", "western", "science fiction"),
    "language": ("French", "Spanish", "German", "Italian", "Japanese"),
}
# Someone else's opinion, in the filler after the verdict: the same adjectives, which do not count. A
# gated cell shuts its input to them (it reads who speaks); a simple RNN must take them in, and they
# wash out the verdict it carries over a long distance.
QUOTES = ("my friend said it was {adjective}", "the critic next to me thought it was {adjective}",
          "my brother told me it was {adjective}")  # fmt: skip
# The second word of the unlabeled reviews' seed (the labeled ones use the seed alone).
UNLABELED_STREAM = 1
PLAIN, TURN = "plain", "turn"


@dataclass(frozen=True)
class Plan:
    """What one review (or turn pair) says: its kind, the verdict's distance, and the drawn words."""

    kind: str
    distance: int
    lead: str
    first: str
    gap: str
    last: str
    marker: str
    tail: str
    positive: str
    negative: str


def _fill(template: str, generator: np.random.Generator) -> str:
    values = {name: options[generator.integers(len(options))] for name, options in SLOTS.items()}
    return template.format(**values)


def _filler_words(generator: np.random.Generator, count: int, quote_share: float = 0.0) -> list[str]:
    """`count` words of filler sentences, `quote_share` of them someone else's opinion (whole ones
    only: a quote cut short would leave a bare adjective). Never the first: what follows the verdict
    then reads as what follows a turn review's first opinion, so no word triple tells them apart."""
    words: list[str] = []
    while len(words) < count:
        if words and generator.random() < quote_share:
            adjectives = POSITIVE if generator.random() < 0.5 else NEGATIVE
            quote = QUOTES[generator.integers(len(QUOTES))].format(
                adjective=adjectives[generator.integers(len(adjectives))]
            )
            quote = quote[0].upper() + quote[1:] + "."
            if len(words) + len(quote.split()) <= count:
                words += quote.split()
                continue
        words += _fill(FILLER[generator.integers(len(FILLER))], generator).split()
    return words[:count]


def _sentence(words: list[str]) -> str:
    """Words as a sentence: capitalised, with a full stop (which cleaning removes)."""
    if not words:
        return ""
    text = " ".join(words)
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _plan(generator: np.random.Generator, config: SyntheticConfig, kind: str) -> Plan:
    low, high = config.long_distance if generator.random() < config.long_share else config.short_distance
    distance = int(generator.integers(low, high + 1))
    gap_words = int(generator.integers(config.gap[0], config.gap[1] + 1))
    lead = generator.integers(0, 2)
    return Plan(
        kind=kind,
        distance=distance,
        lead=_fill(FILLER[generator.integers(len(FILLER))], generator) if lead else "",
        first=f"{FIRST[generator.integers(len(FIRST))]} {OPINIONS[generator.integers(len(OPINIONS))]}",
        gap=_sentence(_filler_words(generator, gap_words)),
        last=OPINIONS[generator.integers(len(OPINIONS))],
        marker=LAST[generator.integers(len(LAST))],
        tail=_sentence(_filler_words(generator, distance - 1, config.quote_share)),
        positive=POSITIVE[generator.integers(len(POSITIVE))],
        negative=NEGATIVE[generator.integers(len(NEGATIVE))],
    )


def _write(plan: Plan, label: int) -> str:
    """The review of `plan` for `label`: its last opinion's adjective is the verdict."""
    verdict, opposite = (plan.positive, plan.negative) if label else (plan.negative, plan.positive)
    last = plan.last.format(adjective=verdict) + "."
    if plan.kind == TURN:
        opinions = f"{plan.first.format(adjective=opposite)}. {plan.gap} {plan.marker} {last}"
    else:
        opinions = last[0].upper() + last[1:]
    parts = [plan.lead, opinions, plan.tail]
    return "<br /><br />".join(part for part in parts if part)


def _reviews(
    generator: np.random.Generator, config: SyntheticConfig, labels: list[int]
) -> list[tuple[str, int]]:
    """(text, verdict distance) per label: turn reviews in pairs of consecutive labels 0 and 1 (the same
    words, the adjectives swapped), plain ones alone."""
    written: list[tuple[str, int]] = []
    # a turn draw writes two reviews, a plain one one: drawn at this rate, turn_share of the reviews are turns
    rate = config.turn_share / (2 - config.turn_share)
    index = 0
    while index < len(labels):
        pair = index + 1 < len(labels) and labels[index] != labels[index + 1]
        kind = TURN if pair and generator.random() < rate else PLAIN
        plan = _plan(generator, config, kind)
        for label in labels[index : index + (2 if kind == TURN else 1)]:
            written.append((_write(plan, label), plan.distance))
        index += 2 if kind == TURN else 1
    return written


def synthetic_reviews(
    count: int, test_fraction: float, seed: int, unlabeled: int = 0, config: SyntheticConfig | None = None
) -> pd.DataFrame:
    """`count` reviews, half positive, split into train and test like the IMDB archive, and
    `unlabeled` unlabeled reviews (split "unsup"), in `sort_reviews`' order, with the raw table's
    columns and `verdict_distance`.

    Their movie is unknown (null), so the validation split is a stratified random one (`data.splits`).
    The labeled reviews of a seed are the same whatever `unlabeled` is.
    """
    if count < 8:
        raise ValueError(f"synthetic_reviews must be at least 8, got {count}")
    if unlabeled < 0:
        raise ValueError(f"synthetic unlabeled reviews must be 0 or more, got {unlabeled}")
    config = config or SyntheticConfig()
    generator = np.random.default_rng(seed)
    test_count = round(count * test_fraction)
    labels = [index % 2 for index in range(count)]
    # each split is written on its own, so that no turn pair has a review in train and its twin in test
    texts = _reviews(generator, config, labels[:test_count])
    texts += _reviews(generator, config, labels[test_count:])
    rows: list[tuple[object, ...]] = []
    for index, (label, (text, distance)) in enumerate(zip(labels, texts, strict=True)):
        split = "test" if index < test_count else "train"
        rating = int(generator.integers(7, 11) if label else generator.integers(1, 5))
        sentiment = "pos" if label else "neg"
        rows.append((f"{split}/{sentiment}/{index}", text, label, rating, split, None, distance))
    rows += _unlabeled_rows(unlabeled, seed, config)
    table = pd.DataFrame.from_records(rows, columns=[*COLUMNS, DISTANCE_COLUMN])
    return sort_reviews(table.astype({DISTANCE_COLUMN: "Int64"}))


def _unlabeled_rows(count: int, seed: int, config: SyntheticConfig) -> list[tuple[object, ...]]:
    """Reviews written like the labeled ones (turn or plain in the same shares), each for a hidden label
    drawn at random, which is kept nowhere (nor is its distance): like IMDB's unlabeled reviews, about
    as many positive as negative. One at a time, so that more of them extend the same stream."""
    generator = np.random.default_rng([seed, UNLABELED_STREAM])
    folder = "/".join(UNSUP_FOLDER)
    rows: list[tuple[object, ...]] = []
    for index in range(count):
        hidden = int(generator.integers(2))
        kind = TURN if generator.random() < config.turn_share else PLAIN
        text = _write(_plan(generator, config, kind), hidden)
        rows.append((f"{folder}/{index}", text, UNLABELED, UNLABELED_RATING, UNSUP, None, None))
    return rows
