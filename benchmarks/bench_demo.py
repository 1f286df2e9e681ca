"""How long does `perfkit demo` take, and how large is the effect it measures on this machine?

Runs the demo's phases one after the other in one process and times each:

    measure   the interleaved timed runs of baseline and candidate (+ warm-ups), then the traced
              pass (strace, when installed) — perfkit.measure
    compare   the verdict alone (bootstrap, 10,000 resamples) — perfkit.compare
    report    the notebook report (papermill + HTML export) — perfkit.present.report.report

and records the wall-time change the demo measured (median, 95 % interval), the verdict, the
manifest-write counts of the traced pass and the load average, since the effect depends on what an
fsync costs here and on how busy the machine is. Writes benchmarks/results/demo.json.

    /work/venv/bin/python benchmarks/bench_demo.py [--runs 20] [--warmup 2] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from _results import write_results  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from perfkit.demo import (  # noqa: E402
    MANIFEST_GLOB,
    DemoConfig,
    _stages_hook,
    demo_commands,
    manifest_writes,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    config = DemoConfig.quick() if args.quick else DemoConfig()
    if args.runs is not None or args.warmup is not None:
        import dataclasses

        config = dataclasses.replace(
            config,
            runs=args.runs if args.runs is not None else config.runs,
            warmup=args.warmup if args.warmup is not None else config.warmup,
        )

    import shutil

    from perfkit.analysis.verdict import compare
    from perfkit.collect.measure import measure
    from perfkit.present.report import report

    load_before = os.getloadavg()
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="perfkit-bench-demo-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "work").mkdir()
        commands = demo_commands(config, tmp_path / "work")
        traced = shutil.which("strace") is not None and config.trace_runs > 0
        t0 = time.perf_counter()
        dataset = measure(
            commands, out=tmp_path / "dataset", runs=config.runs, warmup=config.warmup,
            seed=config.seed, cwd=tmp_path / "work", progress=False,
            after_run=[_stages_hook(tmp_path / "work")],
            **({"trace_writes": {"manifest": MANIFEST_GLOB}, "trace_runs": config.trace_runs}
               if traced else {}),
        )
        timings["measure_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = compare(dataset)
        timings["compare_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        files = report(tmp_path / "dataset", out=tmp_path / "report")
        timings["report_s"] = time.perf_counter() - t0
        html_bytes = files.html.stat().st_size
    row = result.row("wall_s")
    out = {
        "benchmark": "demo",
        "config": config.__dict__,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "total_s": round(sum(timings.values()), 3),
        "wall_s": {
            "baseline_median": float(row["baseline"]),
            "candidate_median": float(row["candidate"]),
            "change": float(row["change"]),
            "ci_low": float(row["ci_low"]),
            "ci_high": float(row["ci_high"]),
            "verdict": str(row["verdict"]),
        },
        "overall": result.overall,
        "report_overall": files.overall,
        "manifest_writes": manifest_writes(dataset.runs),
        "report_html_bytes": html_bytes,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    write_results("demo.json", out)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
