"""One benchmark script, run side by side against this checkout and another revision.

    python benchmarks/bench_against.py REV SCRIPT [--rounds 2] [-- SCRIPT-ARGS...]

checks REV out into a temporary git worktree and runs ``benchmarks/SCRIPT`` alternately with that
revision's perfkit and with this checkout's, ``--rounds`` times each (alternating, so that the
machine's drift hits both alike), in this interpreter with the editable install of perfkit set
aside. Each run's own printout is shown under its label; the results JSON of each side is written
to benchmarks/results/against-<REV>-<SCRIPT>.json. Used to show that a refactoring left the
figures unchanged (the script at REV is the one that runs for REV; with ``--script-here`` this
checkout's script runs for both, e.g. when REV's copy of it is out of date).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: Runs a benchmark script with the perfkit of one checkout, not the editable install's.
_RUNNER = """
import os, runpy, sys
root, script = sys.argv[1], sys.argv[2]
sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path[:0] = [root, os.path.dirname(script)]
import perfkit  # bound to root's copy now: a script that puts its own checkout first changes nothing
sys.argv = [script] + sys.argv[3:]
runpy.run_path(script, run_name="__main__")
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rev")
    parser.add_argument("script")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--script-here", action="store_true",
                        help="run this checkout's copy of SCRIPT for REV too")
    parser.add_argument("args", nargs="*", help="(after --) arguments for SCRIPT")
    argv = sys.argv[1:]
    # everything after "--" goes to SCRIPT (argparse alone refuses "-- --repeat 2" here)
    script_args = argv[argv.index("--") + 1:] if "--" in argv else []
    opts = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    opts.args = [*opts.args, *script_args]
    outputs: dict[str, list[str]] = {opts.rev: [], "this checkout": []}
    with tempfile.TemporaryDirectory(prefix="perfkit-against-") as tmp:
        other = Path(tmp) / "other"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(other),
                        opts.rev], check=True)
        try:
            for _ in range(opts.rounds):
                for label, root in ((opts.rev, other), ("this checkout", ROOT)):
                    script = (ROOT if opts.script_here else root) / "benchmarks" / opts.script
                    # in the checkout's own folder: a script that runs `python -m perfkit` gets
                    # the working folder first on sys.path, and must find that side's perfkit
                    out = subprocess.run([sys.executable, "-c", _RUNNER, str(root), str(script),
                                          *opts.args], capture_output=True, text=True, cwd=root)
                    text = out.stdout + (out.stderr if out.returncode else "")
                    print(f"=== {label}\n{text.rstrip()}", flush=True)
                    outputs[label].append(text)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)],
                           check=False)
    name = f"against-{opts.rev}-{Path(opts.script).stem}.json"
    write_results(name, {"rev": opts.rev, "script": opts.script, "rounds": opts.rounds,
                         "outputs": outputs})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
