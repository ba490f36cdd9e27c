"""The training stages end to end on tiny synthetic data: every variant of params.yaml and the TF-IDF
baseline train, write files that agree with the model's own predictions, and log a complete MLflow run
to a temporary SQLite store; two runs with the same params and seed give the same metrics; a failed
training leaves no model behind."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import joblib
import keras
import mlflow
import numpy as np
import pandas as pd
import pytest

from conftest import SMALL_OVERRIDES, merged, project_params, run_command, write_params
from sentiment import cli
from sentiment.config.workspace import Workspace
from sentiment.evaluation import buckets, word_order
from sentiment.evaluation import metrics as evaluation
from sentiment.modeling.inference import predict_probabilities
from sentiment.stages import model_training, readers
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages
from sentiment.tracking.lineage import PIPELINE_RUN_VARIABLE
from sentiment.tracking.runs import TRACKING_URI_VARIABLE, finite_metrics
from support.training import (
    PROBE_WORDS,
    load_logged_model,
    md5_of,
    mlflow_client,
    read_json,
    runs_of,
    tiny_training_overrides,
)

pytestmark = pytest.mark.slow

VARIANTS = sorted(project_params()["models"])
RUN_RECORD_KEYS = {
    "mlflow_run_id",
    "experiment_id",
    "tracking_uri",
    "pipeline_run",
    "model_path",
    "model_uri",
}
REPORTED = ("validation", "test", "training", "gradients")  # all but the timings in "speed"


@pytest.fixture(scope="module")
def trained_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """Preprocessed tiny synthetic data; MLflow goes to the workspace's own SQLite store."""
    root = tmp_path_factory.mktemp("training")
    write_params(root, merged(SMALL_OVERRIDES, tiny_training_overrides()))
    workspace = Workspace.load(root)
    raw_stages.fetch_raw(workspace, use_synthetic=True)
    preprocessing_stages.clean(workspace)
    preprocessing_stages.vocabulary(workspace)
    preprocessing_stages.sequences(workspace)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(TRACKING_URI_VARIABLE, raising=False)
        patch.delenv(PIPELINE_RUN_VARIABLE, raising=False)
        yield workspace


def outputs_of(workspace: Workspace, name: str) -> dict[str, Path]:
    outputs = model_training.model_outputs(workspace, name)
    return {"model": outputs.model, "metrics": outputs.evaluation, "plots": outputs.plots_dir,
            "run": outputs.run_record, "embeddings": outputs.embeddings_dir or Path()}  # fmt: skip


def check_reports_agree_with(
    probabilities: np.ndarray, labels: np.ndarray, files: dict[str, Path], lengths: np.ndarray | None = None,
    bounds: tuple[int, ...] = (), distances: tuple[np.ndarray, tuple[int, ...]] | None = None,
) -> None:  # fmt: skip
    """The test metrics are the model's own predictions scored; `lengths`: those of the test reviews, for
    the accuracy by length bucket a network's stage records (the baseline's records none); `distances`:
    the synthetic test reviews' verdict distances and the buckets, for the accuracy by distance."""
    metrics = read_json(files["metrics"])
    shuffled = metrics["test"].pop(word_order.SHUFFLED_METRIC)  # on other inputs: the words shuffled
    by_distance = metrics["test"].pop(buckets.DISTANCE_METRIC, None)
    if distances is not None:
        expected = buckets.accuracy_by_bucket(labels, probabilities, distances[0], distances[1])
        assert by_distance == pytest.approx(expected)
    by_length = metrics["test"].pop(buckets.LENGTH_METRIC, None)
    if lengths is None:
        assert by_length is None
    else:
        assert by_length == pytest.approx(buckets.accuracy_by_bucket(labels, probabilities, lengths, bounds))
    assert metrics["test"] == pytest.approx(evaluation.binary_metrics(labels, probabilities), abs=1e-6)
    assert 0 <= shuffled <= 1
    confusion = pd.read_csv(files["plots"] / "confusion.csv")
    names = np.array(["negative", "positive"])
    assert (confusion["predicted"].to_numpy() == names[(probabilities >= 0.5).astype(int)]).all()
    assert (confusion["actual"].to_numpy() == names[labels]).all()
    roc = pd.read_csv(files["plots"] / "roc.csv")
    assert np.trapezoid(roc["tpr"], roc["fpr"]) == pytest.approx(metrics["test"]["roc_auc"], abs=1e-4)
    for image in ("roc.png", "confusion_matrix.png"):
        assert (files["plots"] / "images" / image).read_bytes()[:4] == b"\x89PNG"


def check_mlflow_run(workspace: Workspace, name: str, files: dict[str, Path]) -> mlflow.entities.Run:
    record = read_json(files["run"])
    assert set(record) == RUN_RECORD_KEYS
    assert record["model_path"] == files["model"].relative_to(workspace.root).as_posix()
    client = mlflow_client(workspace.root)
    run = client.get_run(record["mlflow_run_id"])
    assert run.info.status == "FINISHED" and run.info.run_name == name
    tags, params = run.data.tags, run.data.params
    assert tags["variant"] == name and tags["pipeline_run"] == record["pipeline_run"]
    assert tags["data.sequences_md5"] == md5_of(workspace.path(workspace.params.paths.sequences))
    assert {"git_commit", "params_md5", "data.raw_md5"} <= set(tags)
    assert params["seed"] == str(workspace.params.seed)
    assert params["vocabulary.num_words"] == "400" and params["sequences.max_len"] == "40"
    metrics = read_json(files["metrics"])
    for key, value in finite_metrics(
        {"test": metrics["test"]}
    ).items():  # by length: test_accuracy_by_length_*
        assert run.data.metrics[key] == pytest.approx(value)
    # how the validation split was drawn: synthetic reviews have no movie, so at random
    assert (
        metrics["validation_split"] == "random" == str(readers.read_sequences(workspace)["validation_split"])
    )
    assert params["data.validation_split"] == tags["validation_split"] == "random"
    assert params["splits.by_movie"] == "True" and params["splits.validation_fraction"] == "0.1"
    artifacts = {item.path for item in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/roc.csv", "plots/confusion.csv", "plots/images"} <= artifacts
    assert client.list_artifacts(run.info.run_id, "metrics")
    return run


@pytest.mark.parametrize("name", VARIANTS)
def test_each_variant_trains_and_logs_a_complete_run(trained_workspace: Workspace, name: str) -> None:
    workspace = trained_workspace
    arrays = readers.read_sequences(workspace)
    model_file = model_training.train(workspace, name)
    files = outputs_of(workspace, name)
    assert model_file == files["model"]

    model = keras.saving.load_model(model_file)
    # as the stage predicts (by length, padding trimmed): a model near chance has near-tied
    # probabilities, whose order (and so ROC AUC) a last-bit difference of another batching can change
    probabilities = predict_probabilities(model, arrays["x_test"])
    bounds = workspace.params.diagnostics.length_buckets
    distances = (arrays["distances_test"], workspace.params.diagnostics.distance_buckets)
    check_reports_agree_with(
        probabilities, arrays["y_test"], files, arrays["lengths_test"], bounds, distances
    )

    metrics = read_json(files["metrics"])
    history = pd.read_csv(files["plots"] / "learning_curves.csv")
    assert list(history["epoch"]) == [1] and metrics["training"]["epochs_run"] == 1
    # The history is the trained network's, the metrics the saved one's: its int8 embedding
    # (`training.embedding_storage`) moves the loss by about 1e-6 here.
    assert metrics["validation"]["loss"] == pytest.approx(history["val_loss"].min(), abs=1e-4)
    assert 0 < metrics["training"]["weights_megabytes"] < model_file.stat().st_size / 1e6
    gradients = pd.read_csv(files["plots"] / "gradient_norms.csv")
    assert gradients["distance"].iloc[0] == 1 and gradients["distance"].max() <= 40
    norms = gradients.set_index("distance")["gradient_norm"]
    summary = metrics["gradients"]
    assert summary["far_distance"] == 30 and summary["norm_at_1"] == pytest.approx(norms[1], rel=1e-5)
    assert summary["ratio_far_to_1"] == pytest.approx(norms[30] / norms[1], rel=1e-5)
    vocabulary = readers.read_vocabulary(workspace)
    words = (files["embeddings"] / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    vectors = np.loadtxt(files["embeddings"] / "vectors.tsv", delimiter="\t", ndmin=2)
    assert words == list(vocabulary.words[: vocabulary.size - 2]) and vectors.shape == (len(words), 8)
    neighbours = read_json(files["embeddings"] / "neighbours.json")
    assert set(neighbours) == {word for word in PROBE_WORDS if word in words}
    assert all(
        len(found) == 3 and word not in [n["word"] for n in found] for word, found in neighbours.items()
    )

    run = check_mlflow_run(workspace, name, files)
    client = mlflow_client(workspace.root)
    assert len(client.get_metric_history(run.info.run_id, "val_loss")) == 1
    assert run.data.params["model.cell"] == workspace.params.models[name].cell
    assert run.data.params["training.clipnorm"] == str(workspace.params.training.clipnorm)
    logged = load_logged_model(workspace.root, read_json(files["run"])["model_uri"])
    assert logged.metadata.signature is not None and logged.metadata.saved_input_example_info
    np.testing.assert_allclose(
        np.asarray(logged.predict(arrays["x_test"][:5])).reshape(-1), probabilities[:5], atol=1e-6
    )


def test_the_baseline_is_evaluated_and_tracked_the_same_way(trained_workspace: Workspace) -> None:
    workspace = trained_workspace
    model_file = model_training.baseline(workspace)
    files = outputs_of(workspace, "baseline")
    assert model_file == files["model"] and model_file.suffix == ".joblib"

    texts = readers.read_clean(workspace).set_index("review_id")["text"]
    arrays = readers.read_sequences(workspace)
    test_texts = texts.loc[arrays["ids_test"]].tolist()
    probabilities = joblib.load(model_file).predict_proba(test_texts)[:, 1]
    distances = (arrays["distances_test"], workspace.params.diagnostics.distance_buckets)
    check_reports_agree_with(probabilities, arrays["y_test"], files, distances=distances)

    run = check_mlflow_run(workspace, "baseline", files)
    assert run.data.params["baseline.ngram_max"] == str(workspace.params.baseline.ngram_max)
    logged = load_logged_model(workspace.root, read_json(files["run"])["model_uri"])
    predicted = np.asarray(logged.predict(pd.DataFrame({"text": test_texts[:3]})))
    np.testing.assert_allclose(predicted[:, 1], probabilities[:3], atol=1e-9)


def test_same_params_and_seed_give_the_same_metrics_in_a_new_process(
    trained_workspace: Workspace,
) -> None:
    workspace = trained_workspace
    model_training.train(workspace, "lstm")
    files = outputs_of(workspace, "lstm")
    first = read_json(files["metrics"])
    first_neighbours = read_json(files["embeddings"] / "neighbours.json")

    run_command(workspace.root, "sentiment", "stage", "train", "--variant", "lstm")
    second = read_json(files["metrics"])
    assert {key: second[key] for key in REPORTED} == {key: first[key] for key in REPORTED}
    assert read_json(files["embeddings"] / "neighbours.json") == first_neighbours
    # same code, data and params: the derived pipeline run groups both runs
    pipeline_runs = {run.data.tags["pipeline_run"] for run in runs_of(workspace.root, "lstm")}
    assert len(pipeline_runs) == 1


def test_a_failed_training_leaves_no_model_and_a_failed_run(
    trained_workspace: Workspace, tmp_path: Path
) -> None:
    fresh = shutil.ignore_patterns("mlflow.db", "mlruns", "models", "reports")
    workspace = Workspace.load(shutil.copytree(trained_workspace.root, tmp_path / "copy", ignore=fresh))
    files = outputs_of(workspace, "rnn")
    for stale in (files["model"], files["metrics"], files["run"]):  # an earlier run's outputs
        stale.parent.mkdir(parents=True, exist_ok=True)
        stale.write_text("{}", encoding="utf-8")
    arrays = readers.read_sequences(workspace)
    # a test review with a token id beyond the vocabulary: training succeeds, evaluation then fails
    arrays["x_test"][0, -1] = 10_000
    np.savez(workspace.path(workspace.params.paths.sequences), **arrays)  # type: ignore[arg-type]

    with pytest.raises(Exception, match=r"(?i)indices|out of range|not in"):
        model_training.train(workspace, "rnn")
    assert not any(path.exists() for path in files.values())
    assert not list(files["model"].parent.glob(".*staging*"))
    assert [run.info.status for run in runs_of(workspace.root, "rnn")] == ["FAILED"]


def test_the_cli_names_a_missing_or_unknown_variant(
    trained_workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(trained_workspace.root)
    assert cli.main(["--root", root, "stage", "train"]) == cli.EXIT_USER_ERROR
    assert "--variant" in capsys.readouterr().err
    assert cli.main(["--root", root, "stage", "train", "--variant", "transformer"]) == cli.EXIT_USER_ERROR
    error = capsys.readouterr().err
    assert "'transformer'" in error and "params.yaml" in error and "lstm" in error
