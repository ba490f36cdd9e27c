"""The validation split: training reviews held out for every choice, grouped by movie when known.

IMDB's train and test hold disjoint movies (all but one), but a movie has up to 30 reviews within a
split, written about the same plot and actors. A validation review whose movie has other reviews in
the training part is easier than a test review, so a random validation split reads optimistic. The
split is therefore by movie ("movie") whenever every training review has one, and the stratified
random split otherwise ("random": synthetic reviews, or an archive without URL lists). Pure and
deterministic given the seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple, cast

import numpy as np
import pandas as pd

from sentiment.core.errors import DataError

Method = Literal["movie", "random"]
MOVIE: Method = "movie"
RANDOM: Method = "random"
METHODS: tuple[Method, ...] = (MOVIE, RANDOM)
# The sequences file's 0-d string array that names the method the validation split was drawn by.
SPLIT_KEY = "validation_split"


class Split(NamedTuple):
    """Row positions of the training part and of the validation part, and how they were drawn."""

    train: np.ndarray
    validation: np.ndarray
    method: Method


def _check_fraction(fraction: float) -> None:
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_fraction must be between 0 and 1, got {fraction}")


def stratified_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of row positions into (kept, held out), with each label's share preserved."""
    _check_fraction(fraction)
    generator = np.random.default_rng(seed)
    held_out = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = round(len(members) * fraction)
        held_out.append(generator.permutation(members)[:count])
    held_out_positions = np.sort(np.concatenate(held_out)) if held_out else np.array([], dtype=np.int64)
    mask = np.ones(len(labels), dtype=bool)
    mask[held_out_positions] = False
    return np.flatnonzero(mask), held_out_positions


def movie_split(
    labels: np.ndarray, movies: Sequence[Any] | np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of row positions into (kept, held out) with no movie in both parts.

    Each label's target is its share `fraction` of the rows, as in `stratified_split`. The movies are
    visited in a seeded random order, and a movie joins the held-out part only while that overshoots
    neither label's target; so no label is ever over its target, and every movie left in the kept part
    would overshoot one. On IMDB's training reviews (at most 30 per movie, a movie's reviews leaning to
    one label) it meets both targets exactly.
    """
    _check_fraction(fraction)
    labels = np.asarray(labels)
    names, movie_of_row = np.unique(np.asarray(movies, dtype=str), return_inverse=True)
    classes, label_of_row = np.unique(labels, return_inverse=True)
    counts = np.zeros((len(names), len(classes)), dtype=np.int64)
    np.add.at(counts, (movie_of_row, label_of_row), 1)
    targets = np.array([round(int(total) * fraction) for total in counts.sum(axis=0)], dtype=np.int64)
    taken = np.zeros(len(classes), dtype=np.int64)
    held = np.zeros(len(names), dtype=bool)
    for movie in np.random.default_rng(seed).permutation(len(names)):
        if np.all(taken + counts[movie] <= targets):
            held[movie] = True
            taken += counts[movie]
            if np.array_equal(taken, targets):
                break
    held_rows = held[movie_of_row]
    return np.flatnonzero(~held_rows), np.flatnonzero(held_rows)


def validation_split(
    labels: np.ndarray,
    movies: Sequence[Any] | np.ndarray | None,
    fraction: float,
    seed: int,
    by_movie: bool = True,
) -> Split:
    """The validation split of the training rows: by movie when `by_movie` and every row has a movie
    (None, NaN or an empty string is no movie), else stratified random."""
    labels = np.asarray(labels)
    if movies is not None and len(movies) != len(labels):
        raise ValueError(f"{len(movies)} movies for {len(labels)} labels: expected one movie per row")
    known = movies is not None and len(labels) > 0 and not _any_unknown(movies)
    if by_movie and known:
        assert movies is not None
        kept, held_out = movie_split(labels, movies, fraction, seed)
        return Split(kept, held_out, MOVIE)
    kept, held_out = stratified_split(labels, fraction, seed)
    return Split(kept, held_out, RANDOM)


def _any_unknown(movies: Sequence[Any] | np.ndarray) -> bool:
    values = pd.Series(np.asarray(movies, dtype=object), dtype=object)
    return bool(values.isna().any() or (values.astype(str).str.strip() == "").any())


def recorded_method(arrays: Mapping[str, np.ndarray], where: str | Path) -> Method:
    """The method a sequences file's validation split was drawn by (its `SPLIT_KEY` array)."""
    value = arrays.get(SPLIT_KEY)
    method = str(value) if value is not None and value.ndim == 0 else None
    if method not in METHODS:
        raise DataError(
            f"the sequences do not say how their validation split was drawn ('{SPLIT_KEY}' is "
            f"{'missing' if value is None else repr(value.tolist())}): re-run the sequences stage",
            where,
        )
    return cast(Method, method)
