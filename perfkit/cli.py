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


# --- measure ---------------------------------------------------------------------------------


def _pairs(values: list[str], option: str, what: str) -> list[tuple[str, str]]:
    """``NAME=VALUE`` strings → pairs; a malformed one is a one-line error naming the option."""
    from perfkit.errors import UsageError

    out = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{option} {value!r}: expected {what}")
        out.append((name, rest))
    return out


def _cmd_measure(args: argparse.Namespace) -> int:
    from perfkit.errors import UsageError
    from perfkit.measure import CollectionInterrupted, measure
    from perfkit.summary import format_summary, summarize

    if not args.variant:
        raise UsageError("no variant given: pass at least one --variant NAME=COMMAND")
    variants: dict[str, str] = {}
    for name, command in _pairs(args.variant, "--variant", "NAME=COMMAND"):
        if name in variants:
            raise UsageError(f"--variant {name}: the name is given twice")
        variants[name] = command
    env = dict(_pairs(args.env, "--env", "KEY=VALUE"))
    try:
        dataset = measure(
            variants,
            out=args.out,
            runs=args.runs,
            warmup=args.warmup,
            seed=args.seed,
            prepare=args.prepare,
            cwd=args.cwd,
            env=env,
            timeout=args.timeout,
            shell=not args.no_shell,
            fail_fast=args.fail_fast,
            append=args.append,
            progress=not args.no_progress,
            show_output=args.show_output,
        )
    except CollectionInterrupted as exc:
        kept = exc.dataset
        print(
            f"perfkit: interrupted: kept {len(kept.runs)} finished runs in {kept.path} "
            "(marked incomplete; perfkit.load reads them)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    for line in format_summary(summarize(dataset.runs)):
        print(line)
    for line in _measure_warnings(dataset):
        print(line, file=sys.stderr)
    print(f"dataset: {dataset.path}", file=sys.stderr)
    stopped = dataset.meta.get("stopped")
    if stopped:
        print(f"perfkit: stopped by {stopped}", file=sys.stderr)
        return EXIT_NOT_SHOWN
    timed = dataset.runs[~dataset.runs["warmup"]]
    never_ok = [v for v, ok in (timed["status"] == "ok").groupby(timed["variant"]).any().items() if not ok]
    if never_ok:
        print(f"perfkit: no successful run of {', '.join(never_ok)}", file=sys.stderr)
        return EXIT_NOT_SHOWN
    return EXIT_OK


def _measure_warnings(dataset) -> list[str]:
    """Warnings with a hint about the collected data (failures and statistical trouble)."""
    lines = []
    timed = dataset.runs[~dataset.runs["warmup"]]
    for variant, sub in timed.groupby("variant", sort=False):
        bad = sub[sub["status"] != "ok"]
        if len(bad):
            kinds = ", ".join(f"{n} {k}" for k, n in bad["status"].value_counts().items())
            first = bad.iloc[0]
            why = first["error"] if isinstance(first["error"], str) else f"exit code {first['exit_code']}"
            lines.append(
                f"warning: {variant}: {len(bad)} of {len(sub)} runs not ok ({kinds}; first: {why}); "
                "hint: run the command by hand, or use --show-output"
            )
    return lines


def _add_measure(sub) -> None:
    p = sub.add_parser(
        "measure",
        help="measure commands run by run into a dataset folder",
        description=(
            "Run each variant's command N times, interleaved round by round in a seeded order, "
            "and record wall/CPU time, peak RSS and I/O of its whole process tree into DIR."
        ),
    )
    p.add_argument("--out", required=True, metavar="DIR", help="dataset folder (created if missing)")
    p.add_argument("--variant", action="append", default=[], metavar="NAME=COMMAND",
                   help="a labelled command (repeat for each variant)")
    p.add_argument("--runs", type=int, default=10, metavar="N", help="timed runs per variant (10)")
    p.add_argument("--warmup", type=int, default=0, metavar="W",
                   help="warm-up runs per variant: recorded, flagged, left out of summaries (0)")
    p.add_argument("--seed", type=int, default=0, help="seed of the order within each round (0)")
    p.add_argument("--prepare", metavar="COMMAND", help="run before every run, untimed")
    p.add_argument("--cwd", metavar="DIR", help="working directory of the commands")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="set an environment variable for the commands (repeatable)")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="kill a run's whole process tree after this long; recorded as timeout")
    p.add_argument("--no-shell", action="store_true",
                   help="split COMMAND with shlex and spawn it directly (no /bin/sh -c)")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first run that is not ok")
    p.add_argument("--append", action="store_true", help="add runs to an existing dataset in DIR")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--show-output", action="store_true",
                   help="let the commands write to the terminal (default: /dev/null)")
    p.set_defaults(func=_cmd_measure)


_COMMANDS.append(_add_measure)


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
