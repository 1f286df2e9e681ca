"""What does ``perfkit measure --outputs`` cost next to a real orchestrator run? Side by side.

One collection with the real hook: ``perfkit.measure`` runs the real orchestrator (``start steady``,
two command stages) N times (default 15) in a fresh workspace, with ``--orchestrator-root`` (which
records every run manifest, no flag needed) and ``--outputs`` GLOBs that match every file the
orchestrator writes (``.runs/**`` and ``out/**``: each run lists the whole growing workspace twice
and hashes the 18 or so files the run wrote). The recorder (:class:`perfkit.collect.outputs.OutputsRecorder`)
is wrapped to time its own ``before_run`` and ``after_run`` work in each run; the orchestrator's
wall time comes from the same runs (``wall_s``). Prints the median of each and the ratio
hook/run (target under 5 %). Then, end to end: ``--rounds`` collections of ``--e2e-runs`` runs
with and without ``--outputs``, alternated in the same workspace, each timed whole (the median
time per run of each; this includes perfkit's own per-collection work, where the one listing made
when the recorder starts costs most in a workspace of many files). Writes
benchmarks/results/outputs.json.

    .venv/bin/python benchmarks/bench_outputs.py --orchestrator PATH/TO/codex-orchestrator [--runs 15]

(PATH: ``node_modules/.bin/codex-orchestrator`` of an ``npm install @kbediako/codex-orchestrator``;
the test fixture ``orchestrator_bin`` installs one under /tmp/pytest-of-*/.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _results import write_results  # noqa: E402

from perfkit.collect.measure import measure  # noqa: E402
from perfkit.collect.outputs import OutputsRecorder  # noqa: E402
from perfkit.data.sources import read_outputs  # noqa: E402

CONFIG = {"pipelines": [{"id": "steady", "title": "Steady", "stages": [
    {"kind": "command", "id": "one", "title": "One", "command": "echo one"},
    {"kind": "command", "id": "two", "title": "Two", "command": "echo two"},
]}]}
GLOBS = [".runs/**", "out/**"]


class TimedRecorder(OutputsRecorder):
    """The real recorder, timing its own work per run (before + after the timed command)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.before_s = 0.0
        self.per_run: list[float] = []

    def before_run(self) -> None:
        t0 = time.perf_counter()
        super().before_run()
        self.before_s = time.perf_counter() - t0

    def __call__(self, ctx):
        t0 = time.perf_counter()
        extras = super().__call__(ctx)
        self.per_run.append(self.before_s + time.perf_counter() - t0)
        return extras


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orchestrator", required=True)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=4,
                        help="alternated collections with and without --outputs (each)")
    parser.add_argument("--e2e-runs", type=int, default=5, help="runs per alternated collection")
    args = parser.parse_args()
    ws = Path(tempfile.mkdtemp(prefix="bench-outputs-"))
    (ws / "codex.orchestrator.json").write_text(json.dumps(CONFIG))
    recorder = TimedRecorder(GLOBS, ws, relist=False)  # as measure() makes it without --prepare
    command = [str(Path(args.orchestrator).resolve()), "start", "steady", "--format", "json",
               "--task", "b"]
    ds = measure({"orchestrator": command}, out=ws.parent / (ws.name + "-data"), runs=args.runs,
                 cwd=ws, progress=False, orchestrator_root=ws,
                 before_run=[recorder.before_run], after_run=[recorder])
    wall = ds.runs["wall_s"].tolist()
    outputs = read_outputs(ds)
    files = outputs[outputs["source"].isin(GLOBS)].groupby("run").size()
    ratios = [h / w for h, w in zip(recorder.per_run, wall)]
    # end to end, side by side: one-run collections with and without --outputs, alternated
    with_s, without_s = [], []
    for k in range(args.rounds):
        for flagged in ((True, False) if k % 2 else (False, True)):
            t0 = time.perf_counter()
            measure({"orchestrator": command}, out=ws.parent / f"{ws.name}-e2e-{k}-{flagged}",
                    runs=args.e2e_runs, cwd=ws, progress=False, outputs=GLOBS if flagged else ())
            (with_s if flagged else without_s).append((time.perf_counter() - t0) / args.e2e_runs)
    result = {"runs": args.runs, "globs": GLOBS,
              "run_wall_s_median": statistics.median(wall),
              "hook_s_median": statistics.median(recorder.per_run),
              "hook_s_max": max(recorder.per_run),
              "files_per_run_median": float(files.median()),
              "manifest_rows": int((outputs["source"] == "orchestrator:manifest").sum()),
              "hook_over_run_median": statistics.median(ratios),
              "hook_over_run_last": ratios[-1], "target": 0.05,
              "e2e_rounds": args.rounds, "e2e_runs": args.e2e_runs,
              "e2e_with_outputs_s_median": statistics.median(with_s),
              "e2e_without_outputs_s_median": statistics.median(without_s),
              "e2e_with_over_without": statistics.median(with_s) / statistics.median(without_s) - 1,
              "loadavg": os.getloadavg()}
    print(f"orchestrator run {result['run_wall_s_median']:.3f} s (median of {args.runs}); "
          f"--outputs hook {result['hook_s_median'] * 1000:.1f} ms per run for "
          f"{result['files_per_run_median']:.0f} files: {result['hook_over_run_median']:.2%} of a "
          f"run (last run, largest workspace: {result['hook_over_run_last']:.2%}; target < 5 %)")
    print(f"end to end, {args.rounds} alternated {args.e2e_runs}-run collections each, time per "
          f"run: with --outputs {result['e2e_with_outputs_s_median']:.3f} s, without "
          f"{result['e2e_without_outputs_s_median']:.3f} s ({result['e2e_with_over_without']:+.2%}; "
          "a difference of medians of whole collections: noisy on a busy machine)")
    print(write_results("outputs.json", result))


if __name__ == "__main__":
    main()
