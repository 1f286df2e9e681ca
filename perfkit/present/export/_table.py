"""The comparison table as every export shows it: one row per metric, formatted by
:mod:`perfkit.fmt`, and the settings, reasons and notes that go with it."""

from __future__ import annotations

import math
from collections.abc import Sequence

from perfkit import fmt
from perfkit.analysis.verdict import SUCCESS_METRIC, Comparison


def _points(x: float) -> str:
    return fmt.MISSING if math.isnan(x) else f"{x * 100:+.1f} pts"


def rows(result: Comparison, roles: Sequence[str]) -> list[list[str]]:
    """Display rows (all strings) of the metrics in ``roles``."""
    out = []
    for r in result.table[result.table["role"].isin(roles)].itertuples():
        if r.metric == SUCCESS_METRIC:  # a share: points, not a ratio
            b = fmt.MISSING if math.isnan(r.baseline) else f"{r.baseline:.0%}"
            c = fmt.MISSING if math.isnan(r.candidate) else f"{r.candidate:.0%}"
            ch = _points(r.change)
            ci = fmt.MISSING if math.isnan(r.ci_low) else f"{_points(r.ci_low)} to {_points(r.ci_high)}"
        else:
            b, c, ch = fmt.num(r.baseline), fmt.num(r.candidate), fmt.pct(r.change)
            ci = "exact" if r.method == "exact" else (
                fmt.MISSING if math.isnan(r.ci_low) else f"{fmt.pct(r.ci_low)} to {fmt.pct(r.ci_high)}")
        # an info row's p-value is Holm-adjusted over every info row (what its verdict used)
        p = r.p_holm if r.role == "info" else r.p_value
        out.append([r.metric, r.role, f"{r.n_baseline}/{r.n_candidate}", b, c, ch, ci,
                    r.verdict, r.method, fmt.p_value(p)])
    return out


def headers(result: Comparison) -> list[str]:
    conf = f"{result.settings.get('confidence', 0.95):.0%}"
    stat = result.settings.get("statistic", "median")
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
    return (f"target {low:.0%} better (stretch {high:.0%}); change = 1 − candidate/baseline "
            f"(positive = better); {s.get('confidence', 0.95):.0%} two-sample bootstrap "
            f"({s.get('n_resamples')} resamples, BCa, seed {s.get('seed')})")


def sections(result: Comparison) -> list[tuple[str, list[str]]]:
    """(title, items) of the lists under the table: reasons, advice, warnings, notes."""
    return [("reasons", list(result.reasons)), ("advice", list(result.advice)),
            ("warnings", [str(w) for w in result.warnings]), ("notes", notes(result))]
