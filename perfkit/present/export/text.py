"""Plain text: what ``perfkit compare`` prints by default."""

from __future__ import annotations

from tabulate import tabulate

from perfkit.analysis.spending import level_text
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


def many_lines(many) -> list[str]:
    """Several candidates: one line, one table (each row names its candidate), each answer."""
    first = many.comparisons[0]
    out = [f"perfkit compare: {many.summary_line()}", _table.settings_line(first).replace(
        f"{level_text(first.settings.get('confidence', 0.95))} two-sample",
        f"{level_text(many.confidence)} (Holm over the candidates) two-sample"), ""]
    out += tabulate(_table.many_rows(many), headers=_table.many_headers(many), tablefmt="simple",
                    disable_numparse=True).splitlines()
    for title, items in _table.many_sections(many):
        if items:
            out += ["", f"{title}:"] + [f"  - {x}" for x in items]
    return out


def render_many(many) -> str:
    return "\n".join(many_lines(many))
