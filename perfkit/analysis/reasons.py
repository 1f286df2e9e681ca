"""The verdict in words: one reason per judged metric, and advice where the answer is not settled.

Sentences only; the numbers in them are formatted by :mod:`perfkit.fmt`, as everywhere else.
"""

from __future__ import annotations

import math

import pandas as pd

from perfkit import fmt
from perfkit.analysis.floors import AT_FLOOR_NOTE
from perfkit.analysis.vocabulary import SUCCESS_METRIC


def advice_distance(verdict: str, est: float, low: float, high: float) -> float | None:
    """Distance from the estimate to the nearest boundary the interval must clear to settle."""
    if verdict == "improved-unresolved":
        return abs(est - low)
    if verdict == "no-change":
        # the verdict settles once the interval leaves every boundary it straddles; the binding
        # one is the closest of: 0 (either side), and low when the estimate lies between 0 and low
        candidates = [abs(est)]
        if 0 < est:
            candidates.append(abs(low - est))
        return min(candidates)
    return None


def target_reason(r, low: float, high: float, conf: str) -> str:
    ci = f"{conf} CI {fmt.pct(r.ci_low)} to {fmt.pct(r.ci_high)}" if r.method != "exact" else "exact"
    est = f"change {fmt.pct(r.change)} ({ci})"
    v = r.verdict
    if v == "insufficient":
        return f"{r.metric}: too few runs for a verdict ({r.note})"
    if v == "cleared-stretch":
        return f"{r.metric}: cleared the stretch target of {high:.0%}: {est}"
    if v == "cleared":
        return f"{r.metric}: cleared the {low:.0%} target: {est}"
    if v == "improved-unresolved":
        return f"{r.metric}: better, but whether by {low:.0%} is not settled: {est}"
    if v == "improved-below-target":
        return f"{r.metric}: better, but by less than the {low:.0%} target: {est}"
    if v == "no-change":
        return f"{r.metric}: no change shown: {est}"
    if v == "regressed":
        return f"{r.metric}: regressed (worse): {est}"
    return f"{r.metric}: cannot be judged ({r.note})"


def guardrail_reason(r, conf: str) -> str:
    if r.verdict == "insufficient":
        return f"{r.metric}: guardrail not checked, too few runs ({r.note})"
    if r.metric == SUCCESS_METRIC:
        if r.verdict == "held":
            return f"{SUCCESS_METRIC}: held, the candidate failed no more often ({r.note})"
        if r.verdict == "broken":
            return f"{SUCCESS_METRIC}: broken, the candidate fails more often ({r.note})"
        return (f"{SUCCESS_METRIC}: unresolved, the candidate failed more often but not "
                f"conclusively ({r.note})")
    if r.method == "exact":
        inc = f"increase {fmt.pct(-r.change)} (exact)"
    else:
        inc = f"increase {fmt.pct(-r.change)} ({conf} CI {fmt.pct(-r.ci_high)} to {fmt.pct(-r.ci_low)})"
    if r.verdict == "held":
        return f"{r.metric}: guardrail held, below the {r.margin:.0%} margin: {inc}"
    if r.verdict == "broken":
        return f"{r.metric}: guardrail broken, above the {r.margin:.0%} margin: {inc}"
    if r.verdict == "unresolved" and str(r.note).startswith(AT_FLOOR_NOTE):
        return f"{r.metric}: guardrail unresolved, {r.note}"
    if r.verdict == "unresolved":
        return f"{r.metric}: guardrail unresolved against the {r.margin:.0%} margin: {inc}"
    return f"{r.metric}: guardrail cannot be judged ({r.note})"


def advice_lines(table: pd.DataFrame) -> list[str]:
    """Advice for every target and guardrail whose answer is not settled."""
    advice = []
    for r in table[table["role"] != "info"].itertuples():
        if r.verdict == "insufficient":
            advice.append(f"{r.metric}: collect at least 3 runs per variant (now {r.n_baseline} "
                          f"and {r.n_candidate}); no verdict is given on fewer")
        elif pd.notna(r.runs_needed):
            advice.append(
                f"{r.metric}: about {int(r.runs_needed)} runs per variant would probably settle "
                f"it (now {r.n_baseline} and {r.n_candidate}; scaled from the interval's width)"
            )
        elif r.verdict in ("improved-unresolved", "no-change", "unresolved") and (
            r.metric != SUCCESS_METRIC
        ):
            if not (math.isfinite(r.ci_low) and math.isfinite(r.ci_high)):
                advice.append(
                    f"{r.metric}: the interval is unbounded (too few runs, or a baseline that is "
                    f"often 0); collect more runs per variant"
                )
            else:
                advice.append(
                    f"{r.metric}: the estimate sits on (or very near) a boundary: more than "
                    f"10,000 runs per variant would be needed, so more runs are unlikely to "
                    f"settle it"
                )
    return advice
