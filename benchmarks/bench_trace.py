"""What does the traced pass cost? The real orchestrator's pipeline, untraced vs under strace.

Installs ``@kbediako/codex-orchestrator`` with npm into --prefix (once; reused afterwards), makes
a workspace with the test pipeline ``quick`` (tests/fixtures/orchestrator/codex.orchestrator.json:
three commands and a sub-pipeline), then runs it --rounds times in each of three modes,
interleaved round by round (the workspace's history grows alike for all):

    plain        the command alone
    traced       perfkit.collect.trace.trace_run: strace -f --seccomp-bpf -y, only the traced syscalls
    traced_nobpf the same strace command without --seccomp-bpf (what the filter saves)
    traced_no_files  strace as before the per-file table (no write/pwrite/writev/truncate/execve,
                 default -s), its log parsed: what the per-file table adds is traced / this

For ``traced`` and ``traced_no_files`` the time includes parsing the log (the whole traced pass).

Wall time of each is measured the same way (perf_counter around the child, output to
/dev/null). Prints medians and ratios; writes benchmarks/results/trace.json.

    /work/venv/bin/python benchmarks/bench_trace.py [--rounds 15] [--prefix DIR]
"""

from __future__ import annotations

import argparse
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

from perfkit.collect.strace import TRACED_SYSCALLS, parse_strace  # noqa: E402
from perfkit.collect.trace import strace_argv, trace_run  # noqa: E402

#: the syscalls the per-file table added to the traced set
FILE_TABLE_SYSCALLS = {"write", "pwrite64", "writev", "pwritev", "?pwritev2", "truncate",
                       "ftruncate", "execve"}

PACKAGE = "@kbediako/codex-orchestrator@0.2.1"
CONFIG = ROOT / "tests" / "fixtures" / "orchestrator" / "codex.orchestrator.json"
GLOB = ".runs/*/cli/*/manifest.json"


def install(prefix: Path) -> Path:
    exe = prefix / "node_modules" / ".bin" / "codex-orchestrator"
    if not exe.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                        "--prefix", str(prefix), PACKAGE], check=True)
    return exe


def timed(argv: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--prefix", default=str(Path(tempfile.gettempdir()) / "perfkit-bench-orchestrator"))
    parser.add_argument("--out", default=str(HERE / "results" / "trace.json"))
    args = parser.parse_args(argv)
    for tool in ("node", "npm", "strace"):
        if shutil.which(tool) is None:
            print(f"bench_trace: {tool} is not installed", file=sys.stderr)
            return 2
    exe = install(Path(args.prefix))
    command = [str(exe), "start", "quick", "--format", "json", "--task", "bench"]
    times: dict[str, list[float]] = {"plain": [], "traced": [], "traced_nobpf": [],
                                     "traced_no_files": []}
    writes: list[int] = []
    with tempfile.TemporaryDirectory(prefix="perfkit-bench-trace-") as tmp:
        ws = Path(tmp) / "ws"
        ws.mkdir()
        shutil.copy(CONFIG, ws / "codex.orchestrator.json")
        timed(command, ws)  # warm-up: disk cache, first-run setup
        nobpf = [a for a in strace_argv(Path(tmp) / "nobpf.log", command) if a != "--seccomp-bpf"]
        old_log = Path(tmp) / "old.log"
        old_set = "trace=" + ",".join(c for c in TRACED_SYSCALLS if c not in FILE_TABLE_SYSCALLS)
        old = strace_argv(old_log, command)
        old[old.index("-s"):old.index("-s") + 2] = []
        old[old.index("-e") + 1] = old_set
        for _ in range(args.rounds):
            times["plain"].append(timed(command, ws))
            t0 = time.perf_counter()
            counts = trace_run(command, cwd=ws, write_globs={"manifest": GLOB})
            times["traced"].append(time.perf_counter() - t0)
            assert counts.status == "ok", counts.stderr
            t0 = time.perf_counter()
            subprocess.run(old, cwd=ws, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=True)
            parse_strace(old_log.read_text(errors="surrogateescape"), cwd=ws,
                         write_globs={"manifest": GLOB})
            times["traced_no_files"].append(time.perf_counter() - t0)
            writes.append(counts.writes["manifest"])
            times["traced_nobpf"].append(timed(nobpf, ws))
    med = {k: statistics.median(v) for k, v in times.items()}
    report = {
        "benchmark": "trace",
        "package": PACKAGE,
        "pipeline": "quick (3 commands + 1 sub-pipeline)",
        "rounds": args.rounds,
        "python": platform.python_version(),
        "median_s": med,
        "ratio_traced_to_plain": med["traced"] / med["plain"],
        "ratio_nobpf_to_plain": med["traced_nobpf"] / med["plain"],
        "ratio_file_table_cost": med["traced"] / med["traced_no_files"],
        "ratio_file_table_cost_per_round": [a / b for a, b in zip(times["traced"],
                                                                 times["traced_no_files"])],
        "manifest_writes_per_run": sorted(set(writes)),
        "times_s": times,
    }
    print(f"{PACKAGE}, pipeline quick, {args.rounds} interleaved rounds")
    for name, value in med.items():
        print(f"  {name:13s} median {value * 1000:7.1f} ms   x{value / med['plain']:.2f}")
    print(f"  the per-file table adds x{report['ratio_file_table_cost']:.3f} to the traced pass "
          f"(goal < x1.10; median of paired rounds "
          f"x{statistics.median(report['ratio_file_table_cost_per_round']):.3f})")
    print(f"  manifest writes per run (cli manifests, run + sub-run): {report['manifest_writes_per_run']}")
    out = write_results(args.out, report)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
