"""The success rate: a non-inferiority margin in points, a target in points, and advice."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perfkit.analysis.stats import newcombe_interval
from perfkit.analysis.success import newcombe_arrays, settle_chance, success_verdict
from perfkit.analysis.verdict import compare
from perfkit.cli import main
from perfkit.data.schema import runs_frame


def make(nb, fb, nc, fc, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for v, n, f, med in (("baseline", nb, fb, 1.0), ("candidate", nc, fc, 0.7)):
        for i in range(n):
            rows.append(dict(variant=v, run=i + 1, order=len(rows) + 1, warmup=False,
                             traced=False, status="failed" if i < f else "ok",
                             wall_s=float(med * rng.lognormal(0, 0.05))))
    return runs_frame(rows)


def test_newcombe_reference_value_and_arrays():
    # Newcombe (1998), Table II, example (a): 56/70 vs 48/80, method 10: 0.0524 to 0.3339
    lo, hi = newcombe_interval(48, 80, 56, 70, 0.95)
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)
    a_lo, a_hi = newcombe_arrays(np.array([48, 3]), 80, np.array([56, 9]), 70, 1.959963984540054)
    assert a_lo[0] == pytest.approx(lo) and a_hi[0] == pytest.approx(hi)
    assert (a_lo[1], a_hi[1]) == pytest.approx(newcombe_interval(3, 80, 9, 70, 0.95))


def test_newcombe_exact_coverage_with_known_truth():
    # exact coverage by enumeration of both binomials (no simulation noise)
    from scipy import stats

    n, p1, p2 = 40, 0.05, 0.15
    k = np.arange(n + 1)
    K1, K2 = np.meshgrid(k, k, indexing="ij")
    lo, hi = newcombe_arrays(K1, n, K2, n, 1.959963984540054)
    w = np.outer(stats.binom.pmf(k, n, p1), stats.binom.pmf(k, n, p2))
    coverage = float(np.sum(w * ((lo <= p2 - p1) & (p2 - p1 <= hi))))
    assert 0.93 <= coverage <= 0.98


def test_margin_rules():
    assert success_verdict(0.1, 0.0, 0.05, margin=0.05, ci_low=-0.04) == "held"
    assert success_verdict(-0.06, 0.0, 0.2, margin=0.05, ci_low=-0.3) == "broken"
    assert success_verdict(0.1, 0.0, 0.05, margin=0.05, ci_low=-0.2) == "unresolved"
    assert success_verdict(0.1, 0.0, 0.05) == "unresolved"  # no margin: today's rule


def test_zero_of_twenty_against_one_of_twenty_one_gets_advice():
    res = compare(make(20, 0, 21, 1), guardrails={}, n_resamples=500)
    assert res.row("wall_s")["verdict"] == "cleared-stretch"
    assert res.overall == "not-shown"
    (line,) = [a for a in res.advice if a.startswith("success_rate")]
    n = int(res.row("success_rate")["runs_needed"])
    assert f"about {n} runs per variant" in line and "success_rate=5pts" in line
    # the promise holds by exact enumeration under the measured rates
    assert settle_chance(n, 0.0, 1 / 21, 0.95, 0.0, None) >= 0.8
    assert settle_chance(n - 1, 0.0, 1 / 21, 0.95, 0.0, None) < 0.8 or n <= 22


def test_guardrail_margin_in_points_from_the_cli(tmp_path, capsys):
    from perfkit.data.store import save

    save(tmp_path / "d", make(100, 0, 100, 1))
    code = main(["compare", str(tmp_path / "d"), "--guardrail", "success_rate=5pts",
                 "--resamples", "500"])
    out = capsys.readouterr().out
    assert "5-point margin" in out and code == 1
    save(tmp_path / "e", make(300, 0, 300, 1))
    assert main(["compare", str(tmp_path / "e"), "--guardrail", "success_rate=5pts",
                 "--resamples", "500"]) == 0


def test_success_rate_as_a_target(tmp_path, capsys):
    res = compare(make(200, 60, 200, 4), targets=["success_rate"], success_target=(0.10, 0.20),
                  guardrails={}, n_resamples=500)
    row = res.row("success_rate")
    assert row["role"] == "target" and row["verdict"] == "cleared-stretch"
    assert math.isclose(row["change"], 0.28)
    assert res.overall == "cleared"
    from perfkit.data.store import save

    save(tmp_path / "d", make(30, 6, 30, 1))
    code = main(["compare", str(tmp_path / "d"), "--target", "success_rate=+10pts",
                 "--resamples", "500"])
    out = capsys.readouterr().out
    assert code == 1 and "success_rate" in out and "runs per variant" in out
    assert main(["compare", str(tmp_path / "d"), "--target", "wall_s=10%"]) == 2
