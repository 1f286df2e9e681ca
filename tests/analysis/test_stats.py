"""perfkit.analysis.stats against independent references: scipy.stats.bootstrap, closed forms, Newcombe."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from perfkit.analysis.stats import (
    change_interval,
    newcombe_interval,
    rank_test,
    runs_needed,
    wilson_interval,
)
from perfkit.errors import PerfkitError


def samples(seed=0, n=25, shift=0.9, sigma=0.1):
    r = np.random.default_rng(seed)
    return r.lognormal(0, sigma, n), shift * r.lognormal(0, sigma, n + 3)


@pytest.mark.parametrize("statistic, func", [("median", np.median), ("mean", np.mean)])
def test_interval_agrees_with_scipy_bootstrap(statistic, func):
    b, c = samples()

    def ref_stat(x, y, axis=-1):
        return 1 - func(y, axis=axis) / func(x, axis=axis)

    ref = stats.bootstrap((b, c), ref_stat, n_resamples=2000, method="BCa", vectorized=True,
                          rng=np.random.default_rng(7))
    got = change_interval(b, c, statistic=statistic, n_resamples=2000, seed=7)
    assert got.method == "bca"
    assert got.ci_low == pytest.approx(ref.confidence_interval.low, rel=1e-12)
    assert got.ci_high == pytest.approx(ref.confidence_interval.high, rel=1e-12)
    assert got.change == pytest.approx(1 - func(c) / func(b))
    assert got.ci_low < got.change < got.ci_high
    assert (got.n_baseline, got.n_candidate) == (25, 28)


def test_seeded_and_reproducible():
    b, c = samples(3)
    a1 = change_interval(b, c, n_resamples=1000, seed=1)
    a2 = change_interval(b, c, n_resamples=1000, seed=1)
    a3 = change_interval(b, c, n_resamples=1000, seed=2)
    assert a1 == a2
    assert a1.ci_low != a3.ci_low


def test_confidence_widens_interval():
    b, c = samples(4)
    narrow = change_interval(b, c, confidence=0.80, n_resamples=2000)
    wide = change_interval(b, c, confidence=0.99, n_resamples=2000)
    assert wide.ci_low < narrow.ci_low and wide.ci_high > narrow.ci_high


def test_constant_counts_are_exact():
    got = change_interval([4] * 10, [3] * 12)
    assert got.method == "exact"
    assert got.change == got.ci_low == got.ci_high == pytest.approx(0.25)
    assert change_interval([0] * 5, [0] * 5).change == 0.0
    assert change_interval([0] * 5, [2] * 5).change == -math.inf


def test_near_constant_counts_fall_back_to_percentile():
    # one run differs: the jackknife of the median is constant, BCa's acceleration is 0/0
    with_warnings = change_interval([5] * 19 + [6], [5] * 20, n_resamples=1000)
    assert with_warnings.method == "percentile"
    assert "BCa undefined" in with_warnings.note
    assert with_warnings.ci_low <= 0 <= with_warnings.ci_high


def test_mostly_zero_counts_keep_every_resample():
    # resamples with a zero baseline median: 0/0 counts as no change, x/0 as -inf; none dropped
    got = change_interval([0, 0, 0, 1, 1, 1, 1], [1, 1, 0, 1, 0, 1, 1], n_resamples=2000)
    assert got.change == 0.0
    assert got.ci_low == -math.inf and got.ci_high <= 1.0


def test_zero_baseline_that_varies_is_undefined():
    got = change_interval([0, 0, 0, 1, 0], [1, 1, 2, 1, 1], n_resamples=500)
    assert got.method == "undefined" and math.isnan(got.ci_low)


def test_single_run_has_no_interval():
    got = change_interval([1.0], [0.9, 0.8, 0.85], n_resamples=500)
    assert got.method == "undefined" and "single run" in got.note
    assert got.change == pytest.approx(0.15)


def test_rank_test_is_mann_whitney():
    b, c = samples(5)
    assert rank_test(b, c) == pytest.approx(stats.mannwhitneyu(b, c).pvalue)
    assert rank_test([3, 3, 3], [3, 3]) == 1.0


def test_wilson_closed_form():
    z = stats.norm.ppf(0.975)
    lo, hi = wilson_interval(0, 20)
    assert lo == 0 and hi == pytest.approx(z * z / (20 + z * z))
    lo, hi = wilson_interval(20, 20)
    assert hi == 1 and lo == pytest.approx(20 / (20 + z * z))
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_newcombe_reference_example():
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 − 48/80, method 10
    lo, hi = newcombe_interval(48, 80, 56, 70)
    assert lo == pytest.approx(0.0524, abs=1e-4)
    assert hi == pytest.approx(0.3339, abs=1e-4)


def test_runs_needed_scales_with_inverse_square_root():
    # half-width 0.1 with 10 + 10 runs; to reach 0.05 needs 4x the runs
    assert runs_needed(10, 10, 0.10, 0.05) == 40
    assert runs_needed(10, 30, 0.10, 0.10) == 15  # 2 / (1/10 + 1/30)
    assert runs_needed(10, 10, 0.10, 0.0) is None
    assert runs_needed(10, 10, 0.10, 1e-6) is None  # beyond the cap


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"statistic": "mode"}, "`statistic`"),
        ({"confidence": 1.0}, "`confidence`"),
        ({"n_resamples": 10}, "`n_resamples`"),
        ({"method": "basic"}, "`method`"),
    ],
)
def test_errors_name_the_argument(kwargs, match):
    with pytest.raises(PerfkitError, match=match):
        change_interval([1, 2, 3], [1, 2, 3], **kwargs)
    with pytest.raises(PerfkitError, match="`baseline`"):
        change_interval([], [1, 2])


def test_runs_needed_with_an_infinite_half_width_gives_no_estimate():
    # seen with 2-3 runs per variant: the interval is unbounded, so no run count can be scaled
    from perfkit.analysis.stats import runs_needed

    assert runs_needed(2, 2, float("inf"), 0.1) is None
    assert runs_needed(3, 3, float("nan"), 0.1) is None


@pytest.mark.parametrize("n", [1, 2, 7, 30, 31])
def test_fast_median_is_numpy_median(n):
    from perfkit.analysis.stats import _median

    x = np.random.default_rng(n).lognormal(0, 1, (50, n))
    assert np.array_equal(_median(x), np.median(x, axis=-1))
    assert np.array_equal(_median(x.T, axis=0), np.median(x.T, axis=0))
    assert _median(x[0]) == np.median(x[0])
