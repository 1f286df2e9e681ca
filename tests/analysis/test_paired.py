"""Paired (rounds) and autocorrelation-aware intervals: checked against enumeration, scipy and
simulations with known truth."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import perfkit
from perfkit.analysis import paired
from perfkit.analysis.fast_bootstrap import median_ratio_bca, paired_hl_bca
from perfkit.analysis.stats import (_hl_ratio_change, _median, _ratio_change, change_interval,
                                    change_intervals)
from perfkit.data.schema import runs_frame
from perfkit.errors import UsageError


@pytest.mark.parametrize("n", range(1, 11))
def test_signed_rank_distribution_matches_enumeration(n):
    counts = np.zeros(n * (n + 1) // 2 + 1)
    for signs in itertools.product((0, 1), repeat=n):
        counts[sum(r for r, s in zip(range(1, n + 1), signs) if s)] += 1
    np.testing.assert_allclose(paired.signed_rank_distribution(n), counts / 2 ** n, atol=1e-15)


def test_signed_rank_interval_rank_is_the_table_value():
    # the classical table: n = 10, two-sided 5 %: reject when T ≤ 8, so the interval is [W(9), W(47)]
    assert paired._signed_rank_k(10, 0.95) == 9
    assert paired._signed_rank_k(5, 0.95) == 0  # 5 pairs: no 95 % interval exists
    # the normal approximation beyond the exact limit agrees with the exact rank near it
    n = paired.SIGNED_RANK_EXACT_LIMIT
    exact = paired._signed_rank_k(n, 0.95)
    z = stats.norm.ppf(0.975)
    approx = math.floor(n * (n + 1) / 4 - z * math.sqrt(n * (n + 1) * (2 * n + 1) / 24) + 0.5)
    assert abs(exact - approx) <= 1e-4 * exact  # 2 ranks of 35,567 (no continuity correction)


def test_signed_rank_interval_inverts_scipys_wilcoxon_test():
    rng = np.random.default_rng(2)
    b = rng.lognormal(0, 0.1, 12)
    c = 0.9 * rng.lognormal(0, 0.1, 12)
    ch, lo, hi = paired.signed_rank_change(b, c, 0.95)
    d = np.log(c) - np.log(b)
    # a shift just inside the interval is not rejected by the exact test, one just outside is
    for bound, inside in ((lo, 1), (hi, -1)):
        shift = math.log1p(-bound)
        p_in = stats.wilcoxon(d - shift + inside * -1e-9 * np.sign(shift or 1), method="exact").pvalue
        assert p_in > 0.05 or math.isclose(p_in, 0.05, rel_tol=0.3)
    assert lo < ch < hi
    assert stats.wilcoxon(d - math.log1p(-(hi + 0.02)), method="exact").pvalue < 0.05


def test_round_pairs_align_drop_and_refuse():
    b = pd.DataFrame({"variant": "b", "round": pd.array([1, 2, 3, 4], dtype="Int64"),
                      "status": ["ok", "ok", "failed", "ok"], "wall_s": [1.0, 2.0, 3.0, 4.0]})
    c = pd.DataFrame({"variant": "c", "round": pd.array([4, 3, 2, 1], dtype="Int64"),
                      "status": "ok", "wall_s": [40.0, 30.0, 20.0, 10.0]})
    xb, xc = paired.round_pairs(b, c, "wall_s")
    np.testing.assert_array_equal(xb, [1.0, 2.0, 4.0])  # round 3 failed in b: dropped
    np.testing.assert_array_equal(xc, [10.0, 20.0, 40.0])
    assert paired.round_pairs(b.drop(columns="round"), c, "wall_s") is None
    twice = c.assign(round=pd.array([1, 1, 2, 3], dtype="Int64"))
    assert paired.round_pairs(b, twice, "wall_s") is None


def test_ar1_inflation_reads_the_autocorrelation():
    rng = np.random.default_rng(0)
    iid = rng.lognormal(0, 0.1, (2, 400))
    factor, rho = paired.ar1_inflation(*iid)
    assert 1.0 <= factor < 1.1 and rho < 0.07
    e = np.zeros(800)
    for i in range(1, 800):
        e[i] = 0.5 * e[i - 1] + math.sqrt(0.75) * rng.normal()
    factor, rho = paired.ar1_inflation(np.exp(0.1 * e[:400]), np.exp(0.1 * e[400:]))
    assert 0.4 < rho < 0.65 and 1.5 < factor < 2.2  # sqrt(3) = 1.73 at ρ = 0.5
    lo, hi = paired.widen(0.1, 0.05, 0.15, 2.0)
    assert lo < 0.05 and hi > 0.15
    assert paired.widen(0.1, 0.05, 0.15, 1.0) == (0.05, 0.15)


def test_fast_median_bootstrap_is_scipys_bit_for_bit():
    rng = np.random.default_rng(5)
    for case in range(12):
        pairs = case % 3 == 0
        nb = int(rng.integers(2, 30))
        nc = nb if pairs else int(rng.integers(2, 30))
        b, c = rng.lognormal(0, 0.1, (3, nb)), rng.lognormal(0, 0.1, (3, nc))
        if case % 4 == 1:
            b, c = np.round(b, 1), np.round(c, 1)  # ties
        method = "percentile" if case % 5 == 4 else "BCa"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = stats.bootstrap((b, c), _ratio_change(_median), n_resamples=500, method=method,
                                  vectorized=True, paired=pairs, axis=-1,
                                  rng=np.random.default_rng(case))
            lo, hi, dist = median_ratio_bca(b, c, n_resamples=500, confidence=0.95,
                                            rng=np.random.default_rng(case), paired=pairs,
                                            method=method)
        np.testing.assert_array_equal(dist, ref.bootstrap_distribution)
        np.testing.assert_allclose(lo, ref.confidence_interval.low, rtol=0, atol=1e-12)
        np.testing.assert_allclose(hi, ref.confidence_interval.high, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n, ties, method, batch", [
    (3, False, "BCa", None), (4, True, "BCa", None), (7, False, "percentile", None),
    (8, True, "BCa", 70), (12, False, "BCa", None), (13, True, "BCa", None),
    (30, False, "BCa", None), (60, True, "BCa", None), (75, False, "BCa", 150)])
def test_fast_paired_hl_bootstrap_is_scipys_bit_for_bit(n, ties, method, batch):
    """The weighted median of the presorted pairs is the median of each resample's pairs: the
    same distribution as scipy's paired bootstrap of the Hodges–Lehmann change, hence the same
    interval (odd and even n², ties, scipy's batched draws; from 60 rounds on only a window of
    the sorted pairs is summed)."""
    rng = np.random.default_rng(n)
    b, c = rng.lognormal(0, 0.1, (2, n)), rng.lognormal(-0.05, 0.1, (2, n))
    if ties:
        b, c = np.round(b, 1), np.round(c, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = stats.bootstrap((b, c), _hl_ratio_change, n_resamples=400, method=method,
                              vectorized=True, paired=True, axis=-1, batch=batch,
                              rng=np.random.default_rng(7))
        lo, hi, dist = paired_hl_bca(b, c, n_resamples=400, confidence=0.95, method=method,
                                     rng=np.random.default_rng(7), batch=batch)
    np.testing.assert_array_equal(dist, ref.bootstrap_distribution)
    np.testing.assert_allclose(lo, ref.confidence_interval.low, rtol=0, atol=1e-12)
    np.testing.assert_allclose(hi, ref.confidence_interval.high, rtol=0, atol=1e-12)


def test_paired_hl_interval_is_the_scipy_bootstrap_expanded():
    """change_interval(design="paired", statistic="hl"): scipy's paired BCa of the HL change
    (10,000 resamples, the seed's generator), expanded as the module says; batched rows too."""
    rng = np.random.default_rng(3)
    b, c = rng.lognormal(0, 0.1, 12), rng.lognormal(-0.1, 0.1, 12)
    ref = stats.bootstrap((b, c), _hl_ratio_change, n_resamples=10_000, vectorized=True,
                          paired=True, rng=np.random.default_rng(11))
    change = float(_hl_ratio_change(b, c))
    lo, hi = paired.widen(change, ref.confidence_interval.low, ref.confidence_interval.high,
                          paired.expansion(12, 0.95))
    got = change_interval(b, c, statistic="hl", design="paired", seed=11)
    assert got.method == "paired-bca"
    assert got.change == change
    assert got.ci_low == pytest.approx(lo, abs=1e-12) and got.ci_high == pytest.approx(hi, abs=1e-12)
    many = change_intervals([(b, c, "paired"), (c, b, "paired")], exact=[False, False],
                            statistic="hl", seed=11)
    assert (many[0].ci_low, many[0].ci_high, many[0].change) == (got.ci_low, got.ci_high, change)
    assert many[1] == change_interval(c, b, statistic="hl", design="paired", seed=11)


def test_batched_intervals_equal_one_at_a_time():
    rng = np.random.default_rng(1)
    samples = [(rng.lognormal(0, 0.1, 10), rng.lognormal(0, 0.1, 10), d)
               for d in ("independent", "paired", "autocorrelated", "independent")]
    samples.append((np.ones(10), np.ones(10), "independent"))
    many = change_intervals(samples, exact=[True] * 5, n_resamples=500, seed=3)
    for (b, c, d), got in zip(samples, many):
        one = change_interval(b, c, n_resamples=500, seed=3, design=d)
        assert (got.ci_low, got.ci_high, got.method, got.note) == \
            (one.ci_low, one.ci_high, one.method, one.note)


def test_paired_design_needs_pairs():
    with pytest.raises(UsageError, match="as many baseline as candidate"):
        change_interval([1.0, 2.0, 3.0], [1.0, 2.0], design="paired")
    with pytest.raises(UsageError, match="`design` must be one of"):
        change_interval([1.0, 2.0, 3.0], [1.0, 2.0], design="rounds")


def _interleaved(n=12, change=0.15, drift=0.3, seed=0, rounds=True):
    """A measure-like collection: rounds of both variants in a seeded order, a strong drift."""
    rng = np.random.default_rng(seed)
    rows, order = [], 0
    for r in range(1, n + 1):
        level = 1.0 + drift * math.sin(r / 2)  # the machine slows and recovers
        for v in rng.permutation(["baseline", "candidate"]):
            order += 1
            scale = 1 - change if v == "candidate" else 1.0
            rows.append({"variant": v, "run": r, "order": order, "status": "ok",
                         "round": r if rounds else None,
                         "wall_s": level * scale * rng.lognormal(0, 0.03)})
    return runs_frame(rows)


@pytest.mark.parametrize("statistic", ["median", "hl", "auto"])
def test_compare_uses_the_rounds(statistic):
    runs = _interleaved()
    res = perfkit.compare(runs, statistic=statistic, n_resamples=2000)
    row = res.row("wall_s")
    assert res.settings["design"] == "paired" and row.method == "paired-bca"
    assert not [w for w in res.warnings if w.kind == "not-interleaved"]
    flat = perfkit.compare(runs.drop(columns="round"), statistic=statistic, n_resamples=2000)
    flat_row = flat.row("wall_s")
    assert flat.settings["design"] == "independent"
    # the drift both variants of a round share leaves the paired interval: far narrower
    assert (row.ci_high - row.ci_low) < 0.5 * (flat_row.ci_high - flat_row.ci_low)
    assert row.ci_low <= 0.15 <= row.ci_high


@pytest.mark.parametrize("statistic, method", [("median", "bca-ar1"), ("auto", "moses-ar1")])
def test_one_variant_after_the_other_is_warned_and_widened(statistic, method):
    runs = _interleaved(rounds=False, drift=0.0)
    runs = runs.sort_values(["variant", "run"]).assign(order=range(1, len(runs) + 1))
    res = perfkit.compare(runs, n_resamples=2000, statistic=statistic)
    row = res.row("wall_s")
    assert res.settings["design"] == "autocorrelated" and row.method == method
    assert "not interleaved" in row.note
    warn = [w for w in res.warnings if w.kind == "not-interleaved"]
    assert len(warn) == 1 and "interleaved rounds" in warn[0].hint
