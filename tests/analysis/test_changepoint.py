"""E-divisive change points: the statistic against its formula, the permutation test's calibration,
the windows, refinement, and the check's key rates on seeded series with known truth."""

from __future__ import annotations

import numpy as np
import pytest

from perfkit.analysis.changepoint import e_divisive, energy_q, refine
from perfkit.analysis.history_check import check_values, select_steps
from perfkit.errors import UsageError


def _lognormal(rng, n, cv=0.05):
    s = np.sqrt(np.log1p(cv ** 2))
    return rng.lognormal(-s * s / 2, s, n)


def _q_by_formula(z, tau, a=1.0):
    x, y = z[:tau], z[tau:]
    n, m = z.size, z.size - tau
    cross = 2 * np.mean(np.abs(x[:, None] - y[None, :]) ** a)
    within_x = np.sum(np.abs(x[:, None] - x[None, :]) ** a) / (tau * (tau - 1))
    within_y = np.sum(np.abs(y[:, None] - y[None, :]) ** a) / (m * (m - 1))
    return tau * m / n * (cross - within_x - within_y)


@pytest.mark.parametrize("exponent", [1.0, 0.5, 1.5])
def test_energy_q_matches_the_formula_term_by_term(exponent):
    z = np.random.default_rng(3).normal(size=31)
    q = energy_q(z[None, :], min_size=2, exponent=exponent)[0]
    for tau in range(2, 30):
        assert q[tau] == pytest.approx(_q_by_formula(z, tau, exponent), rel=1e-9, abs=1e-12)
    assert np.isneginf(q[:2]).all() and np.isneginf(q[30:]).all()


def test_a_clear_step_is_found_at_its_commit_and_the_answer_is_seeded():
    rng = np.random.default_rng(0)
    z = _lognormal(rng, 120)
    z[70:] *= 1.3
    first = e_divisive(z, seed=1)
    assert [c.index for c in first] == [70]
    assert first[0].p_value == pytest.approx(1 / 200)
    assert e_divisive(z, seed=1) == first


def test_permutation_p_values_are_uniform_under_no_change():
    # 300 small series without a change: the share with p <= 0.1 must be near 10 %
    rng = np.random.default_rng(11)
    from perfkit.analysis import changepoint

    ps = [changepoint._test_segment(rng.normal(size=30), alpha=0.999, permutations=99,
                                    min_size=3, exponent=1.0, rng=rng).p_value
          for _ in range(300)]
    share = np.mean(np.asarray(ps) <= 0.1)
    assert 0.05 <= share <= 0.15, share


def test_constant_or_short_series_have_no_change_point():
    assert e_divisive(np.ones(50)) == []
    assert e_divisive(np.arange(6.0)) == []


def test_windows_find_a_step_once_in_a_long_series():
    rng = np.random.default_rng(4)
    z = _lognormal(rng, 1500)
    z[900:] *= 1.2
    found = e_divisive(z, window=200, seed=0)
    assert [c.index for c in found if abs(c.index - 900) <= 2] and len(found) <= 2


def test_refine_moves_a_point_to_the_least_squares_split():
    z = np.r_[np.full(40, 1.0), np.full(40, 2.0)] + np.tile([0.01, -0.01], 40)
    assert refine(z, [35]) == [40]


@pytest.mark.parametrize("kwargs, message", [
    (dict(alpha=0), "alpha"), (dict(alpha=0.01, permutations=10), "permutations"),
    (dict(exponent=2), "exponent"), (dict(min_size=1), "min_size"), (dict(window=8), "window"),
])
def test_bad_settings_name_the_argument(kwargs, message):
    with pytest.raises(UsageError, match=message):
        e_divisive(np.arange(40.0), **kwargs)


def test_non_finite_values_are_refused():
    with pytest.raises(UsageError, match="finite"):
        e_divisive([1.0, np.nan, 2.0])


def test_select_steps_prefers_a_slope_over_stairs_and_keeps_a_real_step():
    t = np.arange(200.0)
    slope = 1 + 0.002 * t + np.random.default_rng(2).normal(0, 0.02, 200)
    assert select_steps(slope, [50, 100, 150]) == ([], True)
    step = np.where(t >= 120, 1.1, 1.0) + np.random.default_rng(3).normal(0, 0.02, 200)
    assert select_steps(step, [60, 120])[0] == [120]


# -- key rates of the known-truth benchmark (benchmarks/bench_history.py), seeded and small ------

def test_key_rate_ten_percent_steps_are_found_within_two_commits():
    rng = np.random.default_rng(2026)
    hits = 0
    for i in range(40):
        at = int(rng.integers(10, 191))
        z = _lognormal(rng, 200)
        z[at:] *= 1.10
        steps, _, _ = check_values(z, seed=i)
        hits += any(abs(s.index - at) <= 2 for s in steps)
    # the benchmark's 200 series: 92 %; these 40 seeded ones: 35 — a change that loses a few more
    # (a worse location estimate, a confirmation that rejects real steps) fails here.
    assert hits >= 34


def test_key_rate_no_false_step_on_series_without_one():
    rng = np.random.default_rng(7)
    alerts = sum(len(check_values(_lognormal(rng, 200), seed=i)[0]) for i in range(15))
    assert alerts <= 1  # 3,000 commits; the benchmark: 0.025 per 1,000 commits


def test_key_rate_a_gradual_drift_is_one_drift_not_a_row_of_steps():
    rng = np.random.default_rng(9)
    for i in range(5):
        z = _lognormal(rng, 200) * (1 + 0.002 * np.arange(200))
        steps, drifts, _ = check_values(z, seed=i)
        assert steps == [] and len(drifts) == 1
        assert drifts[0].per_commit == pytest.approx(0.002, rel=0.4)
        assert drifts[0].regression


def test_refine_places_a_step_near_the_history_s_start_where_it_is():
    # perfkit's own history: 4 slow commits, then a fast stretch; detection needs 5 commits on
    # each side, the placement at the history's ends only 2
    rng = np.random.default_rng(3)
    z = np.concatenate([np.full(4, 6.0), np.full(36, 1.0)]) * rng.lognormal(0, 0.03, 40)
    assert refine(z, [5]) == [4]
    assert refine(z[::-1], [35]) == [36]  # and at its end
