"""How fast does perfkit read an orchestrator workspace? Side by side with its floors.

Builds a workspace of N runs (default 10,000) in a temporary folder: every run folder gets a
manifest copied from a real one (tests/fixtures/orchestrator, ~12 KB, 4 stages, with new run ids and
times) and the other 22 files of a real run folder at their real sizes (sparse, so the disk stays
empty). Then, on a warm cache, times in interleaved rounds (so a change in the machine's load hits
every contender alike):

    floor_json_load    for each manifest path (known in advance): json.load(open(path))
    floor_listing      a bare recursive os.scandir + stat of every file of the workspace
    floor_find_c       GNU find printing size, mtime and path of every file (the same system
                       calls from C: what listing costs with no Python at all); skipped without find
    manifests_only     perfkit.read_orchestrator(root, artifacts=False)
    full               perfkit.read_orchestrator(root)  the default: also lists ~23 files per run
                       (both on 2 forked processes by default on Linux with 2+ CPUs)
    *_1_process        the same with workers=1
    baseline_*         the same two calls of another orchestrator.py (--baseline FILE), e.g. the
                       one on main, to measure a change side by side

The floor of ``full`` is the sum of json.load and the listing. CPU time counts forked children
(find, worker processes). Prints runs per second of wall time and per CPU-second (best of
--repeat) and the load average; writes benchmarks/results/ingest.json.

    /work/venv/bin/python benchmarks/bench_ingest.py [--runs 10000] [--repeat 3]
        [--workspace /tmp/ws] [--baseline /tmp/orchestrator_main.py]
"""

from __future__ import annotations

import argparse
import importlib.util
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from _results import write_results  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from perfkit.data.orchestrator import read_orchestrator  # noqa: E402

DATA = ROOT / "tests" / "data" / "orchestrator"
TEMPLATE_RUN = "2026-11-24T15-11-03-585Z-8dafdb44"


def build_workspace(root: Path, runs: int, tasks: int = 10) -> list[str]:
    """Write ``runs`` run folders under ``root``; return their manifest paths."""
    template_path = DATA / "workspace/.runs/fixture-task/cli" / TEMPLATE_RUN / "manifest.json"
    template = template_path.read_text(encoding="utf-8")
    files = json.loads((DATA / "run_folder_files.json").read_text())
    pipelines = ("quick", "plain", "diagnostics")
    paths = []
    for i in range(runs):
        task = f"task-{i % tasks}"
        minute, second = divmod(i, 60)
        run_id = f"2026-11-24T{10 + minute // 60:02d}-{minute % 60:02d}-{second:02d}-000Z-{i:08x}"
        text = (
            template.replace(TEMPLATE_RUN, run_id)
            .replace("fixture-task", task)
            .replace('"pipeline_id": "quick"', f'"pipeline_id": "{pipelines[i % 3]}"')
        )
        folder = root / ".runs" / task / "cli" / run_id
        for rel, size in files:
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if rel == "manifest.json":
                path.write_text(text, encoding="utf-8")
            else:
                with open(path, "wb") as fh:
                    fh.truncate(size)  # a real size without using the disk
        paths.append(str(folder / "manifest.json"))
    for t in range(tasks):
        (root / "out" / f"task-{t}").mkdir(parents=True, exist_ok=True)
        (root / "out" / f"task-{t}" / "runs.json").write_text("[]")
        (root / ".runs" / f"task-{t}" / "metrics.json").write_text("{}")
    return paths


def floor_json_load(paths: list[str]) -> None:
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            json.load(fh)


def _scandir_stat(path: str) -> int:
    n = 0
    with os.scandir(path) as it:
        for entry in it:
            if entry.is_dir(follow_symlinks=False):
                n += _scandir_stat(entry.path)
            else:
                entry.stat()
                n += 1
    return n


def floor_listing(root: Path) -> None:
    _scandir_stat(str(root))


def floor_find_c(root: Path) -> None:
    subprocess.run(
        ["find", str(root), "-printf", "%s %T@ %P\n"], stdout=subprocess.DEVNULL, check=True
    )


def _cpu() -> float:
    t = os.times()  # this process (all threads) and its waited-for children
    return t.user + t.system + t.children_user + t.children_system


def interleaved(repeat: int, contenders: dict) -> dict[str, tuple[float, float, float]]:
    """Best wall time, best CPU time and median wall time of ``repeat`` calls of each contender, run in rounds.

    CPU time is reported as well because a shared machine's load inflates wall time."""
    walls: dict[str, list[float]] = {name: [] for name in contenders}
    cpus: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, fn in contenders.items():
            t0, c0 = time.perf_counter(), _cpu()
            fn()
            walls[name].append(time.perf_counter() - t0)
            cpus[name].append(_cpu() - c0)
    return {
        name: (min(walls[name]), min(cpus[name]), statistics.median(walls[name]))
        for name in contenders
    }


def _load_module(path: str):
    spec = importlib.util.spec_from_file_location("perfkit_orchestrator_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=str(HERE / "results" / "ingest.json"))
    parser.add_argument("--workspace", help="build the workspace here and keep it; reuse it if it "
                        "is already there (building 10,000 runs takes a while on a slow disk)")
    parser.add_argument("--baseline", help="another orchestrator.py to time side by side")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="perfkit-bench-ingest-") as tmp:
        root = Path(args.workspace or tmp)
        t0 = time.perf_counter()
        marker = root / f".built-{args.runs}"
        if marker.exists():
            paths = sorted(str(p) for p in root.glob(".runs/*/cli/*/manifest.json"))
        else:
            paths = build_workspace(root, args.runs)
            marker.touch()
        built = time.perf_counter() - t0
        sizes = [os.path.getsize(p) for p in paths]
        # warm the cache, and check the workspace reads cleanly
        check = read_orchestrator(root)
        assert len(check.runs) == args.runs and check.problems.empty, check
        floor_json_load(paths)

        contenders = {
            "floor_json_load": lambda: floor_json_load(paths),
            "floor_listing": lambda: floor_listing(root),
        }
        if shutil.which("find"):
            contenders["floor_find_c"] = lambda: floor_find_c(root)
        contenders["manifests_only"] = lambda: read_orchestrator(root, artifacts=False)
        contenders["manifests_only_1_process"] = lambda: read_orchestrator(
            root, artifacts=False, workers=1
        )
        contenders["full"] = lambda: read_orchestrator(root)
        contenders["full_1_process"] = lambda: read_orchestrator(root, workers=1)
        if args.baseline:
            base = _load_module(args.baseline).read_orchestrator
            contenders["baseline_manifests_only"] = lambda: base(root, artifacts=False)
            contenders["baseline_full"] = lambda: base(root)
        load_before = Path("/proc/loadavg").read_text().strip() if Path("/proc/loadavg").exists() else None
        timed = interleaved(args.repeat, contenders)
        load_after = Path("/proc/loadavg").read_text().strip() if Path("/proc/loadavg").exists() else None
        results = {
            name: {
                "seconds": seconds,
                "manifests_per_s": args.runs / seconds,
                "cpu_seconds": cpu,
                "manifests_per_cpu_s": args.runs / cpu,
                "median_seconds": median,
                "median_manifests_per_s": args.runs / median,
            }
            for name, (seconds, cpu, median) in timed.items()
        }

    report = {
        "benchmark": "ingest",
        "runs": args.runs,
        "manifest_bytes_mean": sum(sizes) / len(sizes),
        "files_per_run": len(json.loads((DATA / "run_folder_files.json").read_text())),
        "artifact_rows": len(check.artifacts),
        "stages": len(check.stages),
        "build_seconds": built,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "baseline": args.baseline,
        "results": results,
        # in CPU time: on a shared machine wall time mostly measures the neighbours
        "ratio_full_to_floor": results["full"]["cpu_seconds"]
        / (results["floor_json_load"]["cpu_seconds"] + results["floor_listing"]["cpu_seconds"]),
        "ratio_manifests_only_to_floor": results["manifests_only"]["cpu_seconds"]
        / results["floor_json_load"]["cpu_seconds"],
    }
    print(
        f"{args.runs} runs, manifests {report['manifest_bytes_mean']:.0f} B on average, "
        f"{report['files_per_run']} files per run (built in {built:.1f} s)"
    )
    print(
        f"  (/proc/loadavg {load_before} before, {load_after} after; {os.cpu_count()} CPUs; "
        f"best of {args.repeat} interleaved rounds)"
    )
    for name, r in results.items():
        print(
            f"  {name:25s} {r['seconds']:7.3f} s wall {r['manifests_per_s']:8,.0f} manifests/s"
            f"   | {r['cpu_seconds']:7.3f} s CPU {r['manifests_per_cpu_s']:8,.0f} per CPU-second"
            f"   | median {r['median_manifests_per_s']:8,.0f}/s wall"
        )
    print(
        f"  perfkit / floor: {report['ratio_manifests_only_to_floor']:.2f}x (manifests only), "
        f"{report['ratio_full_to_floor']:.2f}x (with artifacts, against json.load + listing), "
        "in CPU time"
    )
    out = write_results(args.out, report)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
