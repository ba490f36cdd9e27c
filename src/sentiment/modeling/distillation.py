"""What a student learns from (`config.StudentConfig`): the unlabeled reviews, labeled by its teachers.

Pure NumPy: the stage (`stages.distillation`) reads the teachers' models and the reviews, and hands
their probabilities here. The teachers' mean probability is the target of each unlabeled review: kept
as it is ("soft", knowledge distillation: a review the teachers doubt weighs less either way) or
rounded to a label ("hard", pseudo-labels). Averaging a network with the TF-IDF baseline gives
targets better than either (their errors differ; BENCHMARKS.md "Distillation").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sentiment.config import Targets


def teacher_targets(probabilities: Sequence[np.ndarray], targets: Targets) -> np.ndarray:
    """The targets of the unlabeled reviews: the mean of the teachers' P(positive), per review (float32),
    rounded to 0 or 1 (at 0.5, positive) for `hard`."""
    if not probabilities:
        raise ValueError("a student needs at least one teacher")
    stacked = np.stack([np.asarray(scored, dtype=np.float64).reshape(-1) for scored in probabilities])
    if not np.isfinite(stacked).all() or stacked.min() < 0 or stacked.max() > 1:
        raise ValueError("a teacher's probabilities must be finite and within [0, 1]")
    mean = stacked.mean(axis=0)
    return (mean >= 0.5 if targets == "hard" else mean).astype(np.float32)


def with_unlabeled(
    arrays: Mapping[str, np.ndarray], tokens: np.ndarray, targets: np.ndarray
) -> dict[str, np.ndarray]:
    """The sequences' arrays with the unlabeled reviews (padded `tokens`) and their targets after the
    training part's; validation and test unchanged, so every choice is still made on the same reviews."""
    if len(tokens) != len(targets):
        raise ValueError(f"{len(tokens)} unlabeled reviews but {len(targets)} targets")
    if tokens.shape[1:] != arrays["x_train"].shape[1:]:
        raise ValueError(
            f"unlabeled sequences of width {tokens.shape[1:]}, training ones {arrays['x_train'].shape[1:]}"
        )
    return {
        **arrays,
        "x_train": np.concatenate([arrays["x_train"], tokens.astype(arrays["x_train"].dtype)]),
        "y_train": np.concatenate([arrays["y_train"].astype(np.float32), targets.astype(np.float32)]),
    }
