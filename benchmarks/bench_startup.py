"""How long the ``perfkit`` command takes to start, against another revision, measured by perfkit.

    python benchmarks/bench_startup.py [--against REV] [--runs 15]

Checks REV (default: the commit before lazy imports, ``e89f479``) out into a temporary git
worktree and lets ``perfkit.measure`` run, interleaved, three start-ups with each side's code:
``perfkit --help``, a one-line usage error (``perfkit measure --timeout inf``) and ``import
perfkit``. Each command runs in a fresh interpreter that sees only that side's perfkit (the
editable install is set aside). ``perfkit.compare`` then gives the change in wall time with its
interval; the figures go to ``benchmarks/results/bench_startup.json``.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: Runs ``perfkit ARGS`` (or only ``import perfkit``) from ROOT, not from the editable install.
_RUNNER = (
    "import runpy, sys; "
    "sys.meta_path = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]; "
    "root, args = sys.argv[1], sys.argv[2:]; sys.path.insert(0, root); sys.argv = ['perfkit', *args]; "
    "import perfkit; "
    "args == ['--import-only'] or runpy.run_module('perfkit', run_name='__main__')"
)

CASES = {"help": ["--help"], "usage-error": ["measure", "--timeout", "inf"], "import": ["--import-only"]}


def command(root: Path, args: list[str]) -> str:
    argv = [sys.executable, "-c", _RUNNER, str(root), *args]
    # a usage error exits 2 and --help exits 0: both are the start-up we time
    return " ".join(shlex.quote(a) for a in argv) + " >/dev/null 2>&1; true"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="e89f479", help="the revision to compare with")
    parser.add_argument("--runs", type=int, default=15, help="runs per side and case")
    args = parser.parse_args()

    import perfkit

    results = {"against": args.against, "runs": args.runs, "cases": {}}
    with tempfile.TemporaryDirectory(prefix="perfkit-startup-") as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), args.against],
                       check=True, capture_output=True)
        try:
            for name, case in CASES.items():
                variants = {"before": command(old, case), "after": command(ROOT, case)}
                ds = perfkit.measure(variants, out=Path(tmp) / name, runs=args.runs, warmup=1,
                                     progress=False)
                result = perfkit.compare(ds, "before", "after", target=(0.10, 0.20))
                row = result.table.set_index("metric").loc["wall_s"]
                figures = {
                    "before_median_s": float(row["baseline"]),
                    "after_median_s": float(row["candidate"]),
                    "change": float(row["change"]),
                    "interval": [float(row["ci_low"]), float(row["ci_high"])],
                    "verdict": str(row["verdict"]),
                }
                results["cases"][name] = figures
                print(f"{name:12} before {figures['before_median_s']:.3f} s  after "
                      f"{figures['after_median_s']:.3f} s  change {figures['change']:+.1%} "
                      f"[{figures['interval'][0]:+.1%}, {figures['interval'][1]:+.1%}]  "
                      f"{figures['verdict']}")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)],
                           capture_output=True)
    print("written", write_results("bench_startup.json", results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
