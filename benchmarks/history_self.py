"""perfkit's own history as the real case: its last N commits measured, kept and checked.

Each of the last ``--commits`` commits of ``--ref`` (default ``main``) — its first-parent chain,
the states that branch was really in (a merged branch's own commits never were, and interleaving
them by commit time would invent steps) — is checked out, oldest first, with
``git worktree add --detach`` under a temporary folder, and two user-visible commands are measured
there with this checkout's perfkit (``perfkit measure``), each commit's own code on ``PYTHONPATH``
and this environment's Python:

- ``help``: ``python -m perfkit --help`` — start-up time (imports);
- ``compare``: ``python -m perfkit compare data/demo-fix`` (this checkout's committed dataset, the
  same input for every commit; exit codes 0/1/3 are all answers, anything else a failure).

Before measuring, ``perfkit`` is imported in the checkout with the same ``PYTHONPATH``, and the
module's file must lie in the checkout (this environment's editable install does not win over
``PYTHONPATH``; the script stops if it ever does). A command is measured with ``--fail-fast``:
a commit whose CLI cannot run it (its ``--help`` fails, or its ``compare`` cannot read the
dataset) costs one run and is recorded as skipped.

Each measurement is added to a history (``--history``, default a temporary folder) as that
commit, at its commit time, and ``perfkit history check`` runs at the end. Commits are measured
newest first, so that a run stopped early (``--minutes``) leaves the newest ones measured. With a kept
``--history`` the script is incremental: commits already in it are not measured again (run it
again after new commits land). The driver's own perfkit calls run in this process (a start-up
each would cost more than the runs). Results: printed, and written to
``benchmarks/results/history_self.json`` with every commit's subject, so the steps found can be
judged against the commit messages.

    nice -n 15 .venv/bin/python benchmarks/history_self.py [--commits 60] [--runs 3] \\
        [--ref main] [--history DIR] [--minutes M]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT / "data" / "demo-fix"
METRICS = ("wall_s", "user_s")


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True,
                          text=True).stdout


def commits(n: int, ref: str = "main") -> list[dict]:
    lines = _git("log", "--first-parent", f"-{n}", "--format=%H%x09%cI%x09%s", ref).splitlines()
    # oldest first; the history orders them by their first-parent depth (`history add --repo`),
    # not by commit time (a fast-forwarded branch brings commits older than main's last one)
    return [dict(zip(("sha", "when", "subject"), line.split("\t", 2))) for line in lines][::-1]


def _perfkit(*args: str) -> tuple[int, str, str]:
    """``perfkit ARGS`` in this process: exit code, stdout, stderr."""
    from perfkit.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def _command(tree: Path, argv: str) -> str:
    py = shlex.quote(sys.executable)
    return f"cd {shlex.quote(str(tree))} && PYTHONPATH={shlex.quote(str(tree))} {py} {argv}"


def _imports_from(tree: Path) -> None:
    """Stop unless ``perfkit`` imported with the commands' ``PYTHONPATH`` is the checkout's."""
    where_from = "import importlib.util as u; print(u.find_spec('perfkit').origin)"
    probe = subprocess.run(["sh", "-c", _command(tree, f'-c "{where_from}"')],
                           capture_output=True, text=True)
    where = Path(probe.stdout.strip() or "/nowhere").resolve()
    if tree.resolve() not in where.parents:
        raise SystemExit(f"perfkit imported from {where}, not from the checkout {tree}: "
                         f"the measurements would not be that commit's ({probe.stderr.strip()})")


def already_added(history: Path) -> set[tuple[str, str]]:
    """(benchmark, commit) pairs a kept history holds already."""
    code, out, _ = _perfkit("history", "show", "--history", str(history), "--format", "json",
                            "--limit", "100000")
    if code != 0:
        return set()
    return {(b["benchmark"], c) for b in json.loads(out) for c in b["commits"]}


def _ok_runs(folder: Path) -> int:
    from perfkit.data.sources import load_source

    runs = load_source(folder).runs
    return int((runs["status"] == "ok").sum()) if "status" in runs else 0


def measure_commit(commit: dict, tmp: Path, history: Path, runs: int,
                   done: set[tuple[str, str]] = frozenset(),
                   only: tuple[str, ...] = ("help", "compare")) -> dict:
    tree = tmp / commit["sha"][:12]
    _git("worktree", "add", "--detach", str(tree), commit["sha"])
    out = {"sha": commit["sha"], "subject": commit["subject"], "when": commit["when"]}
    commands = {"help": _command(tree, "-m perfkit --help"),
                "compare": _command(tree, f"-m perfkit compare {shlex.quote(str(DATASET))}; "
                                          "c=$?; test $c -le 3 -a $c -ne 2")}
    commands = {k: v for k, v in commands.items() if k in only}
    try:
        _imports_from(tree)
        for name, command in commands.items():
            if (name, commit["sha"]) in done:
                out[name] = "kept from before"
                continue
            ds = tmp / f"ds-{name}-{commit['sha'][:12]}"
            code, _, err = _perfkit("measure", "--out", str(ds), "--runs", str(runs),
                                    "--fail-fast", "--no-progress", "--variant",
                                    f"main={command}")
            if not ds.is_dir() or _ok_runs(ds) < runs:
                out[name] = f"skipped: the command fails at this commit ({err.strip()[-160:]})"
                continue
            code, _, err = _perfkit("history", "add", str(ds), "--name", name, "--history",
                                    str(history), "--commit", commit["sha"],
                                    "--repo", str(ROOT))
            out[name] = "added" if code == 0 else f"not added: {err.strip()}"
    finally:
        _git("worktree", "remove", "--force", str(tree))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commits", type=int, default=60)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", action="append", choices=("help", "compare"),
                    help="measure only this command (repeatable; default both)")
    ap.add_argument("--ref", default="main", help="branch whose first-parent chain is measured")
    ap.add_argument("--minutes", type=float,
                    help="stop measuring after this long (newest commits are measured first)")
    ap.add_argument("--history", type=Path, help="history folder (default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="perfkit-self-") as tmp:
        history = args.history or Path(tmp) / "history"
        measured = []
        done = already_added(history)
        chosen = commits(args.commits, args.ref)
        stop_at = time.monotonic() + 60 * args.minutes if args.minutes else None
        # newest first: stopped early (--minutes), the history still holds the newest commits
        for i, commit in enumerate(chosen[::-1], 1):
            if stop_at is not None and time.monotonic() > stop_at:
                print(f"stopped after {args.minutes} minutes: {i - 1} commits done", flush=True)
                break
            row = measure_commit(commit, Path(tmp), history, args.runs, done,
                                 tuple(args.only or ("help", "compare")))
            measured.append(row)
            print(f"[{i}/{len(chosen)}] {commit['sha'][:10]} help={row.get('help')} "
                  f"compare={row.get('compare')}  {commit['subject'][:60]}", flush=True)
        metric_args = [a for m in METRICS for a in ("--metric", m)]
        code, as_json, err = _perfkit("history", "check", "--history", str(history),
                                      *metric_args, "--format", "json")
        _, as_text, _ = _perfkit("history", "check", "--history", str(history), *metric_args)
        from perfkit.data.history import open_history

        kept = open_history(history)
        series = {name: kept.series(name, "wall_s")[["commit", "value", "q1", "q3", "n"]]
                  .to_dict(orient="records")
                  for name in kept.benchmarks().get("benchmark", [])}
    print(as_text)
    subjects = {c["sha"]: c["subject"] for c in chosen}
    result = {"ref": args.ref, "commits": measured, "check_exit_code": code,
              "check": json.loads(as_json) if as_json.strip() else err,
              "series_wall_s": {k: [{**r, "subject": subjects.get(r["commit"], "")} for r in v]
                                for k, v in series.items()},
              "runs_per_commit": args.runs}
    print("written:", write_results("history_self.json", result))


if __name__ == "__main__":
    main()
