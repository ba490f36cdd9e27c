"""The claims report: one Markdown table row per claim (reports/course_claims.md, also the Prefect
artifact and the MLflow run's), and the same rows as a DVC metric (reports/course_claims.json). Pure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sentiment.evaluation.claim_rows import FAILS, HOLDS, UNMEASURED, Claim
from sentiment.evaluation.claims import verdict_counts

TITLE = "What the course claims, checked on this run"
_SHOWN_VERDICT = {HOLDS: "holds", FAILS: "**does not hold**", UNMEASURED: "not measured"}
# The metric JSON's verdict as a number, so that `dvc metrics diff` shows a claim that flips.
VERDICT_VALUES: dict[str, int | None] = {HOLDS: 1, FAILS: 0, UNMEASURED: None}


def _cell(text: str) -> str:
    """Text for one cell of a Markdown table: no line breaks, no column separators."""
    return " ".join(text.split()).replace("|", "\\|")


def _figure(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool | int):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    return f"{value:.4f}" if 1e-3 <= magnitude < 1e4 or magnitude == 0 else f"{value:.3g}"


def numbers_text(numbers: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {_figure(value)}" for name, value in numbers.items())


def claims_markdown(claims: Sequence[Claim], context: Sequence[str] = (), figures: Sequence[str] = ()) -> str:
    """The report: a summary line, the table, why each verdict, then `context` lines (the run, data,
    params) and `figures` (Markdown images, relative to the report)."""
    counts = verdict_counts(list(claims))
    lines = [
        f"# {TITLE}",
        "",
        f"{counts[HOLDS]} of {len(claims)} claims hold, {counts[FAILS]} do not, "
        f"{counts[UNMEASURED]} not measured. Each row quotes the course notes "
        "(sequence-models-notes.txt), says what this run measured, and decides with the thresholds of "
        "params.yaml `claims`.",
        "",
        "| # | the course says | measured on this run | verdict | why |",
        "| --- | --- | --- | --- | --- |",
    ]
    for index, claim in enumerate(claims, start=1):
        cells = (str(index), claim.statement, claim.measurement, _SHOWN_VERDICT[claim.verdict], claim.reason)
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    lines += ["", "## The numbers", ""]
    lines += [f"- `{claim.id}`: {numbers_text(claim.numbers) or '–'}" for claim in claims]
    if context:
        lines += ["", "## This run", "", *(f"- {line}" for line in context)]
    if figures:
        lines += ["", *figures]
    return "\n".join(lines) + "\n"


def claims_metrics(claims: Sequence[Claim]) -> dict[str, Any]:
    """The rows as a DVC metric: the counts, and per claim its verdict (also as 1/0/null) and numbers."""
    counts = verdict_counts(list(claims))
    return {
        "summary": {verdict.replace(" ", "_"): count for verdict, count in counts.items()},
        "claims": {
            claim.id: {
                "holds": VERDICT_VALUES[claim.verdict],
                "verdict": claim.verdict,
                "statement": claim.statement,
                "measurement": claim.measurement,
                "reason": claim.reason,
                "numbers": dict(claim.numbers),
            }
            for claim in claims
        },
    }


def claims_summary(claims: Sequence[Claim]) -> dict[str, int]:
    """The DVC metric: how many claims were checked and how many hold (two short columns, so that
    `dvc metrics show` stays as narrow as the models' headline figures allow)."""
    return {"claims": len(claims), "holding": sum(claim.verdict == HOLDS for claim in claims)}


def claims_run_metrics(claims: Sequence[Claim]) -> dict[str, float]:
    """For MLflow: each measured claim as claim_<id> 1 or 0, and its finite numbers as <id>.<name>."""
    flat: dict[str, float] = {}
    for claim in claims:
        value = VERDICT_VALUES[claim.verdict]
        if value is not None:
            flat[f"claim_{claim.id}"] = float(value)
        for name, number in claim.numbers.items():
            if isinstance(number, int | float) and not isinstance(number, bool) and math.isfinite(number):
                flat[f"{claim.id}.{name}"] = float(number)
    return flat
