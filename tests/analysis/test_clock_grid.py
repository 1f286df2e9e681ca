"""A coarse clock: ``statistic="auto"`` takes the exact rank interval, with a note saying why."""

from __future__ import annotations

import numpy as np
import pytest

import perfkit
from perfkit.analysis.clock_grid import grid_step
from perfkit.analysis.hodges_lehmann import hl_change
from perfkit.data.schema import runs_frame


def _rounds(step: float | None, n: int = 25, change: float = 0.05, seed: int = 3):
    """Interleaved rounds of runs around 0.3 s, read by a clock of ``step`` seconds."""
    rng = np.random.default_rng(seed)
    rows, order = [], 0
    for r in range(1, n + 1):
        for v in rng.permutation(["baseline", "candidate"]):
            order += 1
            x = 0.3 * (1 - change if v == "candidate" else 1.0) * rng.lognormal(0, 0.1)
            x = x if step is None else round(x / step) * step
            rows.append({"variant": v, "run": r, "order": order, "status": "ok", "round": r,
                         "wall_s": x})
    return runs_frame(rows)


def _values(runs, variant):
    return runs.loc[runs["variant"] == variant].sort_values("round")["wall_s"].to_numpy()


def test_grid_step_finds_a_coarse_clock_only():
    rng = np.random.default_rng(0)
    x = 0.3 * rng.lognormal(0, 0.1, 50)
    assert grid_step(np.round(x / 0.01) * 0.01) == pytest.approx(0.01)
    assert grid_step(np.round(x * 100) * 10) == pytest.approx(10)  # ms on a 10 ms clock
    assert grid_step(np.round(x * 50) * 0.02, np.array([0.31])) == pytest.approx(0.01)
    assert grid_step(x) is None  # continuous: no repeats
    assert grid_step(np.round(x * 1e9)) is None  # perfkit's own ns timings
    assert grid_step(np.round(x * 1e3)) is None  # a 1 ms clock: 0.3 % of the median
    assert grid_step(np.round(x / 0.005) * 0.005) is None  # 5 ms: 1.7 %, the bootstrap is fine
    assert grid_step(np.full(5, 0.3)) is None  # constant: handled elsewhere (no spread)


def test_auto_uses_the_exact_rank_interval_on_a_10_ms_clock():
    runs = _rounds(0.01)
    res = perfkit.compare(runs, n_resamples=2000)
    row = res.row("wall_s")
    assert res.settings["design"] == "paired" and row.method == "moses"
    assert row.note.startswith("values on a 10 ms grid (3.") and \
        row.note.endswith("of the median): exact rank interval, rounds unpaired")
    _, lo, hi = hl_change(_values(runs, "baseline"), _values(runs, "candidate"))
    assert (row.ci_low, row.ci_high) == pytest.approx((lo, hi))
    # an explicit choice stays what it was
    assert perfkit.compare(runs, statistic="hl", n_resamples=2000).row("wall_s").method \
        == "paired-bca"


def test_too_few_runs_for_a_rank_interval_keep_the_bootstrap():
    runs = _rounds(0.01, n=3)  # 3 and 3 runs have no 95 % Moses interval (1/20 > 2.5 %)
    row = perfkit.compare(runs, n_resamples=2000).row("wall_s")
    assert row.method.startswith("paired-") and "grid" not in row.note


def test_auto_keeps_the_bootstrap_on_ns_timings():
    row = perfkit.compare(_rounds(1e-9), n_resamples=2000).row("wall_s")
    assert row.method == "paired-bca" and "grid" not in row.note
