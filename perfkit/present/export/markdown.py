"""Markdown fit for a pull-request comment: always under :data:`LIMIT` characters.

Every string from data (variant and metric names, reasons, advice, notes) goes through
:func:`~perfkit.present.markup.md_escape`, shortened with :func:`~perfkit.present.markup.shorten`
first: a hostile name renders as text, and a long one cannot push the table out of the comment.
"""

from __future__ import annotations

from tabulate import tabulate

from perfkit.analysis.verdict import Comparison
from perfkit.present.export import _table
from perfkit.present.markup import md_escape, shorten

#: GitHub refuses comments over 65,536 characters.
LIMIT = 64_000


def lines(result: Comparison, *, limit: int = LIMIT) -> list[str]:
    def md_table(roles):
        rows = [[md_escape(shorten(x)) for x in row] for row in _table.rows(result, roles)]
        return tabulate(rows, headers=_table.headers(result), tablefmt="github",
                        disable_numparse=True).splitlines()

    head = [
        f"### perfkit: {md_escape(shorten(result.candidate))} against "
        f"{md_escape(shorten(result.baseline))}: **{md_escape(result.overall)}**",
        "",
        md_escape(_table.settings_line(result)),
        "",
    ]
    main = md_table(("target", "guardrail"))
    tail: list[str] = []
    for title, items in _table.sections(result):
        if items:
            tail += ["", f"**{title.capitalize()}**", ""] + [f"- {md_escape(shorten(x, 600))}" for x in items]
    info = md_table(("info",)) if (result.table["role"] == "info").any() else []
    details = (["", "<details><summary>Other metrics (info)</summary>", ""] + info
               + ["", "</details>"]) if info else []
    out = head + main + tail + details
    if len("\n".join(out)) > limit:
        out = head + main + tail + ["", "_(other metrics left out: the comment would be too long)_"]
    if len("\n".join(out)) > limit:  # never exceed the limit, whatever the content
        text = "\n".join(out)[: limit - 40]
        out = text.splitlines() + ["", "_(truncated)_"]
    return out


def render(result: Comparison) -> str:
    return "\n".join(lines(result))


def many_lines(many, *, limit: int = LIMIT) -> list[str]:
    """Several candidates: a heading, each candidate's own answer line, one table."""
    head = [f"### perfkit: {len(many.comparisons)} candidates against "
            f"{md_escape(shorten(many.baseline))}: **{md_escape(many.overall)}**", ""]
    head += [f"- **{md_escape(c.overall.upper())}** {md_escape(shorten(c.candidate))} "
             f"(at {level:.2%})" for c, level in zip(many.comparisons, many.levels)]
    head += ["", md_escape(many.summary_line()), ""]
    rows = [[md_escape(shorten(x)) for x in row] for row in _table.many_rows(many)]
    main = tabulate(rows, headers=_table.many_headers(many), tablefmt="github",
                    disable_numparse=True).splitlines()
    tail: list[str] = []
    for title, items in _table.many_sections(many)[1:]:
        if items:
            tail += ["", f"**{title.capitalize()}**", ""] + [f"- {md_escape(shorten(x, 600))}"
                                                             for x in items]
    out = head + main + tail
    if len("\n".join(out)) > limit:
        out = ("\n".join(out)[: limit - 40]).splitlines() + ["", "_(truncated)_"]
    return out


def render_many(many) -> str:
    return "\n".join(many_lines(many))
