"""Property-based bad-input tests (Hypothesis) for the one reader of archives and directories.

Whatever a source holds (arbitrary names, sizes and bytes, symbolic and hard links pointing anywhere,
FIFOs, devices, directories named like reviews, corrupt or truncated archives), `read_reviews` either
returns the table of exactly the regular review files, or raises a `SentimentError` naming the problem;
never another exception, never a hang (an alarm fails a blocked read), never a byte from outside the
source, and never a file written anywhere. The limits are patched small so that each side of every
bound is reached in a few examples.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import stat
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import small_review_files, write_archive
from sentiment.core.errors import SentimentError
from sentiment.data import ingest, source_policy

SECRET = "TOP-SECRET-0f1e2d3c"  # the content of a file outside every source; never in a table
LIMITS = {"MAX_REVIEW_BYTES": 300, "MAX_URL_LIST_BYTES": 300, "MAX_SOURCE_BYTES": 60_000, "MAX_ENTRIES": 80}
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
)
LABELED = ("aclImdb/train/pos", "aclImdb/train/neg", "aclImdb/test/pos", "aclImdb/test/neg")
UNLABELED = "aclImdb/train/unsup"
REVIEW_FOLDERS = (*LABELED, UNLABELED)
FOLDERS = (*REVIEW_FOLDERS, "aclImdb", "aclImdb/train", "aclImdb/test", "aclImdb/test/unsup", "", "other")
REVIEW_NAME = re.compile(r"^([0-9]+)_([0-9]+)\.txt$")
URL_LISTS = (
    *(f"aclImdb/{split}/urls_{label}.txt" for split in ("train", "test") for label in ("pos", "neg")),
    "aclImdb/train/urls_unsup.txt",
)
MOVIE_URLS = b"http://www.imdb.com/title/tt0000001/usercomments\nhttp://www.imdb.com/title/tt0000002/\n"

review_names = st.builds(
    "{}_{}.txt".format,
    st.one_of(st.integers(0, 60), st.integers(10**17, 10**25)),
    st.one_of(st.integers(0, 12), st.integers(13, 10**6)),
)
odd_names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"), min_size=1, max_size=20
).filter(lambda name: name not in (".", "..") and len(name.encode()) <= 200)
names = st.one_of(
    review_names,
    odd_names,
    st.sampled_from(
        [
            "README",
            "urls_pos.txt",
            "urls_neg.txt",
            "urls_unsup.txt",
            "aclImdb",
            "pos",
            "train",
            "unsup",
            "loop",
        ]
    ),
)
contents = st.one_of(
    st.text(max_size=350).map(str.encode),
    st.binary(max_size=350),
    st.sampled_from([b"", b" \n", b"A fine review.", b"\xff\xfe", "caf\xe9".encode("latin-1"), MOVIE_URLS]),
)
link_targets = st.sampled_from(
    ["/etc/passwd", "/dev/zero", "SECRET", "SELF", "..", "../..", "0_8.txt", "nowhere"]
)


@st.composite
def entries(draw: Any, kinds: tuple[str, ...]) -> list[tuple[str, str, bytes, str]]:
    """Entries to add to a valid source: (path, kind, content, link target)."""
    drawn = draw(
        st.lists(
            st.tuples(st.sampled_from(FOLDERS), names, st.sampled_from(kinds), contents, link_targets),
            max_size=12,
        )
    )
    return [
        ("/".join(filter(None, (folder, name))), kind, data, target)
        for folder, name, kind, data, target in drawn
    ]


@contextlib.contextmanager
def alarm(seconds: int = 5) -> Iterator[None]:
    def hung(signum: int, frame: object) -> None:
        raise TimeoutError("the reader blocked")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def tree(directory: Path) -> dict[str, object]:
    """Every entry under `directory` by lstat, never following a link nor opening a special file."""
    found: dict[str, object] = {}
    for path in sorted(directory.rglob("*")):
        info = path.lstat()
        if stat.S_ISREG(info.st_mode):
            found[str(path)] = path.read_bytes()
        elif stat.S_ISLNK(info.st_mode):
            found[str(path)] = ("link", os.readlink(path))
        else:
            found[str(path)] = stat.S_IFMT(info.st_mode)
    return found


def read(source: Path) -> pd.DataFrame | SentimentError:
    """The reader's answer, with the limits patched small; any other exception fails the test."""
    cwd = sorted(os.listdir("."))
    with mock.patch.multiple(source_policy, **LIMITS), alarm():
        try:
            answer: pd.DataFrame | SentimentError = ingest.read_reviews(source)
        except SentimentError as error:
            answer = error
    assert sorted(os.listdir(".")) == cwd  # nothing written where the reader runs
    return answer


def check_table(table: pd.DataFrame, regular: dict[str, bytes]) -> None:
    """Each row is the text of exactly one regular review file of the source, nothing else; an
    unlabeled one (train/unsup) has split unsup, no label and rating 0."""
    assert list(table.columns) == list(ingest.COLUMNS)
    by_id: dict[str, list[bytes]] = {}
    for path, data in regular.items():
        folder, _, name = path.rpartition("/")
        match = REVIEW_NAME.match(name)
        if folder in REVIEW_FOLDERS and match:
            by_id.setdefault(f"{folder.removeprefix('aclImdb/')}/{match.group(1)}", []).append(data)
    assert len(table) == len(set(table["review_id"]))
    assert table["movie"].dropna().str.fullmatch(r"tt[0-9]+").all()
    for review_id, text, label, rating, split in zip(
        table["review_id"], table["text"], table["label"], table["rating"], table["split"], strict=True
    ):
        assert SECRET not in text
        assert [data.decode("utf-8") for data in by_id[review_id]] == [text]
        if review_id.startswith("train/unsup/"):
            assert (split, label, rating) == ("unsup", ingest.UNLABELED, 0)
        else:
            assert split in ("train", "test") and label in (0, 1) and 1 <= rating <= 10


def build_directory(root: Path, added: list[tuple[str, str, bytes, str]]) -> dict[str, bytes]:
    """The small review files plus `added` under `root` (an entry that cannot be made is left out);
    returns the regular files made, by path relative to `root`."""
    regular = {path: text.encode("utf-8") for path, text in small_review_files().items()}
    for path, data in regular.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    for path, kind, data, target in added:
        entry = root / path
        try:
            if entry.is_symlink() or entry.exists():
                continue
            entry.parent.mkdir(parents=True, exist_ok=True)
            if kind == "file":
                entry.write_bytes(data)
                regular[path] = data
            elif kind == "dir":
                entry.mkdir()
            elif kind == "fifo":
                os.mkfifo(entry)
            else:
                link = {"SECRET": str(root.parent / "outside" / "secret.txt"), "SELF": entry.name}.get(
                    target, target
                )
                entry.symlink_to(link)
        except OSError:  # a parent is a file, a link or a FIFO; the name is too long
            continue
    return regular


def refused_entries(root: Path, added: list[tuple[str, str, bytes, str]]) -> list[str]:
    """The added entries the reader must refuse: a non-regular entry at a review or URL list path, as
    made."""
    refused = []
    for path, _, _, _ in added:
        folder, _, name = path.rpartition("/")
        entry = root / path
        at_read_path = (folder in REVIEW_FOLDERS and REVIEW_NAME.match(name)) or path in URL_LISTS
        made = at_read_path and (entry.is_symlink() or entry.exists())
        if made and not stat.S_ISREG(entry.lstat().st_mode):
            refused.append(path)
    return refused


@SETTINGS
@given(added=entries(("file", "file", "dir", "symlink", "fifo")))
def test_a_directory_gives_its_regular_reviews_or_a_clear_error(
    added: list[tuple[str, str, bytes, str]],
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        (base / "outside").mkdir()
        (base / "outside" / "secret.txt").write_text(SECRET, encoding="utf-8")
        source = base / "source"
        source.mkdir()
        regular = build_directory(source, added)
        refused = refused_entries(source, added)
        before = tree(base)

        answer = read(source)

        assert tree(base) == before
        if isinstance(answer, pd.DataFrame):
            assert not refused, f"read {refused} instead of refusing"
            check_table(answer, regular)


MEMBER_TYPES = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "fifo": tarfile.FIFOTYPE,
    "device": tarfile.CHRTYPE,
}


def build_archive(path: Path, added: list[tuple[str, str, bytes, str]], compression: str) -> dict[str, bytes]:
    """A tar archive of the small review files plus `added`; returns its regular members (the last of
    each name)."""
    regular = {name: text.encode("utf-8") for name, text in small_review_files().items()}
    modes = {"gz": "w:gz", "bz2": "w:bz2", "xz": "w:xz", "": "w"}
    with tarfile.open(path, modes[compression]) as archive:
        for name, data in regular.items():
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
        for name, kind, data, target in added:
            member = tarfile.TarInfo(name)
            member.type = MEMBER_TYPES[kind]
            if kind == "file":
                member.size = len(data)
                regular[name] = data
            else:
                member.linkname = target
            archive.addfile(member, io.BytesIO(data) if kind == "file" else None)
    return regular


@SETTINGS
@given(
    added=entries(tuple(MEMBER_TYPES)),
    compression=st.sampled_from(["gz", "", "bz2", "xz"]),
    prefix=st.sampled_from(["", "./", "imdb/"]),
)
def test_an_archive_gives_its_regular_reviews_or_a_clear_error(
    added: list[tuple[str, str, bytes, str]], compression: str, prefix: str
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        archive = base / "reviews.tar"
        regular = build_archive(archive, [(prefix + name, *rest) for name, *rest in added], compression)
        refused = [
            name
            for name, kind, _, _ in added
            if kind != "file"
            and name.rpartition("/")[0] in REVIEW_FOLDERS
            and REVIEW_NAME.match(name.rpartition("/")[2])
        ]
        refused += [name for name, kind, _, _ in added if kind != "dir" and name in FOLDERS[:8]]
        refused += [name for name, kind, _, _ in added if kind != "file" and name in URL_LISTS]
        before = tree(base)

        answer = read(archive)

        assert tree(base) == before
        if isinstance(answer, pd.DataFrame):
            assert not refused, f"read an archive holding {refused}"
            assert not [name for name, *_ in added if name in small_review_files() and name.endswith(".txt")]
            check_table(answer, {name.removeprefix(prefix): data for name, data in regular.items()})


@SETTINGS
@given(
    cut=st.integers(0, 4000),
    flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(1, 255)), max_size=4),
    garbage=st.binary(max_size=64),
    compression=st.sampled_from(["gz", "", "bz2", "xz"]),
)
def test_a_corrupt_archive_gives_a_table_or_a_clear_error(
    cut: int, flips: list[tuple[int, int]], garbage: bytes, compression: str
) -> None:
    with tempfile.TemporaryDirectory() as temporary:
        archive = write_archive(Path(temporary) / "reviews.tar", small_review_files(), "")
        if compression:
            with tarfile.open(archive) as plain:
                members = [(member, plain.extractfile(member)) for member in plain]
                spoiled = Path(temporary) / f"reviews.tar.{compression}"
                with tarfile.open(spoiled, f"w:{compression}") as packed:
                    for member, handle in members:
                        packed.addfile(member, handle)
            archive = spoiled
        data = bytearray(archive.read_bytes())
        for position, change in flips:
            if position < len(data):
                data[position] ^= change
        archive.write_bytes(bytes(data[: max(cut, 0)] if cut < len(data) else data) + garbage)
        before = tree(Path(temporary))

        answer = read(archive)

        assert tree(Path(temporary)) == before
        if isinstance(answer, pd.DataFrame):
            assert list(answer.columns) == list(ingest.COLUMNS)
            labeled = answer["split"] != "unsup"
            assert answer.loc[labeled, "rating"].between(1, 10).all()
            assert (answer.loc[~labeled, "rating"] == 0).all()
