"""The verdict in words: one reason per judged metric, and advice where the answer is not settled.

Sentences only; the numbers in them are formatted by :mod:`perfkit.fmt`, as everywhere else.
"""

from __future__ import annotations

import math

import pandas as pd

from perfkit import fmt
from perfkit.analysis.floors import AT_FLOOR_NOTE
from perfkit.analysis.vocabulary import SUCCESS_METRIC


def _points(x: float) -> str:
    return f"{100 * x:+.1f} points"


def _success_target_reason(r, conf: str) -> str:
    est = f"success rate {_points(r.change)} ({conf} CI {_points(r.ci_low)} to {_points(r.ci_high)}; {r.note})"
    words = {"cleared-stretch": "cleared the stretch target", "cleared": "cleared the target",
             "improved-unresolved": "more reliable, but whether by the target is not settled",
             "improved-below-target": "more reliable, but by less than the target",
             "no-change": "no change in reliability shown", "regressed": "less reliable"}
    if r.verdict == "insufficient":
        return f"{r.metric}: too few runs for a verdict ({r.note})"
    return f"{r.metric}: {words.get(r.verdict, 'cannot be judged')}: {est}"


def target_reason(r, low: float, high: float, conf: str) -> str:
    if r.metric == SUCCESS_METRIC:
        return _success_target_reason(r, conf)
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
    if r.metric == SUCCESS_METRIC and r.margin > 0:
        m = f"{100 * r.margin:.0f}-point margin"
        ci = f"{conf} CI {_points(r.ci_low)} to {_points(r.ci_high)}"
        if r.verdict == "held":
            return f"{SUCCESS_METRIC}: held within the {m}: {ci} ({r.note})"
        if r.verdict == "broken":
            return f"{SUCCESS_METRIC}: broken, fails more often than the {m} allows: {ci} ({r.note})"
        return f"{SUCCESS_METRIC}: unresolved against the {m}: {ci} ({r.note})"
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


#: The key under which a row carries its :class:`~perfkit.analysis.power.Advice` until the table is built.
ADVICE_KEY = "_advice"


def _settle_line(r, runs: int) -> str:
    if r.metric == SUCCESS_METRIC:
        est = f"{fmt.num(100 * r.change)} points"
        return (f"{r.metric}: about {runs} runs per variant give an 80 % chance to settle it, "
                f"if the true success rates are what was measured ({est}; now {r.n_baseline} and "
                f"{r.n_candidate})")
    return (f"{r.metric}: about {runs} runs per variant give an 80 % chance to settle it, if the "
            f"true change is what was measured ({fmt.pct(r.change)}; now {r.n_baseline} and "
            f"{r.n_candidate})")


def advice_lines(table: pd.DataFrame, kinds: dict | None = None, low: float = 0.10) -> list[str]:
    """Advice for every target and guardrail whose answer is not settled.

    ``kinds`` maps a metric to its :class:`~perfkit.analysis.power.Advice` (the power
    calculation); ``low`` is the target's lower edge, named in out-of-reach advice.
    """
    kinds = kinds or {}
    advice = []
    for r in table[table["role"] != "info"].itertuples():
        kind = kinds.get(r.metric)
        if r.verdict == "insufficient":
            advice.append(f"{r.metric}: collect at least 3 runs per variant (now {r.n_baseline} "
                          f"and {r.n_candidate}); no verdict is given on fewer")
        elif kind is not None and kind.kind == "text":
            advice.append(kind.text)
        elif pd.notna(r.runs_needed):
            advice.append(_settle_line(r, int(r.runs_needed)))
        elif kind is not None and kind.kind == "out-of-reach":
            then = (f"about {kind.runs} runs per variant give an 80 % chance to show that it "
                    f"misses the target (an upper bound below {low:.0%})" if kind.runs
                    else "more runs would not change that")
            advice.append(f"{r.metric}: the change ({fmt.pct(r.change)}) is near zero: the "
                          f"{low:.0%} target is out of reach at this effect; {then}")
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
