"""What the subcommands share: the parser class, NAME=VALUE parsing, the comparison options.

Exit codes are defined once, in :mod:`perfkit.errors`.
"""

from __future__ import annotations

import argparse
import sys

from perfkit.analysis.vocabulary import SUCCESS_METRIC
from perfkit.errors import EXIT_USAGE, UsageError


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (plus usage) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"perfkit: error: {message}\n")


def pairs(values: list[str], option: str, what: str) -> list[tuple[str, str]]:
    """``NAME=VALUE`` strings → pairs; a malformed one is a one-line error naming the option."""
    out = []
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"{option} {value!r}: expected {what}")
        out.append((name, rest))
    return out


#: Suffixes of a value in percentage points (the success rate's margin and target).
POINTS = ("points", "pts", "pt")


def percent(text: str, name: str) -> float:
    """'10%', '10pts' (points) or '0.10' → 0.10."""
    raw = text.strip()
    try:
        for suffix in POINTS:
            if raw.endswith(suffix):
                return float(raw[: -len(suffix)]) / 100
        return float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise UsageError(f"{name}: {text!r} is not a number, a percentage or points") from None


def parse_band(text: str) -> tuple[float, float]:
    parts = text.split(":")
    if len(parts) == 1:
        low = percent(parts[0], "--target")
        return low, low
    if len(parts) == 2:
        return percent(parts[0], "--target"), percent(parts[1], "--target")
    raise UsageError(f"--target: {text!r} is not LOW or LOW:HIGH (e.g. 10%:20%)")


def parse_target(text: str) -> tuple[str | None, tuple[float, float]]:
    """``--target``: a band for the timing targets (``10%:20%``), or ``success_rate=+10pts`` (the
    success rate as a target, band in points) → (metric or None, band)."""
    metric, sep, band = text.partition("=")
    if not sep:
        return None, parse_band(text)
    metric = metric.strip()
    if metric != SUCCESS_METRIC:
        raise UsageError(f"--target {text!r}: only {SUCCESS_METRIC}=POINTS (e.g. "
                         f"{SUCCESS_METRIC}=+10pts) names a metric; other targets take --metric")
    return metric, parse_band(band)


def parse_guardrails(items: list[str] | None):
    if not items:
        from perfkit.analysis.verdict import (
            DEFAULT_GUARDRAILS,  # pandas: not for a --help
        )

        return DEFAULT_GUARDRAILS
    out: dict[str, float] = {}
    for item in items:
        metric, sep, margin = item.partition("=")
        if not sep or not metric.strip():
            raise UsageError(f"--guardrail: {item!r} is not METRIC=MARGIN (e.g. max_rss_kib=5%)")
        out[metric.strip()] = percent(margin, "--guardrail")
    return out


def add_comparison_options(p: argparse.ArgumentParser, *, defaults: bool) -> None:
    """The options `compare` and `report` share. ``defaults=False`` leaves unset options as None
    (report: the notebook's own defaults apply, and --hotspots can tell that none was given)."""

    def default(value):
        return value if defaults else None

    p.add_argument("--baseline", metavar="NAME", help="baseline variant (default: baseline, "
                   "or the only variant of DATASET)")
    p.add_argument("--candidate", metavar="NAME", help="candidate variant (default: candidate, "
                   "or the only variant of DATASET2)")
    p.add_argument("--target", default=default("10%:20%"), metavar="LOW:HIGH",
                   help="target band of improvement, e.g. 10%%:20%% (default); or "
                   "success_rate=+10pts for a reliability fix (the success rate as the target, "
                   "band in points)")
    p.add_argument("--metric", action="append", metavar="METRIC",
                   help="target metric (repeatable; default wall_s)")
    p.add_argument("--guardrail", action="append", metavar="METRIC=MARGIN",
                   help="guardrail and the increase it tolerates (repeatable; replaces the "
                   "default max_rss_kib=5%%; the success rate is always one: "
                   "success_rate=5pts lets it fail up to 5 points more often)")
    p.add_argument("--confidence", type=float, default=None,
                   help="confidence level (default 0.95; a dataset collected with "
                   "--until-decided: the level of its last look)")
    p.add_argument("--seed", type=int, default=default(0), help="bootstrap seed (default 0)")
    p.add_argument("--resamples", type=int, default=default(10_000),
                   help="bootstrap resamples (default 10000)")
    p.add_argument("--statistic", choices=("median", "mean", "hl", "auto"), default=None,
                   help="statistic compared (a dataset collected with --until-decided: that of "
                   "its looks): median, mean, hl (Hodges–Lehmann shift of log time), or auto "
                   "(default: hl where every value is positive, with the exact rank interval when the "
                   "values lie on a coarse clock; the median for counters that reach 0; "
                   "chosen by calibration, benchmarks/README.md)")


#: ``--export-FORMAT PATH`` options and the format each writes (hyperfine's names).
EXPORTS = {"export_csv": "csv", "export_markdown": "markdown", "export_json": "json"}


def add_export_options(p: argparse.ArgumentParser, what: str) -> None:
    """``--export-csv``, ``--export-markdown``, ``--export-json``: ``what`` also to a file."""
    for dest, fmt in EXPORTS.items():
        flag = "--" + dest.replace("_", "-")
        p.add_argument(flag, dest=dest, metavar="PATH",
                       help=f"also write {what} to PATH as {fmt} (its folder must exist)")


def export_targets(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """(format, path, option) of every ``--export-*`` given, checked before any work is done."""
    from perfkit.present.export import check_path

    out = []
    for dest, fmt in EXPORTS.items():
        path = getattr(args, dest, None)
        if path:
            option = "--" + dest.replace("_", "-")
            check_path(path, option)
            out.append((fmt, path, option))
    return out
