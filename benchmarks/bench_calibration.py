"""Calibration of the verdict by simulation with known truth (lognormal noise).

Grid: coefficient of variation 5 % and 15 % x n = 10, 20, 30 runs per variant x true change
0 (A/A), 15 %, 25 %. Per cell: the false-verdict rate in A/A (any verdict but ``no-change``),
how often the 95 % interval covers the true change, and the share called at least ``cleared``.
Uses exactly what ``perfkit.compare`` uses (BCa, median, 95 %, target 10 %-20 %).

    python benchmarks/bench_calibration.py [--trials 1000] [--resamples 10000] [--jobs 2]
        [--statistic median|mean|hl] [--grid default|issue]

``--grid issue`` is the grid of issue 10 for lognormal noise (CV 10 %, n = 8, 12, 25, true change
0, 5 %, 15 %). Prints a table and writes benchmarks/results/calibration.json (calibration-<grid>-
<statistic>.json for any other grid or statistic).

``--grid full`` is issue 10's whole proof: seven distributions (perfkit.analysis.calibration_grid)
x n = 8, 12, 25 x true change 0, 5 %, 15 %, and every rule — main's interval (``today``), the new
designs for median and hl, the signed-rank and unpaired HL intervals, and the benchstat-,
criterion- and asv-style rules — on the same simulated data. Writes calibration-full.json:

    nice -n 10 python benchmarks/bench_calibration.py --grid full --trials 400 --resamples 2000
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import write_results  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from perfkit.analysis.calibration import Cell, simulate, summarise  # noqa: E402
from perfkit.analysis.calibration_grid import (  # noqa: E402
    DISTRIBUTIONS,
    GridCell,
    simulate_cell,
    summarise_cell,
)

GRID = [Cell(n, cv, ch) for cv in (0.05, 0.15) for n in (10, 20, 30) for ch in (0.0, 0.15, 0.25)]
ISSUE_GRID = [Cell(n, 0.10, ch) for n in (8, 12, 25) for ch in (0.0, 0.05, 0.15)]
# n = 12 first: the issue's power claims are at n = 12 (partial results are written as they come)
FULL_GRID = [GridCell(d, n, ch) for n in (12, 8, 25) for d in DISTRIBUTIONS
             for ch in (0.0, 0.05, 0.15)]
GRIDS = {"default": GRID, "issue": ISSUE_GRID, "full": FULL_GRID}


def _run_full(args):
    cell, trials, resamples = args
    return summarise_cell(cell, simulate_cell(cell, trials, n_resamples=resamples))


def main_full(a) -> dict:
    t0 = time.perf_counter()
    rows: list[dict] = []
    partial = {"benchmark": "calibration-full", "trials_per_cell": a.trials,
               "n_resamples": a.resamples, "complete": False, "rows": rows}
    with ProcessPoolExecutor(a.jobs) as pool:
        for cell in pool.map(_run_full, [(c, a.trials, a.resamples) for c in FULL_GRID]):
            rows.extend(cell)
            write_results("calibration-full.json", partial)  # what is done so far
    elapsed = time.perf_counter() - t0
    print(f"calibration (full grid): {a.trials} trials per cell, {a.resamples} resamples, "
          f"{elapsed:.0f} s on {a.jobs} processes")
    print(f"{'distribution':>16} {'n':>3} {'true':>5} {'rule':>15} {'coverage':>9} "
          f"{'false':>7} {'cleared':>8} {'width':>7}")
    for r in rows:
        cov = "–" if r["coverage"] is None else f"{r['coverage']:.1%}"
        width = "–" if r["median_ci_width"] is None else f"{r['median_ci_width']:.3f}"
        print(f"{r['distribution']:>16} {r['n']:>3} {r['true_change']:>5.0%} {r['rule']:>15} "
              f"{cov:>9} {r['false_calls']:>7.1%} {r['cleared']:>8.1%} {width:>7}")
    out = {"benchmark": "calibration-full", "trials_per_cell": a.trials, "complete": True,
           "n_resamples": a.resamples, "confidence": 0.95, "target": [0.10, 0.20],
           "elapsed_s": elapsed, "rows": rows}
    write_results("calibration-full.json", out)
    return out


def _run(args):
    cell, trials, resamples, statistic = args
    return summarise(cell, simulate(cell, trials, n_resamples=resamples, statistic=statistic))


def binom_ci(p: float, n: int) -> list[float]:
    k = round(p * n)
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    return [round(ci.low, 4), round(ci.high, 4)]


RULE_ORDER = ("today", "median", "hl", "hl-signed-rank", "hl-unpaired", "benchstat", "criterion",
              "asv")


def markdown(path: Path) -> str:
    """The published tables of a calibration-full.json: calls, then interval coverage."""
    import json

    data = json.loads(Path(path).read_text())
    cells: dict = {}
    for r in data["rows"]:
        cells.setdefault((r["distribution"], r["n"], r["true_change"]), {})[r["rule"]] = r
    rules = [r for r in RULE_ORDER if any(r in c for c in cells.values())]
    head = "| distribution | n | true | " + " | ".join(rules) + " |"
    sep = "|---|---|---|" + "---|" * len(rules)
    calls = [head, sep]
    cover = ["| distribution | n | true | " + " | ".join(
        r for r in rules if r not in ("benchstat", "asv")) + " |",
        "|---|---|---|" + "---|" * len([r for r in rules if r not in ("benchstat", "asv")])]
    for (dist, n, true), c in cells.items():
        key = "false_calls" if true == 0 else "cleared"
        calls.append(f"| {dist} | {n} | {true:.0%} | " + " | ".join(
            f"{c[r][key]:.1%}" for r in rules) + " |")
        cover.append(f"| {dist} | {n} | {true:.0%} | " + " | ".join(
            f"{c[r]['coverage']:.1%}" for r in rules if r not in ("benchstat", "asv")) + " |")
    return "\n".join(calls) + "\n\n" + "\n".join(cover) + "\n"


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--resamples", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--statistic", choices=("median", "mean", "hl"), default="median")
    ap.add_argument("--grid", choices=tuple(GRIDS), default="default")
    ap.add_argument("--markdown", metavar="JSON",
                    help="print the tables of a calibration-full.json as markdown and stop")
    a = ap.parse_args(argv)
    if a.markdown:
        print(markdown(Path(a.markdown)), end="")
        return {}
    if a.grid == "full":
        return main_full(a)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(a.jobs) as pool:
        rows = list(pool.map(_run, [(c, a.trials, a.resamples, a.statistic)
                                    for c in GRIDS[a.grid]]))
    elapsed = time.perf_counter() - t0
    for r in rows:
        r["coverage_ci"] = binom_ci(r["coverage"], r["trials"])
        if r["true_change"] == 0:
            r["false_verdict_ci"] = binom_ci(r["not_no_change"], r["trials"])

    print(f"calibration ({a.statistic}, grid {a.grid}): {a.trials} trials per cell, "
          f"{a.resamples} BCa resamples (none for hl), "
          f"{elapsed:.0f} s on {a.jobs} processes")
    print(f"{'cv':>5} {'n':>3} {'true':>5} {'coverage':>9} {'A/A false':>9} {'>=cleared':>9} "
          f"{'regressed':>9} {'CI width':>8} {'fallback':>8}")
    for r in rows:
        aa = f"{r['not_no_change']:.1%}" if r["true_change"] == 0 else ""
        print(f"{r['cv']:>5.0%} {r['n']:>3} {r['true_change']:>5.0%} {r['coverage']:>9.1%} "
              f"{aa:>9} {r['cleared_or_better']:>9.1%} {r['regressed']:>9.1%} "
              f"{r['median_ci_width']:>8.3f} {r['fallbacks']:>8}")
    out = {"benchmark": "calibration", "trials_per_cell": a.trials, "n_resamples": a.resamples,
           "statistic": a.statistic, "grid": a.grid,
           "method": "Moses (exact rank)" if a.statistic == "hl" else "BCa", "confidence": 0.95, "target": [0.10, 0.20],
           "elapsed_s": elapsed, "cells": rows}
    plain = a.statistic == "median" and a.grid == "default"
    write_results("calibration.json" if plain else f"calibration-{a.grid}-{a.statistic}.json", out)
    return out


if __name__ == "__main__":
    main()
