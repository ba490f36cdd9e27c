"""Scoring with a registered model: reviews in batches with a progress bar, files in and out, metrics.

Used by `sentiment predict` / `sentiment score` and by the register stage (to score the candidate and
the champion, review by review, on the current test reviews). The model is any pyfunc that takes a
`review` column, normally `models:/imdb-sentiment@champion` (see `serving.pyfunc`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from sentiment.core.errors import DataError, SentimentError
from sentiment.core.files import atomic_path
from sentiment.evaluation.metrics import binary_metrics
from sentiment.serving.inputs import NEGATIVE, OUTPUT_COLUMNS, POSITIVE, REVIEW_COLUMN
from sentiment.serving.review_folder import read_review_folder
from sentiment.tracking.uris import redacted

SCORING_BATCH = 1000
FORMATS = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet"}


class ModelNotFound(SentimentError):
    """The model URI names no model (no registered model, alias or version of that name)."""


def load_model(model_uri: str, tracking_uri: str) -> Any:
    """The pyfunc model at `model_uri` (e.g. models:/imdb-sentiment@champion) in that tracking store."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from sentiment.tracking.runs import using_tracking_uri

    try:
        with using_tracking_uri(tracking_uri):
            return mlflow.pyfunc.load_model(model_uri)
    except MlflowException as error:
        raise ModelNotFound(
            redacted(
                f"cannot load {model_uri} from the MLflow store {tracking_uri}: {error.message} "
                "(run the register stage first, or set MLFLOW_TRACKING_URI to the store that holds it)"
            )
        ) from None


def predict_reviews(
    model: Any, reviews: Sequence[object], batch_size: int = SCORING_BATCH, description: str = "scoring"
) -> pd.DataFrame:
    """The model's prediction table for every review, in batches, with a progress bar."""
    parts = []
    with tqdm(total=len(reviews), desc=description, unit=" reviews", mininterval=0.5) as progress:
        for start in range(0, len(reviews), batch_size):
            chunk = pd.Series(list(reviews[start : start + batch_size]), dtype=object, name=REVIEW_COLUMN)
            parts.append(model.predict(chunk.to_frame()))
            progress.update(len(chunk))
    if not parts:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in OUTPUT_COLUMNS})
    return pd.concat(parts, ignore_index=True)


def _require_predictions(table: pd.DataFrame) -> None:
    failed = table["error"].notna()
    if failed.any():
        first = int(np.flatnonzero(failed.to_numpy())[0])
        raise DataError(
            f"{int(failed.sum())} reviews got no prediction, e.g. row {first}: {table['error'].iloc[first]}"
        )


def evaluate(model: Any, reviews: Sequence[str], labels: np.ndarray, threshold: float) -> dict[str, float]:
    """Metrics of the model on labelled raw reviews; every review must get a prediction."""
    table = predict_reviews(model, reviews, description="evaluating")
    _require_predictions(table)
    return binary_metrics(labels, table["probability_positive"].to_numpy(dtype=np.float64), threshold)


def probabilities(model: Any, reviews: Sequence[str], description: str = "scoring") -> np.ndarray:
    """The model's probability of positive for each raw review; every review must get a prediction
    (the behavioural suite's `predict`)."""
    table = predict_reviews(model, reviews, description=description)
    _require_predictions(table)
    return table["probability_positive"].to_numpy(dtype=np.float64)


def correct_predictions(model: Any, reviews: Sequence[str], labels: np.ndarray) -> np.ndarray:
    """Per labelled raw review (1: positive), whether the model's served `label` is the right one.

    Every review must get a prediction. The label is the one users get (probability >= the threshold
    the model carries), so two models compared this way are compared as they answer.
    """
    table = predict_reviews(model, reviews, description="evaluating")
    _require_predictions(table)
    expected = np.where(np.asarray(labels).reshape(-1) == 1, POSITIVE, NEGATIVE)
    return np.asarray(table["label"].to_numpy(dtype=object) == expected, dtype=bool)


def _format(path: Path) -> str:
    if path.suffix.lower() not in FORMATS:
        raise DataError(f"unsupported file type '{path.suffix}': expected one of {sorted(FORMATS)}", path)
    return FORMATS[path.suffix.lower()]


def read_reviews_file(path: Path, column: str) -> pd.DataFrame:
    """A CSV (the review column read as text) or Parquet file holding a review column, or a folder of
    `.txt` reviews (`serving.review_folder`: a `file` column and the review column)."""
    if path.is_dir():
        return read_review_folder(path, column)
    kind = _format(path)
    if not path.is_file():
        raise DataError("input file not found", path)
    try:
        if kind == "CSV":
            table = pd.read_csv(path, dtype={column: object}, keep_default_na=False, na_values=[""])
        else:
            table = pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise DataError(f"cannot read the {kind} file: {error}", path) from None
    if column not in table.columns:
        raise DataError(
            f"no '{column}' column (columns: {list(table.columns)}); choose one with --column", path
        )
    return table


def output_format(target: Path) -> str:
    """The format a scored table is written in (by the suffix of `target`): CSV or Parquet."""
    return _format(target)


def score_table(model: Any, table: pd.DataFrame, column: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(`table`'s rows with the model's prediction columns, the prediction table alone).

    A prediction column whose name the input already uses (e.g. `label`) is added as `predicted_<name>`.
    """
    predictions = predict_reviews(model, table[column].astype(object).tolist())
    renamed = predictions.rename(
        columns={name: f"predicted_{name}" for name in predictions.columns if name in table.columns}
    )
    return pd.concat([table.reset_index(drop=True), renamed], axis=1), predictions


def write_table(scored: pd.DataFrame, target: Path) -> None:
    """Write a scored table atomically, as CSV or Parquet by `target`'s suffix."""
    kind = _format(target)
    with atomic_path(target) as temporary:
        if kind == "CSV":
            scored.to_csv(temporary, index=False)
        else:
            scored.to_parquet(temporary, index=False)


def score_file(model: Any, source: Path, target: Path, column: str = REVIEW_COLUMN) -> pd.DataFrame:
    """Write `source`'s rows (a CSV or Parquet file, or a folder of `.txt` reviews) with the model's
    prediction columns to `target` (CSV or Parquet, atomically: nothing is written on an error).

    A prediction column whose name the input already uses (e.g. `label`) is written as `predicted_<name>`.
    """
    output_format(target)
    scored, _ = score_table(model, read_reviews_file(source, column), column)
    write_table(scored, target)
    return scored
