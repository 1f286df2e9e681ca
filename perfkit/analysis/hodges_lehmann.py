"""The Hodges–Lehmann change on a log scale, with its exact Moses (distribution-free) interval.

Estimand: the shift Δ of log run time between the two variants, estimated by the median of the
``m·n`` pairwise differences ``log c_j − log b_i``; the change is ``1 − exp(Δ)`` (0.15 = 15 %
better). For two lognormal samples of equal spread Δ is exactly the log-ratio of medians, so the
change means the same as the median statistic's; in general it is the "typical ratio" of a
candidate run to a baseline run.

The interval inverts the Mann–Whitney test (Moses 1965; Hollander & Wolfe §4.3): with the sorted
differences ``D(1) ≤ … ≤ D(mn)`` it is ``[D(k), D(mn+1−k)]`` where ``k − 1`` is the largest ``u``
with ``P(U ≤ u) ≤ α/2`` under the null distribution of U. That distribution is computed exactly
(the coefficients of the Gaussian binomial ``[m+n choose m]_q``) for ``m·n`` up to
:data:`EXACT_LIMIT`, and by the normal approximation beyond. No resampling, no seed.
Ties (a coarse clock) make the interval somewhat conservative, never anti-conservative.
"""

from __future__ import annotations

import math

import numpy as np

#: above this many pairs the normal approximation of U is used (it is then accurate to ±1 rank)
EXACT_LIMIT = 250_000


def u_distribution(m: int, n: int) -> np.ndarray:
    """P(U = u), u = 0 … m·n, for the Mann–Whitney U of samples of sizes m and n, no ties.

    The counts are the coefficients of ``prod_{i=1..m} (1 − q^(n+i)) / (1 − q^i)``; dividing by
    ``1 − q^i`` is a running sum with stride i (a cumulative sum over each residue class).
    """
    if m > n:
        m, n = n, m
    size = m * n + 1
    poly = np.zeros(size)
    poly[0] = 1.0
    for i in range(1, m + 1):
        shift = n + i
        if shift < size:
            poly[shift:] -= poly[:-shift].copy()
        pad = (-size) % i
        folded = np.concatenate([poly, np.zeros(pad)]).reshape(-1, i)
        poly = np.cumsum(folded, axis=0).ravel()[:size]
        poly /= poly.sum()  # keep the numbers near 1 (exact ratios, no overflow for large m, n)
    return poly


def _lower_rank(m: int, n: int, confidence: float) -> int:
    """k (1-based): the Moses interval is [D(k), D(mn+1−k)]; 0 when no such interval exists."""
    alpha = 1 - confidence
    if m * n <= EXACT_LIMIT:
        cdf = np.cumsum(u_distribution(m, n))
        # k − 1 = the largest u with P(U ≤ u) ≤ α/2 (a tiny tolerance for rounding in the sum)
        ok = np.nonzero(cdf <= alpha / 2 * (1 + 1e-9))[0]
        return int(ok[-1]) + 1 if ok.size else 0
    from scipy.stats import norm

    z = float(norm.ppf(1 - alpha / 2))
    mean, sd = m * n / 2, math.sqrt(m * n * (m + n + 1) / 12)
    return max(int(math.floor(mean - z * sd + 0.5)), 0)


def has_interval(m: int, n: int, confidence: float) -> bool:
    """Whether samples of m and n runs have a Moses interval at ``confidence`` (3 and 3 at
    95 % have none: the most extreme arrangement has probability 1/20 > 2.5 %)."""
    return _lower_rank(m, n, confidence) >= 1


def pairwise_log_differences(baseline: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """The sorted ``log c_j − log b_i`` over all pairs (both samples strictly positive)."""
    lb, lc = np.log(np.asarray(baseline, float)), np.log(np.asarray(candidate, float))
    return np.sort((lc[:, None] - lb[None, :]).ravel())


def hl_change(baseline, candidate, confidence: float = 0.95) -> tuple[float, float, float]:
    """(change, ci_low, ci_high) of ``1 − exp(Δ)``; the bounds are NaN when the samples are too
    small for any interval at this confidence (e.g. 2 and 2 runs at 95 %)."""
    b, c = np.asarray(baseline, float), np.asarray(candidate, float)
    d = pairwise_log_differences(b, c)
    delta = float(np.median(d))
    k = _lower_rank(b.size, c.size, confidence)
    if k < 1:
        return 1 - math.exp(delta), math.nan, math.nan
    lo_d, hi_d = float(d[k - 1]), float(d[d.size - k])
    # a larger log shift is a worse candidate: the change's low bound comes from the high shift
    return 1 - math.exp(delta), 1 - math.exp(hi_d), 1 - math.exp(lo_d)
