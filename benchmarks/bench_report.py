#!/usr/bin/env python3
"""perfkit report, end to end: time, file sizes, and whether the HTML draws its charts offline.

Runs the real command (``python -m perfkit report``) in a subprocess, as CI does, several times
for the comparison and the hotspot report on the datasets in data/, and writes
benchmarks/results/report.json (plus a screenshot, report.png, when Debian's chromium is
installed). The budget (issue 15): under 10 s end to end for the demo dataset on the 2-core
machine; HTML under 3 MB. CPU seconds (the command and its reaped kernel) are what an idle
machine needs at least: compare them when the machine is busy.

    python benchmarks/bench_report.py [--repeat 3] [--case compare]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# the perfkit being measured: under bench_against.py --script-here this script is another
# checkout's copy, and the command must run the perfkit that was imported, not this file's
import perfkit  # noqa: E402

ROOT = Path(perfkit.__file__).resolve().parent.parent

from _results import write_results  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from perfkit.present.html_export import network_references  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
CASES = {
    "compare": [str(ROOT / "data" / "demo-fix")],
    "compare-two-datasets": [str(ROOT / "data" / "orchestrator-before"),
                             str(ROOT / "data" / "orchestrator-after")],
    "hotspots": ["--hotspots", str(ROOT / "data" / "orchestrator-measured")],
}


def chromium_check(html: Path, shot: Path) -> dict:
    exe = shutil.which("chromium")
    if exe is None:
        return {"chromium": None}
    with tempfile.TemporaryDirectory() as profile:
        base = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--user-data-dir={profile}", "--virtual-time-budget=10000"]
        dom = subprocess.run([*base, "--dump-dom", html.as_uri()], capture_output=True,
                             text=True, timeout=120).stdout
        subprocess.run([*base, "--window-size=1100,4200", f"--screenshot={shot}", html.as_uri()],
                       capture_output=True, timeout=120)
    return {"chromium": exe, "charts": len(re.findall(r'class="perfkit-chart[^"]*"', dom)),
            "charts_drawn_by_vega": dom.count('data-perfkit-rendered="vega"'),
            "screenshot": str(shot) if shot.exists() else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--case", choices=list(CASES), action="append",
                    help="only these cases (repeatable; default: all)")
    opts = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out: dict = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "cases": {}}
    for name, args in CASES.items():
        if opts.case and name not in opts.case:
            continue
        times, cpu, loads, code = [], [], [], None
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(opts.repeat):
                folder = Path(tmp) / f"run{i}"
                loads.append(os.getloadavg()[0])
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                # cwd: `python -m` puts the working folder first on sys.path
                done = subprocess.run([sys.executable, "-m", "perfkit", "report", *args, "--out",
                                       str(folder)], capture_output=True, text=True, env=env,
                                      cwd=ROOT)
                times.append(time.perf_counter() - start)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                # CPU of the command and its kernel (both reaped children): what an idle machine
                # would need at least, whatever else is running on this one
                cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
                code = done.returncode
                if code not in (0, 1, 3):
                    print(done.stderr, file=sys.stderr)
                    return 1
            html = folder / "report.html"
            page = html.read_text(encoding="utf-8")
            case = {
                "exit_code": code,
                "seconds": [round(t, 2) for t in times],
                "median_s": round(statistics.median(times), 2),
                "cpu_seconds": [round(t, 2) for t in cpu],
                "median_cpu_s": round(statistics.median(cpu), 2),
                "load_average_1min_before": [round(x, 2) for x in loads],
                "html_bytes": html.stat().st_size,
                "notebook_bytes": (folder / "report.ipynb").stat().st_size,
                "summary_bytes": (folder / "summary.md").stat().st_size,
                "network_references": network_references(page),
            }
            if name == "compare":
                case.update(chromium_check(html, RESULTS / "report.png"))
        out["cases"][name] = case
        print(f"{name:22s} median {case['median_s']:6.2f} s wall, {case['median_cpu_s']:5.2f} s CPU "
              f"(walls {', '.join(map(str, case['seconds']))}; load {', '.join(map(str, case['load_average_1min_before']))})  "
              f"html {case['html_bytes'] / 1e6:.2f} MB  summary {case['summary_bytes']} B  "
              f"network refs {len(case['network_references'])}"
              + (f"  charts drawn {case.get('charts_drawn_by_vega')}/{case.get('charts')}"
                 if "charts" in case else ""))
    print(f"wrote {write_results('report.json', out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
