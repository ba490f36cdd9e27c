"""The one guard for every directory the project replaces whole (`core.files.atomic_directory`): the
target must lie inside the project and hold only the entries the project writes there; otherwise the
command exits 2 naming the directory, and nothing is touched."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import pytest

from conftest import SMALL_OVERRIDES, ArchiveFactory, WorkspaceFactory, write_params
from sentiment import cli
from sentiment.config.workspace import Workspace
from sentiment.core.errors import SentimentError
from sentiment.core.files import DirectoryNotReplaceable, atomic_directory, check_replaceable
from sentiment.stages import raw as raw_stages


def tree(directory: Path) -> dict[str, object]:
    """Every entry under `directory`, hidden ones too: a file's bytes, a link's target, or 'dir'; but
    for the project's bookkeeping under .cache/ (the workspace lock)."""
    entries: dict[str, object] = {}
    for path in sorted(directory.rglob("*")):
        relative = str(path.relative_to(directory))
        if ".cache" in path.relative_to(directory).parts:
            continue
        if path.is_symlink():
            entries[relative] = ("link", os.readlink(path))
        elif path.is_dir():
            entries[relative] = "dir"
        else:
            entries[relative] = path.read_bytes()
    return entries


def fetch(root: Path, *arguments: str) -> int:
    return cli.main(["--root", str(root), "fetch", "--no-record", *arguments])


def checkout(parent: Path, raw_dir: str = "data/raw", raw_table: str = "data/raw/reviews.parquet") -> Path:
    """A checkout in `parent`/project (.git, dvc.yaml, earlier outputs) with `paths.raw_dir` set."""
    root = parent / "project"
    root.mkdir()
    write_params(root, {**SMALL_OVERRIDES, "paths": {"raw_dir": raw_dir, "raw_table": raw_table}})
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (root / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    for output in ("data/clean/reviews.parquet", "data/vocabulary/vocabulary.json"):
        (root / output).parent.mkdir(parents=True, exist_ok=True)
        (root / output).write_bytes(b"an earlier output")
    return root


def with_raw_dir(workspace: Workspace, raw_dir: str, raw_table: str) -> Workspace:
    """`workspace` with other `paths.raw_dir` and `raw_table`, set past the params loader's own checks
    (it refuses '.', '..' and absolute paths too), so that the guard is what answers."""
    paths = copy.copy(workspace.params.paths)
    object.__setattr__(paths, "raw_dir", raw_dir)  # a frozen dataclass; no __post_init__ runs
    object.__setattr__(paths, "raw_table", raw_table)
    params = copy.copy(workspace.params)
    object.__setattr__(params, "paths", paths)
    return Workspace(root=workspace.root, params=params)


@pytest.mark.parametrize(
    ("raw_dir", "raw_table", "expected"),
    [
        (".", "reviews.parquet", "refusing to replace the project root"),
        ("data/..", "data/../reviews.parquet", "refusing to replace the project root"),
        ("data", "data/reviews.parquet", "it holds entries the project does not write there: ['clean', "),
        ("../outside", "../outside/reviews.parquet", "refusing to replace a directory outside the project"),
        ("OUTSIDE", "OUTSIDE/reviews.parquet", "refusing to replace a directory outside the project"),
    ],
    ids=["root", "root-by-dots", "data", "outside", "outside-absolute"],
)
def test_fetch_into_a_directory_the_project_did_not_write_deletes_nothing(
    raw_dir: str,
    raw_table: str,
    expected: str,
    make_archive: ArchiveFactory,
    tmp_path: Path,
) -> None:
    root = checkout(tmp_path)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "keep.txt").write_text("someone else's", encoding="utf-8")
    outside = str(tmp_path / "outside")  # absolute
    workspace = with_raw_dir(
        Workspace.load(root), raw_dir.replace("OUTSIDE", outside), raw_table.replace("OUTSIDE", outside)
    )
    archive = make_archive()
    before = tree(tmp_path)

    with pytest.raises(DirectoryNotReplaceable, match=re.escape(expected)) as raised:
        raw_stages.fetch_raw(workspace, archive=archive)

    assert str(workspace.raw_dir) in str(raised.value)
    assert tree(tmp_path) == before


@pytest.mark.parametrize("raw_dir", [".", "data", "..", "../outside", "OUTSIDE"])
def test_sentiment_fetch_into_the_checkout_or_outside_exits_2_and_deletes_nothing(
    raw_dir: str,
    make_archive: ArchiveFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The reproduction of the issue, through the command: whichever check answers, nothing is lost
    (the params loader refuses some of these paths itself)."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "keep.txt").write_text("someone else's", encoding="utf-8")
    raw_dir = raw_dir.replace("OUTSIDE", str(tmp_path / "outside"))  # absolute
    table = "reviews.parquet" if raw_dir == "." else f"{raw_dir}/reviews.parquet"
    root = checkout(tmp_path, raw_dir, table)
    archive = make_archive()
    before = tree(tmp_path)
    capsys.readouterr()

    assert fetch(root, "--archive", str(archive)) == cli.EXIT_USER_ERROR

    error = capsys.readouterr().err
    assert "error: " in error
    assert "Traceback" not in error
    assert "raw_dir" in error or str(root) in error
    assert tree(tmp_path) == before


def test_the_guard_refuses_before_the_archive_is_read(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    workspace = with_raw_dir(Workspace.load(root), ".", "reviews.parquet")
    corrupt = tmp_path / "corrupt.tar.gz"
    corrupt.write_bytes(b"not an archive")
    with pytest.raises(DirectoryNotReplaceable, match="refusing to replace the project root"):
        raw_stages.fetch_raw(workspace, archive=corrupt)


def raw_with_a_user_file(raw: Path, tmp_path: Path) -> None:
    raw.mkdir(parents=True)
    for name in ("reviews.parquet", "source.json", "my-notes.txt"):
        (raw / name).write_text(name, encoding="utf-8")


def raw_as_a_link(raw: Path, tmp_path: Path) -> None:
    target = raw.parent / "precious"
    target.mkdir(parents=True)
    (target / "reviews.parquet").write_text("precious", encoding="utf-8")
    raw.symlink_to(target, target_is_directory=True)


def raw_as_a_file(raw: Path, tmp_path: Path) -> None:
    raw.parent.mkdir(parents=True)
    raw.write_text("a file, not a directory", encoding="utf-8")


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        (raw_with_a_user_file, "it holds entries the project does not write there: ['my-notes.txt']"),
        (raw_as_a_link, "it is a symbolic link"),
        (raw_as_a_file, "it is not a directory"),
    ],
    ids=["user-file", "symlink", "file"],
)
def test_a_raw_directory_the_project_did_not_write_is_left_alone(
    spoil: object,
    expected: str,
    make_workspace: WorkspaceFactory,
    make_archive: ArchiveFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    workspace = make_workspace(fetch=False)
    spoil(workspace.raw_dir, tmp_path)  # type: ignore[operator]
    before = tree(workspace.root)
    capsys.readouterr()

    assert fetch(workspace.root, "--archive", str(make_archive())) == cli.EXIT_USER_ERROR

    error = capsys.readouterr().err
    assert expected in error
    assert str(workspace.raw_dir) in error
    assert tree(workspace.root) == before


def test_an_empty_raw_directory_and_an_earlier_version_are_replaced(
    make_workspace: WorkspaceFactory, make_archive: ArchiveFactory
) -> None:
    workspace = make_workspace(fetch=False)
    workspace.raw_dir.mkdir(parents=True)
    assert fetch(workspace.root, "--archive", str(make_archive())) == 0
    assert sorted(path.name for path in workspace.raw_dir.iterdir()) == ["reviews.parquet", "source.json"]
    assert fetch(workspace.root, "--synthetic") == 0
    assert sorted(path.name for path in workspace.raw_dir.iterdir()) == ["reviews.parquet", "source.json"]
    assert sorted(path.name for path in workspace.raw_dir.parent.iterdir()) == ["raw"]


# --- the guard itself ----------------------------------------------------------------------------


def test_the_refusal_is_a_project_error_naming_the_directory(tmp_path: Path) -> None:
    (tmp_path / "out" / "theirs.txt").parent.mkdir()
    (tmp_path / "out" / "theirs.txt").write_text("x", encoding="utf-8")
    with pytest.raises(DirectoryNotReplaceable) as raised:
        check_replaceable(tmp_path / "out", root=tmp_path, entries=("ours.txt",))
    assert isinstance(raised.value, SentimentError)
    assert str(tmp_path / "out") in str(raised.value)
    assert "['theirs.txt']" in str(raised.value)


def test_a_file_that_appears_while_the_directory_is_staged_stops_the_swap(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with (
        pytest.raises(DirectoryNotReplaceable, match=re.escape("'late.txt'")),
        atomic_directory(target, root=tmp_path, entries=("ours.txt",)) as staging,
    ):
        (staging / "ours.txt").write_text("new", encoding="utf-8")
        target.mkdir()
        (target / "late.txt").write_text("someone else's", encoding="utf-8")
    assert tree(target) == {"late.txt": b"someone else's"}
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]


def test_staging_an_undeclared_entry_is_a_bug_and_publishes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with (
        pytest.raises(ValueError, match=r"undeclared entries \['extra'\]"),
        atomic_directory(target, root=tmp_path, entries=("ours.txt",)) as staging,
    ):
        (staging / "extra").write_text("x", encoding="utf-8")
    assert list(tmp_path.iterdir()) == []


def test_a_declared_directory_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "docs"
    for version in ("old", "new"):
        with atomic_directory(target, root=tmp_path, entries=("index.html", "static")) as staging:
            (staging / "index.html").write_text(version, encoding="utf-8")
            (staging / "static").mkdir()
            (staging / "static" / version).write_text(version, encoding="utf-8")
    assert tree(target) == {"index.html": b"new", "static": "dir", "static/new": b"new"}
    assert sorted(path.name for path in target.parent.iterdir()) == ["docs"]
