"""The success rate: how often each variant's runs ended ``ok``, and whether the candidate fails
more often — a guardrail of every comparison.

The difference of the two success shares gets a Newcombe interval (from Wilson intervals of each
share); Fisher's exact test gives its p-value. Runs made under the tracer are not counted.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from perfkit.analysis.stats import newcombe_interval, wilson_interval
from perfkit.analysis.vocabulary import (
    INSUFFICIENT,
    MIN_DECISION_RUNS,
    SUCCESS_METRIC,
    UNDEFINED,
)
from perfkit.data.schema import timed_rows


def success_verdict(ci_high: float, fail_base: float, fail_cand: float) -> str:
    """Success-rate guardrail on the interval of the *success* difference (candidate − baseline).

    Broken when that interval lies entirely below 0 (the candidate fails more often, with
    confidence); held when the candidate failed no more often than the baseline; else unresolved.
    """
    if math.isnan(fail_base) or math.isnan(fail_cand) or math.isnan(ci_high):
        return UNDEFINED
    if ci_high < 0:
        return "broken"
    if fail_cand <= fail_base:
        return "held"
    return "unresolved"


# --------------------------------------------------------------------------------------------
# the result


def success_row(b_rows: pd.DataFrame, c_rows: pd.DataFrame, confidence: float) -> dict[str, Any]:
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
    verdict = success_verdict(hi, fr_b, fr_c) if min(nb, nc) >= MIN_DECISION_RUNS else INSUFFICIENT
    wb, wc = wilson_interval(fb, nb, confidence), wilson_interval(fc, nc, confidence)
    note = (f"baseline {tb} of {nb} (failure rate CI {wb[0]:.0%}–{wb[1]:.0%}); "
            f"candidate {tc} of {nc} (CI {wc[0]:.0%}–{wc[1]:.0%})")
    return {"metric": SUCCESS_METRIC, "role": "guardrail", "n_baseline": nb, "n_candidate": nc,
            "baseline": sb, "candidate": sc, "change": sc - sb, "ci_low": lo, "ci_high": hi,
            "verdict": verdict, "method": "newcombe", "p_value": p, "margin": 0.0,
            "runs_needed": pd.NA, "note": note}
