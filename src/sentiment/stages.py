"""The pipeline stages: one function per stage, and the only module that knows file paths.

`dvc.yaml` runs these through the CLI (`sentiment stage NAME`) and the Prefect flows call them
directly, so both orchestrators run exactly the same code. Each stage reads its inputs from the
paths in params.yaml, relative to the workspace root, and writes its outputs atomically.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from tqdm import tqdm

from sentiment import cleaning, ingest, synthetic
from sentiment.atomic import atomic_directory, atomic_path, write_json, write_text
from sentiment.config import Params, load_params
from sentiment.download import DownloadError, download, sha256_of
from sentiment.errors import DataError
from sentiment.sequences import pad_tokenized, stratified_split
from sentiment.validation.leakage import training_reviews
from sentiment.vocabulary import Vocabulary, encode, fit_vocabulary

if TYPE_CHECKING:
    from sentiment.model_outputs import ModelOutputs
    from sentiment.tracking import Lineage
    from sentiment.validation.runner import TableCheck

logger = logging.getLogger(__name__)

ARCHIVE_ENVIRONMENT_VARIABLE = "IMDB_ARCHIVE"
RAW_DVC_FILE = "data.dvc"
DOWNLOAD_DIR = ".cache/downloads"
SPLIT_NAMES = ("train", "validation", "test")


@dataclass(frozen=True)
class Workspace:
    """A project checkout: its root directory and its parameters."""

    root: Path
    params: Params

    @classmethod
    def load(cls, root: Path | str = ".", params_file: str = "params.yaml") -> Workspace:
        root = Path(root).resolve()
        return cls(root=root, params=load_params(root / params_file))

    def path(self, relative: str) -> Path:
        return self.root / relative


# --- raw reviews -------------------------------------------------------------------------------


def fetch_raw(
    workspace: Workspace, archive: Path | None = None, use_synthetic: bool = False, record: bool = False
) -> Path:
    """Obtain the raw reviews into `paths.raw_dir` as one table, from the first source that applies.

    Sources, in order: synthetic reviews when asked; `archive` (a tar archive or an extracted
    `aclImdb/` directory); the IMDB_ARCHIVE environment variable; the official download.
    With `record`, the new version is recorded in data.dvc; the DVC repository is checked first, so
    that a workspace that cannot record it fails before anything is downloaded or written.
    """
    params = workspace.params
    if record:
        _require_dvc_repository(workspace)
    environment_archive = os.environ.get(ARCHIVE_ENVIRONMENT_VARIABLE)
    environment_missing = bool(environment_archive) and not Path(environment_archive or "").exists()
    if archive is None and not use_synthetic and environment_missing:
        raise DataError(
            f"{ARCHIVE_ENVIRONMENT_VARIABLE} names a file or directory that does not exist",
            environment_archive,
        )
    provenance: dict[str, object]
    if use_synthetic:
        table = synthetic.synthetic_reviews(
            params.source.synthetic_reviews, params.source.synthetic_test_fraction, params.seed
        )
        provenance = {"kind": "synthetic", "reviews": params.source.synthetic_reviews, "seed": params.seed}
    else:
        source = archive or (Path(environment_archive) if environment_archive else None)
        if source is None:
            source = _download_official(workspace)
        table = ingest.read_reviews(source)
        provenance = {"kind": "archive" if source.is_file() else "directory", "location": str(source)}
        if source.is_file():
            provenance["sha256"] = sha256_of(source)
    provenance["counts"] = {
        f"{split}/{sentiment}": int(((table["split"] == split) & (table["label"] == label)).sum())
        for split in ingest.SPLITS
        for sentiment, label in ingest.LABELS.items()
    }
    raw_dir = workspace.path(params.paths.raw_dir)
    table_name = Path(params.paths.raw_table).relative_to(params.paths.raw_dir)
    with atomic_directory(raw_dir) as staging:
        table.to_parquet(staging / table_name, index=False)
        write_json(staging / "source.json", provenance)
    logger.info("wrote %d raw reviews to %s", len(table), raw_dir)
    if record:
        record_raw_version(workspace)
    return raw_dir


def _download_official(workspace: Workspace) -> Path:
    source = workspace.params.source
    destination = workspace.path(DOWNLOAD_DIR) / Path(source.url).name
    try:
        return download(source.url, destination, source.sha256)
    except DownloadError as error:
        raise DownloadError(
            f"{error}\nNo IMDB data available offline. Either point {ARCHIVE_ENVIRONMENT_VARIABLE} at a "
            f"local copy of the archive (IMDB_ARCHIVE=/path/to/aclImdb_v1.tar.gz make run; an extracted "
            f"aclImdb/ directory works too), or run `make demo` for the same pipeline on synthetic reviews."
        ) from None


def _require_dvc_repository(workspace: Workspace) -> None:
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo

    try:
        Repo.find_root(str(workspace.root))
    except NotDvcRepoError:
        raise DataError(
            f"not a DVC repository, so {RAW_DVC_FILE} cannot record the raw reviews: run `dvc init` "
            "(in a git repository) first, or fetch with --no-record",
            workspace.root,
        ) from None


def record_raw_version(workspace: Workspace) -> Path:
    """Record the current raw reviews as a new version in data.dvc (and the DVC cache)."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    _require_dvc_repository(workspace)
    dvc_file = workspace.path(RAW_DVC_FILE)
    if not dvc_file.exists():
        write_text(dvc_file, f"outs:\n- path: {workspace.params.paths.raw_dir}\n")
    try:
        with Repo(str(workspace.root)) as repo:
            repo.commit(str(dvc_file), force=True)  # absolute: DVC resolves a relative one from the cwd
    except DvcException as error:
        raise DataError(f"cannot record the raw reviews in DVC: {error}", dvc_file) from None
    return dvc_file


def read_raw(workspace: Workspace) -> pd.DataFrame:
    path = workspace.path(workspace.params.paths.raw_table)
    if not path.exists():
        raise DataError("raw reviews not found: run `sentiment fetch` first", path)
    return pd.read_parquet(path)


# --- preprocessing stages ----------------------------------------------------------------------


def clean(workspace: Workspace) -> Path:
    """Stage `clean`: raw table -> the same table with cleaned text."""
    table = read_raw(workspace)
    config = workspace.params.cleaning
    # A missing text cleans to "": validate_text, the next stage, names the review and stops the pipeline.
    texts = tqdm(table["text"].fillna("").tolist(), desc="cleaning", unit=" reviews", mininterval=0.5)
    table = table.assign(text=list(cleaning.clean_texts(texts, config)))
    target = workspace.path(workspace.params.paths.clean_table)
    with atomic_path(target) as temporary:
        table.to_parquet(temporary, index=False)
    return target


def read_clean(workspace: Workspace) -> pd.DataFrame:
    path = workspace.path(workspace.params.paths.clean_table)
    if not path.exists():
        raise DataError("cleaned reviews not found: run the clean stage first", path)
    return pd.read_parquet(path)


def vocabulary(workspace: Workspace) -> Path:
    """Stage `vocabulary`: fit the word index on the training split of the cleaned text.

    Train reviews whose text is also in test are left out under the leakage policy `drop`.
    """
    table = read_clean(workspace)
    training_texts = training_reviews(table, workspace.params.validation.leakage)["text"].tolist()
    fitted = fit_vocabulary(training_texts, workspace.params.vocabulary)
    target = workspace.path(workspace.params.paths.vocabulary)
    write_json(target, fitted.to_dict())
    return target


def read_vocabulary(workspace: Workspace) -> Vocabulary:
    import json

    path = workspace.path(workspace.params.paths.vocabulary)
    if not path.exists():
        raise DataError("vocabulary not found: run the vocabulary stage first", path)
    return Vocabulary.from_dict(json.loads(path.read_text(encoding="utf-8")))


def sequences(workspace: Workspace) -> Path:
    """Stage `sequences`: texts -> padded int32 sequences for train, validation and test."""
    params = workspace.params
    table = read_clean(workspace)
    fitted = read_vocabulary(workspace)
    training = training_reviews(table, params.validation.leakage)
    kept, held_out = stratified_split(
        training["label"].to_numpy(), params.sequences.validation_fraction, params.seed
    )
    parts = {
        "train": training.iloc[kept],
        "validation": training.iloc[held_out],
        "test": table[table["split"] == "test"],
    }
    arrays: dict[str, np.ndarray] = {}
    for name, part in tqdm(parts.items(), desc="sequences", unit=" splits"):
        tokenized = encode(fitted, part["text"].tolist())
        arrays[f"x_{name}"] = pad_tokenized(
            tokenized, params.sequences.max_len, params.sequences.padding, params.sequences.truncating
        )
        arrays[f"y_{name}"] = part["label"].to_numpy(dtype=np.int32)
        arrays[f"ids_{name}"] = part["review_id"].to_numpy(dtype=str)
        arrays[f"lengths_{name}"] = tokenized.lengths
    target = workspace.path(params.paths.sequences)
    with atomic_path(target) as temporary, temporary.open("wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    return target


def read_sequences(workspace: Workspace) -> dict[str, np.ndarray]:
    path = workspace.path(workspace.params.paths.sequences)
    if not path.exists():
        raise DataError("sequences not found: run the sequences stage first", path)
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


# --- data validation (Great Expectations, imported only when a validation stage runs) -------------

VALIDATION_DIR = "validation"  # under paths.reports_dir: NAME.json (a DVC metric) and NAME_docs/
VALIDATION_GATE = "passed.json"


def validation_report_path(workspace: Workspace, name: str) -> Path:
    """The JSON result of validation `name` ("text" or "sequences"); its Data Docs sit beside it."""
    return workspace.path(workspace.params.paths.reports_dir) / VALIDATION_DIR / f"{name}.json"


def validation_gate_path(workspace: Workspace) -> Path:
    """The file training depends on: written by validate_sequences only when all data passed.

    Both validation stages remove it first, so it never outlives a failed validation. It names the
    digests of the validated vocabulary and sequences, not thresholds or results, so a change of a
    validation threshold that still passes leaves it, and the trained models, unchanged.
    """
    return workspace.path(workspace.params.paths.reports_dir) / VALIDATION_DIR / VALIDATION_GATE


def validate_text(workspace: Workspace) -> Path:
    """Stage `validate_text`: the raw and cleaned reviews, and identical texts in train and test."""
    from sentiment.validation import text_checks

    params = workspace.params
    validation_gate_path(workspace).unlink(missing_ok=True)  # no stale "passed" while validating
    raw, cleaned = read_raw(workspace), read_clean(workspace)
    checks = text_checks.text_checks(raw, cleaned, params.cleaning, params.validation)
    metrics = text_checks.text_metrics(raw, cleaned, params.validation)
    details = text_checks.leakage_details(cleaned, params.validation)
    return _run_validation(workspace, "text", checks, metrics, details)


def validate_sequences(workspace: Workspace) -> Path:
    """Stage `validate_sequences`: the vocabulary and the padded sequences, against the cleaned reviews."""
    import json

    from sentiment.validation import sequence_checks

    params = workspace.params
    gate = validation_gate_path(workspace)
    gate.unlink(missing_ok=True)  # no stale "passed" while validating, nor after a failure
    vocabulary_path = workspace.path(params.paths.vocabulary)
    try:
        vocabulary_data = json.loads(vocabulary_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("vocabulary not found: run the vocabulary stage first", vocabulary_path) from None
    except json.JSONDecodeError as error:
        raise DataError(f"vocabulary is not valid JSON ({error})", vocabulary_path) from None
    arrays = read_sequences(workspace)
    problems = sequence_checks.structure_errors(vocabulary_data, arrays)
    if problems:
        raise DataError(
            "cannot validate the vocabulary and sequences: " + "; ".join(problems),
            f"{vocabulary_path}, {workspace.path(params.paths.sequences)}",
        )
    checks, metrics = sequence_checks.sequence_checks(vocabulary_data, arrays, read_clean(workspace), params)
    report_path = _run_validation(workspace, "sequences", checks, metrics, {})
    validated = {"vocabulary": vocabulary_path, "sequences": workspace.path(params.paths.sequences)}
    write_json(gate, {"passed": True, "sha256": {name: sha256_of(path) for name, path in validated.items()}})
    return report_path


def _run_validation(
    workspace: Workspace,
    name: str,
    checks: list[TableCheck],
    metrics: dict[str, object],
    details: dict[str, object],
) -> Path:
    """Run the checks, write the Data Docs site and the JSON result; raise ValidationFailed on failure.

    The JSON says `"success": false` after a failure, and the stage exits non-zero, so DVC records
    nothing and no later stage runs.
    """
    from sentiment.errors import ValidationFailed
    from sentiment.validation.runner import run_checks

    report_path = validation_report_path(workspace, name)
    docs = report_path.with_name(f"{name}_docs")
    with atomic_directory(docs) as staging:
        report = run_checks(checks, staging, workspace.params.validation.examples, run_name=name)
    shown_report, shown_docs = _shown(workspace, report_path), _shown(workspace, docs / "index.html")
    write_json(report_path, report.to_dict(metrics, {"data_docs": shown_docs, **details}))
    for outcome in report.warnings:
        logger.warning("validation warning: %s", outcome.line())
    if not report.success:
        raise ValidationFailed(report.failure_message(name, shown_report, shown_docs))
    logger.info("validation %s passed %d expectations: %s", name, len(report.outcomes), shown_report)
    return report_path


def _shown(workspace: Workspace, path: Path) -> str:
    """A path as the user knows it: relative to the workspace root when inside it."""
    try:
        return str(path.relative_to(workspace.root))
    except ValueError:
        return str(path)


# --- training (TensorFlow, scikit-learn and MLflow imported only when a training stage runs) ------

PLOTS_DIR = "plots"  # under paths.reports_dir: plots/<model>/ (DVC plots, also MLflow artifacts)
EMBEDDINGS_DIR = "embeddings"  # under paths.reports_dir: embeddings/<variant>/ (projector TSVs, neighbours)
BASELINE = "baseline"


def model_outputs(workspace: Workspace, name: str) -> ModelOutputs:
    """Every file the training stage of model `name` (a variant, or "baseline") writes."""
    from sentiment.model_outputs import ModelOutputs

    files = training_outputs(workspace, name)
    reports = workspace.path(workspace.params.paths.reports_dir)
    recurrent = name != BASELINE
    return ModelOutputs(
        model=files["model"] if recurrent else files["model"].with_suffix(".joblib"),
        metrics=files["metrics"],
        plots_dir=reports / PLOTS_DIR / name,
        run_record=files["run"],
        embeddings_dir=reports / EMBEDDINGS_DIR / name if recurrent else None,
    )


def _lineage(workspace: Workspace, data_files: dict[str, Path]) -> Lineage:
    from sentiment import tracking

    return tracking.lineage(workspace.root, workspace.params, data_files, workspace.path(RAW_DVC_FILE))


def train(workspace: Workspace, variant: str) -> Path:
    """Stage `train@<variant>`: train, evaluate, diagnose and track one variant of params.yaml `models`."""
    from sentiment import experiments

    params = workspace.params
    experiments.variant_config(params, variant)  # an unknown variant fails before any work
    arrays = read_sequences(workspace)
    lineage = _lineage(workspace, {"sequences": workspace.path(params.paths.sequences)})
    outputs = model_outputs(workspace, variant)
    return experiments.train_variant(
        workspace.root, params, variant, arrays, read_vocabulary(workspace), outputs, lineage
    )


def baseline(workspace: Workspace) -> Path:
    """Stage `baseline`: TF-IDF + logistic regression on the cleaned text of the sequences' splits."""
    from sentiment import experiments

    params = workspace.params
    arrays = read_sequences(workspace)
    text_by_id = read_clean(workspace).set_index("review_id")["text"]
    texts: dict[str, list[str]] = {}
    for split in SPLIT_NAMES:
        found = text_by_id.reindex(arrays[f"ids_{split}"])
        if found.isna().any():
            raise DataError(
                f"{int(found.isna().sum())} reviews of the sequences' {split} split are missing from the "
                "cleaned reviews: re-run the sequences stage",
                workspace.path(params.paths.clean_table),
            )
        texts[split] = found.tolist()
    labels = {split: arrays[f"y_{split}"] for split in SPLIT_NAMES}
    lineage = _lineage(
        workspace,
        {
            "sequences": workspace.path(params.paths.sequences),
            "clean": workspace.path(params.paths.clean_table),
        },
    )
    return experiments.train_baseline(
        workspace.root, params, texts, labels, model_outputs(workspace, BASELINE), lineage
    )


# --- model registry and serving (MLflow and TensorFlow imported only when used) ----------------------

REGISTRY_REPORT = "registry.json"  # under paths.reports_dir: the last register decision
VALIDATIONS = ("text", "sequences")


def mlflow_uri(workspace: Workspace) -> str:
    """MLFLOW_TRACKING_URI when set, else the SQLite store at the workspace root (as training uses)."""
    from sentiment import tracking

    return tracking.tracking_uri(workspace.root)


def training_outputs(workspace: Workspace, variant: str) -> dict[str, Path]:
    """The files the train stage writes for `variant`: network, metrics and MLflow run record."""
    reports = workspace.path(workspace.params.paths.reports_dir)
    return {
        "model": workspace.path(workspace.params.paths.models_dir) / f"{variant}.keras",
        "metrics": reports / "metrics" / f"{variant}.json",
        "run": reports / "runs" / f"{variant}.json",
    }


def register(workspace: Workspace) -> Path:
    """Stage `register`: the best variant by validation metric becomes a new version of the registered
    model; champion if it beats the champion on the test split by the margin, else challenger.

    Refuses, writing nothing, when a data validation failed or a variant's training is missing or failed.
    """
    from sentiment import registration, tracking

    params = workspace.params
    reports = {name: validation_report_path(workspace, name) for name in VALIDATIONS}
    registration.require_validation_passed(reports, validation_gate_path(workspace))
    records = {
        variant: registration.read_training_record(variant, **training_outputs(workspace, variant))
        for variant in params.models
    }
    raw = read_raw(workspace)
    provenance = {
        "git_commit": tracking.git_commit(workspace.root),
        "data_version": tracking.recorded_md5(workspace.path(RAW_DVC_FILE)) or tracking.UNKNOWN,
    }
    report = registration.register_best(
        records,
        params,
        mlflow_uri(workspace),
        workspace.path(params.paths.vocabulary),
        raw[raw["split"] == "test"].reset_index(drop=True),
        read_sequences(workspace),
        provenance,
    )
    target = workspace.path(params.paths.reports_dir) / REGISTRY_REPORT
    write_json(target, report)
    logger.info("register: %s (%s)", report["decision"], report["reason"])
    return target


def rollback(workspace: Workspace, reason: str = "manual rollback") -> dict[str, object]:
    """`sentiment rollback`: give the champion alias back to the previous champion."""
    from mlflow import MlflowClient

    from sentiment import registry

    uri = mlflow_uri(workspace)
    return registry.rollback(MlflowClient(uri, registry_uri=uri), workspace.params.registry, reason)


def champion_uri(workspace: Workspace) -> str:
    config = workspace.params.registry
    return f"models:/{config.model_name}@{config.champion_alias}"


def predict(workspace: Workspace, reviews: list[object], model_uri: str | None = None) -> pd.DataFrame:
    """`sentiment predict`: the registered model's prediction rows for raw reviews."""
    from sentiment import scoring

    model = scoring.load_model(model_uri or champion_uri(workspace), mlflow_uri(workspace))
    return scoring.predict_reviews(model, reviews)


def score(
    workspace: Workspace, source: Path, target: Path, column: str, model_uri: str | None = None
) -> Path:
    """`sentiment score`: a CSV or Parquet file of reviews -> the same rows with predictions."""
    from sentiment import scoring

    model = scoring.load_model(model_uri or champion_uri(workspace), mlflow_uri(workspace))
    scoring.score_file(model, source, target, column)
    return target
