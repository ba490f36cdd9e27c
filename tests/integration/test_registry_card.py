"""The model card of each registered version, read back from a real, temporary SQLite registry: logged
with the decision, found from the version, and completed by the next run when a run was killed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from sentiment.config.workspace import Workspace
from sentiment.core.files import write_json
from sentiment.registry import card_facts, champion, registration
from sentiment.registry.decision import CARD_TAG
from sentiment.registry.model_card import CARD_FILE, NOT_MEASURED
from sentiment.stages import model_registry
from sentiment.stages.readers import read_raw
from support.serving import (
    CRIPPLED_TRAINING,
    TINY_VARIANT,
    InjectedCrash,
    easy_workspace,
    losing_baseline,
    registry_snapshot,
    train,
)

pytestmark = pytest.mark.slow


@pytest.fixture()
def card_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return easy_workspace(tmp_path / "project", {"tiny": TINY_VARIANT})


def registered_card(workspace: Workspace, version: str) -> tuple[str, Any]:
    """The card of a registered version as a user fetches it: the version's tag names its URI."""
    import mlflow
    from mlflow import MlflowClient

    uri = model_registry.mlflow_uri(workspace)
    client = MlflowClient(uri, registry_uri=uri)
    found = client.get_model_version(workspace.params.registry.model_name, version)
    assert found.tags[CARD_TAG] == f"runs:/{found.run_id}/{CARD_FILE}"
    local = mlflow.artifacts.download_artifacts(found.tags[CARD_TAG], tracking_uri=uri)
    return Path(local).read_text(encoding="utf-8"), found


def spread_record(workspace: Workspace) -> dict[str, Any]:
    """A seed-spread record of the tiny variant on these test reviews, as ablation.py --spread writes."""
    raw = read_raw(workspace)
    summary = {name: {"mean": 0.75, "sd": 0.0125, "runs": 3} for name in ("validation", "test")}
    return {
        "source": "benchmarks/ablation.py --spread (test record)",
        "seeds": [42, 43, 44],
        "test_data_hash": registration.test_split_hash(raw[raw["split"] == "test"]),
        "training": dataclasses.asdict(Workspace.load(workspace.root).params.training),
        "models": {
            "tiny": {"settings": card_facts.model_settings("tiny", workspace.params), "summary": summary}
        },
    }


def test_each_new_version_has_its_card_with_the_figures_it_was_decided_on(card_workspace: Workspace) -> None:
    workspace = card_workspace
    losing_baseline(workspace)
    trained = train(workspace)
    write_json(workspace.seed_spread_record, spread_record(workspace))
    first = json.loads(model_registry.register(workspace).read_text(encoding="utf-8"))
    assert first["decision"] == "promoted"

    card, version = registered_card(workspace, "1")
    assert "# Model card: imdb-sentiment version 1 (`tiny`)" in card
    assert (
        f"| accuracy | {trained['validation']['accuracy']:.4f} | {trained['test']['accuracy']:.4f} |" in card
    )
    assert "Promoted: version 1 is `@champion` (the first champion)." in card
    assert "no paired test" in card and "stratified random" in card
    assert "Seed spread (seeds 42, 43, 44; mean ± sample sd): validation 75.00% ± 1.25" in card
    assert f"training run `{trained['run_id']}`" in card and first["test_data_hash"] in card
    # the suite's results of this very candidate (the test support's thresholds are 0: it passes)
    behaviour = first["behaviour"][first["candidate"]["variant"]]
    assert "## Behavioural tests\n\n- Suite passed; pass rate by type: mft " in card
    assert all(f"| {test} | " in card for test in behaviour["pass_rates"])
    assert "Promoted: version 1 is `@champion`" in version.description

    # A re-run on the champion's own training run changes nothing, its card included.
    snapshot = registry_snapshot(workspace)
    model_registry.register(workspace)
    assert registry_snapshot(workspace) == snapshot and registered_card(workspace, "1")[0] == card

    # A worse model: challenger, decided on the paired test against version 1; the spread record is
    # of the other training settings now, so this card says the spread was not measured.
    worse = train(workspace, **CRIPPLED_TRAINING)
    workspace = Workspace.load(workspace.root)  # the params the worse model was trained with
    second = json.loads(model_registry.register(workspace).read_text(encoding="utf-8"))
    assert second["decision"] == "challenger" and second["candidate"]["version"] == "2"
    card, version = registered_card(workspace, "2")
    paired = second["paired_test"]
    assert f"| accuracy | {worse['validation']['accuracy']:.4f} | {worse['test']['accuracy']:.4f} |" in card
    assert (
        f"p = {paired['p_value']:.4g}" in card
        and f"only the champion on {paired['champion_right_only']}" in card
    )
    assert "Not promoted: version 2 is `@challenger`; the champion stays version 1." in card
    assert f"Seed spread: {NOT_MEASURED} (the seed-spread record is of other training settings" in card
    assert "Not promoted: version 2 is `@challenger`" in version.description
    assert registered_card(workspace, "1")[0] != card  # each version its own card, in its own run


def test_a_register_killed_before_its_card_was_logged_leaves_the_next_run_to_log_it(
    card_workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = card_workspace
    losing_baseline(workspace)
    trained = train(workspace)

    def killed(*args: Any) -> None:
        raise InjectedCrash("the register stage died while logging the model card")

    with monkeypatch.context() as patch:
        patch.setattr(champion, "log_run_file", killed)
        with pytest.raises(InjectedCrash):
            model_registry.register(workspace)
    left = registry_snapshot(workspace)
    assert champion.PENDING_TAG in left["tags"] and left["aliases"] == {}  # the intent, nothing else

    report = json.loads(model_registry.register(workspace).read_text(encoding="utf-8"))
    assert report["decision"] == "promoted" and report["recovered"]["change"] == "promotion"
    card, _ = registered_card(workspace, "1")
    assert f"| accuracy | {trained['validation']['accuracy']:.4f} |" in card
    assert champion.PENDING_TAG not in registry_snapshot(workspace)["tags"]
