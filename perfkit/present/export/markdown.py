"""Markdown fit for a pull-request comment: always under :data:`LIMIT` characters."""

from __future__ import annotations

from tabulate import tabulate

from perfkit.analysis.verdict import Comparison
from perfkit.present.export import _table

#: GitHub refuses comments over 65,536 characters.
LIMIT = 64_000


def lines(result: Comparison, *, limit: int = LIMIT) -> list[str]:
    def md_table(roles):
        rows = [[x.replace("|", "\\|") for x in row] for row in _table.rows(result, roles)]
        return tabulate(rows, headers=_table.headers(result), tablefmt="github",
                        disable_numparse=True).splitlines()

    head = [
        f"### perfkit: `{result.candidate}` against `{result.baseline}`: **{result.overall}**",
        "",
        _table.settings_line(result),
        "",
    ]
    main = md_table(("target", "guardrail"))
    tail: list[str] = []
    for title, items in _table.sections(result):
        if items:
            tail += ["", f"**{title.capitalize()}**", ""] + [f"- {x}" for x in items]
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
