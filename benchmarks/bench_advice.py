"""Does "about N runs per variant give an 80 % chance to settle it" keep its word?

Simulation with known truth (lognormal, CV 10 %): per cell (n runs per variant, true change),
``trials`` comparisons exactly as ``perfkit compare`` makes them (target band 10 %-20 %, the
runs interleaved in rounds, ``--statistic``: the default ``auto`` = the paired Hodges–Lehmann
bootstrap for the target); where the verdict is unresolved and the advice names N, the missing N - n runs of each
variant are drawn from the same truth and the comparison is made again. Reported: the share of
advised cases that then settle (issue 10 asks for 70-90 % over the unresolved cases), per cell and
pooled, and how many unresolved cases were told the target is out of reach instead.

    python benchmarks/bench_advice.py [--trials 60] [--resamples 2000] [--jobs 2]
        [--statistic auto|hl|median]

Writes benchmarks/results/advice-<statistic>.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import write_results  # noqa: E402
from scipy import stats  # noqa: E402

from perfkit.analysis.power_check import AdviceCell, simulate_advice  # noqa: E402

TRUTHS = (0.0, 0.05, 0.08, 0.12, 0.15, 0.20)
GRID = [AdviceCell(n, 0.10, t) for n in (8, 12) for t in TRUTHS]


def _run(args):
    cell, trials, resamples, statistic = args
    return simulate_advice(cell, trials, n_resamples=resamples, statistic=statistic)


def wilson(k: int, n: int) -> list[float]:
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    return [round(float(ci.low), 4), round(float(ci.high), 4)]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=60)
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--statistic", choices=("auto", "hl", "median"), default="auto")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(a.jobs) as pool:
        rows = list(pool.map(_run, [(c, a.trials, a.resamples, a.statistic) for c in GRID]))
    elapsed = time.perf_counter() - t0
    print(f"advice ({a.statistic}): {a.trials} trials per cell, {a.resamples} BCa resamples, "
          f"{elapsed:.0f} s")
    print(f"{'n':>3} {'true':>5} {'unresolved':>10} {'advised':>7} {'settled':>7} {'rate':>6} "
          f"{'median N':>8} {'out of reach':>12}")
    for r in rows:
        med = statistics.median(r["advised_runs"]) if r["advised_runs"] else float("nan")
        r["median_advised_runs"] = med
        print(f"{r['n']:>3} {r['true_change']:>5.0%} {r['unresolved']:>10} {r['advised']:>7} "
              f"{r['settled']:>7} {r['settle_rate']:>6.1%} {med:>8.0f} {r['out_of_reach']:>12}")
    advised = sum(r["advised"] for r in rows)
    settled = sum(r["settled"] for r in rows)
    pooled = settled / advised if advised else float("nan")
    pooled_ci = wilson(settled, advised) if advised else [float("nan")] * 2
    print(f"pooled: {settled} of {advised} advised cases settled ({pooled:.1%}, 95 % CI "
          f"{pooled_ci[0]:.1%}-{pooled_ci[1]:.1%}); issue 10 asks for 70-90 %")
    out = {"benchmark": "advice", "statistic": a.statistic, "trials_per_cell": a.trials,
           "n_resamples": a.resamples, "pooled_settle_rate_ci": pooled_ci, "cv": 0.10, "target": [0.10, 0.20], "elapsed_s": elapsed, "pooled_settle_rate": pooled,
           "advised": advised, "settled": settled,
           "cells": [{k: v for k, v in r.items() if k != "advised_runs"} for r in rows]}
    print(f"wrote {write_results(f'advice-{a.statistic}.json', out)}")
    return out


if __name__ == "__main__":
    main()
