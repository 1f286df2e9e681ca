"""Inference that uses the design of a collection: paired rounds, or autocorrelated run order.

**Interleaved rounds** (``perfkit measure``: every variant runs once per round, in a seeded order,
recorded in the ``round`` column). A machine that drifts slows both runs of a round alike, so the
two runs of a round are a pair. Two intervals use that:

``paired-bca`` (``statistic="median"``)
    Estimand: the ratio of medians, ``change = 1 − median(candidate)/median(baseline)`` over the
    paired runs — the same estimand as the independent bootstrap. Rounds are resampled together
    (the baseline and candidate run of a drawn round stay together), so the drift a round shares
    cancels in the ratio of each resample; BCa with the jackknife over rounds
    (:func:`scipy.stats.bootstrap` with ``paired=True``), then *expanded* for the few resampling
    units (Hesterberg 2015, "What teachers should know about the bootstrap", §expanded
    percentile): widened about the estimate on the log scale by
    ``sqrt(n/(n−1)) · t(n−1, 1−α/2) / z(1−α/2)`` (1.17 at 12 rounds, 1.29 at 8, 1.07 at 25) —
    without it the paired BCa covered 93.0-93.5 % at 12 rounds (400 trials, lognormal).
``paired-bca`` (``statistic="hl"``)
    Estimand: the two-sample Hodges–Lehmann change, ``1 − exp(median over all pairs of
    log c_j − log b_i)`` (:mod:`perfkit.analysis.hodges_lehmann`); the same bootstrap of rounds,
    BCa, expanded. On a multiplicative change it equals the ratio of medians.
``signed-rank`` (:func:`signed_rank_change`; measured beside, not the default)
    Estimand: the centre of symmetry of the within-round log-ratios ``d_r = log c_r − log b_r``
    (their pseudo-median), estimated by the median of the Walsh averages ``(d_i + d_j)/2, i ≤ j``
    — the one-sample Hodges–Lehmann estimator; ``change = 1 − exp(estimate)``. Its exact interval
    inverts the Wilcoxon signed-rank test (Hollander & Wolfe §3.2): with the sorted Walsh averages
    ``W(1) ≤ … ≤ W(N)``, ``N = n(n+1)/2``, it is ``[W(k), W(N+1−k)]`` where ``k − 1`` is the largest
    ``t`` with ``P(T⁺ ≤ t) ≤ α/2`` under the exact null distribution of T⁺ (coefficients of
    ``∏ (1 + q^i) / 2``). It assumes only that ``d_r`` are independent and symmetric about their
    centre, which interleaving in a seeded random order gives under "no change"; under a
    multiplicative change (every run ``1 − change`` times as long) the centre is exactly
    ``log(1 − change)``, the same number the ratio of medians estimates.

**Runs not interleaved** (two collections, an import, one variant after the other): run-to-run noise
is often autocorrelated in execution order (a machine warms, a neighbour job comes and goes), and a
variant's runs then share more noise than independent runs would. The independent interval (BCa,
or Moses for ``hl``) is widened about the estimate by ``sqrt((1 + ρ)/(1 − ρ))``, the variance
inflation of a mean of AR(1) noise, with ρ the lag-1 autocorrelation of each variant's log values in
execution order (pooled over both variants, Marriott–Pope bias correction ``(nρ̂ + 1)/(n − 3)``,
plus half its standard error ``1/sqrt(N)`` because a ρ guessed too low is what makes the interval too
narrow; clipped to [0, 0.9]). Methods ``bca-ar1`` and ``moses-ar1``.

Why not a block bootstrap: measured on AR(1) noise (φ = 0.5, CV 10 %), a moving-block bootstrap
in execution order with block length ``n^(1/3)`` covered 79 % (n = 8), 87 % (n = 12) and 91 %
(n = 25), and with the Politis–White AR(1) block length from ρ̂ 71 / 85 / 90 %: blocks of 2-3 runs
are too short to carry the autocorrelation and too few to resample. The widened interval covered
94.5 / 95.8 / 96.2 % on the same noise (400 trials each; benchmarks/bench_calibration.py has the
full grid).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from perfkit.analysis.spending import level_text
from perfkit.data.schema import comparable_mask

#: Above this many pairs the normal approximation of T⁺ is used for the signed-rank interval.
SIGNED_RANK_EXACT_LIMIT = 400
#: Largest lag-1 autocorrelation used for the widening (beyond it the factor explodes on noise).
MAX_RHO = 0.9


# --------------------------------------------------------------------------------------------
# pairing rows by round


def round_pairs(b_rows: pd.DataFrame, c_rows: pd.DataFrame, metric: str,
                masks: tuple[np.ndarray, np.ndarray] | None = None
                ) -> tuple[np.ndarray, np.ndarray] | None:
    """``(baseline, candidate)`` values of ``metric`` aligned by round, in round order.

    Only rounds where both variants have one measured value count. ``None`` when the rows carry
    no rounds, a round holds two runs of one variant, or fewer than half of either variant's
    measured runs could be paired (then the design is not really paired). ``masks``: the
    :func:`~perfkit.data.schema.comparable_mask` of ``metric`` on each side, when known.
    """
    if "round" not in b_rows.columns or "round" not in c_rows.columns:
        return None
    sides = []
    for k, rows in enumerate((b_rows, c_rows)):
        mask = comparable_mask(rows, metric) if masks is None else masks[k]
        values = pd.to_numeric(rows[metric], errors="coerce").to_numpy(dtype="float64",
                                                                     na_value=np.nan)
        rounds = pd.to_numeric(rows["round"], errors="coerce").to_numpy(dtype="float64",
                                                                      na_value=np.nan)
        keep = mask & ~np.isnan(values) & ~np.isnan(rounds)
        r, v = rounds[keep], values[keep]
        if r.size == 0 or np.unique(r).size != r.size:
            return None
        sides.append((r, v, int(mask.sum())))
    (rb, vb, nb), (rc, vc, nc) = sides
    common, ib, ic = np.intersect1d(rb, rc, assume_unique=True, return_indices=True)
    if common.size < 2 or common.size < 0.5 * max(nb, nc):
        return None
    return vb[ib], vc[ic]


# --------------------------------------------------------------------------------------------
# the Wilcoxon signed-rank interval (one-sample Hodges–Lehmann)


def signed_rank_distribution(n: int) -> np.ndarray:
    """P(T⁺ = t), t = 0 … n(n+1)/2, for the Wilcoxon signed-rank statistic of n pairs, no ties."""
    size = n * (n + 1) // 2 + 1
    poly = np.zeros(size)
    poly[0] = 1.0
    top = 0
    for i in range(1, n + 1):
        # multiply by (1 + q^i)/2: add a copy shifted by i (halved to keep the numbers near 1)
        poly[i:top + i + 1] += poly[:top + 1].copy()
        top += i
        poly *= 0.5
    return poly


def _signed_rank_k(n: int, confidence: float) -> int:
    """k (1-based): the interval is [W(k), W(N+1−k)]; 0 when none exists at this confidence."""
    alpha = 1 - confidence
    if n <= SIGNED_RANK_EXACT_LIMIT:
        cdf = np.cumsum(signed_rank_distribution(n))
        ok = np.nonzero(cdf <= alpha / 2 * (1 + 1e-9))[0]
        return int(ok[-1]) + 1 if ok.size else 0
    from scipy.stats import norm

    z = float(norm.ppf(1 - alpha / 2))
    mean, sd = n * (n + 1) / 4, math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
    return max(int(math.floor(mean - z * sd + 0.5)), 0)


def walsh_averages(d: np.ndarray) -> np.ndarray:
    """The sorted ``(d_i + d_j)/2`` over ``i ≤ j``."""
    d = np.asarray(d, dtype=float)
    i, j = np.triu_indices(d.size)
    return np.sort((d[i] + d[j]) / 2)


def signed_rank_change(baseline, candidate, confidence: float = 0.95
                       ) -> tuple[float, float, float]:
    """(change, ci_low, ci_high) of ``1 − exp(pseudo-median of log c_r − log b_r)`` for paired,
    strictly positive values; the bounds are NaN when there are too few pairs for any interval
    at this confidence (5 pairs at 95 %)."""
    d = np.log(np.asarray(candidate, float)) - np.log(np.asarray(baseline, float))
    w = walsh_averages(d)
    centre = float(np.median(w))
    k = _signed_rank_k(d.size, confidence)
    if k < 1:
        return 1 - math.exp(centre), math.nan, math.nan
    lo_d, hi_d = float(w[k - 1]), float(w[w.size - k])
    return 1 - math.exp(centre), 1 - math.exp(hi_d), 1 - math.exp(lo_d)


# --------------------------------------------------------------------------------------------
# the paired bootstrap of the ratio of medians


def expansion(n: int, confidence: float) -> float:
    """Hesterberg's small-sample expansion of a bootstrap interval from ``n`` resampling units."""
    from scipy.stats import norm, t

    if n < 3:
        return 1.0
    q = 1 - (1 - confidence) / 2
    return math.sqrt(n / (n - 1)) * float(t.ppf(q, n - 1)) / float(norm.ppf(q))


# --------------------------------------------------------------------------------------------
# autocorrelation in run order


def lag1_autocorrelation(*series: np.ndarray) -> tuple[float, int]:
    """Pooled lag-1 autocorrelation of the log values of each series (each in execution order,
    centred on its own mean) and the number of values it rests on."""
    num = den = 0.0
    total = 0
    for x in series:
        y = np.log(np.asarray(x, dtype=float))
        if y.size < 2:
            continue
        y = y - y.mean()
        num += float(np.dot(y[1:], y[:-1]))
        den += float(np.dot(y, y))
        total += y.size
    if den <= 0 or total == 0:
        return 0.0, total
    return num / den, total


def ar1_inflation(*series: np.ndarray) -> tuple[float, float]:
    """(factor, ρ used): how much wider than an independent-runs interval an interval must be for
    AR(1)-like noise in execution order (the module docstring gives the rule)."""
    raw, total = lag1_autocorrelation(*series)
    groups = sum(1 for s in series if np.asarray(s).size >= 2)
    if total < 2 * max(groups, 1) or groups == 0:
        return 1.0, 0.0
    n = total / groups
    corrected = (n * raw + 1) / (n - 3) if n > 3 else raw
    rho = min(max(corrected + 0.5 / math.sqrt(total), 0.0), MAX_RHO)
    return math.sqrt((1 + rho) / (1 - rho)), rho


def widen(change: float, lo: float, hi: float, factor: float) -> tuple[float, float]:
    """Widen a change interval about ``change`` by ``factor`` on the log-ratio scale."""
    if factor == 1.0 or not all(map(math.isfinite, (change, lo, hi))) or change >= 1 or hi >= 1:
        return lo, hi
    est = math.log1p(-change)
    # change = 1 − ratio: the low bound of the change is the high bound of the log-ratio
    up, down = math.log1p(-lo), math.log1p(-hi)
    return (1 - math.exp(est + factor * (up - est)), 1 - math.exp(est - factor * (est - down)))


def hl_shift(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """The two-sample Hodges–Lehmann shift of log values, vectorised over leading axes: the
    median over all pairs of ``log y_j − log x_i``."""
    lx = np.log(np.moveaxis(np.asarray(x, float), axis, -1))
    ly = np.log(np.moveaxis(np.asarray(y, float), axis, -1))
    d = (ly[..., :, None] - lx[..., None, :]).reshape(*lx.shape[:-1], -1)
    return np.median(d, axis=-1)



def method_text(statistic: str, design: str, n_resamples: int, seed: int,
                confidence: float) -> str:
    """One phrase naming the interval a comparison used, for reports (the estimand included)."""
    conf = level_text(confidence)
    boot = f"{n_resamples} resamples, BCa, seed {seed}"
    hl = ("Hodges–Lehmann change 1 − exp(median over all pairs of runs of log candidate − "
          "log baseline)")
    if statistic == "auto":
        hl += (" for targets and guardrails (the change of medians for info rows and for a metric "
               "with values ≤ 0)")
        statistic = "hl"
    if design == "paired":
        what = hl if statistic == "hl" else f"change of the {statistic}s"
        return (f"{what}; {conf} bootstrap of rounds (each round's baseline and candidate runs "
                f"resampled together, so drift they share cancels; {boot})")
    how = (f"{hl}; {conf} exact Moses rank interval" if statistic == "hl"
           else f"{conf} two-sample bootstrap ({boot})")
    if design == "autocorrelated":
        return (f"{how}, widened for the lag-1 autocorrelation of the runs in execution order "
                f"(the variants were not interleaved)")
    return how
