"""Speed of perfkit.compare: 20 metrics, 30 runs per variant, 10,000 BCa resamples (target < 0.25 s).

Measured four times: the runs without a ``round`` column (independent BCa) and with one (every
run in a round with one of the other variant: the paired design, what ``perfkit measure``
records), each with ``statistic="median"`` and with the default ``statistic="auto"`` (Hodges–
Lehmann for the target and the guardrail: with rounds, the paired HL bootstrap, the costliest
case). The target is judged on the default with rounds.

Prints the figures and writes benchmarks/results/compare_speed.json. Run from the repository root:

    python benchmarks/bench_compare_speed.py
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import write_results  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from perfkit.analysis.stats import change_interval  # noqa: E402
from perfkit.analysis.verdict import compare  # noqa: E402
from perfkit.data.schema import ID_COLUMNS, RUNS_COLUMNS, runs_frame  # noqa: E402

N_RUNS = 30
N_RESAMPLES = 10_000
REPEATS = 7


def runs_table(seed: int = 0):
    rng = np.random.default_rng(seed)
    metrics = [c for c, dtype in RUNS_COLUMNS.items()
               if dtype in ("float64", "Int64") and c not in ID_COLUMNS][:17]
    metrics += ["stage_build_s", "stage_test_s", "stage_pack_s"]  # extra columns are metrics too
    rows, order = [], 0
    for i in range(N_RUNS):
        for variant, scale in (("baseline", 1.0), ("candidate", 0.88)):
            order += 1
            rec = {"variant": variant, "run": i + 1, "order": order, "status": "ok",
                   "round": i + 1}
            for m in metrics:
                value = 1000 * scale * rng.lognormal(0, 0.08)
                rec[m] = value if m.endswith("_s") else int(round(value))
            rows.append(rec)
    runs = runs_frame(rows)
    # the columns of the contract beyond these metrics stay empty (no values: no row)
    extra = [c for c in runs.columns if c not in metrics and c not in ID_COLUMNS
             and c in RUNS_COLUMNS and RUNS_COLUMNS[c] in ("float64", "Int64")]
    return runs.drop(columns=extra), metrics


def timed(runs, repeats: int = REPEATS, **kw) -> tuple[list[float], list[float], object]:
    kw.setdefault("statistic", "median")  # the BCa workload the target names
    compare(runs, n_resamples=N_RESAMPLES, **kw)  # warm imports and caches
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        res = compare(runs, n_resamples=N_RESAMPLES, **kw)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return times, cpu, res


def main() -> dict:
    rounds, metrics = runs_table()
    assert len(metrics) == 20, metrics
    runs = rounds.drop(columns=["round"])  # runs with no rounds: the independent design
    times, cpu, res = timed(runs)
    # the same runs with their rounds (what `perfkit measure` records): paired intervals
    paired_times, _, paired_res = timed(rounds)
    # the default statistic (auto: Hodges–Lehmann) on the same runs, without and with rounds
    auto_times, auto_cpu, _ = timed(runs, statistic="auto")
    auto_paired_times, auto_paired_cpu, auto_paired_res = timed(rounds, statistic="auto")
    methods = res.table["method"].value_counts().to_dict()
    bootstrapped = int((res.table["method"] == "bca").sum())
    paired_methods = paired_res.table["method"].value_counts().to_dict()

    b = runs.loc[runs["variant"] == "baseline", "wall_s"].to_numpy()
    c = runs.loc[runs["variant"] == "candidate", "wall_s"].to_numpy()
    one = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        change_interval(b, c, n_resamples=N_RESAMPLES)
        one.append(time.perf_counter() - t0)

    out = {
        "benchmark": "compare_speed",
        "metrics": len(metrics),
        "rows": len(res.table),
        "bootstrapped_rows": bootstrapped,
        "methods": methods,
        "runs_per_variant": N_RUNS,
        "n_resamples": N_RESAMPLES,
        "repeats": REPEATS,
        "compare_s_median": statistics.median(times),
        "compare_s_min": min(times),
        "compare_s_max": max(times),
        "paired_compare_s_median": statistics.median(paired_times),
        "auto_compare_s_median": statistics.median(auto_times),
        "auto_compare_cpu_s_median": statistics.median(auto_cpu),
        "auto_paired_compare_s_median": statistics.median(auto_paired_times),
        "auto_paired_compare_cpu_s_median": statistics.median(auto_paired_cpu),
        "paired_methods": paired_methods,
        "auto_paired_methods": auto_paired_res.table["method"].value_counts().to_dict(),
        # CPU time of this process: what the figure would be on an otherwise idle machine
        "compare_cpu_s_median": statistics.median(cpu),
        "load_average_1min": os.getloadavg()[0],
        "one_metric_bca_s_median": statistics.median(one),
        "target_s": 0.25,
        "meets_target": statistics.median(auto_paired_times) < 0.25,
        "meets_target_cpu": statistics.median(auto_paired_cpu) < 0.25,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": __import__("scipy").__version__,
    }
    print(
        f"compare(): {len(metrics)} metrics x {N_RUNS} runs/variant x {N_RESAMPLES} BCa resamples "
        f"(target < 0.25 s), median of {REPEATS}, wall (CPU):\n"
        f"  default (auto), with rounds  {out['auto_paired_compare_s_median']:.3f} s "
        f"({out['auto_paired_compare_cpu_s_median']:.3f} s)  <- the target's case\n"
        f"  default (auto), no rounds    {out['auto_compare_s_median']:.3f} s "
        f"({out['auto_compare_cpu_s_median']:.3f} s)\n"
        f"  median, with rounds          {out['paired_compare_s_median']:.3f} s\n"
        f"  median, no rounds            {out['compare_s_median']:.3f} s "
        f"({out['compare_cpu_s_median']:.3f} s; min {out['compare_s_min']:.3f}, "
        f"max {out['compare_s_max']:.3f})\n"
        f"  load {out['load_average_1min']:.1f}; one metric {out['one_metric_bca_s_median'] * 1000:.1f} ms"
    )
    write_results("compare_speed.json", out)
    return out


if __name__ == "__main__":
    main()
