"""``perfkit history check`` on 10,000 commits × 30 runs × 25 columns: this checkout against another.

The generated history of ``bench_history.py --scale`` (a +10 % step at commit 7,000), then
``python -m perfkit history check --name scale --metric wall_s`` end to end (interpreter start,
imports, DuckDB, change points, confirmation), alternately with ``--against REV``'s perfkit
(a temporary git worktree on ``PYTHONPATH``, checked to be the one imported) and this checkout's,
``--rounds`` times each, so that the shared machine's load hits both alike. Then, in this
process, where this checkout's time goes: the series query, the change-point search and the rest.
Target: under 5 s.

    nice -n 10 .venv/bin/python benchmarks/bench_history_check.py [--against REV] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402
from bench_history import _write_scale_history  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _cli(tree: Path, history: Path) -> tuple[float, int, str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    where = subprocess.run([sys.executable, "-c", "import perfkit; print(perfkit.__file__)"],
                           env=env, capture_output=True, text=True, cwd=tree).stdout.strip()
    assert Path(where).resolve().is_relative_to(tree.resolve()), (where, tree)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "perfkit", "history", "check", "--history",
                           str(history), "--name", "scale", "--metric", "wall_s"],
                          env=env, capture_output=True, text=True, cwd=tree)
    return time.perf_counter() - t0, done.returncode, done.stdout.strip().splitlines()[1:2]


def _in_process(history: Path) -> dict:
    import scipy.stats  # noqa: F401  (imports are not what this part times)

    from perfkit.analysis import changepoint
    from perfkit.analysis.history_check import check_history
    from perfkit.data.history import open_history

    kept = open_history(history)
    t0, c0 = time.perf_counter(), time.process_time()
    series = kept.series("scale", "wall_s")
    t1, c1 = time.perf_counter(), time.process_time()
    cands = changepoint.e_divisive(series["value"].to_numpy(float))
    t2, c2 = time.perf_counter(), time.process_time()
    result = check_history(open_history(history), names=["scale"], metrics=["wall_s"])
    t3, c3 = time.perf_counter(), time.process_time()
    # CPU time next to wall time: on a shared machine the wall time is mostly waiting
    return {"series_query_s": t1 - t0, "e_divisive_s": t2 - t1, "candidates": len(cands),
            "check_history_s": t3 - t2, "series_query_cpu_s": c1 - c0,
            "e_divisive_cpu_s": c2 - c1, "check_history_cpu_s": c3 - c2,
            "steps": [(s.index, round(s.change, 4)) for s in result.checks[0].steps]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", help="another revision, timed alternately with this checkout")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="perfkit-check-") as tmp:
        history = Path(tmp) / "history"
        _write_scale_history(history)
        trees = {"this": ROOT}
        if args.against:
            other = Path(tmp) / "other"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(other),
                            args.against], check=True, capture_output=True)
            trees = {args.against: other, "this": ROOT}
        try:
            times: dict[str, list[float]] = {k: [] for k in trees}
            said = {}
            for _ in range(args.rounds):
                for label, tree in trees.items():
                    seconds, code, line = _cli(tree, history)
                    times[label].append(seconds)
                    said[label] = {"exit_code": code, "first_finding": line}
                    print(f"{label:>12}: {seconds:6.2f} s  exit {code}  {line}", flush=True)
        finally:
            if args.against:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(other)], capture_output=True)
        inside = _in_process(history)
    result = {"commits": 10_000, "runs_per_commit": 30, "columns": 25, "rounds": args.rounds,
              "cli_seconds": times, "cli_median_s": {k: statistics.median(v) for k, v in times.items() if v},
              "answers": said, "this_in_process": inside, "load_average_1min": os.getloadavg()[0]}
    if args.against and args.rounds:
        result["ratio_this_over_other"] = (result["cli_median_s"]["this"]
                                           / result["cli_median_s"][args.against])
    print({k: v for k, v in result.items() if k != "cli_seconds"})
    print("written:", write_results("history_check.json", result))


if __name__ == "__main__":
    main()
