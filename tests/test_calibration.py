"""Calibration pinned: A/A false-verdict rate and interval coverage by simulation with known truth.

The bounds are binomial, computed (not guessed): with ``TRIALS`` trials a correct 95 % procedure
stays inside them with probability ≥ 99.8 %, while a 90 % interval (false rate 10 %, coverage
90 %) or a 99 % one (coverage 99 %) falls outside. The run is seeded, so it is also reproducible.
"""

from __future__ import annotations

import pytest
from scipy import stats

from perfkit.calibration import Cell, simulate

TRIALS = 400
NOMINAL = 0.95
#: one-sided tail of each bound
TAIL = 1e-3

pytestmark = pytest.mark.slow


def bounds(p: float, n: int) -> tuple[int, int]:
    return int(stats.binom.ppf(TAIL, n, p)), int(stats.binom.ppf(1 - TAIL, n, p))


def test_bounds_reject_broken_procedures():
    lo, hi = bounds(NOMINAL, TRIALS)
    # expected coverage of a 90 % and of a 99 % interval both lie outside
    assert 0.90 * TRIALS < lo and 0.99 * TRIALS > hi
    assert 0.10 * TRIALS > bounds(1 - NOMINAL, TRIALS)[1]


def test_aa_false_verdict_rate_and_coverage():
    sims = simulate(Cell(n=20, cv=0.10, change=0.0), TRIALS, seed=1)
    false_verdicts = int((sims["verdict"] != "no-change").sum())
    assert false_verdicts <= bounds(1 - NOMINAL, TRIALS)[1], false_verdicts
    lo, hi = bounds(NOMINAL, TRIALS)
    assert lo <= int(sims["covered"].sum()) <= hi


def test_coverage_of_a_true_improvement():
    sims = simulate(Cell(n=20, cv=0.10, change=0.15), TRIALS, seed=2)
    lo, hi = bounds(NOMINAL, TRIALS)
    assert lo <= int(sims["covered"].sum()) <= hi
    # and the estimate is centred on the truth (median of estimates within 1 %)
    assert abs(sims["change"].median() - 0.15) < 0.01
