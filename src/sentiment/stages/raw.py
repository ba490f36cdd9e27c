"""Raw reviews: obtain them from a source into `paths.raw_dir` and record the version in data.dvc."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sentiment.config.workspace import ARCHIVE_ENVIRONMENT_VARIABLE, RAW_DVC_FILE, Workspace
from sentiment.core.errors import ConfigError, DataError
from sentiment.core.files import atomic_directory, check_replaceable, write_json, write_text
from sentiment.data import ingest, synthetic
from sentiment.data.download import DownloadError, download, sha256_of
from sentiment.data.layout import UNSUP_FOLDER

logger = logging.getLogger(__name__)

SOURCE_FILE = "source.json"  # the provenance written beside the raw table


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
    table_name, entries = _raw_entries(workspace)
    check_replaceable(workspace.raw_dir, root=workspace.root, entries=entries)  # before any work
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
        source_config = params.source
        table = synthetic.synthetic_reviews(
            source_config.synthetic_reviews,
            source_config.synthetic_test_fraction,
            params.seed,
            unlabeled=source_config.synthetic_unlabeled,
            config=source_config.synthetic,
        )
        provenance = {
            "kind": "synthetic",
            "reviews": source_config.synthetic_reviews,
            "unlabeled": source_config.synthetic_unlabeled,
            "seed": params.seed,
        }
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
        for split in ingest.ARCHIVE_SPLITS
        for sentiment, label in ingest.LABELS.items()
    } | {"/".join(UNSUP_FOLDER): int((table["split"] == ingest.UNSUP).sum())}
    raw_dir = workspace.raw_dir
    with atomic_directory(raw_dir, root=workspace.root, entries=entries) as staging:
        (staging / table_name).parent.mkdir(parents=True, exist_ok=True)
        table.to_parquet(staging / table_name, index=False)
        write_json(staging / SOURCE_FILE, provenance)
    logger.info("wrote %d raw reviews to %s", len(table), raw_dir)
    if record:
        record_raw_version(workspace)
    return raw_dir


def _raw_entries(workspace: Workspace) -> tuple[Path, tuple[str, ...]]:
    """The raw table's path inside `paths.raw_dir`, and the top-level names fetch writes there."""
    paths = workspace.params.paths
    try:
        table_name = Path(paths.raw_table).relative_to(paths.raw_dir)
    except ValueError:
        raise ConfigError(
            f"paths.raw_table ({paths.raw_table!r}) must lie inside paths.raw_dir ({paths.raw_dir!r}), "
            f"which fetch replaces whole [{workspace.params_file}]"
        ) from None
    if not table_name.parts:
        raise ConfigError(f"paths.raw_table must name a file inside paths.raw_dir [{workspace.params_file}]")
    return table_name, (table_name.parts[0], SOURCE_FILE)


def _download_official(workspace: Workspace) -> Path:
    source = workspace.params.source
    destination = workspace.download_dir / Path(source.url).name
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
    dvc_file = workspace.raw_dvc_file
    if not dvc_file.exists():
        write_text(dvc_file, f"outs:\n- path: {workspace.params.paths.raw_dir}\n")
    try:
        with Repo(str(workspace.root)) as repo:
            repo.commit(str(dvc_file), force=True)  # absolute: DVC resolves a relative one from the cwd
    except DvcException as error:
        raise DataError(f"cannot record the raw reviews in DVC: {error}", dvc_file) from None
    return dvc_file
