"""Calibration by simulation: how often does the verdict tell the truth when the truth is known?

Both variants are drawn from lognormal distributions (the usual shape of run times: positive and
right-skewed) with a given coefficient of variation; the candidate's median is ``1 − change`` times
the baseline's, so the true change of medians is exactly ``change``. Each trial runs the same
interval and rules that :func:`perfkit.compare` runs. The benchmark and the tests use this.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from perfkit.analysis.stats import change_interval
from perfkit.analysis.verdict import target_verdict

CLEARED = ("cleared", "cleared-stretch")


@dataclass(frozen=True)
class Cell:
    """One simulation setting: runs per variant, coefficient of variation, true change."""

    n: int
    cv: float
    change: float


def lognormal_sigma(cv: float) -> float:
    """σ of the underlying normal for a lognormal whose coefficient of variation is ``cv``."""
    return math.sqrt(math.log1p(cv * cv))


def simulate(
    cell: Cell,
    trials: int,
    *,
    seed: int = 0,
    n_resamples: int = 10_000,
    confidence: float = 0.95,
    target: tuple[float, float] = (0.10, 0.20),
    statistic: str = "median",
) -> pd.DataFrame:
    """Run ``trials`` simulated comparisons of one cell.

    Returns one row per trial: ``trial``, ``change`` (estimate), ``ci_low``, ``ci_high``,
    ``method``, ``verdict``, ``covered`` (the interval holds the true change).
    """
    sigma = lognormal_sigma(cell.cv)
    out = []
    for t in range(trials):
        # data and resampling streams are separate and reproducible per (seed, cell, trial)
        rng = np.random.default_rng([seed, cell.n, round(cell.cv * 1e4), round(cell.change * 1e4), t])
        b = rng.lognormal(0.0, sigma, cell.n)
        c = (1.0 - cell.change) * rng.lognormal(0.0, sigma, cell.n)
        ci = change_interval(b, c, statistic=statistic, confidence=confidence,
                             n_resamples=n_resamples, seed=rng)
        verdict = target_verdict(ci.ci_low, ci.ci_high, *target)
        out.append({"trial": t, "change": ci.change, "ci_low": ci.ci_low, "ci_high": ci.ci_high,
                    "method": ci.method, "verdict": verdict,
                    "covered": bool(ci.ci_low <= cell.change <= ci.ci_high)})
    return pd.DataFrame(out)


def summarise(cell: Cell, trials: pd.DataFrame) -> dict:
    """Rates of one cell: false verdicts (A/A), coverage, share called at least ``cleared``."""
    n = len(trials)
    return {
        "n": cell.n, "cv": cell.cv, "true_change": cell.change, "trials": n,
        "coverage": float(trials["covered"].mean()),
        "not_no_change": float((trials["verdict"] != "no-change").mean()),
        "cleared_or_better": float(trials["verdict"].isin(CLEARED).mean()),
        "regressed": float((trials["verdict"] == "regressed").mean()),
        "fallbacks": int((~trials["method"].isin(("bca", "moses"))).sum()),
        "median_ci_width": float((trials["ci_high"] - trials["ci_low"]).median()),
    }
