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


# --- perfkit demo -------------------------------------------------------------------------------


def _add_demo(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="the whole loop on the built-in workload (examples/pipeline), in under a minute",
        description=(
            "Measure examples/pipeline's baseline (persists its manifest after every step) and "
            "candidate (once per stage), interleaved, count the manifest writes in a traced pass, "
            "write the comparison report and print the verdict. Runs from a checkout. "
            "Exit code 0 when the demo ran, whatever the verdict; 2 on an error."
        ),
    )
    p.add_argument("--out", default="demo-out", metavar="DIR",
                   help="output folder (default ./demo-out; a previous demo's folder is cleared)")
    p.add_argument("--quick", action="store_true", help="fewer runs (8 per variant, 1 warm-up)")
    p.add_argument("--runs", type=int, metavar="N", help="runs per variant (default 20)")
    p.add_argument("--warmup", type=int, metavar="N", help="warm-up runs per variant (default 2)")
    p.add_argument("--trace-runs", type=int, metavar="K",
                   help="traced runs per variant for the manifest-write counts (default 1; 0 = none)")
    p.add_argument("--shards", type=int, metavar="N", help="pipeline shards per stage (default 12)")
    p.add_argument("--rows", type=int, metavar="N", help="records per shard (default 150)")
    p.add_argument("--seed", type=int, metavar="N", help="seed of the run order (default 0)")
    p.add_argument("--no-report", action="store_true",
                   help="skip the notebook report; print the verdict only")
    p.set_defaults(func=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    import dataclasses

    from perfkit.demo import DemoConfig, format_demo, run_demo

    config = DemoConfig.quick() if args.quick else DemoConfig()
    chosen = {k: getattr(args, k) for k in ("runs", "warmup", "trace_runs", "shards", "rows", "seed")}
    config = dataclasses.replace(config, **{k: v for k, v in chosen.items() if v is not None})
    result = run_demo(args.out, config, report=not args.no_report)
    print("\n".join(format_demo(result)))
    return EXIT_OK


_COMMANDS.append(_add_demo)
