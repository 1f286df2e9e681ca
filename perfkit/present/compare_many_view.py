"""The comparison report of several candidates against one baseline (one dataset, > 2 variants).

:func:`perfkit.present.compare_view.comparison` returns a :class:`ManyComparisonReport` when one
dataset holds more than two variants and no candidate is named. It has the methods
``notebooks/compare.ipynb`` calls on a single comparison, so the notebook stays the same: the
first screen is the family's answer, then one table with each candidate's own badge line and its
targets and guardrails (:func:`many_headline_html`); charts show every variant; the Holm
adjustment is :func:`perfkit.analysis.multi.compare_many`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from perfkit.analysis.multi import MultiComparison
from perfkit.analysis.spending import level_text
from perfkit.present import charts
from perfkit.present.export import json as json_export
from perfkit.present.export import markdown as md_export
from perfkit.present.headline import BADGES, GREY, _line
from perfkit.present.markup import as_html, escape, table_html


def many_headline_html(many: MultiComparison) -> str:
    """The family's badge, then one table: per candidate a badge line (its own answer and the
    level it was judged at), then its target and guardrail lines (every data string escaped)."""
    s = many.settings
    target = tuple(s.get("target", (0.1, 0.2)))
    text, colour = BADGES.get(many.overall, (str(many.overall).upper(), GREY))
    rows = []
    for c, level in zip(many.comparisons, many.levels):
        c_text, c_colour = BADGES.get(c.overall, (str(c.overall).upper(), GREY))
        rows.append(
            f'<tr class="perfkit-candidate"><td colspan="6" style="padding:10px 10px 2px;'
            f'text-align:left"><span class="perfkit-badge {escape(c.overall)}" '
            f'style="display:inline-block;background:{c_colour};color:#fff;font-weight:700;'
            f'padding:0.1em 0.5em;border-radius:4px">{escape(c_text)}</span> '
            f"<code>{escape(c.candidate)}</code> against <code>{escape(many.baseline)}</code> "
            f'<span style="color:{GREY}">(judged at {level:.2%})</span></td></tr>')
        t = c.table
        conf = f"{level:.1%}"
        rows += [_line(r, target, conf) for r in t[t["role"] == "target"].itertuples()]
        rows += [_line(r, target, conf) for r in t[t["role"] == "guardrail"].itertuples()]
    sub = (f"{len(many.comparisons)} candidates against baseline "
           f"<code>{escape(many.baseline)}</code> · target {target[0]:.0%}–{target[1]:.0%} "
           f"better · Holm over the candidates for {level_text(many.confidence)} overall")
    return (
        '<div class="perfkit-headline" style="font-family:inherit;margin:0.4em 0 1em 0">'
        f'<div class="perfkit-badge {escape(many.overall)}" style="display:inline-block;'
        f"background:{colour};color:#fff;font-size:2.1em;font-weight:700;letter-spacing:0.04em;"
        f'padding:0.25em 0.8em;border-radius:6px">{escape(text)}</div>'
        f'<p style="margin:0.5em 0;color:#444">{sub}</p>'
        '<table class="perfkit-lines" style="border-collapse:collapse;font-size:1.05em">'
        f"{''.join(rows)}</table></div>"
    )


@dataclass
class ManyComparisonReport:
    """Several candidates' comparisons (``reports``: one
    :class:`~perfkit.present.compare_view.ComparisonReport` each, in the order given) and the
    family (``result``, a :class:`~perfkit.analysis.multi.MultiComparison`)."""

    result: MultiComparison
    reports: list[Any]
    data: Any
    title: str = ""

    @property
    def baseline(self) -> str:
        return self.result.baseline

    @property
    def candidates(self) -> list[str]:
        return self.result.candidates

    @property
    def variants(self) -> list[str]:
        return [self.baseline, *self.candidates]

    @property
    def settings(self) -> dict[str, Any]:
        return self.result.settings

    @property
    def targets(self) -> list[str]:
        return self.reports[0].targets

    @property
    def runs(self) -> Any:
        runs = self.data.runs
        return runs[runs["variant"].isin(self.variants)].copy()

    def title_html(self) -> Any:
        title = self.title or f"{len(self.candidates)} candidates against {self.baseline}"
        return as_html(f"<h2>{escape(title)}</h2>")

    def answer_html(self) -> Any:
        return as_html(many_headline_html(self.result))

    def verdict_table(self) -> Any:
        """One table: every candidate's targets and guardrails, each row naming its candidate
        (the interval at the level that candidate was judged at)."""
        parts = []
        for r, level in zip(self.reports, self.result.levels):
            shown = r._display(("target", "guardrail"))
            shown.insert(0, "candidate", r.candidate)
            shown.insert(1, "level", f"{level:.2%}")
            parts.append(shown.rename(columns=lambda c: "interval" if c.endswith(" interval")
                                      else c))
        return as_html(table_html(pd.concat(parts, ignore_index=True)))

    def info_table(self) -> Any:
        parts = []
        for r in self.reports:
            shown = r._display(("info",))
            shown.insert(0, "candidate", r.candidate)
            parts.append(shown.rename(columns=lambda c: "interval" if c.endswith(" interval")
                                      else c))
        return as_html(table_html(pd.concat(parts, ignore_index=True)))

    def distribution_chart(self, metric: str) -> Any:
        return charts.distributions(self.runs, metric, variants=self.variants,
                                    seed=int(self.settings.get("seed", 0)))

    def target_charts(self, metric: str) -> list[Any]:
        """Every run of every variant, then each candidate's bootstrap distribution of the change
        where its interval has resamples, or one line saying how the interval was found."""
        shown = [self.distribution_chart(metric)]
        notes = []
        for r in self.reports:
            if r.resampled(metric):
                shown.append(r.bootstrap_chart(metric).properties(
                    title=f"{r.candidate}: {metric}, bootstrap distribution of the change"))
            else:
                notes.append(f"{r.candidate}: {r.interval_note(metric)}")
        if notes:
            shown.append(as_html("".join(f'<p class="perfkit-note">{escape(n)}</p>'
                                         for n in notes)))
        return shown

    def order_note(self) -> Any:
        """From the interleaving diagnostic of the candidates' comparisons (one sentence)."""
        for r in self.reports:
            if any(w.kind == "not-interleaved" for w in r.result.warnings):
                return r.order_note()
        return self.reports[0].order_note()

    def order_chart(self, metric: str) -> Any:
        return charts.execution_order(self.runs, metric, variants=self.variants)

    def stage_section(self) -> list[Any]:
        """Each candidate's per-stage changes under its name (one note when none has stages)."""
        if all(r.stage_changes().empty for r in self.reports):
            return self.reports[0].stage_section()
        out: list[Any] = []
        for r in self.reports:
            out.append(as_html(f"<h3>{escape(r.candidate)}</h3>"))
            out += r.stage_section()
        return out

    def outputs_section(self) -> list[Any]:
        """Each candidate's outputs against the baseline's (one note when none recorded any)."""
        if not any(r.outputs().recorded for r in self.reports):
            return self.reports[0].outputs_section()
        out: list[Any] = []
        for r in self.reports:
            out.append(as_html(f"<h3>{escape(r.candidate)}</h3>"))
            out += r.outputs_section()
        return out

    def advice_html(self) -> Any:
        blocks = []
        for r in self.reports:
            blocks.append(f"<h3>{escape(r.candidate)}</h3>{r.advice_html().data}")
        return as_html("\n".join(blocks))

    def metadata(self) -> Any:
        return self.reports[0].metadata()

    def summary_markdown(self, limit: int = md_export.LIMIT, *,
                         report_url: str | None = None) -> str:
        """The pull-request comment: each candidate's answer line and the one table."""
        lines = md_export.many_lines(self.result, limit=limit - 200)
        if report_url:
            link = report_url.replace(")", "%29").replace(" ", "%20")
            lines[1:1] = ["", f"[Full report]({link}) (charts, every run, how it was made)"]
        return "\n".join(lines) + "\n"

    def verdict_json(self) -> str:
        return json_export.render_many(self.result)
