"""What a served model does around its predictor: raw review text in, a prediction table out.

Pure and TensorFlow-free: it reuses the pipeline's own cleaning, vocabulary and padding functions (so
serving cannot drift from training) and decides the answer to every kind of bad input. Each input row
gets its own answer, so one bad review never hides the predictions of the others:

| input | answer |
| --- | --- |
| null / NaN | error "review is missing (null)" |
| not a string (number, bool, list, ...) | error "review must be a string, got int" |
| empty or whitespace only | error "review is empty" |
| nothing left after cleaning (HTML-only, punctuation-only) | error "review has no words after cleaning ..." |
| longer than `max_len` words (a 1 MB review) | prediction on the words kept by `truncating`, warning |
| mostly unknown words (another language) | prediction, warning that it is unreliable |

The networks read the vocabulary's word ids, padded to `max_len` (`prepare_reviews`); the TF-IDF
baseline reads the cleaned text whole, so it never truncates, and its unknown words are those outside
its fitted n-gram vocabulary (`serving.baseline_pyfunc`). Both answer with `prediction_table`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sentiment.config import CleaningConfig, SequencesConfig, build
from sentiment.data import cleaning
from sentiment.data.sequences import pad_tokenized
from sentiment.data.vocabulary import OOV_INDEX, Vocabulary, encode

FORMAT_VERSION = 1
# The validation split's fraction, once a `sequences` setting: ignored in the configs of older models.
LEGACY_SEQUENCES_KEY = "validation_fraction"
REVIEW_COLUMN = "review"
POSITIVE, NEGATIVE = "positive", "negative"
OUTPUT_COLUMNS = ("probability_positive", "label", "error", "warning", "words", "oov_share", "truncated")


@dataclass(frozen=True)
class ServingConfig:
    """How a served prediction is made and flagged (saved with the model, so it travels with it)."""

    cleaning: CleaningConfig
    sequences: SequencesConfig
    threshold: float = 0.5
    unreliable_oov_share: float = 0.5
    batch_size: int = 256

    def to_dict(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "serving config") -> ServingConfig:
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{where}: unsupported format_version {data.get('format_version')!r}")
        fields = {key: value for key, value in data.items() if key != "format_version"}
        sequences = fields.get("sequences")
        if isinstance(sequences, Mapping) and LEGACY_SEQUENCES_KEY in sequences:
            # Models saved before the split had its own params section carry it; it never served.
            fields["sequences"] = {k: v for k, v in sequences.items() if k != LEGACY_SEQUENCES_KEY}
        return build(cls, fields, where)


@dataclass(frozen=True)
class ReviewCounts:
    """What every served model reports of each input row besides its probability."""

    valid_rows: np.ndarray  # positions of the rows that can be predicted
    errors: list[str | None]  # one per input row
    words: np.ndarray  # words after cleaning, per input row (0 for error rows)
    unknown_words: np.ndarray  # words the model does not know, per input row
    max_len: int | None  # words the model reads per review (the last or first); None: all of them


@dataclass(frozen=True)
class PreparedReviews(ReviewCounts):
    """Padded sequences for the rows that can be predicted, and the answers for all the others."""

    sequences: np.ndarray  # int32 (valid rows, max_len)


@dataclass(frozen=True)
class CleanedReviews:
    """The reviews that can be predicted, cleaned as the clean stage does, and why the others cannot."""

    texts: list[str]  # cleaned text of each valid row, in the rows' order
    valid_rows: np.ndarray
    errors: list[str | None]  # one per input row


def reviews_from_input(model_input: Any, column: str = REVIEW_COLUMN) -> list[object]:
    """The reviews of a DataFrame (its `column`, or its only column), a Series, a list or one string."""
    if isinstance(model_input, pd.DataFrame):
        if column in model_input.columns:
            return model_input[column].tolist()
        if len(model_input.columns) == 1:
            return model_input.iloc[:, 0].tolist()
        raise ValueError(f"expected a '{column}' column, got columns {list(model_input.columns)}")
    if isinstance(model_input, str):
        return [model_input]
    if isinstance(model_input, pd.Series | np.ndarray | list | tuple):
        return list(model_input)
    raise ValueError(
        f"expected reviews as a DataFrame with a '{column}' column or a list of strings, "
        f"got {type(model_input).__name__}"
    )


def input_error(value: object) -> str | None:
    """Why `value` cannot be a review, or None when it is a non-empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "review is missing (null)"
    if not isinstance(value, str):
        return f"review must be a string, got {type(value).__name__}"
    if not value.strip():
        return "review is empty"
    return None


def clean_reviews(values: Sequence[object], config: CleaningConfig) -> CleanedReviews:
    """The pipeline's cleaning of each valid review; an error for each input that is no review."""
    errors = [input_error(value) for value in values]
    stopwords = cleaning.stopword_set(config)
    cleaned: dict[int, str] = {}
    for position, value in enumerate(values):
        if errors[position] is None:
            text = cleaning.clean_text(str(value), config, stopwords)
            if text:
                cleaned[position] = text
            else:
                errors[position] = "review has no words after cleaning (only HTML, entities or punctuation)"
    valid_rows = np.fromiter(cleaned, dtype=np.int64, count=len(cleaned))
    return CleanedReviews(list(cleaned.values()), valid_rows, errors)


def prepare_reviews(
    values: Sequence[object], vocabulary: Vocabulary, config: ServingConfig
) -> PreparedReviews:
    """Clean, encode and pad the valid reviews exactly as the pipeline's clean/sequences stages do."""
    cleaned = clean_reviews(values, config.cleaning)
    valid_rows = cleaned.valid_rows
    tokenized = encode(vocabulary, cleaned.texts)
    padded = pad_tokenized(
        tokenized, config.sequences.max_len, config.sequences.padding, config.sequences.truncating
    )
    words = np.zeros(len(values), dtype=np.int64)
    words[valid_rows] = tokenized.lengths
    unknown = np.zeros(len(values), dtype=np.int64)
    row_of_token = np.repeat(np.arange(len(valid_rows)), tokenized.lengths)
    unknown_per_valid = np.bincount(row_of_token[tokenized.ids == OOV_INDEX], minlength=len(valid_rows))
    unknown[valid_rows] = unknown_per_valid
    return PreparedReviews(
        valid_rows=valid_rows,
        errors=cleaned.errors,
        words=words,
        unknown_words=unknown,
        max_len=config.sequences.max_len,
        sequences=padded,
    )


def prediction_table(
    prepared: ReviewCounts, probabilities: np.ndarray, config: ServingConfig
) -> pd.DataFrame:
    """One row per input review: probability and label, or the error; plus warnings and word counts.

    Nullable columns are Python objects (None, not NaN), so the REST server answers valid JSON nulls.
    """
    count = len(prepared.errors)
    probability: list[float | None] = [None] * count
    label: list[str | None] = [None] * count
    oov_share: list[float | None] = [None] * count
    warning: list[str | None] = [None] * count
    truncated = [False] * count
    max_len = prepared.max_len
    kept = "last" if config.sequences.truncating == "pre" else "first"
    for position, value in zip(prepared.valid_rows.tolist(), np.ravel(probabilities).tolist(), strict=True):
        probability[position] = float(value)
        label[position] = POSITIVE if value >= config.threshold else NEGATIVE
        words = int(prepared.words[position])
        share = float(prepared.unknown_words[position]) / words
        oov_share[position] = share
        notes = []
        if max_len is not None and words > max_len:
            truncated[position] = True
            notes.append(f"review truncated to its {kept} {max_len} of {words} words")
        if share >= config.unreliable_oov_share:
            notes.append(
                f"{share:.0%} of its words are not in the vocabulary (another language?): "
                "the prediction is unreliable"
            )
        warning[position] = "; ".join(notes) or None
    return pd.DataFrame(
        {
            "probability_positive": pd.Series(probability, dtype=object),
            "label": pd.Series(label, dtype=object),
            "error": pd.Series(prepared.errors, dtype=object),
            "warning": pd.Series(warning, dtype=object),
            "words": prepared.words.astype(np.int64),
            "oov_share": pd.Series(oov_share, dtype=object),
            "truncated": np.array(truncated, dtype=bool),
        },
        columns=list(OUTPUT_COLUMNS),
    )
