"""Frozen configuration of the students: the params.yaml section `students`.

A student is a network that learns from the unlabeled reviews too (stage `distill@<name>`, after its
teachers' stages): the architecture and training of the variant `variant`, fitted on the training part
plus the unlabeled reviews, each labeled by the mean probability of its teachers, the network `teacher`
and the TF-IDF baseline (knowledge distillation, Hinton et al. 2015; with `targets: hard`, the mean
rounded to a label: pseudo-labels, Lee 2013). Its own section, not a `models` entry: a `models` entry
is a `train@` stage, and a stage that read its teachers' models could not be one of theirs.
`sentiment.config` re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sentiment.config.sections import VariantName

Targets = Literal["soft", "hard"]


@dataclass(frozen=True)
class StudentConfig:
    variant: VariantName  # a `models` entry: the student's layers and training settings
    teacher: VariantName  # a `models` entry: the network teacher, averaged with the baseline's probability
    targets: Targets = "soft"
