"""A drift report in words: a self-contained HTML page, Markdown for the Prefect artifact, table rows.

Pure (strings out, `evaluation.drift.DriftReport` in). The page has no script and loads nothing:
inline CSS and SVG bars, so it opens offline, from a file or as a CI artifact.
"""

from __future__ import annotations

import html
from typing import Any

from sentiment.evaluation.drift import DRIFT, TOO_FEW, DriftReport, Statistic

_COLOURS = {DRIFT: "#b3261e", TOO_FEW: "#8a6d00"}
_NO_DRIFT_COLOUR = "#1e6b34"
_BAR_WIDTH = 260


def _number(value: float) -> str:
    return f"{value:.3f}"


def _side(statistic: Statistic, value: float) -> str:
    return f"{value:.1f}" if statistic.name == "length" else f"{value:.1%}"


def statistic_rows(report: DriftReport) -> list[dict[str, str]]:
    """One row per statistic: its value, threshold, verdict and both sides' summaries."""
    return [
        {
            "statistic": statistic.title,
            "value": _number(statistic.value),
            "threshold": _number(statistic.threshold),
            "verdict": DRIFT if statistic.drift else TOO_FEW if report.verdict == TOO_FEW else "no drift",
            "reference": _side(statistic, statistic.reference),
            "batch": _side(statistic, statistic.batch),
        }
        for statistic in report.statistics
    ]


def _summary(report: DriftReport, batch: str) -> str:
    if report.verdict == TOO_FEW:
        return (
            f"batch {batch}: too few reviews to judge ({report.batch_reviews} scored, "
            f"at least {report.min_reviews} needed)"
        )
    if report.drift:
        return f"batch {batch}: drift in {', '.join(report.drifted)}"
    return f"batch {batch}: no drift"


def drift_markdown(report: DriftReport, batch: str) -> str:
    """The report as Markdown: the verdict, then one table row per statistic."""
    lines = [
        f"## {_summary(report, batch)}",
        "",
        f"{report.batch_reviews} reviews scored ({report.batch_unscored} without a prediction), "
        f"against {report.reference_reviews} training reviews scored by the same model.",
        "",
        "| statistic | value | threshold | verdict | reference | batch |",
        "| --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for row in statistic_rows(report):
        lines.append("| " + " | ".join(row.values()) + " |")
    return "\n".join(lines) + "\n"


def _bars(histogram: dict[str, list[float]]) -> str:
    """Each length bin's share of reviews, reference above batch, as inline SVG."""
    rows = []
    previous = 0.0
    height = 18
    bounds = histogram["upper_bounds"]
    for index in range(len(histogram["reference"])):
        if index == 0:
            label = f"up to {bounds[0]:.0f}" if bounds else "all"
        elif index < len(bounds):
            label = f"{previous + 1:.0f}-{bounds[index]:.0f}"
        else:
            label = f"over {previous:.0f}"
        previous = bounds[index] if index < len(bounds) else previous
        top = index * 2 * height
        cells = [f'<text x="0" y="{top + 26}" font-size="12">{label} words</text>']
        for offset, (side, colour) in enumerate((("reference", "#7a8ca3"), ("batch", "#2f5d9e"))):
            share = histogram[side][index]
            width = max(share * _BAR_WIDTH * 2, 0.5)
            y = top + offset * height
            cells.append(
                f'<rect x="110" y="{y + 2}" width="{width:.1f}" height="{height - 4}" fill="{colour}"/>'
            )
            cells.append(f'<text x="{116 + width:.1f}" y="{y + 14}" font-size="11">{share:.0%}</text>')
        rows.append("".join(cells))
    total = max(len(histogram["reference"]) * 2 * height, 1)
    return f'<svg width="{110 + _BAR_WIDTH * 2 + 60}" height="{total}" role="img">{"".join(rows)}</svg>'


def _word_table(title: str, rows: list[dict[str, Any]]) -> str:
    body = "".join(
        f"<tr><td>{html.escape(row['word'])}</td><td>{row['reference']:.2%}</td><td>{row['batch']:.2%}</td></tr>"
        for row in rows
    )
    return (
        f"<div><h3>{title}</h3><table><tr><th>word</th><th>reference</th><th>batch</th></tr>"
        f"{body or '<tr><td colspan=3>none</td></tr>'}</table></div>"
    )


def drift_html(report: DriftReport, batch: str, created: str) -> str:
    """The report as one self-contained HTML page."""
    colour = _COLOURS.get(report.verdict, _NO_DRIFT_COLOUR)
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(value)}</td>" for value in row.values())
        + f"<td class=measure>{html.escape(statistic.measure)}</td></tr>"
        for row, statistic in zip(statistic_rows(report), report.statistics, strict=True)
    )
    verdict_cells = rows.replace("<td>drift</td>", '<td class="drift">drift</td>')
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report: {html.escape(batch)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #1c1c1c; max-width: 1100px; }}
.verdict {{ background: {colour}; color: white; padding: 0.6em 1em; border-radius: 6px; font-size: 1.3em; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; font-size: 0.92em; }}
th {{ background: #f0f2f5; }} td.drift {{ color: {_COLOURS[DRIFT]}; font-weight: bold; }}
td.measure {{ color: #555; font-size: 0.82em; }} .words {{ display: flex; gap: 3em; }}
.legend span {{ display: inline-block; width: 1em; height: 0.8em; margin: 0 0.3em 0 1em; }}
</style></head><body>
<h1>Drift report</h1>
<p class="verdict">{html.escape(_summary(report, batch))}</p>
<p>{report.batch_reviews} new reviews scored ({report.batch_unscored} without a prediction), against
{report.reference_reviews} training reviews scored by the same model; written {html.escape(created)}.
A statistic over its threshold (params.yaml <code>drift</code>) is drift.</p>
<table><tr><th>statistic</th><th>value</th><th>threshold</th><th>verdict</th><th>reference</th>
<th>batch</th><th>measure</th></tr>{verdict_cells}</table>
<p>Length: Kolmogorov-Smirnov p-value {report.length_p_value:.3g} (for reading only: the verdict
reads the statistic).</p>
<h2>Words per review</h2>
<p class="legend"><span style="background:#7a8ca3"></span>training reviews
<span style="background:#2f5d9e"></span>this batch (bins: the training reviews' deciles)</p>
{_bars(report.length_histogram)}
<h2>Words whose frequency changed most</h2>
<div class="words">{_word_table("more frequent in the batch", report.over_represented)}
{_word_table("less frequent in the batch", report.under_represented)}</div>
</body></html>
"""
