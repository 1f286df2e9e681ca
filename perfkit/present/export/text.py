"""Plain text: what ``perfkit compare`` prints by default."""

from __future__ import annotations

from tabulate import tabulate

from perfkit.analysis.verdict import Comparison
from perfkit.present.export import _table


def lines(result: Comparison) -> list[str]:
    out = [
        f"perfkit compare: {result.candidate!r} against {result.baseline!r}: "
        f"{result.overall.upper()}",
        _table.settings_line(result),
        "",
    ]
    body = _table.rows(result, ("target", "guardrail", "info"))
    out += tabulate(body, headers=_table.headers(result), tablefmt="simple",
                    disable_numparse=True).splitlines()
    for title, items in _table.sections(result):
        if items:
            out += ["", f"{title}:"] + [f"  - {x}" for x in items]
    return out


def render(result: Comparison) -> str:
    return "\n".join(lines(result))
