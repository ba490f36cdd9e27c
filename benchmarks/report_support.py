"""What every benchmark script shares: the machine it ran on, a workspace prepared from the archive,
the validation split it was drawn with, and its section of BENCHMARKS.md."""

from __future__ import annotations

import datetime
import os
import platform
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from sentiment.config.workspace import Workspace
from sentiment.core.errors import ConfigError
from sentiment.core.files import write_json, write_text
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import pretraining as pretraining_stages
from sentiment.stages import raw as raw_stages

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The 95k archive has the URL lists that name each review's movie, which the validation split needs to
# hold out whole movies; the 45k one has not (its validation split falls back to random).
DEFAULT_ARCHIVE = PROJECT_ROOT.parent / "shared" / "data" / "imdb" / "aclImdb_95k.tar.gz"
# The seeds of every benchmark that reports a spread; 42 is the pipeline's (params.yaml `seed`).
DEFAULT_SEEDS = [42, 43, 44]


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(encoding="utf-8"), re.MULTILINE)
        model = match.group(1).strip() if match else model
    return f"{model}, {os.cpu_count()} cores, {platform.system()}"


def load_average() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def params_text(synthetic: int | None = None, overrides: Mapping[str, Any] | None = None) -> str:
    """The project's params.yaml, with `synthetic` reviews and each dotted key of `overrides` (such as
    "training.epochs" or "models.bilstm.embedding_dim") set to its value."""
    text = (PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8")
    if synthetic is None and not overrides:
        return text
    params = yaml.safe_load(text)
    changes = dict(overrides or {})
    if synthetic is not None:
        changes["source.synthetic_reviews"] = synthetic
    for key, value in changes.items():
        *parents, leaf = key.split(".")
        section = params
        for parent in parents:
            if not isinstance(section.get(parent), dict):
                raise ConfigError(f"{key}: params.yaml has no section {parent!r}")
            section = section[parent]
        section[leaf] = value
    return yaml.safe_dump(params, sort_keys=False)


def prepare(
    root: Path,
    archive: Path | None,
    synthetic: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Workspace:
    """A workspace in `root` with the project's params.yaml (and `overrides`, see `params_text`) and the
    archive's reviews preprocessed (fetch, clean, vocabulary, sequences; pretrain too when a variant
    starts from pretrained vectors). A workspace prepared before
    with the same params is reused; with other params it is prepared again, so that no benchmark reads
    sequences made with settings it does not report. With `synthetic`, that many of the built-in
    synthetic reviews instead of the archive's (a quick check that a benchmark runs, not a measurement)."""
    text = params_text(synthetic, overrides)
    params_file = root / "params.yaml"
    same_params = params_file.exists() and params_file.read_text(encoding="utf-8") == text
    params_file.write_text(text, encoding="utf-8")
    workspace = Workspace.load(root)
    if not (same_params and workspace.path(workspace.params.paths.sequences).exists()):
        raw_stages.fetch_raw(workspace, archive=archive, use_synthetic=synthetic is not None)
        for stage in (
            preprocessing_stages.clean,
            preprocessing_stages.vocabulary,
            preprocessing_stages.sequences,
        ):
            stage(workspace)
        if any(variant.pretrained != "none" for variant in workspace.params.models.values()):
            pretraining_stages.pretrain(workspace)
    return workspace


def split_method(arrays: Mapping[str, Any]) -> str:
    """How the sequences' validation split was drawn, as the sequences stage records it
    (`validation_split`): "movie" (whole movies held out) or "random"; "unrecorded" for sequences
    made before the method was recorded (drawn at random)."""
    value = arrays.get("validation_split")
    return str(value) if value is not None else "unrecorded"


def split_sentence(arrays: Mapping[str, Any]) -> str:
    """One sentence for a report: how the validation split was drawn, and that it alone decides."""
    drawn = {
        "movie": "by movie: no movie has reviews on both sides",
        "random": "at random, not grouped by movie (no movie list, or `splits.by_movie` false)",
    }.get(split_method(arrays), "at random, by code that did not record the method")
    return (
        f"The {len(arrays['y_validation']):,} validation reviews were drawn from the training reviews "
        f"{drawn}. Choices are made on the validation split; test figures are reported only."
    )


def write_section(path: Path, title: str, section: str) -> None:
    """Replace the `## title` section of a Markdown file (up to the next `## `), or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n") + "\n\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    write_text(path, text.rstrip("\n") + "\n")


def publish(path: Path, title: str, section: str) -> None:
    """Print a benchmark's section and write it into the Markdown file at `path`."""
    print(section)
    write_section(path, title, section)
    print(f"wrote the '{title}' section of {path}")


def source_words(synthetic: int | None) -> str:
    return f"{synthetic:,} synthetic reviews" if synthetic else "the shared archive"


def review_counts(arrays: Mapping[str, Any]) -> str:
    """ "22,410 train, 2,489 validation, 20,000 test": the sequences' split sizes."""
    return ", ".join(f"{len(arrays[f'y_{split}']):,} {split}" for split in ("train", "validation", "test"))


def run_facts(
    script: str, argv: list[str] | None, load_before: str, arrays: Mapping[str, Any], seeds: list[int]
) -> dict[str, Any]:
    """What every comparison report records about its run: when, where, the command, the split."""
    return {
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "load_before": load_before,
        "load_after": load_average(),
        "command": " ".join([f"python benchmarks/{script}", *(argv if argv is not None else sys.argv[1:])]),
        "split": split_sentence(arrays),
        "validation_split": split_method(arrays),
        "seeds": seeds,
    }


def deliver(section: str, title: str, output: Path | None, record: Path | None, data: Any) -> None:
    """The section printed (no output file) or published, and, with `record`, `data` as JSON."""
    if output is None:
        print(section)
    else:
        publish(output, title, section)
    if record:
        write_json(record, data)
        print(f"wrote {record}")
