"""The ``perfkit`` command: one subcommand per step of the loop, each a thin layer over the library.

Each subcommand is a module of this package with ``add_parser(subparsers)``, which registers its
parser and sets ``func`` (the handler, which returns the exit code); :data:`COMMANDS` lists them in
the order ``perfkit --help`` shows, and only the module of the subcommand being run is imported.
Exit codes (:mod:`perfkit.errors`): 0 success (compare/report: cleared), 1 not shown, 2 usage or
input error, 3 regressed or a guardrail broken, 4 perfkit failed (any exception escaping a command:
one line, never a traceback), 130 interrupted.

May import: every layer below (:mod:`perfkit.present`, :mod:`perfkit.analysis`,
:mod:`perfkit.collect`, :mod:`perfkit.data`); nothing imports the CLI.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import warnings

from perfkit._version import __version__
from perfkit.errors import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    INTERRUPTED_STARTING,
    PerfkitError,
    describe_os_error,
)

#: The subcommands, in the order of the data's way, each with the line ``perfkit --help`` shows
#: (its module's parser says the same; tests/cli/test_main.py checks).
COMMANDS = {
    "measure": "measure commands run by run into a dataset folder",
    "ingest": "read an orchestrator workspace (.runs/<task>/cli/<run>/manifest.json) into a dataset",
    "compare": "did the candidate clear its target? (bootstrap intervals and a verdict)",
    "report": "run the comparison (or hotspot) notebook and write HTML, summary and verdict",
    "reliability": "failure modes per stage: failed, timed out, unfinished, retried (with intervals)",
    "history": "keep every commit's results and find the steps (change points)",
    "demo": "the whole loop on the built-in workload (examples/pipeline), in under a minute",
    "completion": "print a shell completion script (bash, zsh or tcsh)",
}
#: Build every subcommand's parser (``build_parser(only=ALL)``, the default).
ALL = None


def command_module(name: str):
    """The module of subcommand ``name`` (imported on first use: most pull in pandas and scipy)."""
    return importlib.import_module(f"perfkit.cli.{name}")


def build_parser(only: str | None = ALL) -> argparse.ArgumentParser:
    """perfkit's argument parser. With ``only`` (a subcommand's name, or ``""`` for none), the
    other subcommands are registered by name and help line alone, without importing their modules:
    ``perfkit --help``, a mistyped command or ``perfkit measure …`` then do not wait a second for
    libraries they never use."""
    from perfkit.cli._common import Parser

    parser = Parser(prog="perfkit", description="Did the performance fix really work?")
    parser.add_argument("--version", action="version", version=f"perfkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    for name, line in COMMANDS.items():
        if only is ALL or name == only:
            command_module(name).add_parser(sub)
        else:
            sub.add_parser(name, help=line)
    parser.set_defaults(root_parser=parser)  # `perfkit completion` describes the whole parser
    return parser


def _chosen(argv: list[str] | None) -> str | None:
    """Which subcommand's parser ``argv`` needs in full: its first word's, none (``""``) when that
    is not a subcommand (``--help``, ``--version``, a typo), all for ``completion``."""
    words = sys.argv[1:] if argv is None else argv
    first = words[0] if words else ""
    if first == "completion":
        return ALL
    return first if first in COMMANDS else ""


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    text = " ".join(str(message).split())
    print(f"perfkit: warning: {text}", file=sys.stderr if file is None else file)


def failure_line(exc: BaseException) -> str:
    """One line for an exception that escaped a command: what happened and what was kept."""
    if isinstance(exc, OSError):
        what = describe_os_error(exc)
    elif isinstance(exc, MemoryError):
        what = "out of memory"
    elif isinstance(exc, RecursionError):
        what = "input nested too deeply"
    else:
        text = " ".join(str(exc).split())[:300]
        what = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    kept = getattr(exc, "perfkit_kept", None)
    return f"perfkit: failed: {what}" + (f"; {kept}" if kept else "")


def main(argv: list[str] | None = None) -> int:
    try:  # the command's module and its libraries are imported here (about a second)
        parser = build_parser(only=_chosen(argv))
    except KeyboardInterrupt:  # perfkit.__main__'s start-up handler, or Ctrl-C
        print(INTERRUPTED_STARTING, file=sys.stderr)
        return EXIT_INTERRUPTED
    args, extra = parser.parse_known_args(argv)
    # hyperfine's `-n a 'cmd a' -n b 'cmd b'`: argparse takes the positional commands once, so the
    # ones after a later option come back unrecognised; a command that accepts more takes them
    if extra and getattr(args, "more_commands", False) and not any(e.startswith("-") for e in extra):
        args.commands = [*args.commands, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    previous = warnings.showwarning
    warnings.showwarning = _one_line_warning
    # SIGTERM (a CI job cancelled, a container stopped) ends a command like Ctrl-C: the journal
    # closed, the collection marked incomplete, one line saying what was kept
    old_term = signal.getsignal(signal.SIGTERM)
    ours = old_term is signal.SIG_DFL or getattr(old_term, "perfkit_start", False)
    if ours:
        signal.signal(signal.SIGTERM, _terminated)
    try:
        return int(args.func(args) or 0)
    except PerfkitError as exc:
        kind = "failed" if exc.exit_code == EXIT_FAILED else "error"
        text = " ".join(str(exc).split()) if "\n" in str(exc) else str(exc)
        kept = getattr(exc, "perfkit_kept", None)
        print(f"perfkit: {kind}: {text}" + (f"; {kept}" if kept else ""), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("perfkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the promise: one line and exit 4, never a traceback
        print(failure_line(exc), file=sys.stderr)
        return EXIT_FAILED
    finally:
        warnings.showwarning = previous
        if ours:
            signal.signal(signal.SIGTERM, old_term)


def _terminated(signum, frame) -> None:
    raise KeyboardInterrupt
