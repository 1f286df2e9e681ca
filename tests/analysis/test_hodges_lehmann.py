"""The Hodges–Lehmann change and its Moses interval against brute force and scipy."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from perfkit.analysis.hodges_lehmann import (
    _lower_rank,
    hl_change,
    pairwise_log_differences,
    u_distribution,
)
from perfkit.analysis.stats import change_interval


@pytest.mark.parametrize("m,n", [(1, 3), (3, 4), (5, 5), (4, 7)])
def test_u_distribution_matches_enumeration(m, n):
    counts = np.zeros(m * n + 1)
    for first in itertools.combinations(range(m + n), m):
        rest = [v for v in range(m + n) if v not in first]
        counts[sum(a > b for a in first for b in rest)] += 1
    assert np.allclose(u_distribution(m, n), counts / counts.sum(), atol=1e-12)


@pytest.mark.parametrize("m,n", [(6, 9), (12, 12), (25, 25)])
def test_u_distribution_matches_scipy_exact_p(m, n):
    rng = np.random.default_rng(m * n)
    x, y = rng.normal(size=m), rng.normal(0.7, size=n)
    u = stats.mannwhitneyu(x, y, method="exact", alternative="less").statistic
    p_ours = u_distribution(m, n)[: int(u) + 1].sum()
    p_scipy = stats.mannwhitneyu(x, y, method="exact", alternative="less").pvalue
    assert p_ours == pytest.approx(p_scipy, rel=1e-9)


def test_critical_ranks_match_published_tables():
    # two-sided 5 % lower critical values of U: 13 (8, 8), 37 (12, 12), 127 (20, 20)
    assert _lower_rank(8, 8, 0.95) == 14
    assert _lower_rank(12, 12, 0.95) == 38
    assert _lower_rank(20, 20, 0.95) == 128


def test_interval_is_the_inverted_rank_test():
    """Every shift inside the Moses interval is accepted by scipy's exact Mann–Whitney test at
    5 %, every shift just outside it rejected: the interval is the test inverted, by brute force."""
    rng = np.random.default_rng(7)
    b, c = rng.lognormal(0, 0.1, 10), rng.lognormal(-0.1, 0.1, 11)
    _, lo, hi = hl_change(b, c)
    d = pairwise_log_differences(b, c)
    lo_d, hi_d = math.log(1 - hi), math.log(1 - lo)

    def p(shift):
        return stats.mannwhitneyu(np.log(c) - shift, np.log(b), method="exact").pvalue

    eps = 1e-9
    assert p(lo_d + eps) > 0.05 and p(hi_d - eps) > 0.05
    assert p(lo_d - eps) <= 0.05 and p(hi_d + eps) <= 0.05
    assert d[0] < lo_d < hi_d < d[-1]


def test_point_estimate_is_the_median_of_pairwise_log_ratios():
    b, c = np.array([1.0, 2.0, 4.0]), np.array([1.0, 2.0])
    ratios = sorted(cj / bi for cj in c for bi in b)
    change, _, _ = hl_change(b, c)
    assert change == pytest.approx(1 - math.sqrt(ratios[2] * ratios[3]))


def test_too_few_runs_give_no_interval():
    change, lo, hi = hl_change([1.0, 1.1], [0.9, 0.95])
    assert math.isfinite(change) and math.isnan(lo) and math.isnan(hi)


def test_change_interval_hl_statistic():
    rng = np.random.default_rng(3)
    b, c = rng.lognormal(0, 0.1, 12), rng.lognormal(math.log(0.85), 0.1, 12)
    ci = change_interval(b, c, statistic="hl")
    assert ci.method == "moses" and ci.distribution is None
    assert ci.ci_low < ci.change < ci.ci_high
    assert 0.05 < ci.change < 0.25
    assert ci.baseline == pytest.approx(np.median(b))


def test_hl_coverage_on_lognormal():
    """Seeded simulation with a known truth: the 95 % Moses interval covers the true change."""
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(300):
        b, c = rng.lognormal(0, 0.1, 12), rng.lognormal(math.log(0.9), 0.1, 12)
        _, lo, hi = hl_change(b, c)
        hits += lo <= 0.1 <= hi
    assert 0.92 <= hits / 300 <= 0.99
