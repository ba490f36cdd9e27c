"""The claims stage on a tiny trained synthetic workspace (rnn, gru, lstm and the baseline): it writes the
report, the metric and the clipping experiment's files, decides each claim on the metrics the training
stages wrote, says which claims it could not measure and why, logs an MLflow run of its own, and turns
a claim to "does not hold" when the metrics it reads say so."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from conftest import SMALL_OVERRIDES, keep_students_of, merged, project_params
from sentiment.config.workspace import Workspace
from sentiment.core.files import write_json
from sentiment.stages import course_claims, model_training
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages
from sentiment.tracking.lineage import PIPELINE_RUN_VARIABLE
from sentiment.tracking.runs import TRACKING_URI_VARIABLE
from support.training import mlflow_client, read_json, tiny_training_overrides

pytestmark = pytest.mark.slow

TRAINED = ("rnn", "gru", "lstm")


@pytest.fixture(scope="module")
def claimed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, dict[str, Any]]]:
    """Three variants and the baseline trained (one epoch, tiny), then the claims stage run."""
    params = merged(project_params(), merged(SMALL_OVERRIDES, tiny_training_overrides()))
    params["models"] = {name: params["models"][name] for name in TRAINED}  # bilstm, deep, bag left out
    keep_students_of(params)
    root = tmp_path_factory.mktemp("claims")
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    workspace = Workspace.load(root)
    raw_stages.fetch_raw(workspace, use_synthetic=True, record=False)
    for stage in (
        preprocessing_stages.clean,
        preprocessing_stages.vocabulary,
        preprocessing_stages.sequences,
    ):
        stage(workspace)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(TRACKING_URI_VARIABLE, raising=False)
        patch.delenv(PIPELINE_RUN_VARIABLE, raising=False)
        for name in TRAINED:
            model_training.train(workspace, name)
        model_training.baseline(workspace)
        assert course_claims.claims(workspace) == workspace.claims_report
        yield workspace, read_json(workspace.claims_metrics)


def test_the_report_decides_each_claim_on_the_training_stages_metrics(
    claimed: tuple[Workspace, dict[str, Any]],
) -> None:
    workspace, data = claimed
    claims = data["claims"]
    assert len(claims) == 9 and sum(data["summary"].values()) == 9
    metrics = {name: read_json(workspace.evaluation_file(name)) for name in (*TRAINED, "baseline")}
    # the gated cells against the simple RNN: the training stages' test accuracies, the params' margin
    gated = claims["gated_beat_simple_rnn"]
    leads = {
        name: metrics[name]["test"]["accuracy"] - metrics["rnn"]["test"]["accuracy"]
        for name in ("gru", "lstm")
    }
    assert gated["numbers"]["gru_minus_rnn"] == pytest.approx(leads["gru"])
    margin = workspace.params.claims.margin
    assert gated["holds"] == int(all(lead >= margin for lead in leads.values()))
    # long reviews: the training stages recorded the accuracy by length bucket
    assert set(metrics["rnn"]["test"]["accuracy_by_length"]) <= {"1-100", "101-200", "201-400", "401-inf"}
    long = claims["gated_beat_simple_rnn_long"]
    assert long["verdict"] in ("holds", "does not hold"), long["reason"]
    # synthetic reviews record each verdict's distance: the claim reads those buckets, not lengths
    assert "accuracy_by_distance" in metrics["rnn"]["test"]
    by_distance = metrics["rnn"]["test"]["accuracy_by_distance"]
    far = str(long["numbers"]["bucket_from"])
    bucket = next(key for key in by_distance if key.startswith(far + "-"))
    assert long["numbers"]["rnn_accuracy"] == pytest.approx(by_distance[bucket])
    # the gradient ratios are the training stages' own
    vanishing = claims["simple_rnn_gradient_vanishes"]["numbers"]
    assert vanishing["gru_ratio_far_to_1"] == pytest.approx(metrics["gru"]["gradients"]["ratio_far_to_1"])
    # the variants params.yaml does not have are named, not guessed
    for claim_id, missing in (("bidirectional_helps", "bilstm"), ("stacking_helps", "deep")):
        assert claims[claim_id]["holds"] is None
        assert f"{missing} is not a variant of params.yaml `models`" in claims[claim_id]["reason"]
    assert claims["sequence_models_read_order"]["verdict"] == "not measured"
    # measured on the three embeddings, and the experiment on the training sequences
    assert claims["embedding_groups_similar_words"]["verdict"] != "not measured"
    assert claims["clipping_stops_explosion"]["verdict"] == "holds", claims["clipping_stops_explosion"][
        "reason"
    ]
    assert claims["recurrent_beat_tfidf"]["verdict"] != "not measured"


def test_the_report_table_the_clipping_files_and_the_mlflow_run(
    claimed: tuple[Workspace, dict[str, Any]],
) -> None:
    workspace, data = claimed
    markdown = workspace.claims_report.read_text(encoding="utf-8")
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 9
    verdicts = [claim["verdict"] for claim in data["claims"].values()]
    assert [("**does not hold**" in row) for row in rows] == [
        verdict == "does not hold" for verdict in verdicts
    ]
    steps = pd.read_csv(workspace.clipping_dir / "clipping.csv")
    assert len(steps) == 2 * workspace.params.claims.clipping.steps
    assert (workspace.clipping_dir / "clipping.png").read_bytes()[:4] == b"\x89PNG"

    client = mlflow_client(workspace.root)
    experiment = client.get_experiment_by_name("imdb-sentiment")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id], filter_string="tags.report = 'course-claims'")
    assert run.info.status == "FINISHED" and run.info.run_name == "course-claims"
    assert run.info.run_id[:8] in markdown  # the report names its run
    assert run.data.params["claims.margin"] == str(workspace.params.claims.margin)
    assert run.data.metrics["claim_clipping_stops_explosion"] == 1.0
    logged = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {"course_claims.md", "course_claims.json", "clipping"} <= logged
    # the same pipeline run as the models' runs (derived from the code, data and params)
    (rnn_run,) = client.search_runs([experiment.experiment_id], filter_string="tags.variant = 'rnn'")
    assert run.data.tags["pipeline_run"] == rnn_run.data.tags["pipeline_run"]


def test_a_claim_turns_to_does_not_hold_when_the_metrics_say_so(
    claimed: tuple[Workspace, dict[str, Any]],
) -> None:
    workspace, _ = claimed
    path = workspace.evaluation_file("lstm")
    original = read_json(path)
    changed = {**original, "test": {**original["test"]}}
    rnn = read_json(workspace.evaluation_file("rnn"))["test"]["accuracy"]
    changed["test"]["accuracy"] = rnn - 0.05  # lstm now five points behind the simple RNN
    write_json(path, changed)
    try:
        course_claims.claims(workspace)
        claim = read_json(workspace.claims_metrics)["claims"]["gated_beat_simple_rnn"]
        assert claim["verdict"] == "does not hold" and claim["holds"] == 0
        assert "lstm -5.00 points against rnn" in claim["reason"]
        assert "lstm -5.00 points against rnn" in workspace.claims_report.read_text(encoding="utf-8")
    finally:
        write_json(path, original)


def test_the_prefect_artifact_is_the_report_with_its_figure_named(
    claimed: tuple[Workspace, dict[str, Any]], tmp_path: Path
) -> None:
    from sentiment.orchestration import run_report

    workspace, _ = claimed
    artifact = run_report.claims_markdown(workspace)
    assert artifact.startswith("# What the course claims, checked on this run")
    # the UI cannot open a file beside the report: the figure is named by its path instead
    assert "](clipping/clipping.png)" not in artifact
    assert (
        "Loss and gradient norm per step, with and without clipping: `reports/clipping/clipping.png`"
        in artifact
    )
    empty = Workspace(tmp_path, workspace.params)
    assert "has not written its report" in run_report.claims_markdown(empty)
