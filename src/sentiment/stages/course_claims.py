"""Stage `claims`: the course's claims checked on this run's models, after every training stage.

It reads what the training stages wrote (each model's metrics, each variant's embedding neighbours),
the sequences (the words' polarity in the training reviews, the test reviews per length bucket) and
runs the clipping experiment (`modeling.clipping`, a few seconds); `evaluation.claims` decides each
claim. It writes reports/course_claims.md (the table), reports/course_claims.json (a DVC metric) and
reports/clipping/ (the experiment's CSV and figure), and logs them to an MLflow run of their own
("course-claims", with the pipeline run's lineage tags). Everything is staged first and published
only once the MLflow run succeeded: a failure leaves the previous report whole.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sentiment.config import BASELINE
from sentiment.config.workspace import Workspace
from sentiment.core.errors import DataError
from sentiment.core.files import atomic_directory, atomic_path, read_json
from sentiment.evaluation import buckets, claims_report, plots
from sentiment.evaluation.claims import Claim, Evidence, evaluate_claims
from sentiment.evaluation.outputs import json_safe
from sentiment.evaluation.polarity import word_polarity
from sentiment.stages.readers import read_sequences, read_vocabulary
from sentiment.stages.synthetic_profile import models_for

logger = logging.getLogger(__name__)

RUN_NAME = "course-claims"
REPORT_TAG = "report"  # the claims run's tag, beside the models' `variant`
CLIPPING_FILES = ("clipping.csv", "clipping.png")


def _read_report(path: Path) -> Any:
    try:
        return read_json(path)
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read this report ({error}): re-run the stage that writes it", path) from None


def trained_metrics(workspace: Workspace) -> dict[str, Mapping[str, Any]]:
    """The metrics file of every model of params.yaml (and the baseline) that has one."""
    names = [*workspace.params.networks, BASELINE]
    return {name: _read_report(path) for name in names if (path := workspace.evaluation_file(name)).is_file()}


def embedding_neighbours(workspace: Workspace) -> dict[str, dict[str, list[str]]]:
    """variant -> probe word -> its nearest words, from each variant's neighbours.json."""
    found: dict[str, dict[str, list[str]]] = {}
    for name in workspace.params.networks:
        directory = workspace.embeddings_dir(name)
        path = directory / "neighbours.json" if directory is not None else None
        if path is None or not path.is_file():
            continue
        data = _read_report(path)
        try:
            found[name] = {
                probe: [str(entry["word"]) for entry in entries] for probe, entries in data.items()
            }
        except (AttributeError, KeyError, TypeError):
            raise DataError(
                "expected probe word -> [{word, cosine}, ...]: re-run train@" + name, path
            ) from None
    return found


def gather_evidence(
    workspace: Workspace, arrays: Mapping[str, np.ndarray], clipping_figures: Mapping[str, Any] | None
) -> Evidence:
    """What the claims are decided on: the training stages' reports, read, and the sequences' figures."""
    params = workspace.params
    neighbours = embedding_neighbours(workspace)
    listed = (word for table in neighbours.values() for words in table.values() for word in words)
    words = sorted({*params.diagnostics.probe_words, *listed})
    polarity = word_polarity(
        arrays["x_train"], arrays["y_train"], read_vocabulary(workspace).word_index, words
    )
    return Evidence(
        metrics=trained_metrics(workspace),
        models=models_for(params, arrays),
        neighbours=neighbours,
        polarity=polarity,
        length_reviews=buckets.reviews_by_bucket(arrays["lengths_test"], params.diagnostics.length_buckets),
        clipping=clipping_figures,
    )


def run_clipping(
    workspace: Workspace, arrays: Mapping[str, np.ndarray]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The clipping experiment on the training sequences, with the training's clipnorm."""
    from sentiment.modeling import clipping  # TensorFlow: imported only when the stage runs

    params = workspace.params
    steps = clipping.clipping_experiment(
        arrays["x_train"], arrays["y_train"], params.claims.clipping, params.training.clipnorm, params.seed
    )
    figures = clipping.summary(steps, params.training.clipnorm)
    # what the network read: the sequences may be narrower than `tokens`
    figures["tokens"] = min(params.claims.clipping.tokens, int(arrays["x_train"].shape[1]))
    return steps, figures


def _context(workspace: Workspace, evidence: Evidence) -> list[str]:
    names = [*workspace.params.networks, BASELINE]
    trained = [name for name in names if name in evidence.metrics]
    lines = [f"models with metrics: {', '.join(trained) or 'none'}"]
    missing = [name for name in names if name not in evidence.metrics]
    if missing:
        lines.append(f"no metrics (their claims are not measured): {', '.join(missing)}")
    by_length = ", ".join(
        f"{bucket.replace('-inf', ' or more')} tokens: {count}"
        for bucket, count in evidence.length_reviews.items()
    )
    lines.append(f"test reviews: {sum(evidence.length_reviews.values())} ({by_length})")
    return lines


def _tracked_report(
    workspace: Workspace, rows: Sequence[Claim], metric_data: Any, clipping_dir: Path,
    markdown: Callable[[str], str],
) -> str:  # fmt: skip
    """Log the report to an MLflow run of its own; returns the report, which names that run."""
    import mlflow

    from sentiment.tracking import runs as tracking
    from sentiment.tracking.lineage import lineage
    from sentiment.tracking.orphans import process_tags
    from sentiment.tracking.uris import run_url

    params = workspace.params
    parameters = {
        **tracking.flatten("claims", params.claims),
        "seed": params.seed,
        "training.clipnorm": params.training.clipnorm,
        "diagnostics.length_buckets": ",".join(map(str, params.diagnostics.length_buckets)),
    }
    run_lineage = lineage(workspace, {"sequences": workspace.sequences_file})
    tags = {REPORT_TAG: RUN_NAME, **process_tags(workspace)}
    with tracking.tracked_run(workspace, RUN_NAME, run_lineage, parameters, tags) as run:
        url = run_url(tracking.tracking_uri(workspace), run.info.experiment_id, run.info.run_id)
        text = markdown(
            f"MLflow run {RUN_NAME}: [{run.info.run_id[:8]}]({url}); pipeline run {run_lineage.pipeline_run}"
        )
        mlflow.log_metrics(claims_report.claims_run_metrics(rows))
        mlflow.log_text(text, workspace.claims_report.name)
        mlflow.log_dict(metric_data, workspace.claims_metrics.name)
        mlflow.log_artifacts(str(clipping_dir), artifact_path=workspace.clipping_dir.name)
    return text


def claims(workspace: Workspace) -> Path:
    """Stage `claims`: decide every claim of the course on this run, write and log the report."""
    arrays = read_sequences(workspace)
    steps, figures = run_clipping(workspace, arrays)
    evidence = gather_evidence(workspace, arrays, figures)
    rows = evaluate_claims(evidence, workspace.params.claims)
    metric_data = json_safe(claims_report.claims_metrics(rows))
    context = _context(workspace, evidence)
    image = (
        "![Loss and gradient norm per step, with and without clipping]"
        f"({workspace.clipping_dir.name}/clipping.png)"
    )
    with (
        atomic_directory(workspace.clipping_dir, root=workspace.root, entries=CLIPPING_FILES) as clipping_dir,
        atomic_path(workspace.claims_report) as report,
        atomic_path(workspace.claims_metrics) as metric_file,
        atomic_path(workspace.claims_summary) as summary_file,
    ):
        steps.to_csv(clipping_dir / "clipping.csv", index=False, float_format="%.6g")
        plots.clipping_steps(steps, workspace.params.training.clipnorm, clipping_dir / "clipping.png")
        markdown = _tracked_report(
            workspace, rows, metric_data, clipping_dir,
            lambda run_line: claims_report.claims_markdown(rows, [*context, run_line], [image]),
        )  # fmt: skip
        report.write_text(markdown, encoding="utf-8")
        metric_file.write_text(json.dumps(metric_data, indent=2) + "\n", encoding="utf-8")
        summary = claims_report.claims_summary(rows)
        summary_file.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    for row in rows:
        logger.info("claim %s: %s (%s)", row.id, row.verdict, row.reason)
    return workspace.claims_report
