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


# --- compare ------------------------------------------------------------------------------------


def _percent(text: str, name: str) -> float:
    """'10%' or '0.10' → 0.10."""
    from perfkit.errors import UsageError

    raw = text.strip()
    try:
        return float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise UsageError(f"{name}: {text!r} is not a number or a percentage") from None


def _parse_band(text: str) -> tuple[float, float]:
    parts = text.split(":")
    if len(parts) == 1:
        low = _percent(parts[0], "--target")
        return low, low
    if len(parts) == 2:
        return _percent(parts[0], "--target"), _percent(parts[1], "--target")
    from perfkit.errors import UsageError

    raise UsageError(f"--target: {text!r} is not LOW or LOW:HIGH (e.g. 10%:20%)")


def _parse_guardrails(items: list[str] | None):
    from perfkit.errors import UsageError
    from perfkit.verdict import DEFAULT_GUARDRAILS

    if not items:
        return DEFAULT_GUARDRAILS
    out: dict[str, float] = {}
    for item in items:
        metric, sep, margin = item.partition("=")
        if not sep or not metric.strip():
            raise UsageError(f"--guardrail: {item!r} is not METRIC=MARGIN (e.g. max_rss_kib=5%)")
        out[metric.strip()] = _percent(margin, "--guardrail")
    return out


def _pick_variant(dataset, wanted: str | None, default: str, flag: str) -> str:
    """``wanted`` if given; else ``default`` if present; else a one-variant dataset's only label."""
    if wanted is not None:
        return wanted
    variants = dataset.variants
    if default in variants or len(variants) != 1:
        return default
    return variants[0]


def _run_compare(args: argparse.Namespace) -> int:
    from perfkit.store import load
    from perfkit.verdict import compare, format_markdown, format_text

    first = load(args.dataset)
    second = load(args.dataset2) if args.dataset2 else None
    baseline = _pick_variant(first, args.baseline, "baseline", "--baseline")
    candidate = _pick_variant(second if second is not None else first, args.candidate,
                              "candidate", "--candidate")
    kwargs = {}
    if args.metric:
        kwargs["targets"] = args.metric
    result = compare(
        first, baseline, candidate, candidate_runs=second,
        target=_parse_band(args.target), guardrails=_parse_guardrails(args.guardrail),
        confidence=args.confidence, seed=args.seed, n_resamples=args.resamples,
        statistic=args.statistic, **kwargs,
    )
    if args.format == "json":
        print(result.to_json())
    elif args.format == "markdown":
        print("\n".join(format_markdown(result)))
    else:
        print("\n".join(format_text(result)))
    return result.exit_code


def _add_compare(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="did the candidate clear its target? (bootstrap intervals and a verdict)",
        description=(
            "Compare a candidate with a baseline: change = 1 - candidate/baseline per metric, "
            "with a two-sample BCa bootstrap interval, judged against the target band. "
            "Exit code: 0 cleared, 1 not shown, 3 regressed or a guardrail broken, 2 usage error."
        ),
    )
    p.add_argument("dataset", metavar="DATASET", help="dataset holding both variants, or the baseline's")
    p.add_argument("dataset2", metavar="DATASET2", nargs="?",
                   help="the candidate's dataset (then DATASET is the baseline's)")
    p.add_argument("--baseline", metavar="NAME", help="baseline variant (default: baseline, "
                   "or the only variant of DATASET)")
    p.add_argument("--candidate", metavar="NAME", help="candidate variant (default: candidate, "
                   "or the only variant of DATASET2)")
    p.add_argument("--target", default="10%:20%", metavar="LOW:HIGH",
                   help="target band of improvement, e.g. 10%%:20%% (default)")
    p.add_argument("--metric", action="append", metavar="METRIC",
                   help="target metric (repeatable; default wall_s)")
    p.add_argument("--guardrail", action="append", metavar="METRIC=MARGIN",
                   help="guardrail and the increase it tolerates (repeatable; replaces the "
                   "default max_rss_kib=5%%; the success rate is always one)")
    p.add_argument("--confidence", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--resamples", type=int, default=10_000, help="bootstrap resamples (default 10000)")
    p.add_argument("--statistic", choices=("median", "mean"), default="median")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.set_defaults(func=_run_compare)


_COMMANDS.append(_add_compare)
