"""The trend report's content: everything ``notebooks/trend.ipynb`` shows, computed here.

:func:`trend` opens a history, runs :func:`perfkit.analysis.history_check.check_history` over the
chosen benchmarks and metrics and returns a :class:`TrendReport`: the answer, a table of what was
found, and per metric a chart of its value per commit (median with the quartile band of the
commit's runs, steps as dashed rules, drift shaded), its steps with their intervals, and for
each step the per-stage breakdown (every stage's median before and after). Every string from data
(benchmark, metric, commit, stage names) is escaped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from perfkit import fmt
from perfkit.analysis.history_check import THRESHOLD, HistoryCheck, MetricCheck, Step, check_history
from perfkit.data.history import History, open_history
from perfkit.data.schema import is_trace_metric
from perfkit.errors import DatasetError
from perfkit.present import charts, handoff
from perfkit.present.markup import as_html, escape, table_html
from perfkit.present.trend_view import SHORT, markdown, step_table, trend_chart, value

#: Metrics shown when none are named: time, memory and every exact write count there is.
DEFAULT_METRICS = ("wall_s", "user_s", "sys_s", "max_rss_kib")


def default_metrics(history: History, name: str) -> list[str]:
    """``DEFAULT_METRICS`` the benchmark has, then its ``*_writes`` counters."""
    have = history.metrics(name)
    return ([m for m in DEFAULT_METRICS if m in have]
            + [m for m in have if m.endswith("_writes") and is_trace_metric(m)])


@dataclass
class TrendReport:
    """Everything ``notebooks/trend.ipynb`` shows; built by :func:`trend`."""

    history: History
    result: HistoryCheck
    title: str = ""

    # -- text ------------------------------------------------------------------------------
    def answer(self) -> str:
        """One sentence: how many series, steps, drifts and regressions."""
        checks = self.result.checks
        steps = sum(len(c.steps) for c in checks)
        drifts = sum(len(c.drifts) for c in checks)
        bad = [c for c in checks if c.regressed]
        head = (f"{len(bad)} of {len(checks)} series regressed" if bad
                else f"no regression in {len(checks)} series")
        return (f"{head} (threshold {fmt.pct(self.result.threshold)} worse): {steps} "
                f"step{'s' * (steps != 1)} and {drifts} drift{'s' * (drifts != 1)} found.")

    def findings(self) -> pd.DataFrame:
        """One row per step or drift of every series (a series with none: one row saying so)."""
        rows = []
        for c in self.result.checks:
            base = {"benchmark": c.benchmark, "metric": c.metric, "commits": len(c.series)}
            for s in c.steps:
                rows.append({**base, "finding": "step", "where": _short(s.commit_after),
                             "change": fmt.pct(s.change),
                             "interval": f"[{fmt.pct(s.ci_low)}, {fmt.pct(s.ci_high)}]",
                             "regression": "yes" if s.regression else "no"})
            for d in c.drifts:
                rows.append({**base, "finding": "drift",
                             "where": f"{_short(d.commit_first)} … {_short(d.commit_last)}",
                             "change": fmt.pct(d.total), "interval": fmt.MISSING,
                             "regression": "yes" if d.regression else "no"})
            if not c.steps and not c.drifts:
                rows.append({**base, "finding": c.note or "none", "where": fmt.MISSING,
                             "change": fmt.MISSING, "interval": fmt.MISSING, "regression": "no"})
        return pd.DataFrame(rows)

    def summary_markdown(self) -> str:
        """The check as markdown, for a pull-request comment (``history check --format markdown``)."""
        return markdown(self.result) + "\n"

    # -- HTML pieces -------------------------------------------------------------------------
    def title_html(self) -> Any:
        # the notebook's own heading asks the question: a title only when one was given
        head = f"<h2>{escape(self.title)}</h2>" if self.title else ""
        return as_html(f"{head}<p>history: {escape(self.history.path.name)}"
                       f" · seed {self.result.seed} · commits in {escape(self._order())}</p>")

    def _order(self) -> str:
        """The rule that ordered the commits (one per benchmark shown)."""
        names = list(dict.fromkeys(c.benchmark for c in self.result.checks))
        rules = sorted({self.history.order(n) for n in names})
        return " / ".join(rules) if rules else "history order"

    def overview_html(self) -> Any:
        cls = "perfkit-answer" + (" perfkit-regressed" if self.result.regressed else "")
        return as_html(f'<p class="{cls}">{escape(self.answer())}</p>'
                       + table_html(self.findings()))

    def metric_sections(self) -> list[Any]:
        """Per series: a heading, its chart, its steps, and each step's per-stage breakdown."""
        out: list[Any] = []
        for c in self.result.checks:
            out.append(as_html(f"<h3>{escape(c.benchmark)} / {escape(c.metric)}</h3>"
                               f"<p>{escape(_series_line(c))}</p>"))
            if len(c.series):
                out.append(trend_chart(c))
            if c.steps:
                out.append(as_html(table_html(step_table(c))))
            for s in c.steps:
                out += self.stage_section(c, s)
        return out

    def stage_section(self, check: MetricCheck, step: Step) -> list[Any]:
        """Every stage's median duration before and after ``step`` (a chart and a table)."""
        head = (f"<h4>Per stage at {escape(_short(step.commit_after))} "
                f"({escape(check.metric)} {escape(fmt.pct(step.change))})</h4>")
        if not step.stages:
            return [as_html(head + "<p>The runs of this benchmark record no stages.</p>")]
        table = stage_table(step)
        return [as_html(head), stage_chart(check, step), as_html(table_html(table))]


def _short(commit: str) -> str:
    return str(commit)[:SHORT]


def _series_line(c: MetricCheck) -> str:
    if c.note:
        return c.note
    if c.series.empty:
        return "no values"
    spread = ((c.series["q3"] - c.series["q1"]) / c.series["value"]).median()
    return (f"{len(c.series)} commits, {int(c.series['n'].median())} runs each (median); "
            f"median of the commits {value(c.metric, c.series['value'].median())}, typical "
            f"spread within a commit (quartiles) {fmt.pct(spread).lstrip('+')}; "
            f"{c.candidates} candidate change point{'s' * (c.candidates != 1)}, "
            f"{len(c.steps)} confirmed.")


def stage_table(step: Step) -> pd.DataFrame:
    """Every stage of a step: median duration before and after, the difference and the ratio."""
    return pd.DataFrame({
        "stage": [m.name for m in step.stages],
        "before": [fmt.seconds(m.before) for m in step.stages],
        "after": [fmt.seconds(m.after) for m in step.stages],
        "after − before": [("+" if m.delta > 0 else "−") + fmt.seconds(abs(m.delta))
                           for m in step.stages],
        "after / before": [fmt.ratio(m.after / m.before) if m.before else fmt.MISSING
                           for m in step.stages],
    })


def stage_chart(check: MetricCheck, step: Step):
    """Bars of every stage's median duration before and after a step, stages in pipeline order
    of size (largest move first)."""
    import altair as alt

    names = [m.name for m in step.stages]
    data = pd.DataFrame(
        [{"stage": m.name, "side": side, "seconds": getattr(m, side)}
         for m in step.stages for side in ("before", "after")])
    colors = alt.Scale(domain=["before", "after"],
                       range=[charts.BASELINE_COLOR, charts.CANDIDATE_COLOR])
    return alt.Chart(data).mark_bar().encode(
        y=alt.Y("stage:N", sort=names, title=None),
        yOffset=alt.YOffset("side:N", sort=["before", "after"]),
        x=alt.X("seconds:Q", title="median duration (s)"),
        color=alt.Color("side:N", scale=colors, title=None),
        tooltip=["stage:N", "side:N", alt.Tooltip("seconds:Q", format=".4g")],
    ).properties(width=charts.WIDTH, title=f"{check.metric}: stages at {_short(step.commit_after)}")


def trend_arguments(history: str | os.PathLike, *, names: list[str] | None = None,
                    metrics: list[str] | None = None, threshold: float = THRESHOLD,
                    seed: int = 0, last: int | None = None, title: str = "") -> dict[str, Any]:
    """:func:`trend`'s arguments, normalised: the key under which ``perfkit report --trend``
    hands its check to the notebook (:mod:`perfkit.present.handoff`)."""
    return {"history": str(Path(history).resolve()), "names": list(names or []) or None,
            "metrics": list(metrics or []) or None, "threshold": float(threshold),
            "seed": int(seed), "last": last, "title": str(title)}


def trend(history: str | os.PathLike, *, names: list[str] | None = None,
          metrics: list[str] | None = None, threshold: float = THRESHOLD, seed: int = 0,
          last: int | None = None, title: str = "",
          prepared: str | os.PathLike | None = None) -> TrendReport:
    """Open the history folder ``history`` and check it for the trend report.

    ``metrics`` empty or None: :func:`default_metrics` of each benchmark. ``prepared`` is the
    file in which ``perfkit report --trend`` handed over the report it built for exactly these
    arguments (its check decides the exit code and ``check.json``; the notebook shows that same
    check instead of running it again); otherwise — the notebook run by itself, other
    arguments — the check runs here.
    """
    key = trend_arguments(history, names=names, metrics=metrics, threshold=threshold, seed=seed,
                          last=last, title=title)
    built = handoff.take(prepared, "trend", key)
    if isinstance(built, TrendReport):
        return built
    kept = open_history(Path(history))
    available = kept.names()
    if not available:
        raise DatasetError(f"{kept.path}: the history is empty (add a dataset first)")
    checks = []
    for name in names or available:
        chosen = list(metrics) if metrics else default_metrics(kept, name)
        checks += check_history(kept, names=[name], metrics=chosen, threshold=threshold,
                                seed=seed, last=last).checks
    return TrendReport(history=kept, result=HistoryCheck(checks=checks, threshold=threshold,
                                                         seed=seed), title=title)
