"""The ``perfkit`` command: one subcommand per step of the loop, each a thin layer over the library.

Exit codes: 0 success (for compare/report: cleared), 1 not shown, 2 usage or input error,
3 regressed or a guardrail broken, 130 interrupted.
Each subcommand lives in a ``_add_<name>(subparsers)`` function that registers its parser and sets
``func``; the handler returns the exit code.
"""

from __future__ import annotations

import argparse
import sys

from perfkit import __version__
from perfkit.errors import PerfkitError

EXIT_OK = 0
EXIT_NOT_SHOWN = 1
EXIT_USAGE = 2
EXIT_REGRESSED = 3
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus usage) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"perfkit: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="perfkit", description="Did the performance fix really work?")
    parser.add_argument("--version", action="version", version=f"perfkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for add in _COMMANDS:
        add(sub)
    return parser


_COMMANDS: list = []


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except PerfkitError as exc:
        print(f"perfkit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("perfkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


# --- report ---------------------------------------------------------------------------------------


def _report_parameters(args: argparse.Namespace) -> dict:
    """Notebook parameters from the compare options and ``-p NAME=VALUE`` / ``-p NAME:=JSON``."""
    import json

    from perfkit.errors import UsageError

    params: dict = {}
    if args.title is not None:
        params["title"] = args.title
    if not args.hotspots:
        if args.baseline:
            params["baseline"] = args.baseline
        if args.candidate:
            params["candidate"] = args.candidate
        if args.metric:
            params["metrics"] = list(args.metric)
        if args.target is not None:
            params["target"] = list(_parse_band(args.target))
        if args.guardrail:
            params["guardrails"] = dict(_parse_guardrails(args.guardrail))
        for name in ("confidence", "seed", "resamples", "statistic"):
            if getattr(args, name) is not None:
                params[name] = getattr(args, name)
    for item in args.parameter or []:
        # NAME=VALUE is always a string (papermill's own -p turns "12e4567" into inf);
        # NAME:=VALUE is JSON, for numbers, lists and mappings
        name, sep, value = item.partition("=")
        if not sep or not name.strip(":").strip():
            raise UsageError(f"-p: {item!r} is not NAME=VALUE or NAME:=JSON")
        if name.endswith(":"):
            try:
                params[name[:-1].strip()] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise UsageError(f"-p {name[:-1]}: {value!r} is not JSON ({exc.msg})") from None
        else:
            params[name.strip()] = value
    return params


def _run_report(args: argparse.Namespace) -> int:
    from perfkit.report import report

    files = report(args.dataset, args.dataset2, out=args.out, hotspots_report=args.hotspots,
                   parameters=_report_parameters(args))
    verdict = f" ({files.overall})" if files.overall else ""
    print(f"perfkit report{verdict}: {files.html}, {files.notebook}, {files.summary}"
          + (f", {files.verdict}" if files.verdict else ""))
    return files.exit_code


def _add_report(sub) -> None:
    p = sub.add_parser(
        "report",
        help="run the comparison (or hotspot) notebook and write HTML, summary and verdict",
        description=(
            "Execute notebooks/compare.ipynb with papermill for DATASET [DATASET2] and write into "
            "--out: report.ipynb (executed), report.html (no code, renders offline), summary.md "
            "(for a pull-request comment) and verdict.json. Exit code as perfkit compare: "
            "0 cleared, 1 not shown, 3 regressed, 2 usage error or a failing notebook. "
            "--hotspots runs notebooks/hotspots.ipynb for a dataset or an orchestrator workspace."
        ),
    )
    p.add_argument("dataset", metavar="DATASET",
                   help="dataset holding both variants, or the baseline's (--hotspots: a dataset "
                   "or an orchestrator workspace)")
    p.add_argument("dataset2", metavar="DATASET2", nargs="?",
                   help="the candidate's dataset (then DATASET is the baseline's)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the report files")
    p.add_argument("--hotspots", action="store_true",
                   help="the hotspot report (where do time and I/O go?) instead of a comparison")
    p.add_argument("--baseline", metavar="NAME", help="baseline variant")
    p.add_argument("--candidate", metavar="NAME", help="candidate variant")
    p.add_argument("--target", metavar="LOW:HIGH", help="target band, e.g. 10%%:20%% (default)")
    p.add_argument("--metric", action="append", metavar="METRIC",
                   help="target metric (repeatable; default wall_s)")
    p.add_argument("--guardrail", action="append", metavar="METRIC=MARGIN",
                   help="guardrail and the increase it tolerates (repeatable)")
    p.add_argument("--confidence", type=float, help="confidence level (default 0.95)")
    p.add_argument("--seed", type=int, help="bootstrap seed (default 0)")
    p.add_argument("--resamples", type=int, help="bootstrap resamples (default 10000)")
    p.add_argument("--statistic", choices=("median", "mean"))
    p.add_argument("--title", help="report title")
    p.add_argument("-p", "--parameter", action="append", metavar="NAME=VALUE",
                   help="any other notebook parameter (NAME=VALUE: a string; NAME:=JSON); "
                   "unknown names are refused")
    p.set_defaults(func=_run_report)


_COMMANDS.append(_add_report)
