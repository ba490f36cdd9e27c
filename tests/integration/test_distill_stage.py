"""The distill@ stage end to end on tiny synthetic data: the teachers' saved models label the unlabeled
reviews, the student trains on the training part plus them, and its report, files and MLflow run say
what it learned from; the same figures as its teachers' own stages where they measure the same thing."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from conftest import SMALL_OVERRIDES, keep_students_of, merged, project_params, write_params
from sentiment import cli
from sentiment.checks.parts import dataset_parts, unlabeled_texts
from sentiment.config import BASELINE, NB_BASELINE
from sentiment.config.workspace import Workspace
from sentiment.modeling.baseline import baseline_probabilities, fit_baseline
from sentiment.modeling.inference import predict_probabilities
from sentiment.modeling.storage import load_network
from sentiment.stages import distillation, model_training, readers
from sentiment.stages import preprocessing as preprocessing_stages
from sentiment.stages import raw as raw_stages
from sentiment.tracking.lineage import PIPELINE_RUN_VARIABLE
from sentiment.tracking.runs import TRACKING_URI_VARIABLE
from support.training import mlflow_client, read_json, tiny_training_overrides

pytestmark = pytest.mark.slow

TEACHER = "bilstm"
STUDENT = "student"


COUNT_TEACHERS = [BASELINE, NB_BASELINE]


def tiny_student_params(unlabeled: int | None = None) -> dict[str, object]:
    params = merged(project_params(), merged(SMALL_OVERRIDES, tiny_training_overrides()))
    params["models"] = {TEACHER: params["models"][TEACHER]}
    student = {"variant": TEACHER, "teacher": TEACHER, "targets": "soft", "count_teachers": COUNT_TEACHERS}
    params["students"] = {STUDENT: student}
    if unlabeled is not None:
        params["source"]["synthetic_unlabeled"] = unlabeled
    return keep_students_of(params)


def prepared(root: object, unlabeled: int | None = None) -> Workspace:
    write_params(root, tiny_student_params(unlabeled))  # type: ignore[arg-type]
    workspace = Workspace.load(root)  # type: ignore[arg-type]
    raw_stages.fetch_raw(workspace, use_synthetic=True, record=False)
    for stage in (
        preprocessing_stages.clean,
        preprocessing_stages.vocabulary,
        preprocessing_stages.sequences,
    ):
        stage(workspace)
    model_training.train(workspace, TEACHER)
    model_training.baseline(workspace)
    return workspace


@pytest.fixture(scope="module")
def taught(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The teacher and the baseline trained, then the student (MLflow in the workspace's own store)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(TRACKING_URI_VARIABLE, raising=False)
        patch.delenv(PIPELINE_RUN_VARIABLE, raising=False)
        workspace = prepared(tmp_path_factory.mktemp("distill"))
        distillation.distill(workspace, STUDENT)
        yield workspace


def test_the_student_learns_from_every_usable_unlabeled_review(taught: Workspace) -> None:
    workspace = taught
    params = workspace.params
    table = readers.read_clean(workspace)
    parts = dataset_parts(table, params.validation.leakage, params.splits, params.seed)
    usable = len(unlabeled_texts(table, parts))
    assert 0 < usable <= params.source.synthetic_unlabeled
    report = read_json(workspace.evaluation_file(STUDENT))
    assert report["distillation"]["unlabeled_reviews"] == usable
    assert 0 < report["distillation"]["unlabeled_positive_share"] < 1
    # each teacher's accuracy, measured here on its saved model, is the one its own stage reported
    teachers = report["distillation"]["teachers_validation_accuracy"]
    for teacher in (TEACHER, BASELINE):
        own = read_json(workspace.evaluation_file(teacher))["validation"]["accuracy"]
        assert teachers[teacher] == pytest.approx(own, abs=1e-9)
    # the naive-Bayes teacher is fitted with the baseline's settings on the training part alone
    arrays = readers.read_sequences(workspace)
    texts = model_training.split_texts(workspace, arrays)
    weighted = fit_baseline(texts["train"], arrays["y_train"], params.baseline, params.seed, naive_bayes=True)
    right = (baseline_probabilities(weighted, texts["validation"]) >= 0.5) == (arrays["y_validation"] == 1)
    assert teachers[NB_BASELINE] == pytest.approx(float(np.mean(right)), abs=1e-9)
    assert set(teachers) == {TEACHER, *COUNT_TEACHERS, "mean"} and 0 <= teachers["mean"] <= 1


def test_the_student_is_tracked_and_evaluated_as_a_network_of_its_own(taught: Workspace) -> None:
    workspace = taught
    arrays = readers.read_sequences(workspace)
    record = read_json(workspace.run_record(STUDENT))
    run = mlflow_client(workspace.root).get_run(record["mlflow_run_id"])
    assert run.info.status == "FINISHED" and run.data.tags["variant"] == STUDENT
    report = read_json(workspace.evaluation_file(STUDENT))
    unlabeled = report["distillation"]["unlabeled_reviews"]
    params = run.data.params
    assert params["distillation.teachers"] == f"{TEACHER},{BASELINE},{NB_BASELINE}"
    assert params["distillation.unlabeled_reviews"] == str(unlabeled)
    assert params["data.train_reviews"] == str(len(arrays["y_train"]) + unlabeled)
    assert params["data.validation_reviews"] == str(len(arrays["y_validation"]))  # the same reviews
    assert run.data.metrics["distillation_unlabeled_reviews"] == unlabeled
    # its metrics are its saved model's, on the same validation and test reviews as every model's
    served = load_network(workspace.model_file(STUDENT))
    probabilities = predict_probabilities(served, arrays["x_test"])
    accuracy = float(np.mean((probabilities >= 0.5) == (arrays["y_test"] == 1)))
    assert report["test"]["accuracy"] == pytest.approx(accuracy, abs=1e-9)


def test_a_student_is_not_a_train_stage_and_an_unknown_student_is_named(
    taught: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(taught.root)
    assert cli.main(["--root", root, "stage", "train", "--variant", STUDENT]) == cli.EXIT_USER_ERROR
    assert f"its stage is distill@{STUDENT}" in capsys.readouterr().err
    assert cli.main(["--root", root, "stage", "distill", "--variant", "teacher"]) == cli.EXIT_USER_ERROR
    error = capsys.readouterr().err
    assert "no student 'teacher' under `students`" in error and "params.yaml" in error
    assert cli.main(["--root", root, "stage", "distill"]) == cli.EXIT_USER_ERROR
    assert f"needs --variant NAME, one of ['{STUDENT}']" in capsys.readouterr().err


def test_without_unlabeled_reviews_the_student_learns_from_the_training_part_alone(
    tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(TRACKING_URI_VARIABLE, raising=False)
        patch.delenv(PIPELINE_RUN_VARIABLE, raising=False)
        workspace = prepared(tmp_path_factory.mktemp("distill-none"), unlabeled=0)
        distillation.distill(workspace, STUDENT)
    assert "no unlabeled reviews" in caplog.text
    report = read_json(workspace.evaluation_file(STUDENT))
    assert report["distillation"]["unlabeled_reviews"] == 0
    assert workspace.model_file(STUDENT).is_file()
