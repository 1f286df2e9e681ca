"""hyperfine's ways of naming what to measure, turned into perfkit's labelled variants.

``perfkit measure 'sleep 0.01' 'sleep 0.02'`` measures two variants named ``cmd1`` and ``cmd2``;
``-n NAME`` (repeatable) names them in order. ``--parameter-scan N MIN MAX [-D STEP]`` and
``--parameter-list N a,b,c`` make one variant per value, with ``{N}`` replaced in the command (and
in a ``-n`` name), and the value recorded in a ``param_N`` column of every run, as perfkit's
hyperfine importer does. ``--variant NAME=COMMAND`` stays perfkit's own, explicit form.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from perfkit.cli._common import pairs
from perfkit.errors import UsageError

#: More values than this from one scan is almost certainly a typo (a step of 1 over 0..1e6).
MAX_VALUES = 1000


def _number(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise UsageError(f"{option}: {text!r} is not a number") from None
    if not value.is_finite():
        raise UsageError(f"{option}: {text!r} is not a finite number")
    return value


def scan_values(name: str, low: str, high: str, step: str | None) -> list[str]:
    """MIN, MIN+STEP, … up to MAX (inclusive) as strings: integers stay integers (``3``, not
    ``3.0``); decimal steps are exact (``0.1`` steps do not drift to ``0.30000000000000004``)."""
    option = f"--parameter-scan {name}"
    lo, hi = _number(low, option), _number(high, option)
    st = _number(step, "-D/--parameter-step-size") if step is not None else Decimal(1)
    if lo > hi:
        raise UsageError(f"{option}: MIN {low} is greater than MAX {high}")
    if st <= 0:
        raise UsageError(f"-D/--parameter-step-size: {step!r} must be greater than 0")
    count = int((hi - lo) / st) + 1
    if count > MAX_VALUES:
        raise UsageError(f"{option}: {count} values (more than {MAX_VALUES}); use a larger -D STEP")
    return [str(lo + i * st) for i in range(count)]


def list_values(name: str, text: str) -> list[str]:
    values = text.split(",")
    if any(not v for v in values):
        raise UsageError(f"--parameter-list {name}: {text!r} has an empty value")
    dup = sorted({v for v in values if values.count(v) > 1})
    if dup:
        raise UsageError(f"--parameter-list {name}: {', '.join(map(repr, dup))} given twice")
    return values


def _parameter(args: argparse.Namespace) -> tuple[str, list[str]] | None:
    scan, listed = args.parameter_scan, args.parameter_list
    if scan and listed:
        raise UsageError("--parameter-scan and --parameter-list: give one of them")
    if args.parameter_step_size is not None and not scan:
        raise UsageError("-D/--parameter-step-size: only with --parameter-scan")
    if scan:
        name = scan[0]
        values = scan_values(name, scan[1], scan[2], args.parameter_step_size)
    elif listed:
        name, values = listed[0], list_values(listed[0], listed[1])
    else:
        return None
    if not name.isidentifier():
        raise UsageError(f"parameter name {name!r}: letters, digits and _ only")
    return name, values


def variants_from_args(args: argparse.Namespace) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """The variants (name → command, in the order given) and each variant's parameter columns."""
    commands = list(args.commands or [])
    names = list(args.name or [])
    if args.variant and (commands or names):
        raise UsageError("--variant NAME=COMMAND and positional commands: use one form")
    if names and len(names) > len(commands):
        raise UsageError(f"-n/--name: {len(names)} names for {len(commands)} command(s)")
    if args.variant:
        base = list(pairs(args.variant, "--variant", "NAME=COMMAND"))
    else:
        base = [(names[i] if i < len(names) else f"cmd{i + 1}", c) for i, c in enumerate(commands)]
    if not base:
        raise UsageError("no variant given: nothing to measure: pass COMMAND ... (hyperfine's "
                         "form) or --variant NAME=COMMAND")
    param = _parameter(args)
    out: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = {}

    def add(name: str, command: str, cols: dict[str, str]) -> None:
        if name in out:
            raise UsageError(f"--variant {name}: the name is given twice" if args.variant
                             else f"variant {name!r}: the name is given twice")
        out[name] = command
        columns[name] = cols

    for name, command in base:
        if param is None:
            add(name, command, {})
            continue
        key, values = param
        mark = "{" + key + "}"
        if mark not in command:
            raise UsageError(f"parameter {key}: the command {command!r} has no {mark} in it")
        for value in values:
            label = name.replace(mark, value) if mark in name else (
                f"{key}={value}" if len(base) == 1 and not names and not args.variant
                else f"{name} {key}={value}")
            add(label, command.replace(mark, value), {f"param_{key}": value})
    return out, columns


def parameter_hook(columns: Mapping[str, Mapping[str, str]]) -> Callable[[Any], dict[str, str]]:
    """An ``after_run`` callable: the run's ``param_<name>`` columns, by its variant."""
    def hook(ctx: Any) -> dict[str, str]:
        return dict(columns.get(ctx.variant.name, {}))
    return hook


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options that say what to measure (hyperfine's and perfkit's forms)."""
    p.add_argument("commands", nargs="*", metavar="COMMAND",
                   help="commands to measure, as in hyperfine: named cmd1, cmd2, … unless -n "
                   "names them")
    p.add_argument("-n", "--name", action="append", metavar="NAME",
                   help="name of the next COMMAND, in order (repeat once per command)")
    p.add_argument("--variant", action="append", default=[], metavar="NAME=COMMAND",
                   help="a labelled command (repeat for each variant); instead of COMMAND …")
    p.add_argument("-P", "--parameter-scan", nargs=3, metavar=("NAME", "MIN", "MAX"),
                   help="one variant per value MIN, MIN+STEP, … MAX, with {NAME} in the command "
                   "replaced by it and the value recorded in column param_NAME")
    p.add_argument("-D", "--parameter-step-size", metavar="STEP",
                   help="step of --parameter-scan (default 1)")
    p.add_argument("-L", "--parameter-list", nargs=2, metavar=("NAME", "VALUES"),
                   help="one variant per comma-separated value (e.g. -L threads 1,2,4), "
                   "as --parameter-scan")
