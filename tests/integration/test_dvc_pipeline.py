"""The real `dvc repro` in a temporary git repository, on synthetic reviews: the preprocessing stages
run once, a second run does nothing, and a parameter change re-runs only the stages that read it.

dvc.yaml grows (validation, training, ...), so the test targets the preprocessing stages explicitly
(`dvc repro sequences`) and checks the stages DVC reports as run.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from conftest import run_command

pytestmark = pytest.mark.slow


PREPROCESSING = ("clean", "vocabulary", "sequences")


def repro(root: Path) -> list[str]:
    """`dvc repro sequences`: the names of the stages that ran, in order."""
    return re.findall(r"Running stage '([^']+)'", run_command(root, "dvc", "repro", "sequences").stdout)


def preprocessing(stages_run: list[str]) -> list[str]:
    """The preprocessing stages among those run (others, such as validation, may sit in between)."""
    return [stage for stage in stages_run if stage in PREPROCESSING]


def changed_stages(root: Path) -> set[str]:
    """`dvc status --with-deps sequences`: the stages whose own inputs changed since they last ran."""
    status = run_command(root, "dvc", "status", "--with-deps", "sequences", "--json").stdout
    return {name for name in json.loads(status) if not name.endswith(".dvc")}


def change_params(root: Path, section: str, key: str, value: Any) -> None:
    path = root / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    params[section][key] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")


def load_sequences(root: Path) -> dict[str, np.ndarray]:
    with np.load(root / "data" / "sequences" / "sequences.npz") as data:
        return {name: data[name] for name in data.files}


def test_dvc_repro_runs_each_preprocessing_stage_only_when_its_inputs_change(dvc_project: Path) -> None:
    root = dvc_project
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))

    run_command(root, "sentiment", "fetch", "--synthetic")
    recorded = yaml.safe_load((root / "data.dvc").read_text(encoding="utf-8"))["outs"][0]
    assert recorded["path"] == params["paths"]["raw_dir"]
    assert recorded["md5"].endswith(".dir") and recorded["nfiles"] == 2

    assert preprocessing(repro(root)) == ["clean", "vocabulary", "sequences"]
    assert repro(root) == []
    arrays = load_sequences(root)
    reviews = params["source"]["synthetic_reviews"]
    assert sum(len(arrays[f"y_{split}"]) for split in ("train", "validation", "test")) == reviews
    assert arrays["x_train"].shape[1] == params["sequences"]["max_len"]

    # Settings no preprocessing stage reads (where the archive comes from; training when present).
    change_params(root, "source", "url", "https://example.invalid/aclImdb_v1.tar.gz")
    if isinstance(params.get("training"), dict) and "epochs" in params["training"]:
        change_params(root, "training", "epochs", params["training"]["epochs"] + 1)
    assert changed_stages(root) == set()

    change_params(root, "sequences", "max_len", 32)
    assert repro(root) == ["sequences"]
    assert load_sequences(root)["x_train"].shape[1] == 32

    change_params(root, "vocabulary", "num_words", 50)
    stages_run = repro(root)
    assert "clean" not in stages_run
    assert preprocessing(stages_run) == ["vocabulary", "sequences"]
    assert load_sequences(root)["x_train"].max() == 49

    # A new version of the raw reviews is recorded in data.dvc (then clean, and all after it, re-run).
    change_params(root, "source", "synthetic_reviews", reviews + 40)
    run_command(root, "sentiment", "fetch", "--synthetic")
    assert (
        yaml.safe_load((root / "data.dvc").read_text(encoding="utf-8"))["outs"][0]["md5"] != recorded["md5"]
    )
