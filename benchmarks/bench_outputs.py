"""What does hashing a run's outputs cost next to a real orchestrator run? Side by side, one run.

In a fresh workspace, N times (default 15): run the real orchestrator (``start steady``, two
command stages) and time its wall clock; then, on the run folder it created, do the per-run work of
output recording — for every file: size and sha256; for every JSON file also the content hash after
masking volatile values and the structure signature (:mod:`perfkit.data.jsonshape`) — and time
that. Prints the median of each, the ratio hashing/run (the target is under 5 %), and writes
benchmarks/results/outputs.json.

    .venv/bin/python benchmarks/bench_outputs.py --orchestrator PATH/TO/codex-orchestrator [--runs 15]

(PATH: ``node_modules/.bin/codex-orchestrator`` of an ``npm install @kbediako/codex-orchestrator``;
the test fixture ``orchestrator_bin`` installs one under /tmp/pytest-of-*/.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from _results import write_results  # noqa: E402

from perfkit.data.jsonshape import content_hash, normalise, signature  # noqa: E402

CONFIG = {"pipelines": [{"id": "steady", "title": "Steady", "stages": [
    {"kind": "command", "id": "one", "title": "One", "command": "echo one"},
    {"kind": "command", "id": "two", "title": "Two", "command": "echo two"},
]}]}


def record_outputs(folder: Path) -> int:
    """The per-run work of output recording over every file under ``folder``; returns files seen."""
    n = 0
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        hashlib.sha256(data).hexdigest()
        if path.suffix == ".json":
            try:
                doc = json.loads(data)
            except ValueError:
                doc = None
            if doc is not None:
                content_hash(normalise(doc))
                signature(doc)
        n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orchestrator", required=True)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    ws = Path(tempfile.mkdtemp(prefix="bench-outputs-"))
    (ws / "codex.orchestrator.json").write_text(json.dumps(CONFIG))
    cli = ws / ".runs"
    run_s, hash_s, files = [], [], []
    for _ in range(args.runs):
        before = set(cli.glob("*/cli/*")) if cli.exists() else set()
        t0 = time.perf_counter()
        subprocess.run([args.orchestrator, "start", "steady", "--format", "json", "--task", "b"],
                       cwd=ws, capture_output=True, check=True)
        run_s.append(time.perf_counter() - t0)
        new = sorted(set(cli.glob("*/cli/*")) - before)
        t0 = time.perf_counter()
        files.append(sum(record_outputs(f) for f in new))
        hash_s.append(time.perf_counter() - t0)
    ratio = statistics.median(hash_s) / statistics.median(run_s)
    result = {"runs": args.runs, "run_wall_s_median": statistics.median(run_s),
              "hash_s_median": statistics.median(hash_s), "files_per_run": statistics.median(files),
              "hash_over_run": ratio, "target": 0.05, "loadavg": os.getloadavg()}
    print(f"orchestrator run {result['run_wall_s_median']:.3f} s, recording "
          f"{result['files_per_run']:.0f} outputs {result['hash_s_median'] * 1000:.1f} ms: "
          f"{ratio:.2%} of a run (target < 5 %)")
    print(write_results("outputs.json", result))


if __name__ == "__main__":
    main()
