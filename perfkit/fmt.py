"""How perfkit writes a number: one function per kind of value, shared by text, markdown and HTML.

Every place that shows a value to a person — the terminal summary, ``perfkit compare``'s table, the
PR summary, the HTML report, a warning — formats it here, so a change reads the same everywhere:
``+15.0 %`` (positive is better), ``1,204`` for a count, ``12.3 ms`` for a time. A value that is
missing (None, NaN, pandas' NA) is shown as :data:`MISSING`. Full precision stays in the data;
rounding happens only here.
"""

from __future__ import annotations

import math
from typing import Any

#: What a missing value looks like in every output.
MISSING = "—"


def _float(x: Any) -> float | None:
    """``x`` as a float, or None when it is missing or not a number."""
    if x is None:
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def is_missing(x: Any) -> bool:
    return _float(x) is None


def pct(x: Any, *, digits: int = 1) -> str:
    """A change or a share as a signed percentage: ``+15.0 %``, ``−3.2 %``, ``0.0 %``, ``+∞``.

    A nonzero value too small for ``digits`` gets more (``−0.05 %``, not ``0.0 %``).

    A value that rounds to zero is ``0.0 %`` (never ``-0.0 %``); an unbounded interval end is
    ``+∞``/``−∞``. The minus is U+2212, as in the rest of perfkit's output.
    """
    value = _float(x)
    if value is None:
        return MISSING
    if math.isinf(value):
        return "+∞" if value > 0 else "−∞"
    scaled = round(value * 100, digits)
    # a change that is tiny but not zero (17,365 -> 17,373 is 0.046 %) gets the digits it needs,
    # up to four, so that it never reads "0.0 %" next to a verdict that says it moved
    more = digits
    while scaled == 0 and value != 0 and more < 4:
        more += 1
        scaled = round(value * 100, more)
    if scaled == 0:
        return f"{0:.{digits}f} %"
    digits = more
    sign = "+" if scaled > 0 else "−"
    return f"{sign}{abs(scaled):.{digits}f} %"


def num(x: Any) -> str:
    """A measured value: whole numbers with thousands separators (``17,365``), others with four
    significant digits (``0.2131``), never scientific notation above 1,000."""
    value = _float(x)
    if value is None:
        return MISSING
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    if abs(value) >= 1000 or (value == int(value) and abs(value) < 1e15):
        return f"{value:,.0f}"
    return f"{value:.4g}"


def ratio(x: Any) -> str:
    """A ratio such as p95/median: two decimals."""
    value = _float(x)
    return MISSING if value is None else f"{value:.2f}"


def p_value(x: Any) -> str:
    """A p-value: two significant digits, ``<1e-4`` below that."""
    value = _float(x)
    if value is None:
        return MISSING
    return f"{value:.2g}" if value >= 1e-4 else "<1e-4"


def _three(x: float) -> str:
    """Three significant digits, but never scientific notation (``1002``, not ``1e+03``)."""
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"


def seconds(x: Any) -> str:
    """``0.00123`` → ``1.23 ms``; three significant digits, unit from s down to µs."""
    value = _float(x)
    if value is None:
        return MISSING
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(value) >= scale or unit == "µs":
            return f"{_three(value / scale)} {unit}"
    return f"{value:.3g} s"  # pragma: no cover


def bytes_(x: Any) -> str:
    """``4096000`` → ``3.91 MiB``; binary units, as ``/usr/bin/time`` and ``ps`` use."""
    value = _float(x)
    if value is None:
        return MISSING
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(value) >= scale:
            return f"{_three(value / scale)} {unit}"
    return f"{value:.0f} B"


def count(x: Any) -> str:
    """A count or a mean count: ``1,204`` or ``12.5``."""
    value = _float(x)
    if value is None:
        return MISSING
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.1f}"


def of_metric(metric: str, x: Any) -> str:
    """``x`` in the unit a metric's name carries: ``wall_s`` → seconds, ``*_bytes`` (and
    ``io_rchar``/``io_wchar``, bytes read and written) → bytes,
    ``*_kib`` → bytes (from KiB), ``stage <id>`` (a stage's duration) → seconds, else a count.

    >>> of_metric("wall_s", 5.309e-05)
    '53.1 µs'
    >>> of_metric("size_runs_json_bytes", 5300)
    '5.18 KiB'
    """
    if metric.endswith("_s") or metric.startswith("stage "):
        return seconds(x)
    if metric.endswith("_kib"):
        value = _float(x)
        return MISSING if value is None else bytes_(value * 1024)
    if metric.endswith("_bytes") or metric in ("io_rchar", "io_wchar"):
        return bytes_(x)
    return count(x) if _float(x) is None or abs(_float(x)) >= 1 or _float(x) == 0 else num(x)
