"""Sequential decisions (``perfkit measure --until-decided``) by simulation with known truth.

Per true change (5 %, 10 % = the band's edge, 15 %, 20 %): ``trials`` collections of lognormal
runs (CV 10 %), looked at every ``--look-every`` rounds up to ``--max-runs`` runs per variant with
Lan–DeMets O'Brien–Fleming error spending, each look decided by
``perfkit.analysis.sequential.decide`` — the function the CLI uses. Reported: how often each
collection ended cleared (issue 10: true 10 % ≤ 2.5 %, true 5 % ≤ 0.5 %, true 20 % ≥ 90 %), how
it stopped, and the mean runs per variant at the stop, beside the fixed number of runs (one look at
95 %) that gives the same power at 20 % in the same simulation.

    python benchmarks/bench_sequential.py [--trials 400] [--statistic auto|hl|median]
        [--resamples 2000] [--max-runs 100] [--look-every 5] [--jobs 2]

Writes benchmarks/results/sequential-<statistic>.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import write_results  # noqa: E402

from perfkit.analysis.sequential import SequentialPlan, fixed_n_for_power, simulate  # noqa: E402

TRUTHS = (0.05, 0.10, 0.15, 0.20)


def _sim(args):
    truth, trials, max_runs, every, options = args
    return simulate(truth, SequentialPlan(max_runs, every), trials, **options)


def _fixed(args):
    power, trials, options = args
    return fixed_n_for_power(0.20, power, trials=trials, **options)


def wilson(p: float, n: int) -> list[float]:
    ci = stats.binomtest(round(p * n), n).proportion_ci(0.95, method="wilson")
    return [round(float(ci.low), 4), round(float(ci.high), 4)]


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=400)
    ap.add_argument("--statistic", choices=("auto", "hl", "median"), default="auto")
    ap.add_argument("--resamples", type=int, default=2000)
    ap.add_argument("--max-runs", type=int, default=100)
    ap.add_argument("--look-every", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args(argv)
    options = {"statistic": a.statistic, "n_resamples": a.resamples}
    t0 = time.perf_counter()
    with ProcessPoolExecutor(a.jobs) as pool:
        rows = list(pool.map(_sim, [(t, a.trials, a.max_runs, a.look_every, options)
                                    for t in TRUTHS]))
        power20 = next(r["cleared"] for r in rows if r["true_change"] == 0.20)
        target_power = min(power20, 0.99)
        fixed = list(pool.map(_fixed, [(target_power, max(100, a.trials // 2), options),
                                       (0.90, max(100, a.trials // 2), options)]))
    elapsed = time.perf_counter() - t0
    print(f"sequential ({a.statistic}): {a.trials} trials per truth, looks every "
          f"{a.look_every} rounds up to {a.max_runs} runs/variant, {elapsed:.0f} s")
    print(f"{'true':>5} {'cleared':>8} {'95% CI':>16} {'mean runs':>9}  stops")
    for r in rows:
        r["cleared_ci"] = wilson(r["cleared"], r["trials"])
        stops = ", ".join(f"{k} {v:.1%}" for k, v in r["stops"].items() if v)
        print(f"{r['true_change']:>5.0%} {r['cleared']:>8.1%} {str(r['cleared_ci']):>16} "
              f"{r['mean_runs']:>9.1f}  {stops}")
    (n_eq, p_eq), (n_90, p_90) = fixed
    print(f"fixed design of equal power at 20 % ({target_power:.1%}): {n_eq} runs/variant "
          f"(simulated power {p_eq:.1%}); for 90 %: {n_90} ({p_90:.1%})")
    seq20 = next(r["mean_runs"] for r in rows if r["true_change"] == 0.20)
    print(f"mean runs to a decision at true 20 %: {seq20:.1f} sequential vs {n_eq} fixed "
          f"({seq20 / n_eq:.2f}x)")
    out = {"benchmark": "sequential", "statistic": a.statistic, "n_resamples": a.resamples,
           "trials": a.trials, "cv": 0.10, "target": [0.10, 0.20], "max_runs": a.max_runs,
           "look_every": a.look_every, "spending": "lan-demets-obrien-fleming", "alpha": 0.025,
           "elapsed_s": elapsed, "truths": rows,
           "fixed_equal_power": {"power": target_power, "runs": n_eq, "simulated_power": p_eq},
           "fixed_90": {"runs": n_90, "simulated_power": p_90}}
    name = f"sequential-{a.statistic}" + ("" if a.max_runs == 100 else f"-m{a.max_runs}")
    print(f"wrote {write_results(name + '.json', out)}")
    return out


if __name__ == "__main__":
    main()
