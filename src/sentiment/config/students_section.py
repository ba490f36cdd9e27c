"""Frozen configuration of the students: the params.yaml section `students`.

A student is a network that learns from the unlabeled reviews too (stage `distill@<name>`, after its
teachers' stages): the architecture and training of the variant `variant`, fitted on the training part
plus the unlabeled reviews, each labeled by the mean probability of its teachers, the network `teacher`
and the count models `count_teachers` (knowledge distillation, Hinton et al. 2015; with `targets:
hard`, the mean rounded to a label: pseudo-labels, Lee 2013). A count teacher is `baseline`, the
baseline stage's TF-IDF model, or `nb_baseline`, the baseline's settings with every feature scaled by
its naive Bayes log-count ratio (Wang and Manning 2012), fitted by the distill@ stage itself: a teacher
only, never a registry candidate, so that the bar every network is judged against stays the course's
TF-IDF baseline. Its own section, not a `models` entry: a `models` entry
is a `train@` stage, and a stage that read its teachers' models could not be one of theirs.
`sentiment.config` re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sentiment.config.schema import OPTIONAL
from sentiment.config.sections import VariantName
from sentiment.core.errors import ConfigError

Targets = Literal["soft", "hard"]
NB_BASELINE = "nb_baseline"
CountTeacher = Literal["baseline", "nb_baseline"]


@dataclass(frozen=True)
class StudentConfig:
    variant: VariantName  # a `models` entry: the student's layers and training settings
    teacher: VariantName  # a `models` entry: the network teacher, averaged with the count teachers
    targets: Targets = "soft"
    # left out: the baseline alone, as before the key existed; empty: the network teacher alone
    count_teachers: tuple[CountTeacher, ...] = field(default=("baseline",), metadata=OPTIONAL)

    def __post_init__(self) -> None:
        # The same teacher twice would weigh it twice in the mean: say so rather than average silently.
        if len(set(self.count_teachers)) != len(self.count_teachers):
            raise ConfigError(f"count_teachers: {list(self.count_teachers)} names a teacher twice")
