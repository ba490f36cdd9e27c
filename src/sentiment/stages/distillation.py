"""Stage `distill@<student>`: a network that learns from the unlabeled reviews too, labeled by its teachers.

After its teachers' stages (the network `teacher`'s train@ stage and the baseline's), the stage scores
every unlabeled review a student may read (`checks.parts.unlabeled_texts`: none with the text of a
validation or test review) with its teachers: the network's and the baseline's saved models, the ones
the registry would serve, and the `nb_baseline`, which the stage fits itself on the training part
(a teacher only, about a minute); their mean probability is each review's target
(`modeling.distillation`). The student, the
`variant`'s layers and training settings, is then trained, evaluated, diagnosed, reported and tracked
as a train@ stage is (`training_run.train_variant`), on the training part plus those reviews; the
validation and test reviews are the same as every other model's, so the registry compares it fairly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sentiment.config import BASELINE, NB_BASELINE, StudentConfig
from sentiment.config.workspace import Workspace
from sentiment.core.errors import ConfigError, DataError
from sentiment.data.sequences import pad_tokenized
from sentiment.data.vocabulary import Vocabulary, encode
from sentiment.stages.model_training import close_orphaned_runs, model_outputs, run_lineage, split_texts
from sentiment.stages.readers import read_clean, read_sequences, read_vocabulary, read_word_vectors

UNLABELED = "unlabeled"
logger = logging.getLogger(__name__)


def student_config(workspace: Workspace, name: str) -> StudentConfig:
    students = workspace.params.students
    if name not in students:
        raise ConfigError(
            f"{workspace.params_file}: no student {name!r} under `students`; "
            f"expected one of {sorted(students)}"
        )
    return students[name]


def unlabeled_reviews(workspace: Workspace, vocabulary: Vocabulary) -> tuple[list[str], np.ndarray]:
    """The unlabeled reviews a student may learn from: their cleaned texts and padded sequences (none,
    with a warning, when the reviews have no split unsup: the student then learns from the training
    part alone, as its variant does)."""
    from sentiment.checks.parts import dataset_parts, unlabeled_texts

    params = workspace.params
    table = read_clean(workspace)
    parts = dataset_parts(table, params.validation.leakage, params.splits, params.seed)
    texts = unlabeled_texts(table, parts).tolist()
    config = params.sequences
    if not texts:
        logger.warning(
            "%s: no unlabeled reviews (split unsup, the archive's train/unsup): the students learn from "
            "the training part alone",
            workspace.clean_table,
        )
        return [], np.zeros((0, config.max_len), dtype=np.int32)
    padded = pad_tokenized(encode(vocabulary, texts), config.max_len, config.padding, config.truncating)
    return texts, padded


def _read_model(workspace: Workspace, name: str) -> Any:
    path = workspace.model_file(name)
    if not path.is_file():
        stage = BASELINE if name == BASELINE else f"train@{name}"
        raise DataError(f"the teacher {name!r} has no saved model: run the stage {stage} first", path)
    if name == BASELINE:
        import joblib

        return joblib.load(path)  # the baseline stage's own file
    from sentiment.modeling.storage import load_network

    return load_network(path)


def _count_model(workspace: Workspace, name: str, training: list[str], labels: np.ndarray) -> Any:
    """The count teacher `name`: the baseline stage's saved model, or the naive-Bayes-weighted one,
    fitted here with the baseline's settings on the same training part."""
    if name != NB_BASELINE:
        return _read_model(workspace, name)
    from sentiment.modeling.baseline import fit_baseline

    params = workspace.params
    return fit_baseline(training, labels, params.baseline, params.seed, naive_bayes=True)


def teacher_probabilities(
    workspace: Workspace,
    name: str,
    texts: Mapping[str, list[str]],
    tokens: Mapping[str, np.ndarray],
    training: tuple[list[str], np.ndarray],
) -> dict[str, np.ndarray]:
    """P(positive) of teacher `name` (a network or a count teacher) on each part of `texts` / `tokens`;
    `training`, the training part's texts and labels, for a count teacher fitted here."""
    if name in (BASELINE, NB_BASELINE):
        from sentiment.modeling.baseline import baseline_probabilities

        model = _count_model(workspace, name, *training)
        return {part: baseline_probabilities(model, reviews) for part, reviews in texts.items()}
    model = _read_model(workspace, name)
    from sentiment.modeling.inference import predict_probabilities

    return {part: predict_probabilities(model, rows) for part, rows in tokens.items()}


def teacher_names(student: StudentConfig) -> list[str]:
    """The student's teachers, the network first."""
    return [student.teacher, *student.count_teachers]


def labeled_by_teachers(
    workspace: Workspace, student: StudentConfig, arrays: Mapping[str, np.ndarray], vocabulary: Vocabulary
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The unlabeled reviews' sequences, their targets (the teachers' mean), and the figures of the
    student's report: how many reviews, the share labeled positive, each teacher's and the mean's
    validation accuracy."""
    from sentiment.evaluation.metrics import binary_metrics
    from sentiment.modeling import distillation

    unlabeled_text, unlabeled_tokens = unlabeled_reviews(workspace, vocabulary)
    split = split_texts(workspace, arrays)
    texts, training = {"validation": split["validation"]}, (split["train"], arrays["y_train"])
    tokens = {"validation": arrays["x_validation"]}
    if unlabeled_text:
        texts[UNLABELED], tokens[UNLABELED] = unlabeled_text, unlabeled_tokens
    teachers = teacher_names(student)
    scored = {
        teacher: teacher_probabilities(workspace, teacher, texts, tokens, training) for teacher in teachers
    }
    targets = np.zeros(0, dtype=np.float32)
    if unlabeled_text:
        targets = distillation.teacher_targets([scored[t][UNLABELED] for t in teachers], student.targets)
    mean_validation = distillation.teacher_targets([scored[t]["validation"] for t in teachers], "soft")
    labels = arrays["y_validation"]
    figures = {
        "unlabeled_reviews": len(targets),
        "unlabeled_positive_share": float(np.mean(targets >= 0.5)) if len(targets) else float("nan"),
        "teachers_validation_accuracy": {
            **{
                teacher: binary_metrics(labels, scored[teacher]["validation"])["accuracy"]
                for teacher in teachers
            },
            "mean": binary_metrics(labels, mean_validation)["accuracy"],
        },
    }
    return unlabeled_tokens, targets, figures


def distill(workspace: Workspace, name: str) -> Path:
    """Stage `distill@<name>`: label the unlabeled reviews with the teachers, train the student on them."""
    from sentiment.modeling.distillation import with_unlabeled
    from sentiment.stages import training_run

    student = student_config(workspace, name)  # an unknown student fails before any work
    close_orphaned_runs(workspace, name)
    arrays = read_sequences(workspace)
    vocabulary = read_vocabulary(workspace)
    tokens, targets, figures = labeled_by_teachers(workspace, student, arrays, vocabulary)
    settings = {
        "variant": student.variant,
        "teachers": teacher_names(student),
        "targets": student.targets,
        "unlabeled_reviews": len(targets),
    }
    variant = workspace.params.models[student.variant]
    word_vectors = None
    data_files = {
        "sequences": workspace.sequences_file,
        "clean": workspace.clean_table,
        **{
            f"teacher_{teacher}": workspace.model_file(teacher)
            for teacher in teacher_names(student)
            if teacher != NB_BASELINE  # fitted here, from the sequences and the clean table above
        },
    }
    if variant.pretrained != "none":
        word_vectors = read_word_vectors(workspace, vocabulary.size, variant.embedding_dim)
        data_files["word_vectors"] = workspace.word_vectors_file
    return training_run.train_variant(
        workspace, name, with_unlabeled(arrays, tokens, targets), vocabulary, model_outputs(workspace, name),
        run_lineage(workspace, data_files), word_vectors, training_run.Distilled(settings, figures),
    )  # fmt: skip
