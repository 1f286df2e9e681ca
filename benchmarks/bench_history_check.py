"""``perfkit history check`` and ``add`` on 10,000 commits × 30 runs × 25 columns, end to end.

The generated history of ``bench_history.py`` (a +10 % step at commit 7,000), in two layouts:
``compacted`` (100 commits per Parquet file, what a compaction leaves) and ``per-add`` (one file
per commit, what ``history add`` itself writes: 10,000 files). For each layout, the real CLI as a
user runs it, in a fresh interpreter (start-up, imports, DuckDB, change points, confirmation)::

    python -m perfkit history check --history DIR --name scale --metric wall_s
    python -m perfkit history add DATASET --name scale --history DIR --commit cNNNNN

each timed for **wall time and CPU time** (the child's user + system time from ``wait4``'s
rusage: on a shared machine the wall time is mostly waiting for a core, CPU time is the work),
next to ``python -m perfkit --version`` (the interpreter's and perfkit's start-up alone).
``--against REV`` times another revision's perfkit (a temporary git worktree on ``PYTHONPATH``,
checked to be the one imported) alternately with this checkout's, ``--rounds`` times each.
Then, in this process, where this checkout's time goes: series query, change-point search, the
whole check, one add. Targets: check < 5 s, add < 1 s.

    nice -n 10 .venv/bin/python benchmarks/bench_history_check.py [--against REV] [--rounds 3]
        [--layouts compacted,per-add]
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
COMMITS = 10_000
LAYOUTS = {"compacted": 100, "per-add": 1}


def _timed(argv: list[str], env: dict, cwd: Path) -> dict:
    """``argv`` in a child process: wall time, and the child's own CPU time (user + system) and
    peak RSS from ``wait4``'s rusage."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
                "max_rss_mib": usage.ru_maxrss / 1024, "exit": proc.returncode,
                "out": out.read(), "err": err.read()}


def _tree_env(tree: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    where = subprocess.run([sys.executable, "-c", "import perfkit; print(perfkit.__file__)"],
                           env=env, capture_output=True, text=True, cwd=tree).stdout.strip()
    assert Path(where).resolve().is_relative_to(tree.resolve()), (where, tree)
    return env


def _dataset(folder: Path, seed: int):
    import numpy as np
    import pandas as pd

    from perfkit.data.store import save

    rng = np.random.default_rng(seed)
    return save(folder, pd.DataFrame({
        "variant": "main", "run": range(1, 31), "order": range(1, 31), "status": "ok",
        "wall_s": rng.lognormal(0.1, 0.02, 30)}))


def _in_process(history: Path, tmp: Path) -> dict:
    import scipy.stats  # noqa: F401  (imports are not what this part times)

    from perfkit.analysis import changepoint
    from perfkit.analysis.history_check import check_history
    from perfkit.data.history import open_history

    kept = open_history(history)
    clock = [(time.perf_counter(), time.process_time())]

    def lap():
        clock.append((time.perf_counter(), time.process_time()))
        (w0, c0), (w1, c1) = clock[-2], clock[-1]
        return w1 - w0, c1 - c0

    series = kept.series("scale", "wall_s")
    series_s = lap()
    cands = changepoint.e_divisive(series["value"].to_numpy(float))
    search_s = lap()
    result = check_history(open_history(history), names=["scale"], metrics=["wall_s"])
    check_s = lap()
    ds = _dataset(tmp / f"in-process-ds-{history.name}", seed=99)
    lap()
    kept.add(ds, "scale", commit="in-process")
    add_s = lap()
    return {"series_query": series_s, "e_divisive": search_s, "candidates": len(cands),
            "check_history": check_s, "add": add_s,
            "steps": [(s.index, round(s.change, 4)) for s in result.checks[0].steps],
            "note": "each figure is (wall s, CPU s)"}


def _layout(name: str, per_file: int, trees: dict, rounds: int, tmp: Path) -> dict:
    history = tmp / name
    t0 = time.perf_counter()
    _write_scale_history(history, commits=COMMITS, per_file=per_file)
    generated = time.perf_counter() - t0
    files = len(list((history / "runs").rglob("*.parquet")))
    print(f"{name}: {files} files, generated in {generated:.1f} s", flush=True)
    envs = {label: _tree_env(tree) for label, tree in trees.items()}
    py = sys.executable
    out: dict = {"files": files, "commits": COMMITS, "generate_s": generated, "cli": {}}
    figures = {label: {"startup": [], "check": [], "add": []} for label in trees}
    seed = 0
    for r in range(rounds):
        for label, tree in trees.items():
            env = envs[label]
            runs = {"startup": [py, "-m", "perfkit", "--version"],
                    "check": [py, "-m", "perfkit", "history", "check", "--history", str(history),
                              "--name", "scale", "--metric", "wall_s"]}
            for what, argv in runs.items():
                done = _timed(argv, env, tree)
                assert done["exit"] in (0, 3), done["err"]
                figures[label][what].append(done)
            seed += 1
            ds = _dataset(tmp / f"ds-{name}-{seed}", seed=seed)
            done = _timed([py, "-m", "perfkit", "history", "add", str(ds.path), "--name", "scale",
                           "--history", str(history), "--commit", f"added-{seed}"], env, tree)
            assert done["exit"] == 0, done["err"]
            figures[label]["add"].append(done)
            line = " ".join(f"{w} {figures[label][w][-1]['wall_s']:.2f}/"
                            f"{figures[label][w][-1]['cpu_s']:.2f}" for w in figures[label])
            print(f"  round {r + 1} {label:>10}: (wall/CPU s) {line}", flush=True)
    for label, by in figures.items():
        out["cli"][label] = {
            what: {"wall_s": [d["wall_s"] for d in runs], "cpu_s": [d["cpu_s"] for d in runs],
                   "median_wall_s": statistics.median(d["wall_s"] for d in runs),
                   "median_cpu_s": statistics.median(d["cpu_s"] for d in runs)}
            for what, runs in by.items() if runs}
        check = by["check"][-1]["out"].strip().splitlines()
        out["cli"][label]["check_says"] = check[1:3]
    out["this_in_process"] = _in_process(history, tmp)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", help="another revision, timed alternately with this checkout")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--layouts", default=",".join(LAYOUTS),
                    help=f"which layouts, comma-separated (of {', '.join(LAYOUTS)})")
    args = ap.parse_args()
    chosen = [x for x in args.layouts.split(",") if x]
    unknown = [x for x in chosen if x not in LAYOUTS]
    if unknown:
        ap.error(f"--layouts: unknown {', '.join(unknown)}")
    load = [os.getloadavg()[0]]
    result: dict = {"runs_per_commit": 30, "columns": 25, "rounds": args.rounds, "layouts": {}}
    with tempfile.TemporaryDirectory(prefix="perfkit-check-") as tmp:
        trees = {"this": ROOT}
        other = Path(tmp) / "other"
        if args.against:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(other),
                            args.against], check=True, capture_output=True)
            trees = {args.against: other, "this": ROOT}
        try:
            for name in chosen:
                result["layouts"][name] = _layout(name, LAYOUTS[name], trees, args.rounds,
                                                  Path(tmp))
                load.append(os.getloadavg()[0])
        finally:
            if args.against:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(other)], capture_output=True)
    result["load_average_1min"] = load
    result["cpus"] = os.cpu_count()
    for name, layout in result["layouts"].items():
        for label, cli in layout["cli"].items():
            print(f"{name:>10} {label:>10}: " + "; ".join(
                f"{what} {cli[what]['median_wall_s']:.2f} s wall / {cli[what]['median_cpu_s']:.2f} s CPU"
                for what in ("startup", "check", "add")) + f"  — {' | '.join(cli['check_says'])}")
        print(f"{name:>10} in process (wall, CPU): "
              + ", ".join(f"{k} {v[0]:.2f}/{v[1]:.2f}" for k, v in layout["this_in_process"].items()
                          if isinstance(v, tuple)))
    print("written:", write_results("history_check.json", result))


if __name__ == "__main__":
    main()
