"""`sentiment fetch` from a local archive, a directory or IMDB_ARCHIVE; every bad input exits with 2,
names the problem and the file, and leaves data/raw as it was (absent, or the previous version)."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from conftest import ArchiveFactory, WorkspaceFactory, small_review_files, write_params
from sentiment import cli
from sentiment.config.workspace import Workspace
from sentiment.data.ingest import read_reviews
from sentiment.stages import readers
from support.archives import unpack


def fetch(root: Path, *arguments: str) -> int:
    return cli.main(["--root", str(root), "fetch", "--no-record", *arguments])


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` (hidden ones too), with its content."""
    if not directory.exists():
        return {}
    return {
        str(path.relative_to(directory)): path.read_bytes() for path in directory.rglob("*") if path.is_file()
    }


def test_fetch_from_an_archive_writes_the_table_and_its_provenance(
    make_workspace: WorkspaceFactory, make_archive: ArchiveFactory
) -> None:
    workspace = make_workspace(fetch=False)
    archive = make_archive()
    assert fetch(workspace.root, "--archive", str(archive)) == 0
    table = readers.read_raw(workspace)
    assert len(table) == 9
    provenance = json.loads((workspace.root / "data" / "raw" / "source.json").read_text(encoding="utf-8"))
    assert provenance["kind"] == "archive"
    assert provenance["location"] == str(archive)
    assert len(provenance["sha256"]) == 64
    assert provenance["counts"] == {
        "train/neg": 2, "train/pos": 2, "test/neg": 2, "test/pos": 2, "train/unsup": 1,
    }  # fmt: skip
    assert sorted(path.name for path in (workspace.root / "data").iterdir()) == ["raw"]


def test_fetch_from_imdb_archive_reads_a_directory(
    make_workspace: WorkspaceFactory,
    make_archive: ArchiveFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive = make_archive()
    with tarfile.open(archive) as opened:
        unpack(opened, tmp_path / "extracted")
    monkeypatch.setenv("IMDB_ARCHIVE", str(tmp_path / "extracted" / "aclImdb"))
    workspace = make_workspace(fetch=False)
    assert fetch(workspace.root) == 0
    pd.testing.assert_frame_equal(readers.read_raw(workspace), read_reviews(archive))
    provenance = json.loads((workspace.root / "data" / "raw" / "source.json").read_text(encoding="utf-8"))
    assert provenance["kind"] == "directory"


def test_fetch_synthetic_is_deterministic(make_workspace: WorkspaceFactory) -> None:
    first, second = make_workspace(fetch=False), make_workspace(fetch=False)
    assert fetch(first.root, "--synthetic") == 0
    assert fetch(second.root, "--synthetic") == 0
    assert snapshot(first.root / "data" / "raw") == snapshot(second.root / "data" / "raw")
    table = readers.read_raw(first)
    source = first.params.source
    assert (table["split"] != "unsup").sum() == source.synthetic_reviews
    assert (table["split"] == "unsup").sum() == source.synthetic_unlabeled > 0
    provenance = json.loads((first.root / "data" / "raw" / "source.json").read_text(encoding="utf-8"))
    assert (provenance["unlabeled"], provenance["counts"]["train/unsup"]) == (source.synthetic_unlabeled,) * 2


def test_a_new_fetch_replaces_the_previous_version_whole(
    workspace: Workspace, make_archive: ArchiveFactory
) -> None:
    assert fetch(workspace.root, "--archive", str(make_archive())) == 0
    assert len(readers.read_raw(workspace)) == 9  # not the synthetic reviews of before
    assert sorted(path.name for path in (workspace.root / "data").iterdir()) == ["raw"]


Spoiler = Callable[[Path, ArchiveFactory, pytest.MonkeyPatch], list[str]]


def missing_archive(root: Path, make_archive: ArchiveFactory, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return ["--archive", str(root / "nowhere" / "aclImdb_v1.tar.gz")]


def corrupt_archive(root: Path, make_archive: ArchiveFactory, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    archive = make_archive()
    archive.write_bytes(archive.read_bytes()[:100])
    return ["--archive", str(archive)]


def wrong_layout(root: Path, make_archive: ArchiveFactory, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    files = {name: text for name, text in small_review_files().items() if "/test/" not in name}
    return ["--archive", str(make_archive(files))]


def empty_review(root: Path, make_archive: ArchiveFactory, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return ["--archive", str(make_archive({**small_review_files(), "aclImdb/train/neg/9_1.txt": ""}))]


def non_utf8_review(root: Path, make_archive: ArchiveFactory, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    files = {**small_review_files(), "aclImdb/test/neg/9_2.txt": "naïve".encode("latin-1")}
    return ["--archive", str(make_archive(files))]


def missing_imdb_archive(
    root: Path, make_archive: ArchiveFactory, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    monkeypatch.setenv("IMDB_ARCHIVE", str(root / "absent.tar.gz"))
    return []


def unknown_params_key(
    root: Path, make_archive: ArchiveFactory, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    write_params(root, {"source": {"synthetic_reviews": 40, "mirror": "http://example.invalid"}})
    return ["--synthetic"]


def empty_archive(root: Path, make_archive: ArchiveFactory, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return ["--archive", str(make_archive(name="aclImdb_v1.zip", files={}))]


def linked_review(root: Path, make_archive: ArchiveFactory, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    archive = make_archive()
    with tarfile.open(archive) as opened:
        unpack(opened, archive.parent / "extracted")
    (archive.parent / "extracted" / "aclImdb" / "train" / "pos" / "3000_9.txt").symlink_to("/etc/passwd")
    return ["--archive", str(archive.parent / "extracted")]


def review_with(name: str, text: str) -> Spoiler:
    def spoil(root: Path, make_archive: ArchiveFactory, monkeypatch: pytest.MonkeyPatch) -> list[str]:
        return ["--archive", str(make_archive({**small_review_files(), name: text}))]

    return spoil


BAD_INPUTS: dict[str, tuple[Spoiler, list[str]]] = {
    "missing archive": (missing_archive, ["review source not found", "nowhere/aclImdb_v1.tar.gz"]),
    "corrupt archive": (corrupt_archive, ["archive is corrupt or not a tar archive", "aclImdb_v1.tar.gz"]),
    "wrong layout": (wrong_layout, ["wrong layout", "aclImdb/test/neg", "aclImdb_v1.tar.gz"]),
    "empty review": (empty_review, ["review file is empty", "aclImdb/train/neg/9_1.txt"]),
    "non-UTF-8 review": (non_utf8_review, ["not valid UTF-8", "aclImdb/test/neg/9_2.txt"]),
    "missing IMDB_ARCHIVE": (missing_imdb_archive, ["IMDB_ARCHIVE", "absent.tar.gz"]),
    "unknown params key": (unknown_params_key, ["unknown key(s) ['mirror']", "params.yaml"]),
    "empty archive": (empty_archive, ["wrong layout", "aclImdb_v1.zip"]),
    "linked review in a directory": (
        linked_review,
        ["review entry is a symbolic link, not a regular file", "extracted/aclImdb/train/pos/3000_9.txt"],
    ),
    "rating out of range": (
        review_with("aclImdb/train/pos/1009_265.txt", "Rated 265?"),
        ["review rating 265 is out of range 1-10", "aclImdb/train/pos/1009_265.txt"],
    ),
    "24-digit id": (
        review_with("aclImdb/test/pos/" + "7" * 24 + "_9.txt", "A long id."),
        ["review id has 24 digits (at most 18)", "aclImdb/test/pos/777"],
    ),
    "oversized review": (
        review_with("aclImdb/train/neg/7_2.txt", "no " * 400_000),
        ["review file is larger than 1 MiB", "aclImdb/train/neg/7_2.txt"],
    ),
}


@pytest.mark.parametrize("previous_version", [False, True], ids=["fresh", "over-previous"])
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_names_problem_and_file_and_leaves_raw_data_alone(
    case: str,
    previous_version: bool,
    make_workspace: WorkspaceFactory,
    make_archive: ArchiveFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("IMDB_ARCHIVE", raising=False)
    workspace = make_workspace(fetch=previous_version)
    before = snapshot(workspace.root / "data")
    spoil, expected = BAD_INPUTS[case]
    arguments = spoil(workspace.root, make_archive, monkeypatch)
    capsys.readouterr()

    assert fetch(workspace.root, *arguments) == cli.EXIT_USER_ERROR

    error = capsys.readouterr().err
    assert "error: " in error
    assert "Traceback" not in error
    for fragment in expected:
        assert fragment in error
    assert snapshot(workspace.root / "data") == before
    assert (workspace.root / "data" / "raw").exists() == previous_version


def test_recording_outside_a_dvc_repository_fails_before_writing(
    make_workspace: WorkspaceFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = make_workspace(fetch=False)
    assert cli.main(["--root", str(workspace.root), "fetch", "--synthetic"]) == cli.EXIT_USER_ERROR
    error = capsys.readouterr().err
    assert "not a DVC repository" in error
    assert "--no-record" in error
    assert not (workspace.root / "data").exists()
    assert not (workspace.root / "data.dvc").exists()


def test_a_stage_before_its_inputs_exist_names_the_missing_file(
    make_workspace: WorkspaceFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = make_workspace(fetch=False)
    assert cli.main(["--root", str(workspace.root), "stage", "clean"]) == cli.EXIT_USER_ERROR
    error = capsys.readouterr().err
    assert "raw reviews not found: run `sentiment fetch` first" in error
    assert str(workspace.root / "data" / "raw" / "reviews.parquet") in error
    assert not (workspace.root / "data").exists()
