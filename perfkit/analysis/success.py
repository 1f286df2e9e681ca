"""The success rate: how often each variant's runs ended ``ok``, and whether the candidate fails
more often — a guardrail of every comparison, or a target of a reliability fix.

The difference of the two success shares (candidate − baseline, in *points*: 0.05 = 5 points)
gets a Newcombe hybrid score interval (method 10 of Newcombe 1998, from Wilson intervals of each
share); Fisher's exact test gives its p-value. Runs made under the tracer are not counted.

- As a guardrail with margin ``m`` points (``--guardrail success_rate=5pts``), a non-inferiority
  test: held when the interval lies above ``−m`` (the candidate fails at most ``m`` points more
  often), broken when it lies below ``−m``, else unresolved. With no margin (the default) it is
  held when the candidate failed no more often than the baseline, broken when the interval lies
  below 0.
- As a target (``--target success_rate=+10pts``: higher is better, the band in points) it is
  judged by the target table on the same interval.

Advice for an unresolved row: the fewest runs per variant that settle it with 80 % probability if
the true success shares are the measured ones, by exact enumeration of both binomial outcomes
through the very verdict rule above (no normal approximation: failures are rare).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from perfkit.analysis.power import Advice
from perfkit.analysis.reasons import ADVICE_KEY
from perfkit.analysis.stats import newcombe_interval, wilson_interval
from perfkit.analysis.vocabulary import (
    INSUFFICIENT,
    MIN_DECISION_RUNS,
    SUCCESS_METRIC,
    UNDEFINED,
)
from perfkit.data.schema import timed_rows
from perfkit.errors import UsageError


def success_verdict(ci_high: float, fail_base: float, fail_cand: float, margin: float = 0.0,
                    ci_low: float = math.nan) -> str:
    """Success-rate guardrail on the interval of the *success* difference (candidate − baseline).

    With ``margin`` 0: broken when that interval lies entirely below 0 (the candidate fails more
    often, with confidence); held when the candidate failed no more often than the baseline; else
    unresolved. With a margin ``m`` > 0 (points): held when ``ci_low > −m``, broken when
    ``ci_high < −m``, else unresolved.
    """
    if math.isnan(fail_base) or math.isnan(fail_cand) or math.isnan(ci_high):
        return UNDEFINED
    if margin > 0:
        if ci_high < -margin:
            return "broken"
        return "held" if ci_low > -margin else "unresolved"
    if ci_high < 0:
        return "broken"
    if fail_cand <= fail_base:
        return "held"
    return "unresolved"


def newcombe_arrays(k1, n1: int, k2, n2: int, z: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~perfkit.analysis.stats.newcombe_interval` of ``k2/n2 − k1/n1`` over arrays of counts
    (the same formula; checked against it in the tests)."""
    def wilson(k, n):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        return p, np.maximum(0.0, centre - half), np.minimum(1.0, centre + half)

    p1, l1, u1 = wilson(np.asarray(k1, float), n1)
    p2, l2, u2 = wilson(np.asarray(k2, float), n2)
    d = p2 - p1
    return d - np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), d + np.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)


def _binom_support(n: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy import stats as sstats

    if p <= 0 or p >= 1:
        k = np.array([0 if p <= 0 else n])
        return k, np.ones(1)
    lo, hi = sstats.binom.ppf([1e-9, 1 - 1e-9], n, p)
    k = np.arange(int(lo), int(hi) + 1)
    return k, sstats.binom.pmf(k, n, p)


def settle_chance(n: int, fail_base: float, fail_cand: float, confidence: float, margin: float,
                  target: tuple[float, float] | None) -> float:
    """P(the success row is settled with ``n`` runs per variant) if the true failure shares are
    ``fail_base`` and ``fail_cand``: every pair of failure counts, through the verdict rule."""
    from perfkit.analysis.power import _z

    kb, pb = _binom_support(n, fail_base)
    kc, pc = _binom_support(n, fail_cand)
    KB, KC = np.meshgrid(kb, kc, indexing="ij")
    f_lo, f_hi = newcombe_arrays(KB, n, KC, n, _z(confidence))
    lo, hi = -f_hi, -f_lo  # success difference
    if target is not None:
        settled = (lo >= target[0]) | (hi < target[0]) & ((lo > 0) | (hi < 0))
    elif margin > 0:
        settled = (hi < -margin) | (lo > -margin)
    else:
        settled = (hi < 0) | (KC <= KB)
    return float(np.sum(np.outer(pb, pc) * settled))


def success_roles(targets: list[str], margins: dict[str, float],
                  band: Callable[[], tuple[float, float]]) -> tuple[float, tuple[float, float] | None]:
    """Take ``success_rate`` out of ``targets``/``margins`` (it is no column): its guardrail
    margin in points (0 unless named) and its target band (``band()``) when it is a target."""
    margin = margins.pop(SUCCESS_METRIC, 0.0)
    if margin >= 1:
        raise UsageError(f"`guardrails`: the margin of {SUCCESS_METRIC} is in points (0.05 = "
                         f"5 points, --guardrail {SUCCESS_METRIC}=5pts), not {margin!r}")
    if SUCCESS_METRIC not in targets:
        return margin, None
    targets.remove(SUCCESS_METRIC)
    return margin, band()


#: The most runs per variant the success-rate advice looks at.
SUCCESS_CAP = 5_000


def success_runs_needed(n_now: int, fail_base: float, fail_cand: float, confidence: float,
                        margin: float = 0.0, target: tuple[float, float] | None = None,
                        power: float = 0.80) -> int | None:
    """The fewest runs per variant (more than now) that settle the row with ``power``, or None."""
    grid, n = [], max(n_now + 1, 3)
    while n <= SUCCESS_CAP:
        grid.append(n)
        n = max(n + 1, int(n * 1.25))
    previous = n_now
    for n in grid:
        if settle_chance(n, fail_base, fail_cand, confidence, margin, target) >= power:
            # refine between the last grid point that fell short and this one
            for m in range(previous + 1, n):
                if settle_chance(m, fail_base, fail_cand, confidence, margin, target) >= power:
                    return max(m, 3)
            return n
        previous = n
    return None


# --------------------------------------------------------------------------------------------
# the result


def success_row(b_rows: pd.DataFrame, c_rows: pd.DataFrame, confidence: float,
                margin: float = 0.0, target: tuple[float, float] | None = None,
                target_verdict: Callable[[float, float, float, float], str] | None = None,
                ) -> dict[str, Any]:
    """The success-rate row: a guardrail with ``margin`` points, or a target with band ``target``
    (points; see the module docstring) judged by ``target_verdict`` (the verdict table's rule,
    handed in by :mod:`perfkit.analysis.verdict`). Carries its advice under ``ADVICE_KEY``."""
    def counts(rows: pd.DataFrame) -> tuple[int, int, str]:
        rows = timed_rows(rows)  # a traced run's outcome is under the tracer: not counted
        status = rows["status"].astype("string").fillna("error") if "status" in rows.columns \
            else pd.Series(["ok"] * len(rows))
        n = len(status)
        bad = status[status != "ok"].value_counts()
        text = ", ".join(f"{int(k)} {s}" for s, k in bad.items()) or "0 failed"
        return n, int(bad.sum()), text

    nb, fb, tb = counts(b_rows)
    nc, fc, tc = counts(c_rows)
    sb = (nb - fb) / nb if nb else math.nan
    sc = (nc - fc) / nc if nc else math.nan
    # success difference = −(failure difference): Newcombe on failures, then negate
    f_lo, f_hi = newcombe_interval(fb, nb, fc, nc, confidence)
    lo, hi = -f_hi, -f_lo
    from scipy import stats as sstats  # lazy: see perfkit.analysis.stats._scipy_stats

    p = float(sstats.fisher_exact([[fb, nb - fb], [fc, nc - fc]]).pvalue) if nb and nc else math.nan
    fr_b = fb / nb if nb else math.nan
    fr_c = fc / nc if nc else math.nan
    if min(nb, nc) < MIN_DECISION_RUNS:
        verdict = INSUFFICIENT
    elif target is not None and target_verdict is not None:
        verdict = target_verdict(lo, hi, *target)
    else:
        verdict = success_verdict(hi, fr_b, fr_c, margin, lo)
    wb, wc = wilson_interval(fb, nb, confidence), wilson_interval(fc, nc, confidence)
    note = (f"baseline {tb} of {nb} (failure rate CI {wb[0]:.0%}–{wb[1]:.0%}); "
            f"candidate {tc} of {nc} (CI {wc[0]:.0%}–{wc[1]:.0%})")
    need = None
    if verdict in ("unresolved", "improved-unresolved", "no-change"):
        need = success_runs_needed(max(nb, nc), fr_b, fr_c, confidence, margin, target)
    return {"metric": SUCCESS_METRIC, "role": "guardrail" if target is None else "target",
            "n_baseline": nb, "n_candidate": nc,
            "baseline": sb, "candidate": sc, "change": sc - sb, "ci_low": lo, "ci_high": hi,
            "verdict": verdict, "method": "newcombe", "p_value": p, "margin": margin,
            "runs_needed": need if need is not None else pd.NA, "note": note,
            ADVICE_KEY: _advice(verdict, need, fr_b, fr_c, margin, target)}


def _advice(verdict: str, need: int | None, fr_b: float, fr_c: float, margin: float,
            target: tuple[float, float] | None) -> Advice:
    """Advice for an unresolved success row: a number (the table's ``runs_needed``) and, with no
    margin, the margin that would make "held" reachable."""
    if verdict not in ("unresolved", "improved-unresolved", "no-change"):
        return Advice("none")
    rates = f"failure rates {fr_b:.1%} and {fr_c:.1%}"
    if need is not None:
        text = (f"{SUCCESS_METRIC}: about {need} runs per variant give an 80 % chance to settle "
                f"it, if the true {rates} are what was measured")
    else:
        text = (f"{SUCCESS_METRIC}: at the measured {rates}, no number of runs up to "
                f"{SUCCESS_CAP:,} per variant is likely to settle it; look at the failed runs")
    if target is None and margin == 0:
        text += ("; with no margin the candidate may not fail more often at all: a "
                 "non-inferiority margin (--guardrail success_rate=5pts) asks instead that it "
                 "fails at most 5 points more often")
    return Advice("text", need, text)
