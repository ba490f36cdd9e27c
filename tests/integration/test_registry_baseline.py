"""A network is champion only if it beats the run's TF-IDF baseline on the test reviews
(params.yaml `registry.baseline_margin`), on a real, temporary SQLite registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sentiment.config import BASELINE, model_family
from sentiment.config.workspace import Workspace
from sentiment.evaluation.paired import mcnemar_exact_p
from sentiment.registry.served import served_model
from sentiment.serving import scoring
from sentiment.stages import model_registry, readers
from support.serving import (
    CRIPPLED_TRAINING,
    TINY_VARIANT,
    WEAK_BASELINE,
    easy_workspace,
    registry_snapshot,
    set_validation_score,
    train,
    train_baseline,
)

pytestmark = pytest.mark.slow

MARGIN = 0.005  # params.yaml's


def workspace_against_baseline(root: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    workspace = easy_workspace(root, {"tiny": TINY_VARIANT})
    data = yaml.safe_load(workspace.params_file.read_text(encoding="utf-8"))
    data["registry"]["baseline_margin"] = MARGIN
    workspace.params_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return Workspace.load(root)


def right_on_test(workspace: Workspace, name: str) -> np.ndarray:
    """Who is right on each raw test review, through the model's served pyfunc built here."""
    from sentiment.registry.registration import read_training_record, serving_config

    test = readers.read_raw(workspace).query("split == 'test'").reset_index(drop=True)
    record = read_training_record(
        name, workspace.model_file(name), workspace.evaluation_file(name),
        workspace.run_record(name), model_family(name, workspace.params.networks),
    )  # fmt: skip
    model = served_model(record, workspace.vocabulary_file, serving_config(workspace.params))
    return scoring.correct_predictions(model, test["text"].tolist(), test["label"].to_numpy())


def register(workspace: Workspace) -> dict[str, Any]:
    return json.loads(model_registry.register(workspace).read_text(encoding="utf-8"))


def test_a_network_that_beats_the_baseline_is_champion_with_the_paired_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = workspace_against_baseline(tmp_path / "project", monkeypatch)
    train_baseline(workspace, **WEAK_BASELINE)  # one word: about chance
    set_validation_score(workspace, BASELINE, 0.0)
    train(workspace)
    report = register(workspace)

    network, baseline = right_on_test(workspace, "tiny"), right_on_test(workspace, BASELINE)
    against = report["against_baseline"]
    assert against["test_reviews"] == network.size
    assert (against["candidate_correct"], against["baseline_correct"]) == (network.sum(), baseline.sum())
    wins, losses = int((network & ~baseline).sum()), int((baseline & ~network).sum())
    assert (against["candidate_right_only"], against["baseline_right_only"]) == (wins, losses)
    assert against["p_value"] == pytest.approx(mcnemar_exact_p(wins, losses))
    assert against["required_gain"] == int(np.ceil(MARGIN * network.size)) and against["margin"] == MARGIN
    assert against["beats_baseline"] is True and report["decision"] == "promoted"
    tags = registry_snapshot(workspace)["versions"]["1"][0]
    assert tags["beats_baseline"] == "True" and float(tags["baseline_p_value"]) == against["p_value"]


def test_a_network_the_baseline_does_as_well_as_is_not_made_champion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = workspace_against_baseline(tmp_path / "project", monkeypatch)
    train_baseline(workspace)  # the real baseline learns the easy reviews
    train(workspace, **CRIPPLED_TRAINING)  # about chance
    for name, accuracy in ((BASELINE, 0.0), ("tiny", 1.0)):  # the network wins on validation
        set_validation_score(workspace, name, accuracy)
    report = register(workspace)

    assert report["candidate"]["variant"] == "tiny"
    assert report["decision"] == "challenger" and report["champion_after"] is None
    assert report["against_baseline"]["beats_baseline"] is False
    assert report["reason"].startswith("does not beat the count baseline: ")
    assert registry_snapshot(workspace)["aliases"] == {"challenger": "1"}
