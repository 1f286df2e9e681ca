"""perfkit's measured floor at two commits, side by side with ``hyperfine -N``, in one run.

The floor moves by a few per cent between changes, and this machine's own noise between two
benchmark runs is that large: a change to the measuring path is judged here, with the commit
before it (``--before``, checked out into a temporary folder with ``git archive``) and this
checkout measured in alternation, rounds shuffled (seeded), each in its own Python process
(``perfkit.measure`` of ``/bin/true``, ``shell=False``: its median ``wall_s``, and the time of the
``measure`` call in a fresh process, so with its first-call costs: the exec helper's probe, host
metadata, the Parquet writer's import), and hyperfine in the same rounds.

    python benchmarks/bench_floor_versions.py --before 777f8a9 [--runs 300] [--rounds 30]

Prints medians and the ratios to hyperfine (paired within rounds, median over rounds, with a
distribution-free 95 % interval for that median from order statistics) and writes
``benchmarks/results/floor_versions.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _results import interleaved_rounds, write_results  # noqa: E402
from bench_measure import COMMAND, hyperfine_run  # noqa: E402

CHILD = """
import json, sys, tempfile, time
from pathlib import Path
import perfkit
runs = int(sys.argv[1])
with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    ds = perfkit.measure({"true": sys.argv[2]}, out=Path(tmp) / "ds", runs=runs, shell=False,
                         progress=False)
    total = time.perf_counter() - t0
ok = ds.runs[ds.runs["status"] == "ok"]
print(json.dumps({"median_s": float(ok["wall_s"].median()), "total_s": total, "ok": len(ok)}))
"""


def checkout(rev: str, into: Path) -> Path:
    """``rev`` of this repository as files under ``into`` (``git archive``, no worktree)."""
    archive = into / "src.tar"
    with open(archive, "wb") as fh:
        subprocess.run(["git", "-C", str(ROOT), "archive", rev], stdout=fh, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "src", filter="data")
    return into / "src"


def perfkit_at(source: Path, runs: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(source))
    out = subprocess.run([sys.executable, "-c", CHILD, str(runs), COMMAND], env=env, cwd=source,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_interval(values: list[float], level: float = 0.95) -> tuple[float, float]:
    """Order statistics bracketing the median with at least ``level`` coverage (binomial)."""
    xs, n = sorted(values), len(values)
    # [xs[i], xs[n-1-i]] misses the median with probability 2 P(B <= i), B ~ Binomial(n, 1/2)
    i = 0
    while i + 1 < n // 2 and 2 * stats.binom.cdf(i + 1, n, 0.5) <= 1 - level:
        i += 1
    return xs[i], xs[n - 1 - i]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the commit to compare this checkout with")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="floor_versions.json")
    args = parser.parse_args(argv)
    if hyperfine_run(3) is None:
        print("needs hyperfine on PATH", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        before = checkout(args.before, Path(tmp))
        tools = {
            "hyperfine": lambda: hyperfine_run(args.runs),
            "before": lambda: perfkit_at(before, args.runs),
            "now": lambda: perfkit_at(ROOT, args.runs),
        }
        for name in ("before", "now"):  # build each exec helper outside the rounds
            tools[name]()
        load_at_start = os.getloadavg()[0]
        rounds = interleaved_rounds(tools, args.rounds, args.seed)
    summary = {}
    for name in tools:
        row = {key: statistics.median(r[name][key] for r in rounds) for key in ("median_s", "total_s")}
        for key in ("median_s", "total_s"):
            ratios = [r[name][key] / r["hyperfine"][key] for r in rounds]
            row[f"{key}_ratio"] = statistics.median(ratios)
            row[f"{key}_ratio_ci95"] = median_interval(ratios)
            row[f"{key}_ratio_per_round"] = ratios
        summary[name] = row
    now_vs_before = [r["now"]["median_s"] / r["before"]["median_s"] for r in rounds]
    result = {"benchmark": "floor_versions", "command": COMMAND, "before": args.before,
              "runs": args.runs, "rounds": args.rounds, "host": platform.node(),
              "kernel": platform.release(), "cpu_count": os.cpu_count(),
              "load_avg_1m_at_start": load_at_start, "load_avg_1m": os.getloadavg()[0],
              "summary": summary, "now_vs_before": statistics.median(now_vs_before),
              "now_vs_before_ci95": median_interval(now_vs_before),
              "floor_within_10pct": summary["now"]["median_s_ratio_ci95"][1] < 1.10}
    out = write_results(args.out, result)
    print(f"{COMMAND}, {args.runs} runs x {args.rounds} rounds; load avg "
          f"{load_at_start:.2f} -> {result['load_avg_1m']:.2f}; before = {args.before}")
    print(f"{'':12}{'median/run':>12}{'ratio [95 % CI]':>26}{'cold total':>12}{'ratio':>8}")
    for name, row in summary.items():
        lo, hi = row["median_s_ratio_ci95"]
        print(f"{name:12}{row['median_s'] * 1e3:9.3f} ms{row['median_s_ratio']:10.3f} "
              f"[{lo:.3f}, {hi:.3f}]{row['total_s']:11.3f}s{row['total_s_ratio']:8.2f}")
    lo, hi = result["now_vs_before_ci95"]
    print(f"now / before (floor): {result['now_vs_before']:.3f} [{lo:.3f}, {hi:.3f}]")
    print(f"floor within 10 % of hyperfine (upper 95 % bound): {result['floor_within_10pct']}")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
