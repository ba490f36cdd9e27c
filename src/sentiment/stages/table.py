"""The stage table: every dvc.yaml stage name and the function that runs it, resolved on first use.

The functions are named, not imported: a stage's process then imports only its own stage module and
the layers it uses, which is what dvc.yaml lists as that stage's code dependencies (a test checks it).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from sentiment.config.workspace import Workspace
from sentiment.core.errors import SentimentError

# Stages that take only the workspace; `dvc.yaml` runs each as `sentiment stage NAME`.
STAGES: dict[str, str] = {
    "clean": "sentiment.stages.preprocessing:clean",
    "validate_text": "sentiment.stages.data_validation:validate_text",
    "vocabulary": "sentiment.stages.preprocessing:vocabulary",
    "sequences": "sentiment.stages.preprocessing:sequences",
    "validate_sequences": "sentiment.stages.data_validation:validate_sequences",
    "pretrain": "sentiment.stages.pretraining:pretrain",
    "baseline": "sentiment.stages.model_training:baseline",
    "register": "sentiment.stages.model_registry:register",
    "claims": "sentiment.stages.course_claims:claims",
}
# Stages run once per model variant: `sentiment stage train --variant NAME` (dvc.yaml's train@NAME).
# The students learn from the unlabeled reviews too: `sentiment stage distill --variant NAME` (distill@NAME).
VARIANT_STAGES: dict[str, str] = {
    "train": "sentiment.stages.model_training:train",
    "distill": "sentiment.stages.distillation:distill",
}

# Modules a stage's process imports that are bookkeeping, not what its outputs are computed from, and
# so left out of dvc.yaml's code deps on purpose: the CLI (argument parsing, error printing), this table,
# the workspace lock (who may write, not what is written) and MLflow tracking (where runs are recorded,
# not what they compute). Changing them retrains nothing.
BOOKKEEPING_MODULES = (
    "sentiment.cli",
    "sentiment.stages.table",
    "sentiment.orchestration.dvc_stages",
    "sentiment.tracking",
)
# Package markers every stage imports, which hold a docstring (and the version) and nothing else.
PACKAGE_MARKERS = ("sentiment", "sentiment.stages", "sentiment.orchestration")


class UnknownStage(SentimentError):
    """A stage name that dvc.yaml does not define."""


def _resolve(target: str) -> Callable[..., Any]:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


def stage_function(name: str) -> Callable[[Workspace], object]:
    """The function of a stage that takes only the workspace (`clean`, `register`, ...)."""
    if name not in STAGES:
        raise UnknownStage(f"no stage {name!r}: expected one of {sorted(STAGES)}")
    return _resolve(STAGES[name])


def variant_stage_function(name: str) -> Callable[[Workspace, str], object]:
    """The function of a per-variant stage (`train`), called with the workspace and the variant's name."""
    if name not in VARIANT_STAGES:
        raise UnknownStage(f"no per-variant stage {name!r}: expected one of {sorted(VARIANT_STAGES)}")
    return _resolve(VARIANT_STAGES[name])
