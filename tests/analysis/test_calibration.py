"""Calibration pinned: A/A false-verdict rate and interval coverage by simulation with known truth.

The bounds are binomial, computed (not guessed), each with a one-sided tail of ``TAIL``: a correct
95 % procedure breaks any of the four with probability < 4 %, while a 90 % interval (false rate
10 %, coverage 90 %) passes both the A/A false-verdict bound and the independent coverage bound of
the second cell with probability < 1 %, and a 99 % interval (coverage 99 %) fails the upper
coverage bounds. The runs are seeded, so the outcome is reproducible.
"""

from __future__ import annotations

import pytest
from scipy import stats

from perfkit.analysis.calibration import Cell, simulate

TRIALS = 400
NOMINAL = 0.95
#: one-sided tail of each bound
TAIL = 1e-2

pytestmark = pytest.mark.slow


def bounds(p: float, n: int) -> tuple[int, int]:
    return int(stats.binom.ppf(TAIL, n, p)), int(stats.binom.ppf(1 - TAIL, n, p))


def test_bounds_reject_broken_procedures():
    lo, hi = bounds(NOMINAL, TRIALS)
    false_hi = bounds(1 - NOMINAL, TRIALS)[1]
    # a 90 % interval: passes the A/A bound and the other cell's coverage bound only by luck
    p_false = stats.binom.cdf(false_hi, TRIALS, 0.10)
    p_cover = stats.binom.sf(lo - 1, TRIALS, 0.90)
    assert p_false * p_cover < 0.01
    # a 99 % interval: its expected coverage lies above the upper bound
    assert 0.99 * TRIALS > hi


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
