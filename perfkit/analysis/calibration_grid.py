"""The calibration grid of issue 10: perfkit's intervals and the anchors' rules on the same data.

Each trial draws ``n`` runs per variant from one of :data:`DISTRIBUTIONS` (coefficient of
variation about 10 %), the candidate's runs ``1 − change`` times as long as the baseline's
(a multiplicative change, so the ratio of medians, the ratio of means and the shift of log times
all equal ``1 − change``; for ``discrete`` the values are rounded after scaling, so the truth is
the nominal change of the unrounded times). Then every rule of :data:`RULES` judges the same two
samples:

``today``
    main before this change: the two-sample BCa bootstrap of the ratio of medians, runs treated
    as independent whatever the design.
``median``
    the new default design for the median: ``paired-bca`` on interleaved rounds, ``bca-ar1`` on
    runs that were not interleaved (:mod:`perfkit.analysis.paired`).
``hl``
    the same designs for ``statistic="hl"``: the two-sample Hodges–Lehmann change with a BCa
    interval from rounds resampled together (``paired-bca``), ``moses-ar1`` when not interleaved.
``hl-signed-rank``
    the one-sample Hodges–Lehmann (Walsh-average) estimator of the within-round log-ratios with
    its exact signed-rank interval (:func:`perfkit.analysis.paired.signed_rank_change`);
    ``moses-ar1`` when not interleaved.
``hl-unpaired``
    the two-sample Hodges–Lehmann with its Moses interval, rounds ignored (``moses``).
``benchstat``
    benchstat's rule: Mann–Whitney U, two-sided, p < 0.05 means "changed", reported with the
    change of medians. Called *cleared* when p < 0.05 and the median change is ≥ the target's low
    end. No interval on the change (coverage not applicable).
``criterion``
    criterion.rs's rule: a percentile bootstrap (95 %) of the relative change of means, and a
    two-sample t-test (Welch here; criterion bootstraps the t statistic) at p < 0.05; a change is
    reported (improved / regressed) only when p < 0.05 and the whole interval lies beyond the
    noise threshold ±1 %. Called *cleared* when reported improved with a mean change ≥ the
    target's low end.
``asv``
    ``asv compare``'s rule: the ratio of medians beyond ``factor`` 1.1 (candidate < baseline/1.1)
    and "statistically different" by ``asv.statistics.is_different``: Mann–Whitney U at
    p < 0.002 when that p is attainable with these sample sizes (it is from 6 runs per variant),
    else non-overlapping 99 % intervals. Called *cleared* when flagged better with a median change
    ≥ the target's low end. No interval on the change.

Per trial and rule: ``verdict`` (the target verdict for perfkit's rules; ``changed``/``cleared``/
``no-change`` words for the anchors), ``cleared`` (called at least cleared), ``false`` (A/A: any
call but "no change"), ``covered`` (the interval holds the true change; NaN without interval).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from perfkit.analysis.stats import change_interval
from perfkit.analysis.verdict import target_verdict

DISTRIBUTIONS = ("lognormal", "gamma", "bimodal", "heavy", "discrete", "ar1-interleaved",
                 "ar1-sequential")
RULES = ("today", "median", "hl", "hl-signed-rank", "hl-unpaired", "benchstat", "criterion",
         "asv")
CLEARED = ("cleared", "cleared-stretch")
#: coefficient of variation of every distribution (about; bimodal 10.6 %)
CV = 0.10
#: AR(1) coefficient of the run-order noise
PHI = 0.5
#: median run time of the discrete distribution before rounding, and its clock step (seconds)
DISCRETE_MEDIAN, DISCRETE_STEP = 0.3, 0.01


@dataclass(frozen=True)
class GridCell:
    distribution: str
    n: int
    change: float


def _sigma(cv: float = CV) -> float:
    return math.sqrt(math.log1p(cv * cv))


def _ar1(rng: np.random.Generator, size: int, phi: float = PHI) -> np.ndarray:
    e = rng.normal(size=size)
    out = np.empty(size)
    out[0] = e[0]
    k = math.sqrt(1 - phi * phi)
    for i in range(1, size):
        out[i] = phi * out[i - 1] + k * e[i]
    return out * _sigma()


def draw(dist: str, n: int, change: float, rng: np.random.Generator
         ) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(baseline, candidate, interleaved)``: ``baseline[i]`` and ``candidate[i]`` ran in round
    ``i`` when ``interleaved``; otherwise each is in its own execution order, candidate after."""
    f = 1.0 - change
    sig = _sigma()
    if dist in ("ar1-interleaved", "ar1-sequential"):
        noise = np.exp(_ar1(rng, 2 * n))
        if dist == "ar1-sequential":
            return noise[:n], f * noise[n:], False
        # round r holds positions 2r and 2r+1; which variant runs first is a seeded coin
        first = rng.integers(0, 2, n).astype(bool)
        pos = 2 * np.arange(n)
        b = np.where(first, noise[pos], noise[pos + 1])
        c = np.where(first, noise[pos + 1], noise[pos])
        return b, f * c, True
    if dist == "lognormal":
        b, c = rng.lognormal(0, sig, n), rng.lognormal(0, sig, n)
    elif dist == "gamma":
        theta = 0.07 / (math.sqrt(2) - 0.2)  # 0.7 + Gamma(2, θ): CV 10 %
        b, c = 0.7 + rng.gamma(2, theta, n), 0.7 + rng.gamma(2, theta, n)
    elif dist == "bimodal":  # 70 % cache hits, 30 % misses 1.25× as long, 3 % noise each
        b = rng.lognormal(0, _sigma(0.03), n) * np.where(rng.random(n) < 0.3, 1.25, 1.0)
        c = rng.lognormal(0, _sigma(0.03), n) * np.where(rng.random(n) < 0.3, 1.25, 1.0)
    elif dist == "heavy":  # 5 % of runs 3× as long
        b = rng.lognormal(0, sig, n) * np.where(rng.random(n) < 0.05, 3.0, 1.0)
        c = rng.lognormal(0, sig, n) * np.where(rng.random(n) < 0.05, 3.0, 1.0)
    elif dist == "discrete":
        b = DISCRETE_MEDIAN * rng.lognormal(0, sig, n)
        c = DISCRETE_MEDIAN * rng.lognormal(0, sig, n)
        step = DISCRETE_STEP
        return np.round(b / step) * step, np.round(f * c / step) * step, True
    else:
        raise ValueError(f"unknown distribution {dist!r}")
    return b, f * c, True


def _perfkit(b, c, statistic, design, n_resamples, rng, band) -> dict:
    ci = change_interval(b, c, statistic=statistic, n_resamples=n_resamples, seed=rng,
                         design=design, exact=False)
    v = target_verdict(ci.ci_low, ci.ci_high, *band)
    return {"lo": ci.ci_low, "hi": ci.ci_high, "verdict": v, "cleared": v in CLEARED,
            "false": v != "no-change", "method": ci.method}


def _signed_rank(b, c, interleaved, n_resamples, rng, band) -> dict:
    from perfkit.analysis.paired import signed_rank_change

    if not interleaved:
        return _perfkit(b, c, "hl", "autocorrelated", n_resamples, rng, band)
    _, lo, hi = signed_rank_change(b, c, 0.95)
    v = target_verdict(lo, hi, *band)
    return {"lo": lo, "hi": hi, "verdict": v, "cleared": v in CLEARED, "false": v != "no-change",
            "method": "signed-rank"}


def _benchstat(b, c, band) -> dict:
    from scipy.stats import mannwhitneyu

    p = float(mannwhitneyu(b, c, alternative="two-sided").pvalue)
    ch = 1 - np.median(c) / np.median(b)
    return {"lo": math.nan, "hi": math.nan, "false": p < 0.05,
            "cleared": p < 0.05 and ch >= band[0], "method": "mwu"}


def _criterion(b, c, rng, n_resamples, band, noise=0.01) -> dict:
    from scipy.stats import ttest_ind

    ib = rng.integers(0, b.size, (n_resamples, b.size))
    ic = rng.integers(0, c.size, (n_resamples, c.size))
    ratio = 1 - c[ic].mean(axis=1) / b[ib].mean(axis=1)
    lo, hi = np.quantile(ratio, [0.025, 0.975])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = float(ttest_ind(b, c, equal_var=False).pvalue)
    ch = 1 - c.mean() / b.mean()
    improved = p < 0.05 and lo > noise
    regressed = p < 0.05 and hi < -noise
    return {"lo": float(lo), "hi": float(hi), "false": improved or regressed,
            "cleared": improved and ch >= band[0], "method": "criterion"}


def _asv(b, c, band, factor=1.1, p_threshold=0.002) -> dict:
    from scipy.special import comb
    from scipy.stats import mannwhitneyu

    mb, mc = np.median(b), np.median(c)
    if 1 / comb(b.size + c.size, min(b.size, c.size)) < p_threshold:
        different = float(mannwhitneyu(b, c, alternative="two-sided").pvalue) < p_threshold
    else:  # too few runs for the test: non-overlapping 99 % intervals (percentiles here)
        qb, qc = np.quantile(b, [0.005, 0.995]), np.quantile(c, [0.005, 0.995])
        different = qb[1] < qc[0] or qc[1] < qb[0]
    better, worse = mc < mb / factor, mc > mb * factor
    return {"lo": math.nan, "hi": math.nan, "false": different and (better or worse),
            "cleared": different and better and 1 - mc / mb >= band[0], "method": "asv"}


def trial(cell: GridCell, t: int, *, seed: int = 0, n_resamples: int = 2000,
          band: tuple[float, float] = (0.10, 0.20), rules=RULES) -> list[dict]:
    """Every rule of ``rules`` on one simulated comparison."""
    rng = np.random.default_rng([seed, DISTRIBUTIONS.index(cell.distribution), cell.n,
                                 round(cell.change * 1e4), t])
    b, c, interleaved = draw(cell.distribution, cell.n, cell.change, rng)
    design = "paired" if interleaved else "autocorrelated"
    out = []
    for rule in rules:
        if rule == "today":
            r = _perfkit(b, c, "median", "independent", n_resamples, rng, band)
        elif rule in ("median", "hl", "auto"):  # auto: the default (hl; on a coarse clock moses)
            r = _perfkit(b, c, rule, design, n_resamples, rng, band)
        elif rule == "hl-signed-rank":
            r = _signed_rank(b, c, interleaved, n_resamples, rng, band)
        elif rule == "hl-unpaired":
            r = _perfkit(b, c, "hl", "independent", n_resamples, rng, band)
        elif rule == "benchstat":
            r = _benchstat(b, c, band)
        elif rule == "criterion":
            r = _criterion(b, c, rng, n_resamples, band)
        elif rule == "asv":
            r = _asv(b, c, band)
        else:
            raise ValueError(f"unknown rule {rule!r}")
        lo, hi = r["lo"], r["hi"]
        covered = math.nan if math.isnan(lo) else float(lo <= cell.change <= hi)
        out.append({"rule": rule, "trial": t, "covered": covered, **r})
    return out


def simulate_cell(cell: GridCell, trials: int, **kw) -> pd.DataFrame:
    """One row per (trial, rule)."""
    return pd.DataFrame([row for t in range(trials) for row in trial(cell, t, **kw)])


def summarise_cell(cell: GridCell, rows: pd.DataFrame) -> list[dict]:
    """Per rule: coverage, A/A false calls (true change 0), share called at least cleared."""
    out = []
    for rule, g in rows.groupby("rule", sort=False):
        cov = g["covered"].dropna()
        out.append({
            "distribution": cell.distribution, "n": cell.n, "true_change": cell.change,
            "rule": rule, "trials": len(g),
            "coverage": float(cov.mean()) if len(cov) else None,
            "false_calls": float(g["false"].mean()),
            "cleared": float(g["cleared"].mean()),
            "methods": g["method"].value_counts().to_dict(),
            "median_ci_width": float((g["hi"] - g["lo"]).median()) if len(cov) else None,
        })
    return out
