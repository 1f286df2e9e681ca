"""``perfkit history add|show|check``: keep every commit's measurements and find where they moved.

Exit codes: ``check`` 3 when a step or a drift makes a metric worse by the threshold or more,
0 otherwise; 2 for bad input (one line, nothing in the history changed).
"""

from __future__ import annotations

import argparse
import json

from perfkit import fmt
from perfkit.analysis.history_check import THRESHOLD, check_history
from perfkit.cli._common import percent
from perfkit.data.history import DEFAULT_DIR, ENV_VAR, open_history
from perfkit.data.sources import load_source
from perfkit.errors import EXIT_OK, EXIT_REGRESSED, UsageError
from perfkit.present import trend_view


def _add(args: argparse.Namespace) -> int:
    dataset = load_source(args.dataset)
    history = open_history(args.history, create=True)
    added = history.add(dataset, args.name, variant=args.variant, commit=args.commit,
                        branch=args.branch, when=args.when, repo=args.repo)
    print(f"added {fmt.count(added.runs)} runs and {fmt.count(added.stages)} stages of "
          f"{added.commit[:10]} to {added.benchmark} in {history.path} (id {added.dataset_id})")
    return EXIT_OK


def _show(args: argparse.Namespace) -> int:
    history = open_history(args.history)
    table = history.benchmarks()
    if table.empty:
        raise UsageError(f"{history.path}: the history is empty (add a dataset first)")
    names = [args.name] if args.name else list(table["benchmark"])
    out = []
    for name in names:
        commits = history.commits(name)
        out.append({"benchmark": name, "order": history.order(name),
                    "commits": commits["commit"].astype(str).tolist(),
                    "runs": int(commits["runs"].sum()), "metrics": history.metrics(name)})
    if args.format == "json":
        print(json.dumps(out, indent=2))
        return EXIT_OK
    for item in out:
        shown = item["commits"][-args.limit:]
        print(f"{item['benchmark']}: {len(item['commits'])} commits, {fmt.count(item['runs'])} "
              f"runs; metrics: {', '.join(item['metrics'])}")
        print(f"  commits (oldest first, in {item['order']}): " + " ".join(c[:10] for c in shown)
              + (" …" if len(shown) < len(item["commits"]) else ""))
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    history = open_history(args.history)
    threshold = percent(args.threshold, "--threshold")
    if threshold < 0:
        raise UsageError(f"--threshold: {args.threshold!r} must not be negative")
    result = check_history(history, names=args.name, metrics=args.metric, threshold=threshold,
                           seed=args.seed, last=args.last)
    print(trend_view.render(result, args.format))
    return EXIT_REGRESSED if result.regressed else EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser(
        "history", help="keep every commit's results and find the steps (change points)",
        description="A history of measurements per commit: Parquet partitioned by benchmark, "
        "queried with DuckDB. Exit codes: check 3 when a regression is found, 0 otherwise; "
        "2 for bad input.")
    hsub = p.add_subparsers(dest="history_command", metavar="ACTION", parser_class=type(p),
                            help="add a dataset, show what is kept, or check for change points")
    hsub.required = True
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--history", metavar="DIR", default=None,
                       help=f"the history folder (default: ${ENV_VAR} or ./{DEFAULT_DIR})")

    a = hsub.add_parser("add", parents=[where], help="add a dataset's runs as one commit")
    a.add_argument("dataset", metavar="DATASET", help="dataset folder or orchestrator workspace")
    a.add_argument("--name", required=True, metavar="BENCHMARK", help="the benchmark it measures")
    a.add_argument("--variant", help="which variant to keep (default: the dataset's only one)")
    a.add_argument("--commit", metavar="SHA", help="the commit measured (default: the dataset's)")
    a.add_argument("--branch", metavar="B", help="the branch (informative)")
    a.add_argument("--repo", metavar="DIR",
                   help="the git repository holding the commit: its first-parent depth orders "
                   "the history (without it: the order of adding); full clone needed")
    a.add_argument("--when", metavar="TIME",
                   help="the commit's time, ISO 8601 (metadata, never orders the history; "
                   "default: the commit's time in --repo, else now)")
    a.set_defaults(func=_add)

    s = hsub.add_parser("show", parents=[where], help="benchmarks, commits and metrics")
    s.add_argument("--name", metavar="BENCHMARK", help="only this benchmark")
    s.add_argument("--limit", type=int, default=20, help="commits listed per benchmark (last N)")
    s.add_argument("--format", choices=("text", "json"), default="text")
    s.set_defaults(func=_show)

    c = hsub.add_parser("check", parents=[where], help="find change points; exit 3 on a regression")
    c.add_argument("--name", action="append", metavar="BENCHMARK", help="only these benchmarks")
    c.add_argument("--metric", action="append", metavar="M", help="only these metrics")
    c.add_argument("--threshold", default=f"{THRESHOLD:.0%}",
                   help="a step or drift at least this much worse is a regression (default 5%%)")
    c.add_argument("--last", type=int, metavar="N", help="only the last N commits of each series")
    c.add_argument("--seed", type=int, default=0, help="seed of permutations and bootstrap")
    c.add_argument("--format", choices=trend_view.FORMATS, default="text")
    c.set_defaults(func=_check)
