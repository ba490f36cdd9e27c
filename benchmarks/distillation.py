"""Does learning from the unlabeled reviews pay? A teacher labels them, a student learns from them.

    python benchmarks/distillation.py [--student bilstm] [--teachers bilstm baseline ...] [--labels soft]
                                      [--teacher-sets bilstm,baseline bilstm,baseline,nb_baseline]
                                      [--rounds 1] [--seeds 42] [--archive PATH | --synthetic N]
                                      [--workdir DIR] [--epochs N] [--output BENCHMARKS.md]
                                      [--record distillation.json]

Per seed: the teachers are trained as their stages train them (the networks with that seed, the
baseline fitted on the same training part); their mean probability labels the unlabeled reviews
(`train/unsup`) that the distill@ stage reads (none identical to a validation or test review,
`stages.distillation.unlabeled_reviews`), as that stage labels them (`modeling.distillation`): `soft`
keeps the probability as the target (distillation, Hinton et al. 2015), `hard` rounds it
(pseudo-labels, Lee 2013). The student, the `--student` variant as params.yaml has it, is then trained
with that seed on the labeled training part plus the labeled unlabeled reviews, early stopping and
weight averaging on the same validation split. With `--rounds N`, each later round's student is taught
by the previous student and the baseline (self-training). `--teacher-sets` compares sets of teachers on
one machine: every teacher of their union is trained once per seed, and each set teaches its own
student (one round). (The distill@ stage reads its teachers' saved models instead: this script trains
them, so that every seed has its own.)

Writes the section "Distillation: learning from the unlabeled reviews" of BENCHMARKS.md: the
validation accuracy of each teacher, of their mean and of the student against the student variant
trained on the labeled reviews alone (the teacher of the same name and seed, when it is one), mean ±
sd over the seeds; test accuracy reported only. `--synthetic N` checks the script quickly.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from distillation_support import (
    COUNT_TEACHERS,
    accuracy,
    labeled,
    network_probabilities,
    set_student,
    teacher_probabilities,
    train_network,
    unlabeled_reviews,
)
from report_support import (
    DEFAULT_ARCHIVE,
    deliver,
    load_average,
    prepare,
    review_counts,
    run_facts,
    source_words,
)
from seeded_runs import mean_sd, spread
from sentiment.config.loader import load_params
from sentiment.config.workspace import Workspace
from sentiment.core.errors import SentimentError
from sentiment.modeling.distillation import with_unlabeled
from sentiment.stages import distillation as distillation_stage
from sentiment.stages import readers

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = PROJECT_ROOT / "BENCHMARKS.md"
TITLE = "Distillation: learning from the unlabeled reviews"


def run_seed(
    workspace: Workspace, arguments: argparse.Namespace, seed: int, unlabeled: tuple[list[str], np.ndarray]
) -> dict[str, Any]:
    """The teachers, then `--rounds` students: from the second round on, the previous student takes the
    place of the network teachers (self-training), the baseline staying a teacher."""
    arrays = readers.read_sequences(workspace)
    started = time.perf_counter()
    everyone = {
        name: teacher_probabilities(workspace, name, seed, arrays, unlabeled) for name in arguments.teachers
    }
    teacher_minutes = (time.perf_counter() - started) / 60
    later_sets = arguments.teacher_sets[1:]
    teachers = {name: everyone[name] for name in arguments.teacher_sets[0]}
    mean, targets = labeled(teachers, arguments.labels)
    run: dict[str, Any] = {
        "seed": seed,
        "teachers": {name: accuracy(arrays, scored) for name, scored in everyone.items()},
        "teacher_mean": accuracy(arrays, mean),
        "unlabeled_reviews": len(targets),
        "unlabeled_positive_share": float(np.mean(targets >= 0.5)),
        "teacher_minutes": teacher_minutes,
        "rounds": [],
        "sets": [
            set_student(workspace, arguments, seed, arrays, unlabeled, everyone, names)
            for names in later_sets
        ],
    }
    for round_number in range(1, arguments.rounds + 1):
        started = time.perf_counter()
        student = train_network(
            workspace, arguments.student, seed, with_unlabeled(arrays, unlabeled[1], targets)
        )
        scored = network_probabilities(student, arrays, unlabeled[1])
        run["rounds"].append(
            {
                "teacher_mean": accuracy(arrays, mean),
                "student": accuracy(arrays, scored),
                "minutes": (time.perf_counter() - started) / 60,
            }
        )
        kept = {name: probabilities for name, probabilities in teachers.items() if name in COUNT_TEACHERS}
        mean, targets = labeled({f"round {round_number} student": scored, **kept}, arguments.labels)
    run["student"] = run["rounds"][0]["student"]
    run["student_minutes"] = run["rounds"][0]["minutes"]
    print(f"seed {seed}: {run}", flush=True)
    return run


def figure(runs: list[dict[str, Any]], pick: Any, split: str) -> str:
    values = [pick(run)[split] for run in runs]
    mean, sd = spread(values)
    return mean_sd({"mean": mean, "sd": sd, "runs": len(values)})


def margin_line(
    runs: list[dict[str, Any]], name: str, other: Any, student: Any = None, who: str = "The student"
) -> str:
    """The student's validation margin over `other`, against the seed spread (as settings.py words it)."""
    student = student or (lambda run: run["student"])
    gaps = [student(run)["validation"] - other(run)["validation"] for run in runs]
    widest = max(
        spread([other(run)["validation"] for run in runs])[1],
        spread([student(run)["validation"] for run in runs])[1],
    )
    side = "within" if abs(spread(gaps)[0]) <= 2 * widest else "beyond"
    seeds = "" if len(runs) < 2 else f", {side} twice the larger sd between seeds ({100 * widest:.2f} points)"
    shown = ", ".join(f"{100 * gap:+.2f}" for gap in gaps)
    mean_gap = 100 * spread(gaps)[0]
    accuracy = f"{mean_gap:+.2f} points of validation accuracy (per seed {shown})"
    return f"- {who} against {name}: {accuracy}{seeds}."


def report(runs: list[dict[str, Any]], arguments: argparse.Namespace, facts: dict[str, Any]) -> str:
    picks = {name: (lambda run, name=name: run["teachers"][name]) for name in arguments.teachers}
    rows: list[tuple[str, Any]] = [(f"teacher `{name}`", pick) for name, pick in picks.items()]
    first_set = " + ".join(arguments.teacher_sets[0])
    rows.append((f"teachers' mean ({first_set})", lambda run: run["teacher_mean"]))
    student = f"student: `{arguments.student}` + unlabeled reviews ({arguments.labels} targets)"
    rows.append(
        (
            student if len(arguments.teacher_sets) == 1 else f"{student}, taught by {first_set}",
            lambda run: run["student"],
        )
    )
    rows += set_rows(arguments, student)
    for index in range(1, arguments.rounds):
        label = f"round {index + 1}: the student taught by the round-{index} student and the baseline"
        rows.append((label, lambda run, i=index: run["rounds"][i]["student"]))
    lines = "\n".join(
        f"| {label} | {figure(runs, pick, 'validation')} | {figure(runs, pick, 'test')} |"
        for label, pick in rows
    )
    who = "The student" if len(arguments.teacher_sets) == 1 else f"The student taught by {first_set}"
    margins = "\n".join(margin_line(runs, f"`{name}`", pick, who=who) for name, pick in picks.items())
    margins += "".join(f"\n{line}" for line in set_margins(runs, arguments))
    minutes = np.mean([run["student_minutes"] for run in runs])
    first = runs[0]
    return f"""## {TITLE}

Measured {facts["date"]} on {facts["machine"]}, shared with other work
(load average {facts["load_before"]} before, {facts["load_after"]} after).

    {facts["command"]}

Data: {facts["data"]}, and {first["unlabeled_reviews"]:,} unlabeled reviews, each labeled by the
teachers' mean probability ({arguments.labels} targets; {100 * first["unlabeled_positive_share"]:.1f}% of
them on the positive side, seed {first["seed"]}). Each seed trains the teachers and then the student; mean ±
sd over seeds {", ".join(map(str, facts["seeds"]))}. {facts["split"]}

| model | validation acc (decides) | test acc (report only) |
|---|---|---|
{lines}

{margins}
- The student trained {minutes:.1f} minutes per seed (labeled and unlabeled reviews together).
"""


def set_rows(arguments: argparse.Namespace, student: str) -> list[tuple[str, Any]]:
    """The table rows of each teacher set after the first: its teachers' mean and its student."""
    rows: list[tuple[str, Any]] = []
    for index, names in enumerate(arguments.teacher_sets[1:]):
        label = " + ".join(names)
        rows.append((f"teachers' mean ({label})", lambda run, i=index: run["sets"][i]["teacher_mean"]))
        rows.append((f"{student}, taught by {label}", lambda run, i=index: run["sets"][i]["student"]))
    return rows


def set_margins(runs: list[dict[str, Any]], arguments: argparse.Namespace) -> list[str]:
    """Each later set's student against the first set's: the comparison `--teacher-sets` is for."""
    first = " + ".join(arguments.teacher_sets[0])
    return [
        margin_line(
            runs,
            f"the student taught by {first}",
            lambda run: run["student"],
            student=lambda run, i=index: run["sets"][i]["student"],
            who=f"The student taught by {' + '.join(names)}",
        )
        for index, names in enumerate(arguments.teacher_sets[1:])
    ]


def params_teachers() -> list[str]:
    """The teachers of params.yaml's `students.student`, the network first (as the distill@ stage)."""
    student = load_params(PROJECT_ROOT / "params.yaml").students["student"]
    return distillation_stage.teacher_names(student)


def teacher_sets(arguments: argparse.Namespace) -> argparse.Namespace:
    """`--teacher-sets` parsed into tuples, `--teachers` becoming their union (each trained once)."""
    teachers = arguments.teachers or params_teachers()
    sets = [tuple(text.split(",")) for text in arguments.teacher_sets or [",".join(teachers)]]
    if len(sets) > 1 and arguments.rounds > 1:
        raise SystemExit("error: --teacher-sets compares students of one round: leave --rounds out")
    arguments.teacher_sets = sets
    arguments.teachers = list(dict.fromkeys(name for names in sets for name in names))
    return arguments


def arguments_of(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", default="bilstm", help="the variant trained on the labeled unlabeled")
    parser.add_argument(
        "--teachers", nargs="+", help="the student's teachers (default: params.yaml's, students.student)"
    )
    parser.add_argument(
        "--teacher-sets",
        nargs="+",
        metavar="A,B",
        help="compare the students of these sets of teachers (comma-separated; replaces --teachers)",
    )
    parser.add_argument("--labels", choices=("soft", "hard"), default="soft")
    parser.add_argument("--rounds", type=int, default=1, help="students in turn, each teaching the next")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument("--synthetic", type=int, metavar="N", help="N synthetic reviews instead")
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the prepared workspace here")
    parser.add_argument("--epochs", type=int, help="training.epochs (default: params.yaml's)")
    parser.add_argument("--output", type=Path, help="the Markdown file whose section is written")
    parser.add_argument("--record", type=Path, help="write every run's figures to this JSON file")
    return teacher_sets(parser.parse_args(argv))


def main(argv: list[str] | None = None) -> int:
    arguments = arguments_of(argv)
    output = arguments.output or (None if arguments.synthetic else DEFAULT_OUTPUT)
    if arguments.synthetic is None and not arguments.archive.is_file():
        print(f"error: the IMDB archive is absent: {arguments.archive}", file=sys.stderr)
        return 2
    load_before = load_average()
    overrides = {} if arguments.epochs is None else {"training.epochs": arguments.epochs}
    with tempfile.TemporaryDirectory() as temporary:
        root = arguments.workdir or Path(temporary)
        root.mkdir(parents=True, exist_ok=True)
        try:
            workspace = prepare(root, arguments.archive, arguments.synthetic, overrides)
            unlabeled = unlabeled_reviews(workspace)
            runs = [run_seed(workspace, arguments, seed, unlabeled) for seed in arguments.seeds]
        except SentimentError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        arrays = readers.read_sequences(workspace)
    facts = {
        **run_facts("distillation.py", argv, load_before, arrays, arguments.seeds),
        "data": f"{source_words(arguments.synthetic)} ({review_counts(arrays)} reviews)",
    }
    deliver(report(runs, arguments, facts), TITLE, output, arguments.record, {**facts, "runs": runs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
