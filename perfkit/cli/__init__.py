"""The ``perfkit`` command: one subcommand per step of the loop, each a thin layer over the library.

Each subcommand is a module of this package with ``add_parser(subparsers)``, which registers its
parser and sets ``func`` (the handler, which returns the exit code); :data:`COMMANDS` lists them in
the order ``perfkit --help`` shows. Exit codes (:mod:`perfkit.errors`): 0 success (compare/report:
cleared), 1 not shown, 2 usage or input error, 3 regressed or a guardrail broken, 130 interrupted.

May import: every layer below (:mod:`perfkit.present`, :mod:`perfkit.analysis`,
:mod:`perfkit.collect`, :mod:`perfkit.data`); nothing imports the CLI.
"""

from __future__ import annotations

import argparse
import sys

from perfkit._version import __version__
from perfkit.cli import compare, demo, ingest, measure, reliability, report
from perfkit.cli._common import Parser
from perfkit.errors import EXIT_INTERRUPTED, EXIT_USAGE, PerfkitError

#: The subcommands, in the order of the data's way.
COMMANDS = (measure, ingest, compare, report, reliability, demo)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="perfkit", description="Did the performance fix really work?")
    parser.add_argument("--version", action="version", version=f"perfkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # hyperfine's `-n a 'cmd a' -n b 'cmd b'`: argparse takes the positional commands once, so the
    # ones after a later option come back unrecognised; a command that accepts more takes them
    if extra and getattr(args, "more_commands", False) and not any(e.startswith("-") for e in extra):
        args.commands = [*args.commands, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args) or 0)
    except PerfkitError as exc:
        print(f"perfkit: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("perfkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
