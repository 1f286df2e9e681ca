"""The pull-request comment of a comparison: the verdict in one line, a short table, the rest folded.

A reviewer reads the first line and the table; reasons, advice, warnings, the settings and the
informational metrics sit in one ``<details>``. The link to the full report comes from the
workflow (``report_url``; ``perfkit report --report-url`` or ``PERFKIT_REPORT_URL``). The text is
always under :data:`LIMIT` bytes: the folded part is shortened first, then cut.
"""

from __future__ import annotations

from typing import Any

from tabulate import tabulate

from perfkit.analysis.spending import level_text
from perfkit.present.export import _table
from perfkit.present.markup import md_escape

#: GitHub refuses pull-request comments over 65,536 characters; stay clearly below.
LIMIT = 60_000

_ICON = {"cleared": "✅", "not-shown": "⚠️", "regressed": "❌"}


def verdict_line(result: Any) -> str:
    """``✅ **CLEARED**: `fixed` against `baseline` — target 10 %–20 % better``."""
    low, high = result.settings.get("target", [0.1, 0.2])
    return (f"{_ICON.get(result.overall, '')} **{md_escape(result.overall.upper())}**: "
            f"`{md_escape(result.candidate)}` against `{md_escape(result.baseline)}` — target "
            f"{low:.0%}–{high:.0%} better").strip()


def short_table(result: Any) -> list[str]:
    """Targets and guardrails: metric, change (a guardrail: increase), interval, verdict."""
    conf = level_text(result.settings.get('confidence', 0.95))
    rows = []
    for cells in _table.rows(result, ("target", "guardrail")):
        metric, role, _, _, _, change, ci, verdict = cells[:8]
        rows.append([md_escape(role), f"`{md_escape(metric)}`", change, ci,
                     md_escape(verdict.replace("-", " "))])
    return tabulate(rows, headers=["", "metric", "change", f"{conf} CI", "verdict"],
                    tablefmt="github", disable_numparse=True).splitlines()


def _folded(result: Any) -> list[str]:
    out = [_table.settings_line(result), ""]
    for title, items in _table.sections(result):
        if items:
            out += [f"**{title.capitalize()}**", ""] + [f"- {md_escape(x)}" for x in items] + [""]
    info = _table.rows(result, ("info",))
    if info:
        out += ["**Other metrics** (no verdict depends on them)", ""]
        out += tabulate([[md_escape(c) for c in r] for r in info], headers=_table.headers(result),
                        tablefmt="github", disable_numparse=True).splitlines()
    return out


def pr_summary(result: Any, *, title: str = "", report_url: str | None = None,
               limit: int = LIMIT) -> str:
    """The comment's markdown (always under ``limit`` bytes)."""
    head = [f"## {md_escape(title)}", ""] if title else []
    head += [verdict_line(result), ""] + short_table(result) + [""]
    if report_url:
        head += [f"[Full report]({report_url.replace(')', '%29').replace(' ', '%20')}) "
                 "(charts, every run, how it was made)", ""]
    folded = _folded(result)
    for body in (folded, folded[:2] + ["_(the rest is in the full report)_"]):
        text = "\n".join(head + ["<details><summary>Reasons, advice, settings, other metrics"
                                 "</summary>", ""] + body + ["", "</details>", ""])
        if len(text.encode("utf-8")) <= limit:
            return text
    cut = "\n".join(head).encode("utf-8")[: limit - 40].decode("utf-8", "ignore")
    return cut + "\n\n_(truncated)_\n"
