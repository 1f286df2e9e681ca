"""History checks against known truth, and at scale.

Known truth (``perfkit.analysis.history_check.check_values`` on simulated per-commit series):
200 commits, lognormal noise with CV 5 %; a single step of +10 % (and of +5 %) at a commit drawn
uniformly from 10…190 (a step nearer an end has too few commits on one side for anyone); series
without a step; a gradual drift of +0.2 % per commit. Reported: share of 10 % steps found within
±2 commits, recall and precision for 5 % steps, false alerts per 1,000 commits without a step,
and how drift series are reported (as drift, or as steps). With ``--ruptures`` (needs the
``ruptures`` package, not a perfkit dependency) the same series also go through ruptures' Pelt.

Scale (``--scale``): a generated history of 10,000 commits × 30 runs × 25 columns in the store's
Parquet layout (written as 100 files of 100 commits, the layout a compaction would leave), then
``perfkit history add`` of one more dataset and ``check`` of one metric, timed
(targets: add < 1 s, check < 5 s).

    .venv/bin/python benchmarks/bench_history.py [--trials 200] [--scale]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402

from perfkit.analysis.history_check import check_history, check_values  # noqa: E402

N = 200
CV = 0.05


def series(rng: np.random.Generator, *, step: float = 0.0, at: int | None = None,
           drift: float = 0.0, n: int = N, cv: float = CV) -> np.ndarray:
    sigma = np.sqrt(np.log1p(cv ** 2))
    y = rng.lognormal(-sigma ** 2 / 2, sigma, n)
    if at is not None:
        y[at:] *= 1 + step
    return y * (1 + drift * np.arange(n))


def known_truth(trials: int, seed: int = 2026) -> dict:
    rng = np.random.default_rng(seed)
    out: dict = {}
    for size in (0.10, 0.05):
        found = near = alerts = 0
        t0 = time.perf_counter()
        for i in range(trials):
            at = int(rng.integers(10, N - 9))
            steps, _, _ = check_values(series(rng, step=size, at=at), seed=i)
            hit = [s for s in steps if abs(s.index - at) <= 2]
            found += bool(hit)
            near += len(hit)
            alerts += len(steps)
        out[f"step_{int(size * 100)}pct"] = {
            "trials": trials, "recall_within_2": found / trials,
            "precision": (near / alerts) if alerts else float("nan"),
            "seconds_per_series": (time.perf_counter() - t0) / trials}
    alerts = drift_alerts = 0
    for i in range(trials):
        steps, drifts, _ = check_values(series(rng), seed=i)
        alerts += len(steps)
        drift_alerts += len(drifts)
    out["no_step"] = {"trials": trials, "commits": trials * N,
                      "false_step_alerts_per_1000_commits": 1000 * alerts / (trials * N),
                      "false_drift_alerts_per_1000_commits": 1000 * drift_alerts / (trials * N)}
    as_drift = as_steps = 0
    for i in range(trials):
        steps, drifts, _ = check_values(series(rng, drift=0.002), seed=i)
        as_drift += bool(drifts) and not steps
        as_steps += len(steps)
    out["drift_0.2pct"] = {"trials": trials, "reported_as_drift_only": as_drift / trials,
                           "steps_per_series": as_steps / trials}
    return out


def ruptures_side(trials: int, seed: int = 2026) -> dict:
    try:
        import ruptures as rpt
    except ImportError:
        return {"skipped": "ruptures is not installed"}
    rng = np.random.default_rng(seed)
    out = {}
    penalty = 3 * np.log(N) * CV ** 2  # BIC-like penalty for an l2 cost at the known noise level
    for size in (0.10, 0.05):
        found = alerts = near = 0
        for _ in range(trials):
            at = int(rng.integers(10, N - 9))
            bkps = rpt.Pelt(model="l2", min_size=5).fit(series(rng, step=size, at=at)).predict(
                pen=penalty)[:-1]
            hit = [b for b in bkps if abs(b - at) <= 2]
            found += bool(hit)
            near += len(hit)
            alerts += len(bkps)
        out[f"step_{int(size * 100)}pct"] = {"recall_within_2": found / trials,
                                             "precision": near / alerts if alerts else None}
    alerts = 0
    for _ in range(trials):
        alerts += len(rpt.Pelt(model="l2", min_size=5).fit(series(rng)).predict(pen=penalty)) - 1
    out["no_step"] = {"false_alerts_per_1000_commits": 1000 * alerts / (trials * N)}
    return out


def _write_scale_history(root: Path, commits: int = 10_000, runs: int = 30, columns: int = 25,
                         per_file: int = 100, seed: int = 1) -> None:
    """The generated history: ``commits`` commits of ``runs`` runs and ``columns`` columns, a
    +10 % step in ``wall_s`` at commit 7,000, ``per_file`` commits per Parquet file (100: the
    layout ``history add`` keeps by merging every 100 adds into a batch; 1: one file per add
    named by its dataset id, what adds left before they merged)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from perfkit.data.history import LAYOUT_VERSION, MARKER

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    (root / MARKER).write_text(f'{{"kind": "perfkit-history", "layout_version": {LAYOUT_VERSION}}}')
    part = root / "runs" / "benchmark=scale"
    part.mkdir(parents=True)
    level = series(rng, step=0.10, at=7_000, n=commits)
    base = pd.Timestamp("2020-01-01", tz="UTC")
    idx = np.repeat(np.arange(commits), runs)
    n = idx.size
    frame = {"variant": "main", "run": np.tile(np.arange(1, runs + 1), commits),
             "order": np.tile(np.arange(1, runs + 1), commits), "warmup": False,
             "traced": False, "status": "ok", "wall_s": level[idx] * rng.lognormal(0, 0.02, n)}
    for c in range(columns - 8):
        frame[f"m{c:02d}"] = rng.lognormal(0, 0.05, n)
    frame.update({"commit": np.array([f"c{i:05d}" for i in range(commits)])[idx],
                  "branch": "main", "commit_time": base + pd.to_timedelta(idx, unit="h"),
                  "added_at": base, "sequence": idx + 1, "chain_position": idx + 1,
                  "dataset_id": np.array([f"{i:020x}" for i in range(commits)])[idx],
                  "host": "{}"})
    table = pa.Table.from_pandas(pd.DataFrame(frame), preserve_index=False)
    rows = per_file * runs
    for f in range(commits // per_file):
        name = f"{f:020x}" if per_file == 1 else f"batch-{f:09d}"
        pq.write_table(table.slice(f * rows, rows), part / f"{name}.parquet")
        if per_file > 1:  # a batch's id list, as history add writes it beside each batch
            (part / f".{name}.ids").write_text("".join(
                f"{i:020x}\n" for i in range(f * per_file, (f + 1) * per_file)))


def scale() -> dict:
    from perfkit.data.history import open_history
    from perfkit.data.store import save

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "history"
        t0 = time.perf_counter()
        _write_scale_history(root)
        generated = time.perf_counter() - t0
        rng = np.random.default_rng(5)
        ds = save(Path(tmp) / "ds", pd.DataFrame({
            "variant": "main", "run": range(1, 31), "order": range(1, 31), "status": "ok",
            "wall_s": rng.lognormal(0.1, 0.02, 30)}))
        history = open_history(root)
        t0, c0 = time.perf_counter(), time.process_time()
        history.add(ds, "scale", commit="c10000", when="2021-02-20")
        add_s, add_cpu = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        result = check_history(history, names=["scale"], metrics=["wall_s"])
        check_s, check_cpu = time.perf_counter() - t0, time.process_time() - c0
        steps = [(s.index, s.commit_after, round(s.change, 4)) for s in result.checks[0].steps]
    return {"commits": 10_001, "runs_per_commit": 30, "columns": 25, "generate_s": generated,
            "add_s": add_s, "add_cpu_s": add_cpu, "check_one_metric_s": check_s,
            "check_one_metric_cpu_s": check_cpu, "load_average_1min": os.getloadavg()[0], "steps_found": steps,
            "true_step_at": 7_000}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--scale", action="store_true", help="also the 10,000-commit history")
    ap.add_argument("--ruptures", action="store_true", help="also ruptures' Pelt, side by side")
    args = ap.parse_args()
    results = {"perfkit": known_truth(args.trials)}
    if args.ruptures:
        results["ruptures_pelt"] = ruptures_side(args.trials)
    if args.scale:
        results["scale"] = scale()
    import json

    print(json.dumps(results, indent=2))
    print("written:", write_results("history.json", results))


if __name__ == "__main__":
    main()
