"""Report time and size against the length of variant names (10 characters vs 100 kB), side by side.

A report repeats each variant name in every chart point and table row; before names were shortened
for display, 100 kB names took 3 min 28 s and made a 14.7 MB page (issue 13). Run:

    .venv/bin/python benchmarks/bench_long_names.py [--lengths 10 100000] [--runs 20]

Prints one line per length (seconds, report.html bytes, summary.md bytes) and the ratio of the
longest to the shortest, and writes benchmarks/results/long_names.json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402

from perfkit.data import store  # noqa: E402
from perfkit.data.schema import runs_frame  # noqa: E402


def dataset(folder: Path, length: int, runs: int) -> tuple[str, str]:
    rng = np.random.default_rng(0)
    base, cand = "b" * (length - 1) + "1", "c" * (length - 1) + "2"
    rows, order = [], 1
    for i in range(1, runs + 1):
        for name, mu in ((base, 1.0), (cand, 0.8)):
            rows.append({"variant": name, "run": i, "order": order, "status": "ok",
                         "wall_s": mu * rng.lognormal(0, 0.05), "max_rss_kib": 1000})
            order += 1
    store.save(folder, runs_frame(rows), meta={"variants": {base: {"command": "x"},
                                                            cand: {"command": "y"}}})
    return base, cand


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 100_000])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="perfkit-bench-names-") as tmp:
        for length in args.lengths:
            folder = Path(tmp) / f"ds{length}"
            base, cand = dataset(folder, length, args.runs)
            out = Path(tmp) / f"report{length}"
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "perfkit", "report", str(folder), "--out",
                                   str(out), "--baseline", base, "--candidate", cand],
                                  capture_output=True, text=True)
            seconds = time.perf_counter() - t0
            if proc.returncode not in (0, 1, 3):
                sys.exit(f"report failed for length {length}: {proc.stderr.strip()}")
            row = {"name_chars": length, "seconds": round(seconds, 2),
                   "html_bytes": (out / "report.html").stat().st_size,
                   "summary_bytes": (out / "summary.md").stat().st_size,
                   "summary_has_table": "| wall" in (out / "summary.md").read_text()}
            results.append(row)
            print(f"names of {length:>7,} chars: {seconds:6.1f} s, report.html "
                  f"{row['html_bytes']:>10,} B, summary.md {row['summary_bytes']:>6,} B, "
                  f"table kept: {row['summary_has_table']}")
    ratio = results[-1]["seconds"] / results[0]["seconds"]
    print(f"time ratio longest/shortest: {ratio:.2f}x")
    path = write_results("long_names.json", {"runs_per_variant": args.runs, "results": results,
                                             "time_ratio": round(ratio, 3)})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
