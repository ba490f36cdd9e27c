"""Does learning from the unlabeled reviews pay? A teacher labels them, a student learns from them.

    python benchmarks/distillation.py [--student bilstm] [--teachers bilstm baseline] [--labels soft]
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
by the previous student and the baseline (self-training). (The distill@ stage reads its teachers' saved models
instead: this script trains them, so that every seed has its own.)

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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

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
from sentiment.config import BASELINE, NB_BASELINE
from sentiment.config.workspace import Workspace
from sentiment.core.errors import ConfigError, SentimentError
from sentiment.data.layout import UNSUP
from sentiment.evaluation import metrics as evaluation
from sentiment.modeling.distillation import teacher_targets, with_unlabeled
from sentiment.stages import distillation as distillation_stage
from sentiment.stages import model_training, readers

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = PROJECT_ROOT / "BENCHMARKS.md"
TITLE = "Distillation: learning from the unlabeled reviews"
SCORED = ("validation", "test")
COUNT_TEACHERS = (BASELINE, NB_BASELINE)


def unlabeled_reviews(workspace: Workspace) -> tuple[list[str], np.ndarray]:
    """The unlabeled reviews the students may read, as the distill@ stage reads them."""
    texts, tokens = distillation_stage.unlabeled_reviews(workspace, readers.read_vocabulary(workspace))
    if not texts:
        raise ConfigError("the workspace has no unlabeled reviews to learn from (split unsup)")
    return texts, tokens


def teacher_probabilities(
    workspace: Workspace,
    name: str,
    seed: int,
    arrays: Mapping[str, np.ndarray],
    unlabeled: tuple[list[str], np.ndarray],
) -> dict[str, np.ndarray]:
    """Teacher `name` trained as its stage trains it (`nb_baseline`: as the distill@ stage fits it); its
    probabilities on validation, test, unlabeled."""
    from sentiment.modeling import baseline as count_baseline

    if name in (BASELINE, NB_BASELINE):
        texts = model_training.split_texts(workspace, arrays)
        model = count_baseline.fit_baseline(
            texts["train"],
            arrays["y_train"],
            workspace.params.baseline,
            seed,
            naive_bayes=name == NB_BASELINE,
        )
        inputs = {split: texts[split] for split in SCORED} | {UNSUP: unlabeled[0]}
        return {part: count_baseline.baseline_probabilities(model, inputs[part]) for part in inputs}
    network = train_network(workspace, name, seed, arrays)
    return network_probabilities(network, arrays, unlabeled[1])


def train_network(workspace: Workspace, name: str, seed: int, arrays: Mapping[str, np.ndarray]) -> Any:
    from sentiment.modeling import training

    params = workspace.params
    if name not in params.models:
        raise ConfigError(f"params.yaml has no variant {name!r}")
    size = readers.read_vocabulary(workspace).size
    return training.train(params.models[name], params.training, arrays, size, seed, name=name).model


def network_probabilities(
    model: Any, arrays: Mapping[str, np.ndarray], unlabeled_tokens: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    from sentiment.modeling.inference import predict_probabilities

    scored = {split: predict_probabilities(model, arrays[f"x_{split}"]) for split in SCORED}
    if unlabeled_tokens is not None:
        scored[UNSUP] = predict_probabilities(model, unlabeled_tokens)
    return scored


def accuracy(arrays: Mapping[str, np.ndarray], probabilities: Mapping[str, np.ndarray]) -> dict[str, float]:
    return {
        split: evaluation.binary_metrics(arrays[f"y_{split}"], probabilities[split])["accuracy"]
        for split in SCORED
    }


def labeled(
    teachers: Mapping[str, Mapping[str, np.ndarray]], labels: str
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The teachers' mean probability on each part, and the unlabeled reviews' targets."""
    parts = (*SCORED, UNSUP)
    mean = {part: teacher_targets([scored[part] for scored in teachers.values()], "soft") for part in parts}
    return mean, teacher_targets([scored[UNSUP] for scored in teachers.values()], labels)


def run_seed(
    workspace: Workspace, arguments: argparse.Namespace, seed: int, unlabeled: tuple[list[str], np.ndarray]
) -> dict[str, Any]:
    """The teachers, then `--rounds` students: from the second round on, the previous student takes the
    place of the network teachers (self-training), the baseline staying a teacher."""
    arrays = readers.read_sequences(workspace)
    started = time.perf_counter()
    teachers = {
        name: teacher_probabilities(workspace, name, seed, arrays, unlabeled) for name in arguments.teachers
    }
    mean, targets = labeled(teachers, arguments.labels)
    run: dict[str, Any] = {
        "seed": seed,
        "teachers": {name: accuracy(arrays, scored) for name, scored in teachers.items()},
        "teacher_mean": accuracy(arrays, mean),
        "unlabeled_reviews": len(targets),
        "unlabeled_positive_share": float(np.mean(targets >= 0.5)),
        "teacher_minutes": (time.perf_counter() - started) / 60,
        "rounds": [],
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


def margin_line(runs: list[dict[str, Any]], name: str, other: Any) -> str:
    """The student's validation margin over `other`, against the seed spread (as settings.py words it)."""
    gaps = [run["student"]["validation"] - other(run)["validation"] for run in runs]
    widest = max(
        spread([other(run)["validation"] for run in runs])[1],
        spread([run["student"]["validation"] for run in runs])[1],
    )
    side = "within" if abs(spread(gaps)[0]) <= 2 * widest else "beyond"
    seeds = "" if len(runs) < 2 else f", {side} twice the larger sd between seeds ({100 * widest:.2f} points)"
    shown = ", ".join(f"{100 * gap:+.2f}" for gap in gaps)
    mean_gap = 100 * spread(gaps)[0]
    accuracy = f"{mean_gap:+.2f} points of validation accuracy (per seed {shown})"
    return f"- The student against {name}: {accuracy}{seeds}."


def report(runs: list[dict[str, Any]], arguments: argparse.Namespace, facts: dict[str, Any]) -> str:
    picks = {name: (lambda run, name=name: run["teachers"][name]) for name in arguments.teachers}
    rows = [(f"teacher `{name}`", pick) for name, pick in picks.items()]
    rows.append((f"teachers' mean ({' + '.join(arguments.teachers)})", lambda run: run["teacher_mean"]))
    student = f"student: `{arguments.student}` + unlabeled reviews ({arguments.labels} targets)"
    rows.append((student, lambda run: run["student"]))
    for index in range(1, arguments.rounds):
        label = f"round {index + 1}: the student taught by the round-{index} student and the baseline"
        rows.append((label, lambda run, i=index: run["rounds"][i]["student"]))
    lines = "\n".join(
        f"| {label} | {figure(runs, pick, 'validation')} | {figure(runs, pick, 'test')} |"
        for label, pick in rows
    )
    margins = "\n".join(margin_line(runs, f"`{name}`", pick) for name, pick in picks.items())
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


def arguments_of(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--student", default="bilstm", help="the variant trained on the labeled unlabeled")
    parser.add_argument("--teachers", nargs="+", default=["bilstm", BASELINE])
    parser.add_argument("--labels", choices=("soft", "hard"), default="soft")
    parser.add_argument("--rounds", type=int, default=1, help="students in turn, each teaching the next")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--archive", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument("--synthetic", type=int, metavar="N", help="N synthetic reviews instead")
    parser.add_argument("--workdir", type=Path, help="keep (and reuse) the prepared workspace here")
    parser.add_argument("--epochs", type=int, help="training.epochs (default: params.yaml's)")
    parser.add_argument("--output", type=Path, help="the Markdown file whose section is written")
    parser.add_argument("--record", type=Path, help="write every run's figures to this JSON file")
    return parser.parse_args(argv)


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
