"""The validation split: by movie where every review has one (no movie on both sides), else stratified
random; seeded, each label near its share. Example tests, then Hypothesis properties."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment.core.errors import DataError
from sentiment.data.splits import (
    MOVIE,
    RANDOM,
    SPLIT_KEY,
    movie_split,
    recorded_method,
    stratified_split,
    validation_split,
)


def test_the_random_split_keeps_each_label_share_and_is_seeded() -> None:
    labels = np.array([0] * 60 + [1] * 40)
    np.random.default_rng(0).shuffle(labels)
    kept, held_out = stratified_split(labels, 0.1, seed=42)
    assert sorted(np.concatenate([kept, held_out]).tolist()) == list(range(100))
    assert np.bincount(labels[held_out]).tolist() == [6, 4]
    assert np.bincount(labels[kept]).tolist() == [54, 36]
    again_kept, again_held_out = stratified_split(labels, 0.1, seed=42)
    np.testing.assert_array_equal(again_held_out, held_out)
    np.testing.assert_array_equal(again_kept, kept)
    assert not np.array_equal(stratified_split(labels, 0.1, seed=7)[1], held_out)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_the_split_fraction_must_be_strictly_between_zero_and_one(fraction: float) -> None:
    with pytest.raises(ValueError, match="validation_fraction"):
        stratified_split(np.array([0, 1, 0, 1]), fraction, seed=1)
    with pytest.raises(ValueError, match="validation_fraction"):
        movie_split(np.array([0, 1, 0, 1]), ["a", "a", "b", "b"], fraction, seed=1)


def imdb_like(movies: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Reviews as IMDB has them: 1 to 30 per movie, most of a movie's reviews of one label."""
    generator = np.random.default_rng(seed)
    labels, names = [], []
    for movie in range(movies):
        lean = generator.beta(0.5, 0.5)
        count = int(generator.integers(1, 31))
        labels += (generator.random(count) < lean).astype(int).tolist()
        names += [f"tt{movie:07d}"] * count
    return np.array(labels), np.array(names, dtype=object)


def test_by_movie_on_imdb_like_reviews_meets_both_label_targets() -> None:
    labels, movies = imdb_like(800, seed=3)
    split = validation_split(labels, movies, 0.1, seed=42)
    assert split.method == MOVIE
    assert not set(movies[split.train]) & set(movies[split.validation])
    targets = [round(int(count) * 0.1) for count in np.bincount(labels)]
    assert np.bincount(labels[split.validation]).tolist() == targets


def test_movies_are_used_only_when_every_row_has_one_and_by_movie_is_on() -> None:
    labels = np.array([0, 1] * 10)
    movies: list[Any] = [f"tt{index // 2}" for index in range(20)]
    assert validation_split(labels, movies, 0.2, seed=1).method == MOVIE
    assert validation_split(labels, movies, 0.2, seed=1, by_movie=False).method == RANDOM
    for unknown in (None, float("nan"), "", " "):
        partly = [*movies[:-1], unknown]
        assert validation_split(labels, partly, 0.2, seed=1).method == RANDOM
    assert validation_split(labels, None, 0.2, seed=1).method == RANDOM
    assert validation_split(labels, [None] * 20, 0.2, seed=1).method == RANDOM


def test_the_random_fallback_is_the_stratified_split() -> None:
    labels = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0] * 3)
    split = validation_split(labels, [None] * len(labels), 0.2, seed=5)
    kept, held_out = stratified_split(labels, 0.2, seed=5)
    np.testing.assert_array_equal(split.train, kept)
    np.testing.assert_array_equal(split.validation, held_out)


def test_one_movie_per_row_splits_by_movie_as_exactly_as_at_random() -> None:
    labels = np.array([0] * 30 + [1] * 20)
    split = validation_split(labels, [f"tt{index}" for index in range(50)], 0.1, seed=0)
    assert split.method == MOVIE
    assert np.bincount(labels[split.validation]).tolist() == [3, 2]


def test_a_movie_list_of_another_length_is_refused() -> None:
    with pytest.raises(ValueError, match="3 movies for 4 labels"):
        validation_split(np.array([0, 1, 0, 1]), ["a", "b", "c"], 0.5, seed=0)


def test_the_recorded_method_is_read_back_or_refused() -> None:
    assert recorded_method({SPLIT_KEY: np.array("movie")}, "s.npz") == MOVIE
    for arrays in ({}, {SPLIT_KEY: np.array("by hand")}, {SPLIT_KEY: np.array(["movie"])}):
        with pytest.raises(DataError, match="re-run the sequences stage"):
            recorded_method(arrays, "s.npz")


# --- properties ----------------------------------------------------------------------------------

PROPERTIES = settings(max_examples=60, deadline=None, derandomize=True, database=None)


@st.composite
def reviews(draw: Any, pure: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Labels and movies: up to 40 movies of 1 to 8 reviews; with `pure`, each movie of one label."""
    sizes = draw(st.lists(st.integers(1, 8), min_size=1, max_size=40))
    labels, movies = [], []
    for movie, size in enumerate(sizes):
        if pure:
            labels += [draw(st.integers(0, 1))] * size
        else:
            labels += draw(st.lists(st.integers(0, 1), min_size=size, max_size=size))
        movies += [f"tt{movie}"] * size
    return np.array(labels), np.array(movies, dtype=object)


fractions = st.floats(0.05, 0.5)
seeds = st.integers(0, 2**32 - 1)


def targets(labels: np.ndarray, fraction: float) -> dict[int, int]:
    return {int(label): round(int((labels == label).sum()) * fraction) for label in np.unique(labels)}


def counts(labels: np.ndarray) -> dict[int, int]:
    return {int(label): int((labels == label).sum()) for label in np.unique(labels)}


@PROPERTIES
@given(data=reviews(), fraction=fractions, seed=seeds)
def test_no_movie_is_on_both_sides_and_every_row_is_on_one(
    data: tuple[np.ndarray, np.ndarray], fraction: float, seed: int
) -> None:
    labels, movies = data
    split = validation_split(labels, movies, fraction, seed)
    assert split.method == MOVIE
    assert not set(movies[split.train]) & set(movies[split.validation])
    assert sorted([*split.train.tolist(), *split.validation.tolist()]) == list(range(len(labels)))


@PROPERTIES
@given(data=reviews(), fraction=fractions, seed=seeds)
def test_no_label_overshoots_its_target_and_no_movie_left_in_train_would_fit(
    data: tuple[np.ndarray, np.ndarray], fraction: float, seed: int
) -> None:
    labels, movies = data
    split = validation_split(labels, movies, fraction, seed)
    goal, taken = targets(labels, fraction), counts(labels[split.validation])
    assert all(taken.get(label, 0) <= goal[label] for label in goal)
    # The greedy fills the part: any training movie would overshoot a label's target.
    for movie in set(movies[split.train]):
        extra = counts(labels[movies == movie])
        assert any(taken.get(label, 0) + extra[label] > goal[label] for label in extra), movie


@PROPERTIES
@given(data=reviews(pure=True), fraction=fractions, seed=seeds)
def test_with_single_label_movies_each_label_is_within_one_movie_of_its_target(
    data: tuple[np.ndarray, np.ndarray], fraction: float, seed: int
) -> None:
    labels, movies = data
    split = validation_split(labels, movies, fraction, seed)
    goal, taken = targets(labels, fraction), counts(labels[split.validation])
    largest = max(int((movies == movie).sum()) for movie in set(movies))
    # so the validation part's label shares are those of the training reviews, up to one movie each
    assert all(goal[label] - largest < taken.get(label, 0) <= goal[label] for label in goal)


@PROPERTIES
@given(data=reviews(), fraction=fractions, seed=seeds)
def test_the_same_seed_draws_the_same_split(
    data: tuple[np.ndarray, np.ndarray], fraction: float, seed: int
) -> None:
    labels, movies = data
    first, second = (
        validation_split(labels, movies, fraction, seed),
        validation_split(labels, movies, fraction, seed),
    )
    np.testing.assert_array_equal(first.validation, second.validation)
    np.testing.assert_array_equal(first.train, second.train)
    shuffled = np.random.default_rng(0).permutation(len(labels))  # the split follows rows, not positions
    again = validation_split(labels[shuffled], movies[shuffled], fraction, seed)
    assert sorted(shuffled[again.validation].tolist()) == first.validation.tolist()


@PROPERTIES
@given(seed=seeds, other=seeds)
def test_another_seed_draws_another_split(seed: int, other: int) -> None:
    labels, movies = imdb_like(200, seed=1)
    if seed != other:
        first = validation_split(labels, movies, 0.1, seed).validation
        assert not np.array_equal(first, validation_split(labels, movies, 0.1, other).validation)
