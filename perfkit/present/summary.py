"""The end-of-collection summary: one row per variant, and its text table.

Formatting returns lines (``format_*``) and printing is left to the caller, so output is testable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from tabulate import tabulate

if TYPE_CHECKING:
    from perfkit.analysis.diagnostics import Diagnostic
from perfkit.analysis.diagnostics import diagnose
from perfkit.data.schema import timed_rows


def _mad(values: np.ndarray) -> float:
    """Median absolute deviation (unscaled): a spread that a few outliers do not inflate."""
    if values.size == 0:
        return math.nan
    return float(np.median(np.abs(values - np.median(values))))


def summarize(runs: pd.DataFrame, variants: Iterable[str] | None = None) -> pd.DataFrame:
    """Per variant: how many runs, how many failed, and median and spread of the main metrics.

    Warm-up and traced runs are left out; medians and spreads come from ``ok`` runs only.

    Returns a DataFrame, one row per variant in the order ``variants`` gives (the order the user
    gave them: ``meta["variants"]``), then any other in order of first run; columns:
        variant        label
        n              timed runs (warm-ups and traced runs excluded)
        n_ok           of which finished with status ``ok``
        n_failed       of which ``failed``, ``timeout`` or ``error``
        <m>_median     median over ok runs, for m in wall_s, cpu_s (user_s + sys_s),
                       max_rss_kib, io_syscw, io_wchar
        <m>_mad        median absolute deviation (unscaled) of the same
        wall_s_min, wall_s_max   range of wall_s over ok runs
    """
    rows = []
    if runs.empty:
        return pd.DataFrame(columns=["variant", "n", "n_ok", "n_failed"])
    timed = timed_rows(runs)
    seen = list(runs.sort_values("order")["variant"].drop_duplicates())
    given = [v for v in (variants or []) if v in set(seen)]
    order = given + [v for v in seen if v not in given]
    for variant in order:
        sub = timed[timed["variant"] == variant]
        ok = sub[sub["status"] == "ok"]
        row: dict[str, object] = {
            "variant": variant,
            "n": len(sub),
            "n_ok": len(ok),
            "n_failed": len(sub) - len(ok),
        }
        cols = {
            "wall_s": ok["wall_s"],
            "cpu_s": ok["user_s"] + ok["sys_s"],
            "max_rss_kib": ok["max_rss_kib"],
            "io_syscw": ok["io_syscw"],
            "io_wchar": ok["io_wchar"],
        }
        for name, series in cols.items():
            values = pd.to_numeric(series, errors="coerce").astype("float64").dropna().to_numpy()
            row[f"{name}_median"] = float(np.median(values)) if values.size else math.nan
            row[f"{name}_mad"] = _mad(values)
            if name == "wall_s":
                row["wall_s_min"] = float(values.min()) if values.size else math.nan
                row["wall_s_max"] = float(values.max()) if values.size else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _num(x: float) -> str:
    """Three significant digits, but never scientific notation (``1002``, not ``1e+03``)."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def format_seconds(value: float) -> str:
    """``0.00123`` → ``1.23 ms``; three significant digits, unit from s down to µs."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(value) >= scale or unit == "µs":
            return f"{_num(value / scale)} {unit}"
    return f"{value:.3g} s"  # pragma: no cover


def format_bytes(value: float) -> str:
    """``4096000`` → ``3.91 MiB``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(value) >= scale:
            return f"{_num(value / scale)} {unit}"
    return f"{value:.0f} B"


def format_count(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _pm(median: float, mad: float, fmt) -> str:
    if isinstance(median, float) and math.isnan(median):
        return "-"
    return f"{fmt(median)} ± {fmt(mad)}"


def format_summary(summary: pd.DataFrame, *, rss_floor_kib: float | None = None) -> list[str]:
    """The summary as text lines: one row per variant, ``median ± MAD`` per metric.

    ``rss_floor_kib`` (a dataset's ``meta["spawner_rss_kib"]``): a peak RSS at or below it is
    shown as ``≤ floor``, since a spawned process inherits its spawner's high-water mark.
    """
    if summary.empty:
        return ["no runs"]
    table = []
    floored = False
    for row in summary.to_dict("records"):
        rss = _pm(row["max_rss_kib_median"] * 1024, row["max_rss_kib_mad"] * 1024, format_bytes)
        if rss_floor_kib and row["max_rss_kib_median"] <= rss_floor_kib:
            rss = f"≤ {format_bytes(rss_floor_kib * 1024)}"
            floored = True
        table.append(
            [
                row["variant"],
                f"{row['n_ok']}/{row['n']}",
                _pm(row["wall_s_median"], row["wall_s_mad"], format_seconds),
                _pm(row["cpu_s_median"], row["cpu_s_mad"], format_seconds),
                rss,
                _pm(row["io_syscw_median"], row["io_syscw_mad"], format_count),
                _pm(row["io_wchar_median"], row["io_wchar_mad"], format_bytes),
            ]
        )
    headers = ["variant", "ok/runs", "wall", "cpu (user+sys)", "peak RSS", "write calls", "written"]
    text = tabulate(table, headers=headers, tablefmt="simple", disable_numparse=True)
    notes = ["(median ± median absolute deviation over ok runs, warm-ups excluded)"]
    if floored:
        notes.append("(≤: peak RSS below what the spawner itself holds; perfkit cannot see less)")
    return text.splitlines() + notes


def format_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[str]:
    """Warnings as lines: ``warning: <what was seen>; hint: <what to try>``."""
    return [f"warning: {d.message}; hint: {d.hint}" for d in diagnostics]


def measure_warnings(runs: pd.DataFrame, *, metric: str = "wall_s", min_runs: int = 10) -> list[str]:
    """What the end of a collection warns about, as lines.

    Runs that were not ok, per variant (with the first reason), then the statistical checks of
    :func:`perfkit.analysis.diagnostics.diagnose` on ``metric`` (spread, first-run effect, drift with run
    order, outliers, too few runs).
    """

    lines = []
    if runs.empty:
        return lines
    timed = timed_rows(runs)
    for variant, sub in timed.groupby("variant", sort=False):
        bad = sub[sub["status"] != "ok"]
        if len(bad):
            kinds = ", ".join(f"{n} {k}" for k, n in bad["status"].value_counts().items())
            first = bad.iloc[0]
            why = first["error"] if isinstance(first.get("error"), str) else f"exit code {first['exit_code']}"
            lines.append(
                f"warning: {variant}: {len(bad)} of {len(sub)} runs not ok ({kinds}; first: {why}); "
                "hint: run the command by hand, or use --show-output"
            )
    lines += format_diagnostics(diagnose(runs, metric=metric, min_runs=min_runs))
    return lines
