"""The first screen of a comparison report: the answer as a badge, one line per target and guardrail.

Each line shows the change (a guardrail: its increase), its interval, and a small inline SVG of the
interval against the target band (or the guardrail's margin), so that a reviewer reads the answer
in ten seconds. Everything is plain HTML with inline styles (it looks the same in JupyterLab, the
HTML export and a screenshot) and every string from data is escaped.
"""

from __future__ import annotations

import math
from typing import Any

from perfkit import fmt
from perfkit.analysis.spending import level_text
from perfkit.analysis.verdict import SUCCESS_METRIC
from perfkit.present.export._table import change_cells, shown_interval
from perfkit.present.markup import escape

#: Badge text and colour per overall answer.
BADGES = {
    "cleared": ("CLEARED", "#2e7d32"),
    "not-shown": ("NOT SHOWN", "#b26a00"),
    "regressed": ("REGRESSED", "#c62828"),
}
#: Colour of a line's verdict word and interval.
GOOD, MIXED, BAD, GREY = "#2e7d32", "#b26a00", "#c62828", "#757575"
_VERDICT_COLOUR = {
    "cleared-stretch": GOOD, "cleared": GOOD, "held": GOOD,
    "improved-unresolved": MIXED, "improved-below-target": MIXED, "no-change": MIXED,
    "unresolved": MIXED, "regressed": BAD, "broken": BAD,
}
FIG_W, FIG_H = 240, 26


def _domain(values: list[float]) -> tuple[float, float]:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    lo, hi = min(finite), max(finite)
    pad = max((hi - lo) * 0.12, 0.01)
    return lo - pad, hi + pad


def interval_figure(value: float, low: float, high: float, *, band: tuple[float, float] | None,
                    limit: float | None, colour: str, label: str) -> str:
    """An inline SVG: the interval (a thick line) and the estimate (a dot) on an axis with zero
    (grey), the target band (green) or a guardrail's margin (red dashed, the allowed side shaded)."""
    has_ci = all(v is not None and math.isfinite(v) for v in (low, high))
    points = [0.0, value] + ([low, high] if has_ci else [])
    points += list(band) if band else []
    points += [limit] if limit is not None else []
    if not any(v is not None and math.isfinite(v) for v in points[1:]):
        return ""
    lo, hi = _domain(points)

    def x(v: float) -> float:
        return round(4 + (FIG_W - 8) * (min(max(v, lo), hi) - lo) / (hi - lo), 1)

    mid = FIG_H // 2
    parts = [f'<rect x="0" y="0" width="{FIG_W}" height="{FIG_H}" fill="#fafafa"/>']
    if band:
        parts.append(f'<rect x="{x(band[0])}" y="2" width="{max(x(band[1]) - x(band[0]), 2)}" '
                     f'height="{FIG_H - 4}" fill="{GOOD}" fill-opacity="0.18"/>')
    if limit is not None:
        parts.append(f'<rect x="{x(lo)}" y="2" width="{x(limit) - x(lo)}" height="{FIG_H - 4}" '
                     f'fill="{GOOD}" fill-opacity="0.12"/>')
        parts.append(f'<line x1="{x(limit)}" x2="{x(limit)}" y1="1" y2="{FIG_H - 1}" '
                     f'stroke="{BAD}" stroke-width="1.5" stroke-dasharray="4 2"/>')
    parts.append(f'<line x1="{x(0)}" x2="{x(0)}" y1="1" y2="{FIG_H - 1}" stroke="{GREY}" '
                 'stroke-width="1"/>')
    if has_ci:
        parts.append(f'<line x1="{x(low)}" x2="{x(high)}" y1="{mid}" y2="{mid}" stroke="{colour}" '
                     'stroke-width="5" stroke-linecap="round"/>')
    if value is not None and math.isfinite(value):
        parts.append(f'<circle cx="{x(value)}" cy="{mid}" r="4.5" fill="#fff" stroke="{colour}" '
                     'stroke-width="2.5"/>')
    return (f'<svg class="perfkit-interval" role="img" width="{FIG_W}" height="{FIG_H}" '
            f'viewBox="0 0 {FIG_W} {FIG_H}" xmlns="http://www.w3.org/2000/svg">'
            f"<title>{escape(label)}</title>{''.join(parts)}</svg>")


def _line(row: Any, target: tuple[float, float], conf: str) -> str:
    """One ``<tr>``: role, metric, change, interval figure, interval in words, verdict."""

    colour = _VERDICT_COLOUR.get(row.verdict, GREY)
    if row.metric == SUCCESS_METRIC:
        what = (f"success {row.candidate:.0%} vs {row.baseline:.0%}"
                if math.isfinite(row.baseline) and math.isfinite(row.candidate) else fmt.MISSING)
        ch, ci, figure = what, "", ""
    else:
        ch, ci = change_cells(row.role, row.change, row.ci_low, row.ci_high, row.method)
        value, low, high = shown_interval(row.role, row.change, row.ci_low, row.ci_high)
        if row.role == "target":
            label = f"change {ch}, {conf} interval {ci}, target band {fmt.pct(target[0])} to " \
                    f"{fmt.pct(target[1])}"
            figure = interval_figure(value, low, high, band=target, limit=None, colour=colour,
                                     label=label)
        else:
            margin = float(row.margin) if row.margin == row.margin else None
            label = f"{ch}, {conf} interval {ci}, margin {fmt.pct(margin)}"
            figure = interval_figure(value, low, high, band=None, limit=margin, colour=colour,
                                     label=label)
        if ci not in ("exact", "undefined"):
            ci = f"{conf} CI {ci}"
    verdict = str(row.verdict).replace("-", " ")
    role = "target" if row.role == "target" else "guardrail"
    td = 'style="padding:4px 10px;white-space:nowrap;text-align:left"'
    return (f'<tr class="perfkit-line perfkit-{role}">'
            f'<td {td}><span style="color:{GREY};font-size:0.85em">{role}</span></td>'
            f'<td {td}><code>{escape(row.metric)}</code></td>'
            f'<td {td}><strong style="font-size:1.1em">{escape(ch)}</strong></td>'
            f'<td style="padding:2px 10px;text-align:left">{figure}</td>'
            f'<td {td}>{escape(ci)}</td>'
            f'<td {td}><strong style="color:{colour}">{escape(verdict)}</strong></td></tr>')


def headline_html(result: Any) -> str:
    """The badge and one line per target and guardrail (HTML; every data string escaped)."""
    s = result.settings
    conf = level_text(s.get('confidence', 0.95))
    target = tuple(s.get("target", (0.1, 0.2)))
    text, colour = BADGES.get(result.overall, (str(result.overall).upper(), GREY))
    t = result.table
    lines = "".join(_line(r, target, conf) for r in t[t["role"] == "target"].itertuples())
    lines += "".join(_line(r, target, conf) for r in t[t["role"] == "guardrail"].itertuples())
    sub = (f"candidate <code>{escape(result.candidate)}</code> against baseline "
           f"<code>{escape(result.baseline)}</code> · target {target[0]:.0%}–{target[1]:.0%} "
           f"better (change = 1 − candidate/baseline) · guardrails: increase within the margin")
    return (
        '<div class="perfkit-headline" style="font-family:inherit;margin:0.4em 0 1em 0">'
        f'<div class="perfkit-badge {escape(result.overall)}" style="display:inline-block;'
        f"background:{colour};color:#fff;font-size:2.1em;font-weight:700;letter-spacing:0.04em;"
        f'padding:0.25em 0.8em;border-radius:6px">{escape(text)}</div>'
        f'<p style="margin:0.5em 0;color:#444">{sub}</p>'
        f'<table class="perfkit-lines" style="border-collapse:collapse;font-size:1.05em">'
        f"{lines}</table></div>"
    )
