"""Change points on known-truth series: perfkit next to ``signal-processing-algorithms``' E-divisive.

``signal-processing-algorithms`` (MongoDB's package, the E-divisive that Apache Otava builds on)
is not a perfkit dependency. It is used when it imports here, or through ``--spa-python PATH``,
an interpreter that has it (e.g. a throwaway venv: ``python3 -m venv /tmp/spa &&
/tmp/spa/bin/pip install signal-processing-algorithms``); otherwise its column says it was
skipped and why.

The same seeded series as ``bench_history.py`` (200 commits, lognormal noise CV 5 %): a single
step of +10 % and of +5 % at a commit drawn from 10…190, no step, and a drift of +0.2 % per commit.
Each series goes through

- ``perfkit``: :func:`perfkit.analysis.history_check.check_values` — E-divisive (α = 0.01,
  199 permutations, seeded), each candidate confirmed by a bootstrap interval, steps against a
  slope by BIC (what ``perfkit history check`` reports);
- ``perfkit_candidates``: :func:`perfkit.analysis.changepoint.e_divisive` alone (no confirmation);
- ``spa_default``: ``signal_processing_algorithms.energy_statistics.e_divisive(series)`` with its
  defaults (p 0.05, 100 permutations; numpy's global generator seeded per series).

Reported per method: recall within ±2 commits and precision (share of alerts within ±2 of the
true step) for each step size, alerts per 1,000 commits on series with no step (every alert is
false), and alerts per drift series (a method without a drift model reports a slide as steps).

    .venv/bin/python benchmarks/bench_changepoint_sidebyside.py [--trials 100] \\
        [--spa-python /tmp/spa/bin/python]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402
from bench_history import N, series  # noqa: E402

_SPA = """
import json, sys
import numpy as np
from signal_processing_algorithms.energy_statistics.energy_statistics import e_divisive
out = []
for i, s in enumerate(json.load(sys.stdin)):
    np.random.seed(i)
    out.append(sorted(int(c) for c in e_divisive(np.asarray(s, dtype=float))))
json.dump(out, sys.stdout)
"""


def scenarios(trials: int, seed: int = 2026) -> dict[str, tuple[list[np.ndarray], list]]:
    rng = np.random.default_rng(seed)
    out: dict = {}
    for size in (0.10, 0.05):
        truth = [int(rng.integers(10, N - 9)) for _ in range(trials)]
        out[f"step_{int(size * 100)}pct"] = ([series(rng, step=size, at=t) for t in truth], truth)
    out["no_step"] = ([series(rng) for _ in range(trials)], [None] * trials)
    out["drift_0.2pct"] = ([series(rng, drift=0.002) for _ in range(trials)], [None] * trials)
    return out


def perfkit_full(all_series: list[np.ndarray]) -> list[list[int]]:
    from perfkit.analysis.history_check import check_values

    return [[s.index for s in check_values(y, seed=i)[0]] for i, y in enumerate(all_series)]


def perfkit_candidates(all_series: list[np.ndarray]) -> list[list[int]]:
    from perfkit.analysis.changepoint import e_divisive

    return [[c.index for c in e_divisive(y, seed=i)] for i, y in enumerate(all_series)]


def spa_default(all_series: list[np.ndarray], python: str | None) -> list[list[int]] | str:
    payload = json.dumps([y.tolist() for y in all_series])
    if python is None:
        try:
            import signal_processing_algorithms  # noqa: F401
        except ImportError:
            return ("skipped: signal-processing-algorithms is not installed here (pass "
                    "--spa-python with an interpreter that has it)")
        python = sys.executable
    done = subprocess.run([python, "-c", _SPA], input=payload, capture_output=True, text=True)
    if done.returncode != 0:
        return f"skipped: {python} could not run it ({done.stderr.strip().splitlines()[-1:]})"
    return json.loads(done.stdout)


def score(found: list[list[int]], truth: list) -> dict:
    alerts = sum(len(f) for f in found)
    if truth[0] is None:
        return {"alerts_per_1000_commits": 1000 * alerts / (len(found) * N),
                "alerts_per_series": alerts / len(found),
                "series_with_an_alert": sum(bool(f) for f in found) / len(found)}
    near = [[c for c in f if abs(c - t) <= 2] for f, t in zip(found, truth)]
    return {"recall_within_2": sum(bool(h) for h in near) / len(found),
            "precision": sum(len(h) for h in near) / alerts if alerts else None,
            "alerts_per_series": alerts / len(found)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--spa-python", help="an interpreter with signal-processing-algorithms")
    args = ap.parse_args()
    results: dict = {"trials": args.trials, "commits_per_series": N}
    for name, (all_series, truth) in scenarios(args.trials).items():
        row = {}
        for method, run in (("perfkit", lambda: perfkit_full(all_series)),
                            ("perfkit_candidates", lambda: perfkit_candidates(all_series)),
                            ("spa_default", lambda: spa_default(all_series, args.spa_python))):
            t0 = time.perf_counter()
            found = run()
            seconds = time.perf_counter() - t0
            row[method] = (found if isinstance(found, str)
                           else {**score(found, truth), "seconds_per_series": seconds / args.trials})
        results[name] = row
        print(name, json.dumps(row), flush=True)
    print("written:", write_results("changepoint_sidebyside.json", results))


if __name__ == "__main__":
    main()
