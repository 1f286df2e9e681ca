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


# --- ingest (perfkit.orchestrator) -----------------------------------------------------------
def _ingest(args: argparse.Namespace) -> int:
    from perfkit.orchestrator import ingest

    data, _ = ingest(args.root, args.out, variant_by=args.variant_by, append=args.append)
    print(f"{data.summary()} -> {args.out}")
    return EXIT_OK


def _add_ingest(sub) -> None:
    p = sub.add_parser(
        "ingest",
        help="read an orchestrator workspace (.runs/<task>/cli/<run>/manifest.json) into a dataset",
        description="Read every run manifest of an orchestrator workspace into a dataset folder "
        "(runs, stages, artifacts.parquet, problems.parquet). Unreadable files are listed as "
        "problems, never fatal.",
    )
    p.add_argument("root", help="the workspace (holding .runs/ and out/) or its .runs folder")
    p.add_argument("--out", required=True, help="dataset folder to write")
    p.add_argument(
        "--variant-by",
        choices=("pipeline", "task"),
        default="pipeline",
        help="what becomes the variant label (default: pipeline)",
    )
    p.add_argument("--append", action="store_true", help="add to an existing dataset folder")
    p.set_defaults(func=_ingest)


_COMMANDS.append(_add_ingest)
# --- end ingest ---------------------------------------------------------------------------------


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
