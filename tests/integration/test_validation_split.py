"""The validation split through the real stages: drawn by movie when the archive names each review's
movie, fitted-on only in its training part, recorded in the sequences and checked by validate_sequences."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest

from conftest import ArchiveFactory, WorkspaceFactory, movie_url
from sentiment.config.workspace import Workspace
from sentiment.core.errors import DataError, ValidationFailed
from sentiment.stages import data_validation, readers
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages

MOVIES = 12  # train movies of 2 positive and 2 negative reviews each: a 25% split is 3 whole movies
FRACTION = 0.25


def only_word(review_id: str) -> str:
    """A word that occurs in this one review and no other."""
    return "only" + review_id.replace("/", "")


def review_files() -> dict[str, str]:
    """Train: MOVIES movies of 2 pos and 2 neg reviews; test: 4 reviews of other movies."""
    files: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    per_folder = {"train": MOVIES * 2, "test": 2}
    for split, count in per_folder.items():
        for sentiment, rating in (("pos", 9), ("neg", 2)):
            listed = lists.setdefault(f"aclImdb/{split}/urls_{sentiment}.txt", [])
            for number in range(count):
                movie = f"tt{(0 if split == 'train' else 100) + number // 2:07d}"
                review_id = f"{split}/{sentiment}/{number}"
                files[f"aclImdb/{review_id}_{rating}.txt"] = (
                    f"A {sentiment} review of {movie}, {only_word(review_id)} among its words.<br />"
                )
                listed.append(movie_url(movie))
    return files | {path: "".join(f"{url}\n" for url in urls) for path, urls in lists.items()}


def preprocessed(
    make_workspace: WorkspaceFactory, make_archive: ArchiveFactory, overrides: Mapping[str, object]
) -> Workspace:
    workspace = make_workspace(
        {
            "splits": {"validation_fraction": FRACTION, **overrides},
            # each review has a word of its own: a quarter of the validation and test tokens are <OOV>
            "validation": {"sequences": {"max_oov_rate": 1.0}},
        },
        fetch=False,
    )
    raw_stages.fetch_raw(workspace, archive=make_archive(review_files()))
    preprocessing_stages.clean(workspace)
    preprocessing_stages.vocabulary(workspace)
    preprocessing_stages.sequences(workspace)
    return workspace


@pytest.mark.parametrize(("by_movie", "method"), [(True, "movie"), (False, "random")])
def test_the_vocabulary_holds_the_words_of_the_training_part_and_none_of_the_validation_part(
    make_workspace: WorkspaceFactory, make_archive: ArchiveFactory, by_movie: bool, method: str
) -> None:
    workspace = preprocessed(make_workspace, make_archive, {"by_movie": by_movie})
    arrays = readers.read_sequences(workspace)
    assert str(arrays["validation_split"]) == method
    assert len(arrays["ids_validation"]) == 2 * round(MOVIES * 2 * FRACTION)  # 6 of each label

    words = readers.read_vocabulary(workspace).word_index
    assert all(only_word(review) in words for review in arrays["ids_train"])
    assert not [review for review in arrays["ids_validation"] if only_word(review) in words]
    assert readers.read_vocabulary(workspace).document_count == len(arrays["ids_train"])
    # in the validation sequences, each review's own word is out of the vocabulary: <OOV>
    assert (arrays["x_validation"] == 1).any(axis=1).all()
    assert data_validation.validate_sequences(workspace).is_file()


def test_by_movie_no_movie_has_reviews_on_both_sides(
    make_workspace: WorkspaceFactory, make_archive: ArchiveFactory
) -> None:
    workspace = preprocessed(make_workspace, make_archive, {})
    arrays = readers.read_sequences(workspace)
    movie = readers.read_raw(workspace).set_index("review_id")["movie"]
    train_movies, validation_movies = (set(movie[arrays[f"ids_{part}"]]) for part in ("train", "validation"))
    assert len(validation_movies) == 3 and len(train_movies) == MOVIES - 3
    assert not train_movies & validation_movies
    assert arrays["y_validation"].mean() == 0.5

    random_split = preprocessed(make_workspace, make_archive, {"by_movie": False})
    random_arrays = readers.read_sequences(random_split)
    random_validation = set(movie[random_arrays["ids_validation"]])
    # the random split, on the same reviews and seed, spreads a movie's reviews over both sides
    assert random_validation & set(movie[random_arrays["ids_train"]])


def test_validate_sequences_refuses_sequences_drawn_by_other_splits_params(
    make_workspace: WorkspaceFactory, make_archive: ArchiveFactory
) -> None:
    workspace = preprocessed(make_workspace, make_archive, {"by_movie": False})
    params = workspace.params.paths
    stale = readers.read_sequences(workspace)
    by_movie = preprocessed(make_workspace, make_archive, {})
    (by_movie.root / params.sequences).write_bytes((workspace.root / params.sequences).read_bytes())
    with pytest.raises(ValidationFailed) as failure:
        data_validation.validate_sequences(by_movie)
    message = str(failure.value)
    assert "sequence_splits.drawn_by" in message and "sequences.in_clean" in message
    assert str(stale["validation_split"]) == "random"


def test_the_movie_column_reaches_the_cleaned_table_and_passes_validate_text(
    make_workspace: WorkspaceFactory, make_archive: ArchiveFactory
) -> None:
    workspace = preprocessed(make_workspace, make_archive, {})
    cleaned = readers.read_clean(workspace)
    assert cleaned["movie"].str.fullmatch(r"tt[0-9]{7}").all()
    assert data_validation.validate_text(workspace).is_file()
    assert readers.read_raw(preprocessed(make_workspace, make_archive, {}))["movie"].notna().all()


def test_a_malformed_movie_id_fails_validate_text(workspace: Workspace) -> None:
    path = workspace.path(workspace.params.paths.raw_table)
    raw = pd.read_parquet(path)
    raw["movie"] = np.where(raw.index == 0, "0453418", None)
    raw.to_parquet(path, index=False)
    preprocessing_stages.clean(workspace)
    with pytest.raises(ValidationFailed, match=r"raw_reviews\.movie"):
        data_validation.validate_text(workspace)


def test_sequences_without_the_split_method_cannot_be_validated(preprocessed_workspace: Workspace) -> None:
    path = preprocessed_workspace.sequences_file
    arrays = readers.read_sequences(preprocessed_workspace)
    del arrays["validation_split"]
    with path.open("wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="sequences lack the array 'validation_split'"):
        data_validation.validate_sequences(preprocessed_workspace)
