"""The students: their params (checked by key), the targets their teachers give the unlabeled reviews,
the training arrays they learn from, the unlabeled reviews they may read, and the accuracy metric that
soft targets need."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pandas as pd
import pytest

from sentiment.checks.parts import dataset_parts, unlabeled_texts
from sentiment.config import LeakageConfig, Params, SplitsConfig, params_from_mapping, variant_config
from sentiment.core.errors import ConfigError
from sentiment.modeling.builder import label_accuracy
from sentiment.modeling.distillation import teacher_targets, with_unlabeled


def test_the_project_student_is_the_bilstm_taught_by_itself_and_count_models(project_config: Params) -> None:
    student = project_config.students["student"]
    assert (student.variant, student.teacher, student.targets) == ("bilstm", "bilstm", "soft")
    assert student.count_teachers and set(student.count_teachers) <= {"baseline", "nb_baseline"}
    # every network the pipeline trains: the variants, then the student with its variant's layers
    assert list(project_config.networks) == [*project_config.models, "student"]
    assert variant_config(project_config, "student") is project_config.models["bilstm"]


@pytest.mark.parametrize(
    ("student", "expected"),
    [
        (
            {"variant": "bilstn", "teacher": "bilstm", "targets": "soft"},
            r"students\.student\.variant: no variant 'bilstn'",
        ),
        (
            {"variant": "bilstm", "teacher": "gpt", "targets": "hard"},
            r"students\.student\.teacher: no variant 'gpt'",
        ),
        ({"variant": "bilstm", "teacher": "bilstm", "targets": "fuzzy"}, r"students\.student\.targets"),
        ({"variant": "bilstm"}, r"students\.student: missing key 'teacher'"),
        (
            {"variant": "bilstm", "teacher": "bilstm", "targets": "soft", "count_teachers": ["nbsvm"]},
            r"students\.student\.count_teachers\[0\]: 'nbsvm' is not one of",
        ),
        (
            {"variant": "bilstm", "teacher": "bilstm", "targets": "soft", "count_teachers": ["baseline"] * 2},
            r"students\.student\.count_teachers: \['baseline', 'baseline'\] names a teacher twice",
        ),
        ({"variant": "bilstm", "teacher": "bilstm", "lr": 1}, r"students\.student: unknown key"),
    ],
)
def test_a_student_naming_what_params_lacks_is_refused_by_key(
    params_data: dict[str, Any], student: dict[str, Any], expected: str
) -> None:
    params_data["students"] = {"student": student}
    with pytest.raises(ConfigError, match=rf"^params.yaml: {expected}"):
        params_from_mapping(params_data)


def test_a_student_may_not_share_a_name_with_a_variant_or_the_baseline(params_data: dict[str, Any]) -> None:
    params_data["students"] = {"gru": {"variant": "bilstm", "teacher": "bilstm", "targets": "soft"}}
    with pytest.raises(ConfigError, match=r"students\.gru: a student's name must not be a `models` entry's"):
        params_from_mapping(params_data)
    params_data["students"] = {"baseline": {"variant": "bilstm", "teacher": "bilstm", "targets": "soft"}}
    with pytest.raises(ConfigError, match=r"students\.baseline"):
        params_from_mapping(params_data)


def test_count_teachers_left_out_mean_the_baseline_and_may_be_none(params_data: dict[str, Any]) -> None:
    params_data["students"] = {"student": {"variant": "bilstm", "teacher": "bilstm", "targets": "soft"}}
    assert params_from_mapping(params_data).students["student"].count_teachers == ("baseline",)
    params_data["students"]["student"]["count_teachers"] = []
    assert params_from_mapping(params_data).students["student"].count_teachers == ()


def test_no_students_is_allowed(params_data: dict[str, Any]) -> None:
    params_data["students"] = {}
    params = params_from_mapping(params_data)
    assert list(params.networks) == list(params.models)


def test_soft_targets_are_the_teachers_mean_and_hard_ones_its_label() -> None:
    network = np.array([0.9, 0.2, 0.6, 0.4], dtype=np.float32)
    baseline = np.array([0.7, 0.4, 0.2, 0.7])
    soft = teacher_targets([network, baseline.reshape(-1, 1)], "soft")
    np.testing.assert_allclose(soft, [0.8, 0.3, 0.4, 0.55], rtol=1e-6)
    assert soft.dtype == np.float32
    np.testing.assert_array_equal(teacher_targets([network, baseline], "hard"), [1, 0, 0, 1])


@pytest.mark.parametrize("bad", [np.array([0.5, np.nan]), np.array([0.5, 1.2]), np.array([-0.1, 0.5])])
def test_a_teacher_that_is_not_a_probability_is_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="within \\[0, 1\\]"):
        teacher_targets([np.array([0.5, 0.5]), bad], "soft")
    with pytest.raises(ValueError, match="at least one teacher"):
        teacher_targets([], "soft")


SPLITS = ("train", "validation", "test")


def arrays_of(rows: int, width: int) -> dict[str, np.ndarray]:
    generator = np.random.default_rng(0)
    tokens = {f"x_{split}": generator.integers(0, 9, (rows, width), dtype=np.int32) for split in SPLITS}
    labels = {f"y_{split}": generator.integers(0, 2, rows).astype(np.int32) for split in SPLITS}
    return {**tokens, **labels}


def test_the_unlabeled_reviews_follow_the_training_part_and_nothing_else_changes() -> None:
    arrays = arrays_of(5, 6)
    tokens = np.full((3, 6), 7, dtype=np.int32)
    targets = np.array([0.9, 0.1, 0.5], dtype=np.float32)
    combined = with_unlabeled(arrays, tokens, targets)
    np.testing.assert_array_equal(combined["x_train"], np.concatenate([arrays["x_train"], tokens]))
    np.testing.assert_allclose(combined["y_train"], [*arrays["y_train"], 0.9, 0.1, 0.5])
    for key in ("x_validation", "y_validation", "x_test", "y_test"):
        assert combined[key] is arrays[key]
    with pytest.raises(ValueError, match="3 unlabeled reviews but 2 targets"):
        with_unlabeled(arrays, tokens, targets[:2])
    with pytest.raises(ValueError, match="width"):
        with_unlabeled(arrays, tokens[:, :4], targets)


def test_a_student_reads_no_unlabeled_review_with_a_validation_or_test_text() -> None:
    texts = ["good one", "bad one", "fine one", "seen in test", "seen in test", "new text", None, "good one"]
    table = pd.DataFrame(
        {
            "review_id": [
                "train/pos/0",
                "train/neg/1",
                "train/pos/2",
                "test/neg/0",
                *(f"u/{i}" for i in range(4)),
            ],
            "split": ["train", "train", "train", "test", "unsup", "unsup", "unsup", "unsup"],
            "label": [1, 0, 1, 0, -1, -1, -1, -1],
            "movie": ["a", "b", "c", "d", "e", "e", "f", "g"],
            "text": texts,
        }
    )
    parts = dataset_parts(table, LeakageConfig(policy="drop"), SplitsConfig(0.34, by_movie=False), seed=0)
    allowed = unlabeled_texts(table, parts)
    held_out = {*parts.validation["text"], *parts.test["text"]}
    assert "seen in test" not in set(allowed) and not held_out & set(allowed)
    assert "u/1" in allowed.index and "u/2" not in allowed.index  # a missing text is no review
    assert set(allowed.index) <= {"u/0", "u/1", "u/2", "u/3"}  # only unlabeled ones


def test_accuracy_against_soft_targets_counts_the_side_of_the_teachers() -> None:
    labels = np.array([1.0, 0.0, 1.0, 0.0])
    predicted = np.array([[0.8], [0.3], [0.4], [0.6]])
    hard = float(np.mean(keras.metrics.binary_accuracy(labels, predicted)))
    assert float(np.mean(label_accuracy(labels, predicted))) == hard == 0.5
    soft = np.array([0.7, 0.2, 0.45, 0.1])  # the teachers' probabilities: sides 1, 0, 0, 0
    assert float(np.mean(label_accuracy(soft, predicted))) == 0.75
    assert float(np.mean(keras.metrics.binary_accuracy(soft, predicted))) == 0.0  # why a metric of our own
