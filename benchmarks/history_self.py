"""perfkit's own history as the real case: its last N commits measured, kept and checked.

Each of the last ``--commits`` commits of this repository (``git log``, oldest first by commit
time) is checked out with ``git worktree add --detach`` under a temporary folder, and two
user-visible commands are measured there with the current perfkit (``perfkit measure``), each
commit's own code on ``PYTHONPATH`` and this environment's Python:

- ``help``: ``python -m perfkit --help`` — start-up time (imports);
- ``compare``: ``python -m perfkit compare data/demo-fix`` (this checkout's committed dataset, the
  same input for every commit; exit codes 0/1/3 are all answers, anything else a failure).

Each measurement is added to a history (``--history``, default a temporary folder) as that commit
and ``perfkit history check`` runs at the end. A commit whose CLI cannot run (its ``--help`` fails,
or ``compare`` cannot read the dataset) is skipped and recorded. Results: printed, and written to
``benchmarks/results/history_self.json`` with every commit's subject, so the steps found can be
judged against the commit messages.

    .venv/bin/python benchmarks/history_self.py [--commits 60] [--runs 10] [--history DIR]
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT / "data" / "demo-fix"


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True,
                          text=True).stdout


def commits(n: int) -> list[dict]:
    lines = _git("log", f"-{n}", "--format=%H%x09%cI%x09%s", "HEAD").splitlines()
    rows = [dict(zip(("sha", "when", "subject"), line.split("\t", 2))) for line in lines]
    return sorted(rows, key=lambda r: r["when"])


def _perfkit(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "perfkit", *args], capture_output=True, text=True,
                          cwd=ROOT)


def _command(tree: Path, argv: str) -> str:
    py = shlex.quote(sys.executable)
    return f"cd {shlex.quote(str(tree))} && PYTHONPATH={shlex.quote(str(tree))} {py} -m perfkit {argv}"


def measure_commit(commit: dict, tmp: Path, history: Path, runs: int) -> dict:
    tree = tmp / commit["sha"][:12]
    _git("worktree", "add", "--detach", str(tree), commit["sha"])
    out = {"sha": commit["sha"], "subject": commit["subject"], "when": commit["when"]}
    try:
        commands = {"help": _command(tree, "--help > /dev/null"),
                    "compare": _command(tree, f"compare {shlex.quote(str(DATASET))} > /dev/null; "
                                              "test $? -le 3 -a $? -ne 2")}
        for name, command in commands.items():
            probe = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
            if probe.returncode != 0:
                out[name] = f"skipped: cannot run ({probe.stderr.strip().splitlines()[-1:]})"
                continue
            ds = tmp / f"ds-{name}-{commit['sha'][:12]}"
            done = _perfkit("measure", "--out", str(ds), "--runs", str(runs), "--warmup", "1",
                            "--no-progress", "--variant", f"main={command}")
            if done.returncode != 0:
                out[name] = f"skipped: measure failed ({done.stderr.strip()[-200:]})"
                continue
            added = _perfkit("history", "add", str(ds), "--name", name, "--history",
                             str(history), "--commit", commit["sha"], "--when", commit["when"])
            out[name] = "added" if added.returncode == 0 else f"not added: {added.stderr.strip()}"
    finally:
        _git("worktree", "remove", "--force", str(tree))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commits", type=int, default=60)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--history", type=Path, help="history folder (default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="perfkit-self-") as tmp:
        history = args.history or Path(tmp) / "history"
        measured = []
        for i, commit in enumerate(commits(args.commits), 1):
            row = measure_commit(commit, Path(tmp), history, args.runs)
            measured.append(row)
            print(f"[{i}/{args.commits}] {commit['sha'][:10]} help={row.get('help')} "
                  f"compare={row.get('compare')}  {commit['subject'][:60]}", flush=True)
        check = _perfkit("history", "check", "--history", str(history), "--metric", "wall_s",
                         "--metric", "user_s", "--format", "json")
        text = _perfkit("history", "check", "--history", str(history), "--metric", "wall_s",
                        "--metric", "user_s")
        series = {}
        for name in ("help", "compare"):
            s = subprocess.run([sys.executable, "-c", (
                "import sys, json; from perfkit.data.history import open_history; "
                f"s = open_history(sys.argv[1]).series({name!r}, 'wall_s'); "
                "print(s[['commit', 'value', 'q1', 'q3', 'n']].to_json(orient='records'))"),
                str(history)], capture_output=True, text=True, cwd=ROOT)
            series[name] = json.loads(s.stdout) if s.returncode == 0 else s.stderr.strip()
    print(text.stdout)
    result = {"commits": measured, "check_exit_code": check.returncode,
              "check": json.loads(check.stdout) if check.stdout.strip() else check.stderr,
              "series_wall_s": series, "runs_per_commit": args.runs}
    print("written:", write_results("history_self.json", result))


if __name__ == "__main__":
    main()
