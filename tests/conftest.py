"""Shared fixtures and helpers for the whole suite. Keep them general: every test module uses them.

Workspaces (a project checkout in a temp dir, with the project's own params.yaml):
- `make_workspace(overrides=None, *, fetch=True, preprocess=False)`: a factory. `overrides` is a nested
  mapping merged into params.yaml (e.g. `{"sequences": {"max_len": 32}}`); the workspace holds small
  synthetic raw reviews (`SMALL_SYNTHETIC_REVIEWS`, not recorded in DVC) unless `fetch=False`, and with
  `preprocess` also the clean, vocabulary and sequences outputs. Returns a `sentiment.Workspace`.
- `workspace`: `make_workspace()`, raw reviews only. `preprocessed_workspace`: all preprocessing done.
- `dvc_project`: a temp git + DVC repository holding the project's dvc.yaml, params.yaml (small
  synthetic data), src/ and ignore files, ready for `run_command(root, "sentiment", "fetch", ...)` and
  `run_command(root, "dvc", "repro", STAGE)`. Target stages explicitly: dvc.yaml grows.
- `run_command(root, *arguments)`: a subprocess in `root` with this venv's executables first on PATH.

Params:
- `params_data`: the project's params.yaml as a fresh mapping; `project_config`: it loaded as `Params`.
- helpers `project_params()`, `merged(base, overrides)`, `write_params(root, overrides)`.

Data:
- `make_archive(files=None, *, name=..., compression="gz")`: a tar archive in the official aclImdb
  layout; `files` maps member paths to text (str) or raw bytes, default `small_review_files()`.
- `small_review_files(movies=False)`: those default files (two reviews per labeled folder, one
  unlabeled review in train/unsup, a README); with `movies`, the URL lists naming each review's movie
  (`SMALL_MOVIES`) as well.
- `shared_archive`: the shared 45k-review IMDB archive (labeled reviews only, no URL lists);
  `shared_archive_95k`: the 95k one, with the URL lists. A test using one is skipped, with the reason,
  when ../shared is absent.

Prefect:
- `prefect_harness`: one Prefect test harness (temporary server and database) for the whole session,
  since starting one takes tens of seconds on 2 busy cores. Request it in every test that runs a flow.
- `orchestration_services`: a real `prefect server start` and `mlflow server` on 127.0.0.1, for the
  deployment, Dask and fault tests (started once, together; see tests/support/orchestration.py).
"""

from __future__ import annotations

import copy
import io
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import dvc.repo  # noqa: F401  (see below)
import pytest
import yaml

# `import dvc` binds DVC's log handlers to the sys.stdout of that moment. Imported here, that is the
# session's capture stream, not the stream of one test's `capsys`, closed when that test ends.
from sentiment.config import Params, load_params
from sentiment.config.workspace import Workspace
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SHARED_ARCHIVE = PROJECT_ROOT.parent / "shared" / "data" / "imdb" / "aclImdb_45k.tar.gz"
SHARED_ARCHIVE_95K = SHARED_ARCHIVE.with_name("aclImdb_95k.tar.gz")
SMALL_SYNTHETIC_REVIEWS = 200
SMALL_SYNTHETIC_UNLABELED = 40  # unlabeled reviews beside them: every stage runs with some present
SMALL_OVERRIDES: dict[str, Any] = {
    "source": {"synthetic_reviews": SMALL_SYNTHETIC_REVIEWS, "synthetic_unlabeled": SMALL_SYNTHETIC_UNLABELED}
}


TIERS = ("unit", "integration", "e2e")
# Variables the project and MLflow read: one module leaving one set (a tracking server's URI, say)
# would send every later module's runs to a server that is long gone.
GUARDED_VARIABLE_PREFIXES = ("MLFLOW_", "SENTIMENT_", "IMDB_")


def _guarded_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith(GUARDED_VARIABLE_PREFIXES)}


@pytest.fixture(scope="module", autouse=True)
def environment_left_as_found() -> Iterator[None]:
    """Fail the module whose code (or fixtures) changed a guarded variable, and put it back."""
    before = _guarded_environment()
    yield
    after = _guarded_environment()
    if after != before:
        for name in set(before) | set(after):
            if name in before:
                os.environ[name] = before[name]
            else:
                os.environ.pop(name, None)
        changed = sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
        pytest.fail(f"the module left environment variables changed: {changed}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier, the folder it lives in (`pytest -m unit` runs the fast tier)."""
    for item in items:
        tier = next((part for part in item.path.parts if part in TIERS), None)
        if tier is not None:
            item.add_marker(getattr(pytest.mark, tier))


# --- params --------------------------------------------------------------------------------------


def project_params() -> dict[str, Any]:
    """A fresh copy of the project's params.yaml, as a mapping."""
    return copy.deepcopy(yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8")))


def merged(base: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """`base` with `overrides` merged in: nested mappings merge key by key, other values replace."""
    result = copy.deepcopy(dict(base))
    for key, value in (overrides or {}).items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def keep_students_of(params: dict[str, Any]) -> dict[str, Any]:
    """`params` with only the students whose variant and teacher its `models` still hold: a test that
    trains a few variants leaves the others' students out, as a user would (params.yaml refuses a
    student of a variant it lacks)."""
    models = params.get("models", {})
    params["students"] = {
        name: student
        for name, student in params.get("students", {}).items()
        if student["variant"] in models and student["teacher"] in models
    }
    return params


def write_params(root: Path, overrides: Mapping[str, Any] | None = None) -> Path:
    """Write the project's params.yaml, with `overrides` merged in, to `root`/params.yaml."""
    path = Path(root) / "params.yaml"
    data = merged(project_params(), overrides)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture()
def params_data() -> dict[str, Any]:
    """The project's params.yaml as a fresh mapping (a test may change it freely)."""
    return project_params()


@pytest.fixture()
def project_config() -> Params:
    """The project's params.yaml, loaded and checked."""
    return load_params(PROJECT_ROOT / "params.yaml")


# --- workspaces ----------------------------------------------------------------------------------


WorkspaceFactory = Callable[..., Workspace]


@pytest.fixture()
def make_workspace(tmp_path_factory: pytest.TempPathFactory) -> WorkspaceFactory:
    def factory(
        overrides: Mapping[str, Any] | None = None, *, fetch: bool = True, preprocess: bool = False
    ) -> Workspace:
        root = tmp_path_factory.mktemp("workspace")
        write_params(root, merged(SMALL_OVERRIDES, overrides))
        workspace = Workspace.load(root)
        if fetch or preprocess:
            raw_stages.fetch_raw(workspace, use_synthetic=True)
        if preprocess:
            preprocessing_stages.clean(workspace)
            preprocessing_stages.vocabulary(workspace)
            preprocessing_stages.sequences(workspace)
        return workspace

    return factory


@pytest.fixture()
def workspace(make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace()


@pytest.fixture()
def preprocessed_workspace(make_workspace: WorkspaceFactory) -> Workspace:
    return make_workspace(preprocess=True)


def command_environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment["PATH"] = f"{VENV_BIN}{os.pathsep}{environment.get('PATH', '')}"
    environment["DVC_NO_ANALYTICS"] = "1"
    for name, value in (("NAME", "Test"), ("EMAIL", "test@example.invalid")):
        environment.setdefault(f"GIT_AUTHOR_{name}", value)
        environment.setdefault(f"GIT_COMMITTER_{name}", value)
    environment.pop("IMDB_ARCHIVE", None)
    return environment


def run_command(root: Path, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command in `root` with this venv first on PATH; on failure show its output."""
    completed = subprocess.run(
        arguments, cwd=root, env=command_environment(), capture_output=True, text=True, check=False
    )
    if check and completed.returncode != 0:
        pytest.fail(
            f"{' '.join(arguments)} exited with {completed.returncode}\n"
            f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
        )
    return completed


@pytest.fixture()
def dvc_project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(PROJECT_ROOT / "dvc.yaml", root / "dvc.yaml")
    for name in (".gitignore", ".dvcignore"):
        if (PROJECT_ROOT / name).exists():
            shutil.copy(PROJECT_ROOT / name, root / name)
    shutil.copytree(
        PROJECT_ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    write_params(root, SMALL_OVERRIDES)
    run_command(root, "git", "init", "--quiet")
    run_command(root, "dvc", "init", "--quiet")
    return root


# --- data ----------------------------------------------------------------------------------------


# With `small_review_files(movies=True)`: the movie of each review (split, sentiment, id). Review 0 of
# train/pos and of train/neg are about one movie, as a movie's reviews often disagree.
SMALL_MOVIES = {
    ("train", "pos"): ("tt0000001", "tt0000002"),
    ("train", "neg"): ("tt0000001", "tt0000003"),
    ("test", "pos"): ("tt0000011", "tt0000012"),
    ("test", "neg"): ("tt0000013", "tt0000011"),
    ("train", "unsup"): ("tt0000004",),
}


def movie_url(movie: str) -> str:
    return f"http://www.imdb.com/title/{movie}/usercomments"


def small_review_files(movies: bool = False) -> dict[str, str]:
    """Two reviews per split and label and one unlabeled review in the aclImdb layout, plus a file the
    reader must ignore; with `movies`, every folder's URL list too (`SMALL_MOVIES`), as in the official
    archive."""
    files = {}
    for split in ("train", "test"):
        for sentiment, ratings in (("pos", (8, 10)), ("neg", (1, 3))):
            for number, rating in enumerate(ratings):
                files[f"aclImdb/{split}/{sentiment}/{number}_{rating}.txt"] = (
                    f"A {sentiment} {split} review number {number}.<br /><br />It rates {rating} &amp; more."
                )
    files["aclImdb/train/unsup/0_0.txt"] = "An unlabeled review.<br />Read as text, never as a label."
    files["aclImdb/README"] = "Large Movie Review Dataset."
    if movies:
        for (split, sentiment), listed in SMALL_MOVIES.items():
            files[f"aclImdb/{split}/urls_{sentiment}.txt"] = "".join(f"{movie_url(m)}\n" for m in listed)
    return files


def write_archive(path: Path, files: Mapping[str, str | bytes], compression: str = "gz") -> Path:
    """Write `files` (member path -> text or bytes) as a tar archive (`compression`: gz or '')."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz" if compression == "gz" else "w") as archive:
        for name, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return path


ArchiveFactory = Callable[..., Path]


@pytest.fixture()
def make_archive(tmp_path: Path) -> ArchiveFactory:
    def factory(
        files: Mapping[str, str | bytes] | None = None,
        *,
        name: str = "aclImdb_v1.tar.gz",
        compression: str = "gz",
    ) -> Path:
        return write_archive(
            tmp_path / "archives" / name, small_review_files() if files is None else files, compression
        )

    return factory


def _shared(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"the shared IMDB archive is absent ({path}): needs ../shared/data/imdb")
    return path


@pytest.fixture(scope="session")
def shared_archive() -> Path:
    return _shared(SHARED_ARCHIVE)


@pytest.fixture(scope="session")
def shared_archive_95k() -> Path:
    return _shared(SHARED_ARCHIVE_95K)


# --- Prefect -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    # No telemetry from the temporary server: these machines are offline.
    previous = os.environ.get("PREFECT_SERVER_ANALYTICS_ENABLED")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    try:
        with prefect_test_harness(server_startup_timeout=120):
            yield
    finally:
        if previous is None:
            os.environ.pop("PREFECT_SERVER_ANALYTICS_ENABLED", None)
        else:
            os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = previous


@pytest.fixture(scope="session")
def orchestration_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real `prefect server start` and `mlflow server` (SQLite backend) on 127.0.0.1, started together
    once for the orchestration tests (tests/orchestration_support.py)."""
    from support.orchestration import services

    with services(tmp_path_factory.mktemp("services")) as running:
        yield running
