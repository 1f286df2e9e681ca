"""Soak: one long collection (5,000 runs by default), perfkit's own memory and descriptors sampled.

Promise: perfkit's own memory stays flat over a long collection (nothing per run is kept in
memory: every run goes to the journal) and no file descriptor leaks (spawner pipes, journal, lock).

    .venv/bin/python benchmarks/soak.py [--runs 5000]

Prints RSS and open descriptors every 10 % of the runs, the growth from 10 % to the end, the
descriptors before and after, and writes benchmarks/results/soak.json.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402

from perfkit.collect.measure import measure  # noqa: E402


def rss_kib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def soak(total_runs: int, folder: Path) -> dict:
    """Measure two variants (``true`` and ``sh -c :``) for ``total_runs`` runs in all."""
    samples: list[dict] = []
    every = max(1, total_runs // 10)
    seen = [0]

    def sample(ctx) -> None:
        seen[0] += 1
        if seen[0] % every == 0:
            gc.collect()
            samples.append({"runs": seen[0], "rss_kib": rss_kib(), "fds": open_fds()})
            print(f"  {seen[0]:>6} runs: RSS {samples[-1]['rss_kib']:>8,} KiB, "
                  f"{samples[-1]['fds']} descriptors", flush=True)

    gc.collect()
    fds_before = open_fds()
    t0 = time.perf_counter()
    ds = measure({"a": "true", "b": ":"}, out=folder, runs=total_runs // 2, progress=False,
                 after_run=[sample])
    seconds = time.perf_counter() - t0
    gc.collect()
    fds_after = open_fds()
    first, last = samples[0], samples[-1]
    return {
        "runs": len(ds.runs), "seconds": round(seconds, 1),
        "rss_kib_at_10pct": first["rss_kib"], "rss_kib_at_end": last["rss_kib"],
        "rss_growth_kib": last["rss_kib"] - first["rss_kib"],
        "fds_before": fds_before, "fds_after": fds_after,
        "fds_during_max": max(s["fds"] for s in samples), "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5000, help="runs in all (5000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="perfkit-soak-") as tmp:
        result = soak(args.runs, Path(tmp) / "ds")
    print(f"{result['runs']} runs in {result['seconds']} s; RSS {result['rss_kib_at_10pct']:,} KiB "
          f"at 10 % → {result['rss_kib_at_end']:,} KiB at the end "
          f"(growth {result['rss_growth_kib']:+,} KiB); descriptors {result['fds_before']} before, "
          f"{result['fds_after']} after (max {result['fds_during_max']} during)")
    print(f"wrote {write_results('soak.json', result)}")


if __name__ == "__main__":
    main()
