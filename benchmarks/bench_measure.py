"""How much does perfkit's measuring add? ``/bin/true`` measured side by side, in one run.

Compared, each ``--rounds`` times in alternation (so that machine drift hits all alike):

- the floor: a bare ``os.posix_spawn`` + ``os.wait4`` loop in this process, per-run time;
- ``perfkit.measure`` with ``shell=False``: its reported median ``wall_s``, and its total time for
  ``--runs`` runs (spawner start, host metadata, journal flushed per run and fsynced within 1 s,
  Parquet included); and the same with an fsync after every journal line, to show what that
  durability would cost;
- ``hyperfine -N --runs N /bin/true`` (skipped with a note when hyperfine is absent): its median,
  and the total time of the hyperfine process.

- ``perfkit_no_helper``: the same with ``PERFKIT_EXEC_HELPER=0`` (runs exec'd from the ~11 MiB
  Python spawner, as before the exec helper), to show what the helper changes in peak RSS and time;
- ``perfkit_no_cgroup``: the same with ``PERFKIT_MEMORY_CGROUP=0`` (no memory cgroup), to
  show what the tree's peak-memory column costs inside the measured interval;
- GNU ``/usr/bin/time -f %M`` of the command: the peak-RSS reference.

Goals: perfkit's reported floor within 10 % of hyperfine's; total time within 2x of hyperfine's;
``/bin/true``'s peak RSS under 3 MiB.

    python benchmarks/bench_measure.py [--runs 500] [--rounds 3]

Prints a table and writes ``benchmarks/results/measure.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import importlib  # noqa: E402

from _results import interleaved_rounds, write_results  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

import perfkit  # noqa: E402

# the module, not the function perfkit re-exports under the same name
measure_module = importlib.import_module("perfkit.collect.measure")

COMMAND = "/bin/true"


def bare_loop(runs: int) -> dict:
    """The floor: posix_spawn + wait4, timed per run, in this (large) Python process."""
    times = []
    t_start = time.perf_counter()
    for _ in range(runs):
        t0 = time.perf_counter()
        pid = os.posix_spawn(COMMAND, [COMMAND], os.environ)
        os.wait4(pid, 0)
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "total_s": time.perf_counter() - t_start}


def perfkit_run(runs: int, *, fsync_every_run: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        interval = 0.0 if fsync_every_run else measure_module.JOURNAL_FSYNC_INTERVAL_S
        with mock.patch.object(measure_module, "JOURNAL_FSYNC_INTERVAL_S", interval):
            t0 = time.perf_counter()
            ds = perfkit.measure({"true": COMMAND}, out=Path(tmp) / "ds", runs=runs, shell=False,
                                 progress=False)
            total = time.perf_counter() - t0
    ok = ds.runs[ds.runs["status"] == "ok"]
    return {
        "median_s": float(ok["wall_s"].median()),
        "total_s": total,
        "ok_runs": int(len(ok)),
        "max_rss_kib_median": float(ok["max_rss_kib"].median()),
        "spawner_rss_kib": ds.meta.get("spawner_rss_kib"),
    }


def perfkit_no_helper(runs: int) -> dict:
    process = importlib.import_module("perfkit.collect.process")
    with mock.patch.dict(os.environ, {"PERFKIT_EXEC_HELPER": "0"}), \
            mock.patch.object(process, "_helper_cache", None):
        return perfkit_run(runs, fsync_every_run=False)


def perfkit_no_cgroup(runs: int) -> dict:
    with mock.patch.dict(os.environ, {"PERFKIT_MEMORY_CGROUP": "0"}):
        return perfkit_run(runs, fsync_every_run=False)


def gnu_time_rss(runs: int = 20) -> dict | None:
    if not os.access("/usr/bin/time", os.X_OK):
        return None
    values = []
    for _ in range(runs):
        out = subprocess.run(["/usr/bin/time", "-f", "%M", COMMAND], capture_output=True, text=True)
        values.append(int(out.stderr.split()[-1]))
    return {"max_rss_kib_median": float(statistics.median(values))}


def hyperfine_run(runs: int) -> dict | None:
    exe = shutil.which("hyperfine")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "h.json"
        t0 = time.perf_counter()
        subprocess.run(
            [exe, "-N", "--runs", str(runs), "--style", "none", "--export-json", str(export), COMMAND],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        total = time.perf_counter() - t0
        data = json.loads(export.read_text())
    result = data["results"][0]
    return {"median_s": float(result["median"]), "total_s": total}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seed", type=int, default=0, help="seed of the tools' order in each round")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "measure.json"))
    args = parser.parse_args(argv)

    version = None
    if shutil.which("hyperfine"):
        version = subprocess.run(["hyperfine", "--version"], capture_output=True, text=True).stdout.strip()
    load_at_start = os.getloadavg()[0]
    tools = {
        "bare": lambda: bare_loop(args.runs),
        "perfkit": lambda: perfkit_run(args.runs, fsync_every_run=False),
        "perfkit_fsync_every_run": lambda: perfkit_run(args.runs, fsync_every_run=True),
        "perfkit_no_helper": lambda: perfkit_no_helper(args.runs),
        "perfkit_no_cgroup": lambda: perfkit_no_cgroup(args.runs),
        "hyperfine": lambda: hyperfine_run(args.runs),
    }
    rounds = interleaved_rounds(tools, args.rounds, args.seed)

    def med(tool: str, key: str) -> float | None:
        values = [r[tool][key] for r in rounds if r[tool] is not None]
        return statistics.median(values) if values else None

    summary = {tool: {"median_s": med(tool, "median_s"), "total_s": med(tool, "total_s")}
               for tool in tools}
    summary["perfkit"]["max_rss_kib_median"] = med("perfkit", "max_rss_kib_median")
    summary["perfkit"]["spawner_rss_kib"] = med("perfkit", "spawner_rss_kib")
    summary["perfkit_no_helper"]["max_rss_kib_median"] = med("perfkit_no_helper", "max_rss_kib_median")
    summary["perfkit_no_helper"]["spawner_rss_kib"] = med("perfkit_no_helper", "spawner_rss_kib")
    summary["gnu_time"] = gnu_time_rss()
    goals: dict[str, object] = {}
    if summary["hyperfine"]["median_s"] is not None:
        # ratios within each round (tools run back to back) cancel slow drift of a shared machine;
        # the headline is their median over rounds
        def ratio(tool: str, key: str) -> list[float]:
            return [r[tool][key] / r["hyperfine"][key] for r in rounds]

        floor_ratios = ratio("perfkit", "median_s")
        total_ratios = ratio("perfkit", "total_s")
        floor_ratio = statistics.median(floor_ratios)
        total_ratio = statistics.median(total_ratios)
        total_ratio_fsync = statistics.median(ratio("perfkit_fsync_every_run", "total_s"))
        goals = {
            "floor_ratio_per_round": floor_ratios,
            "total_ratio_per_round": total_ratios,
            "floor_ratio_vs_hyperfine": floor_ratio,
            "floor_within_10pct": abs(floor_ratio - 1) <= 0.10,
            "total_ratio_vs_hyperfine": total_ratio,
            "total_within_2x": total_ratio <= 2.0,
            "total_ratio_vs_hyperfine_with_fsync_every_run": total_ratio_fsync,
            "floor_ratio_vs_hyperfine_no_helper": statistics.median(ratio("perfkit_no_helper", "median_s")),
            "floor_ratio_vs_hyperfine_no_cgroup": statistics.median(ratio("perfkit_no_cgroup", "median_s")),
        }
    else:
        goals = {"note": "hyperfine not installed: comparison skipped"}
    goals["true_rss_under_3mib"] = summary["perfkit"]["max_rss_kib_median"] < 3 * 1024
    fsync_cost_per_run = (
        summary["perfkit_fsync_every_run"]["total_s"] - summary["perfkit"]["total_s"]
    ) / args.runs
    result = {
        "benchmark": "measure",
        "command": COMMAND,
        "runs": args.runs,
        "rounds": args.rounds,
        "host": platform.node(),
        "kernel": platform.release(),
        "cpu_count": os.cpu_count(),
        "load_avg_1m": os.getloadavg()[0],
        "load_avg_1m_at_start": load_at_start,
        "python": platform.python_version(),
        "hyperfine_version": version,
        "summary": summary,
        "fsync_cost_per_run_s": fsync_cost_per_run,
        "goals": goals,
        "rounds_detail": rounds,
    }
    out = write_results(args.out, result)

    def fmt(x: float | None, scale: float = 1e3, unit: str = "ms") -> str:
        return "n/a" if x is None else f"{x * scale:8.3f} {unit}"

    print(f"{COMMAND}, {args.runs} runs x {args.rounds} rounds (medians over rounds; ratios paired "
          "within rounds); "
          f"load avg {result['load_avg_1m_at_start']:.2f} -> {result['load_avg_1m']:.2f}")
    print(f"{'':26}{'median per run':>16}{'total':>14}")
    for tool in tools:
        s = summary[tool]
        if s.get("median_s") is None and tool != "hyperfine":
            continue
        print(f"{tool:26}{fmt(s['median_s']):>16}{fmt(s['total_s'], 1, 's'):>14}")
    for tool in ("perfkit", "perfkit_no_helper"):
        print(f"{tool} peak RSS of {COMMAND}: {summary[tool]['max_rss_kib_median']:.0f} KiB "
              f"(floor {summary[tool]['spawner_rss_kib']:.0f} KiB)")
    if summary["gnu_time"]:
        print(f"GNU time peak RSS of {COMMAND}: {summary['gnu_time']['max_rss_kib_median']:.0f} KiB")
    print(f"an fsync per journal line would cost: {fsync_cost_per_run * 1e3:.3f} ms per run")
    for key, value in goals.items():
        if isinstance(value, list):
            value = "[" + ", ".join(f"{v:.2f}" for v in value) + "]"
        print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
