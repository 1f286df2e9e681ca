"""The comparison table as every export shows it: one row per metric, formatted by
:mod:`perfkit.fmt`, and the settings, reasons and notes that go with it."""

from __future__ import annotations

import math
from collections.abc import Sequence

from perfkit import fmt
from perfkit.analysis.paired import method_text
from perfkit.analysis.spending import level_text
from perfkit.analysis.verdict import SUCCESS_METRIC, Comparison


def _points(x: float) -> str:
    return fmt.MISSING if math.isnan(x) else fmt.pct(x).replace(" %", " pts")


def shown_interval(role: str, change: float, ci_low: float, ci_high: float) -> tuple[float, ...]:
    """(value, low, high) as a reader sees them: a target's change (positive = better), a
    guardrail's *increase* (candidate/baseline − 1 = −change, so the interval flips). One sign
    convention per metric in every table, reason, chart and JSON record."""
    if role == "guardrail":
        return -change, -ci_high, -ci_low
    return change, ci_low, ci_high


def change_cells(role: str, change: float, ci_low: float, ci_high: float,
                 method: str) -> tuple[str, str]:
    """The change (a guardrail: "increase …") and its interval; never "— to —"."""
    value, low, high = shown_interval(role, change, ci_low, ci_high)
    shown = fmt.pct(value)
    if role == "guardrail" and shown != fmt.MISSING:
        shown = f"increase {shown}"
    if method == "exact":
        return shown, "exact"
    if fmt.is_missing(low) or fmt.is_missing(high):
        return shown, "undefined"
    return shown, f"{fmt.pct(low)} to {fmt.pct(high)}"


def row_cells(r) -> tuple[str, str]:
    """(change, interval) of one table row as every view shows it: the success rate in points,
    a guardrail as its increase, a target as its change."""
    if r.metric == SUCCESS_METRIC:  # a share: points, not a ratio
        ci = fmt.MISSING if math.isnan(r.ci_low) else f"{_points(r.ci_low)} to {_points(r.ci_high)}"
        return _points(r.change), ci
    return change_cells(r.role, r.change, r.ci_low, r.ci_high, r.method)


def rows(result: Comparison, roles: Sequence[str]) -> list[list[str]]:
    """Display rows (all strings) of the metrics in ``roles``."""
    out = []
    for r in result.table[result.table["role"].isin(roles)].itertuples():
        if r.metric == SUCCESS_METRIC:
            b = fmt.MISSING if math.isnan(r.baseline) else f"{r.baseline:.0%}"
            c = fmt.MISSING if math.isnan(r.candidate) else f"{r.candidate:.0%}"
        else:
            b, c = fmt.num(r.baseline), fmt.num(r.candidate)
        ch, ci = row_cells(r)
        # an info row's p-value is Holm-adjusted over every info row (what its verdict used)
        p = r.p_holm if r.role == "info" else r.p_value
        out.append([r.metric, r.role, f"{r.n_baseline}/{r.n_candidate}", b, c, ch, ci,
                    r.verdict, r.method, fmt.p_value(p)])
    return out


def headers(result: Comparison) -> list[str]:
    conf = level_text(result.settings.get('confidence', 0.95))
    stat = result.settings.get("statistic", "median")
    stat = "median" if stat in ("hl", "auto") else stat  # hl rows show each variant's median
    return ["metric", "role", "runs b/c", f"baseline {stat}", f"candidate {stat}", "change",
            f"{conf} CI", "verdict", "method", "p"]


def notes(result: Comparison) -> list[str]:
    """Why a row has no BCa interval (fallbacks and undefined changes), one line per row."""
    t = result.table
    hit = t[t["method"].isin(["percentile", "undefined"]) & (t["note"].fillna("") != "")]
    return [f"{r.metric}: {r.note}" for r in hit.itertuples()]


def settings_line(result: Comparison) -> str:
    s = result.settings
    low, high = s.get("target", [math.nan, math.nan])
    how = method_text(s.get("statistic", "median"), s.get("design", "independent"),
                      s.get("n_resamples"), s.get("seed"), s.get("confidence", 0.95))
    return (f"target {low:.0%} better (stretch {high:.0%}); change = 1 − candidate/baseline "
            f"(positive = better); {how}")


def sections(result: Comparison) -> list[tuple[str, list[str]]]:
    """(title, items) of the lists under the table: reasons, advice, warnings, notes."""
    return [("reasons", list(result.reasons)), ("advice", list(result.advice)),
            ("warnings", [str(w) for w in result.warnings]), ("notes", notes(result))]


def many_headers(many) -> list[str]:
    """The one table of several candidates: a candidate column, then :func:`headers`' columns
    without method and p (the interval's level differs per candidate: its own column)."""
    stat = many.settings.get("statistic", "median")
    return ["candidate", "metric", "role", "runs b/c", f"baseline {stat}", f"candidate {stat}",
            "change", "interval", "level", "verdict"]


def many_rows(many, roles: Sequence[str] = ("target", "guardrail")) -> list[list[str]]:
    """Display rows of every candidate (in the order given), each row naming its candidate."""
    out = []
    for comparison, level in zip(many.comparisons, many.levels):
        for row in rows(comparison, roles):
            out.append([comparison.candidate, *row[:7], f"{level:.2%}", row[7]])
    return out


def many_sections(many) -> list[tuple[str, list[str]]]:
    """Each candidate's answer, then its reasons, advice and warnings, prefixed by its name."""
    answers = [f"{c.candidate}: {c.overall}" for c in many.comparisons]
    out = [("answers", answers)]
    for title in ("reasons", "advice", "warnings"):
        items = []
        for c in many.comparisons:
            found = dict(sections(c))[title]
            items += [f"{c.candidate}: {x}" for x in found]
        out.append((title, items))
    return out
