"""Why a run of ``/bin/true`` reads slower under perfkit than under ``hyperfine -N``: the gap.

hyperfine starts each run the moment the last one ended; perfkit recorded every run (journal, JSON
to and from its spawner) before it started the next, about 1.5–2 ms later, until its spawner ran
whole rounds back to back (its own loop, about 0.2 ms between runs). On this kind of machine (a
2-vCPU VM) a sub-millisecond command reads slower after such a gap, whoever measures it. This
benchmark separates that effect from anything perfkit does inside the measured interval, in one
run, rounds interleaved (order shuffled per round, seeded):

- ``hyperfine``: ``hyperfine -N --runs N /bin/true``, its median;
- ``loop_gap_<G>``: a C loop that does what hyperfine -N does (``posix_spawn`` + ``waitid``, timed
  around both), spinning ``G`` ms between runs; no perfkit code at all;
- ``helper_gap_<G>``: perfkit's exec helper driven from C as the spawner drives it (one helper
  started ahead, sent each run on its pipe ``G`` ms after the last run ended), the helper's
  reported wall;
- ``perfkit``: ``perfkit.measure`` itself (its median ``wall_s``).

If ``helper_gap_G`` ≈ ``loop_gap_G`` at every G, the helper adds nothing inside the interval, and
what separates perfkit from hyperfine is the gap.

    python benchmarks/bench_floor_gap.py [--runs 300] [--rounds 8] [--gaps 0,1,2]

Prints a table of medians and of ratios to hyperfine (paired within rounds, median over rounds)
and writes ``benchmarks/results/floor_gap.json``. Needs ``cc``; hyperfine rows are skipped without it.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _results import interleaved_rounds, write_results
from bench_measure import COMMAND, hyperfine_run, perfkit_run

from perfkit.collect.process import exec_helper

DRIVER_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
extern char **environ;

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}
static void spin_until(long long t) { while (now_ns() < t) {} }
static int cmp(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* driver loop GAP_NS N CMD | driver helper GAP_NS N CMD HELPER: prints the median wall, ns */
int main(int argc, char **argv) {
    int helper = strcmp(argv[1], "helper") == 0;
    long long gap = atoll(argv[2]);
    int n = atoi(argv[3]);
    char *cmd = argv[4];
    long long *wall = malloc(n * sizeof *wall);
    char *cargv[] = {cmd, NULL};
    int q[2], r[2];
    pid_t helper_pid = 0;
    if (helper) {  /* one helper serving every run, as the spawner keeps one */
        if (pipe2(q, O_CLOEXEC) || pipe2(r, O_CLOEXEC)) return 1;
        fcntl(q[0], F_SETFD, 0);  /* only the helper's own ends are inherited */
        fcntl(r[1], F_SETFD, 0);
        char qs[16], rs[16];
        snprintf(qs, sizeof qs, "%d", q[0]);
        snprintf(rs, sizeof rs, "%d", r[1]);
        char *hargv[] = {argv[5], "--serve", qs, rs, "-", NULL};
        if (posix_spawn(&helper_pid, argv[5], NULL, NULL, hargv, environ) != 0) return 1;
        close(q[0]);
        close(r[1]);
    }
    long long last_end = now_ns();
    for (int i = 0; i < n; i++) {
        if (!helper) {
            spin_until(last_end + gap);
            long long t0 = now_ns();
            pid_t pid;
            if (posix_spawn(&pid, cmd, NULL, NULL, cargv, environ) != 0) return 1;
            siginfo_t info;
            waitid(P_PID, pid, &info, WEXITED | WNOWAIT);
            wall[i] = now_ns() - t0;
            waitpid(pid, NULL, 0);
        } else {
            spin_until(last_end + gap);
            char req[4096];
            int plen = snprintf(req + 8, sizeof req - 8, "%c%s%c%s%c", 0, cmd, 0, cmd, 0);
            char head[9];
            snprintf(head, sizeof head, "%08x", plen);  /* the length, then cwd, path, argv */
            memcpy(req, head, 8);
            if (write(q[1], req, 8 + plen) != 8 + plen) return 1;
            char rep[512];
            ssize_t k = read(r[0], rep, sizeof rep - 1);
            rep[k > 0 ? k : 0] = 0;
            int pid, status;
            if (sscanf(rep, "ok %d %d %lld", &pid, &status, &wall[i]) != 3) return 1;
        }
        last_end = now_ns();
    }
    if (helper) {
        close(q[1]);
        waitpid(helper_pid, NULL, 0);
    }
    qsort(wall, n, sizeof *wall, cmp);
    printf("%lld\n", wall[n / 2]);
    return 0;
}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--gaps", default="0,1,2", help="gaps between runs, ms, comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "floor_gap.json"))
    args = parser.parse_args(argv)
    cc = shutil.which(os.environ.get("CC", "cc"))
    helper = exec_helper().path
    if cc is None or helper is None:
        print("needs a C compiler and perfkit's exec helper", file=sys.stderr)
        return 2
    gaps = [float(g) for g in args.gaps.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        source, driver = Path(tmp) / "driver.c", Path(tmp) / "driver"
        source.write_text(DRIVER_C)
        subprocess.run([cc, "-O2", "-o", str(driver), str(source)], check=True)

        def c_median(mode: str, gap_ms: float) -> float:
            cmd = [str(driver), mode, str(int(gap_ms * 1e6)), str(args.runs), COMMAND]
            if mode == "helper":
                cmd.append(helper)
            return int(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout) / 1e9

        tools = {}
        if shutil.which("hyperfine"):
            tools["hyperfine"] = lambda: hyperfine_run(args.runs)["median_s"]
        for gap in gaps:
            tools[f"loop_gap_{gap:g}ms"] = lambda gap=gap: c_median("loop", gap)
            tools[f"helper_gap_{gap:g}ms"] = lambda gap=gap: c_median("helper", gap)
        tools["perfkit"] = lambda: perfkit_run(args.runs, fsync_every_run=False)["median_s"]
        load_at_start = os.getloadavg()[0]
        rounds = interleaved_rounds(tools, args.rounds, args.seed)
    summary = {}
    for name in tools:
        row = {"median_s": statistics.median(r[name] for r in rounds)}
        if "hyperfine" in tools:
            ratios = [r[name] / r["hyperfine"] for r in rounds]
            row["ratio_to_hyperfine"] = statistics.median(ratios)
            row["ratio_per_round"] = ratios
        summary[name] = row
    result = {"benchmark": "floor_gap", "command": COMMAND, "runs": args.runs, "rounds": args.rounds,
              "gaps_ms": gaps, "host": platform.node(), "kernel": platform.release(),
              "cpu_count": os.cpu_count(), "load_avg_1m_at_start": load_at_start,
              "load_avg_1m": os.getloadavg()[0], "summary": summary, "rounds_detail": rounds}
    out = write_results(args.out, result)
    print(f"{COMMAND}, {args.runs} runs x {args.rounds} rounds; load avg "
          f"{load_at_start:.2f} -> {result['load_avg_1m']:.2f}")
    print(f"{'':20}{'median per run':>16}{'ratio to hyperfine':>20}   per round")
    for name, row in summary.items():
        ratio = row.get("ratio_to_hyperfine")
        per_round = " ".join(f"{x:.2f}" for x in row.get("ratio_per_round", []))
        print(f"{name:20}{row['median_s'] * 1e3:13.3f} ms"
              f"{'' if ratio is None else f'{ratio:20.3f}'}   {per_round}")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
