"""Batch scoring with a drift report: the stage function of the daily-scoring deployment (flows/scoring.py).

New reviews (a CSV or Parquet file, or a folder of `.txt` files) are scored by the registered model
(`@champion` unless told otherwise) and written, with their predictions, to the output path; then the
batch is compared with the training reviews (`evaluation.drift`) and the report written under
reports/drift/ (`Workspace.drift_report`): an HTML page and a JSON record.

The reference is a sample of the training reviews (the raw table's train split, `drift.reference_reviews`
of them, drawn with the params seed) scored by the same model in the same run, so that the
out-of-vocabulary, truncated and predicted-positive shares of both sides are those of the model that
scored the batch, whichever version the champion alias names today (a summary written by the
register stage would describe the model registered then, not one restored by a rollback). It costs
one scoring of those reviews per batch.

Every input is read and scored before anything is written, each file atomically: a bad input (a
missing column, an unreadable file) leaves no partial output.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sentiment.config.workspace import Workspace
from sentiment.core.errors import DataError
from sentiment.core.files import write_json, write_text
from sentiment.evaluation import drift, drift_report
from sentiment.serving.inputs import REVIEW_COLUMN, clean_reviews
from sentiment.stages.model_registry import champion_uri, mlflow_uri
from sentiment.stages.readers import read_raw

logger = logging.getLogger(__name__)
BATCH_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
TRAIN_SPLIT = "train"


@dataclass(frozen=True)
class BatchOutcome:
    """What one scored batch wrote and concluded."""

    batch: str
    scored: Path  # the scored table
    report_html: Path
    report_json: Path
    verdict: str  # "drift", "no drift" or "too few reviews"
    drifted: tuple[str, ...]  # the statistics over their thresholds
    reviews: int
    markdown: str  # the report in Markdown (the Prefect artifact)
    rows: list[dict[str, str]]  # one per statistic (the Prefect table artifact)

    @property
    def drift(self) -> bool:
        return self.verdict == drift.DRIFT


def batch_name(source: Path, created: datetime) -> str:
    """The default name of a batch: when it was scored and what it was read from."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", source.stem).strip("-._") or "batch"
    return f"{created:%Y%m%dT%H%M%SZ}-{stem}"[:128]


def _require_name(batch: str) -> str:
    if not BATCH_NAME.fullmatch(batch):
        raise DataError(
            f"batch name {batch!r}: expected letters, digits, '.', '_' or '-' (it names the report files)"
        )
    return batch


def _sample(reviews: list[object], predictions: pd.DataFrame, workspace: Workspace) -> drift.ReviewSample:
    """The drift statistics' view of scored reviews: their prediction rows and cleaned texts."""
    cleaned = clean_reviews(reviews, workspace.params.cleaning)
    by_row = dict(zip(cleaned.valid_rows.tolist(), cleaned.texts, strict=True))
    scored_rows = np.flatnonzero(predictions["error"].isna().to_numpy())
    # a champion cleaned with other params may keep a review these params leave empty: no words then
    return drift.review_sample(predictions, [by_row.get(int(row), "") for row in scored_rows])


def reference_reviews(workspace: Workspace) -> list[object]:
    """The reference: `drift.reference_reviews` training reviews, drawn with the params seed."""
    raw = read_raw(workspace)
    train = raw.loc[raw["split"] == TRAIN_SPLIT, "text"].reset_index(drop=True)
    if train.empty:
        raise DataError(
            "the raw reviews hold no training review to compare batches with", workspace.raw_table
        )
    count = min(workspace.params.drift.reference_reviews, len(train))
    chosen = np.sort(np.random.default_rng(workspace.params.seed).choice(len(train), count, replace=False))
    return train.iloc[chosen].tolist()


def score_batch(
    workspace: Workspace,
    source: Path,
    target: Path,
    column: str = REVIEW_COLUMN,
    model_uri: str | None = None,
    batch: str | None = None,
) -> BatchOutcome:
    """Score the reviews at `source` into `target` and write the batch's drift report."""
    from sentiment.serving import scoring

    created = datetime.now(UTC)
    batch = _require_name(batch or batch_name(source, created))
    scoring.output_format(target)
    table = scoring.read_reviews_file(source, column)
    uri = model_uri or champion_uri(workspace)
    model = scoring.load_model(uri, mlflow_uri(workspace))
    scored, predictions = scoring.score_table(model, table, column)
    batch_reviews = table[column].astype(object).tolist()
    reference = reference_reviews(workspace)
    reference_predictions = scoring.predict_reviews(model, reference, description="reference")
    report = drift.compare(
        _sample(reference, reference_predictions, workspace),
        _sample(batch_reviews, predictions, workspace),
        workspace.params.drift,
    )
    scoring.write_table(scored, target)
    html_path, json_path = workspace.drift_report(batch)
    stamp = created.isoformat(timespec="seconds")
    write_text(html_path, drift_report.drift_html(report, batch, stamp))
    record = {"batch": batch, "created": stamp, "source": str(source), "scored": str(target), "model": uri}
    write_json(json_path, {**record, **report.to_dict()})
    logger.info(
        "batch %s: %s (%d reviews; report %s)", batch, report.verdict, report.batch_reviews, html_path
    )
    return BatchOutcome(
        batch=batch,
        scored=target,
        report_html=html_path,
        report_json=json_path,
        verdict=report.verdict,
        drifted=tuple(report.drifted),
        reviews=report.batch_reviews,
        markdown=drift_report.drift_markdown(report, batch),
        rows=drift_report.statistic_rows(report),
    )
