"""A history check for people: text, markdown and JSON, and the trend notebook's charts.

``render(result, fmt)`` turns a :class:`~perfkit.analysis.history_check.HistoryCheck` into what
``perfkit history check --format`` prints; :func:`trend_chart` draws one metric per commit with
its spread (quartiles of the commit's runs), the steps marked and drift shaded; :func:`step_table`
lists the steps with the stages and counters that moved most. Strings from data (benchmark,
metric, commit, stage names) are escaped for markdown; the JSON carries full precision.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from perfkit import fmt
from perfkit.analysis.history_check import HistoryCheck, MetricCheck, Step
from perfkit.errors import UsageError
from perfkit.present.markup import md_escape

FORMATS = ("text", "markdown", "json")
SHORT = 10
#: Stages named per step in text and markdown (the notebook shows every stage).
TOP = 3


def value(metric: str, x) -> str:
    """A metric's value in its unit: seconds, bytes, or a plain number."""
    if metric.endswith("_s"):
        return fmt.seconds(x)
    if metric.endswith("_kib"):
        return fmt.bytes_(None if fmt.is_missing(x) else float(x) * 1024)
    if metric.endswith("_bytes") or metric in ("io_rchar", "io_wchar"):
        return fmt.bytes_(x)
    return fmt.num(x)


def _short(commit: str) -> str:
    return commit[:SHORT]


def _step_line(step: Step) -> str:
    verdict = "REGRESSION" if step.regression else ("better" if step.change > 0 else "worse")
    return (f"step at {_short(step.commit_after)} (after {_short(step.commit_before)}): "
            f"{value(step.metric, step.before)} → {value(step.metric, step.after)}, change "
            f"{fmt.pct(step.change)} [{fmt.pct(step.ci_low)}, {fmt.pct(step.ci_high)}] "
            f"(p {fmt.p_value(step.p_value)}) — {verdict}")


def _movers(step: Step) -> list[str]:
    out = []
    if step.stages:
        out.append("stages: " + "; ".join(
            f"{m.name} {fmt.seconds(m.before)} → {fmt.seconds(m.after)}"
            for m in step.stages[:TOP]))
    if step.files:
        out.append("files: " + "; ".join(
            f"{m.name} {fmt.count(m.before)} → {fmt.count(m.after)}" for m in step.files))
    return out


def _drift_line(check: MetricCheck, d) -> str:
    verdict = "REGRESSION" if d.regression else ("better" if d.total > 0 else "worse")
    return (f"drift {_short(d.commit_first)} … {_short(d.commit_last)} "
            f"({d.stop - d.start + 1} commits): {fmt.pct(-d.per_commit, digits=2)} per commit, "
            f"{fmt.pct(d.total)} in all (Kendall p {fmt.p_value(d.p_value)}) — {verdict}")


def _answer(result: HistoryCheck) -> str:
    return "regressed" if result.regressed else "no regression"


def text(result: HistoryCheck) -> str:
    lines = [f"perfkit history check: {len(result.checks)} series, threshold "
             f"{fmt.pct(result.threshold)} worse (seed {result.seed})"]
    for c in result.checks:
        head = f"{c.benchmark} / {c.metric}: {len(c.series)} commits"
        if c.note:
            lines.append(f"{head} — {c.note}")
            continue
        if not c.steps and not c.drifts:
            lines.append(f"{head}, no change point ({c.candidates} candidates, none confirmed)")
            continue
        lines.append(f"{head}, {c.candidates} candidates")
        for s in c.steps:
            lines.append(f"  {_step_line(s)}")
            lines += [f"      {m}" for m in _movers(s)]
        lines += [f"  {_drift_line(c, d)}" for d in c.drifts]
    lines.append(f"answer: {_answer(result)}")
    return "\n".join(lines)


def markdown(result: HistoryCheck) -> str:
    lines = [f"### perfkit history check: **{_answer(result)}**", "",
             f"Threshold {fmt.pct(result.threshold)} worse; seed {result.seed}.", "",
             "| benchmark | metric | commits | finding |", "|---|---|---|---|"]
    for c in result.checks:
        found = ([_step_line(s) for s in c.steps] + [_drift_line(c, d) for d in c.drifts]
                 or [c.note or "no change point"])
        for item in found:
            lines.append(f"| {md_escape(c.benchmark)} | {md_escape(c.metric)} | {len(c.series)} "
                         f"| {md_escape(item)} |")
    explained = [(c, s) for c in result.checks for s in c.steps if s.stages or s.files]
    if explained:
        lines += ["", "**What moved at each step**", ""]
        for c, s in explained:
            lines.append(f"- {md_escape(c.metric)} at `{md_escape(_short(s.commit_after))}`: "
                         + md_escape("; ".join(_movers(s))))
    return "\n".join(lines)


def _finite(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def to_json(result: HistoryCheck) -> str:
    return json.dumps(_finite(result.to_dict()), indent=2, default=str)


def render(result: HistoryCheck, form: str) -> str:
    """``result`` as ``text``, ``markdown`` or ``json``."""
    renderers = {"text": text, "markdown": markdown, "json": to_json}
    if form not in renderers:
        raise UsageError(f"`--format` must be one of {', '.join(FORMATS)}, not {form!r}")
    return renderers[form](result)


def step_table(check: MetricCheck) -> pd.DataFrame:
    """The steps of one metric as a table: commits, levels, change with interval, and the exact
    file-operation counts that moved most (the stages have their own breakdown below it)."""
    rows = [{"first commit after": _short(s.commit_after), "before": value(s.metric, s.before),
             "after": value(s.metric, s.after), "change": fmt.pct(s.change),
             "interval": f"[{fmt.pct(s.ci_low)}, {fmt.pct(s.ci_high)}]",
             "regression": "yes" if s.regression else "no",
             "files moved most": "; ".join(f"{m.name} {fmt.count(m.before)} → "
                                           f"{fmt.count(m.after)}" for m in s.files)
             or fmt.MISSING} for s in check.steps]
    return pd.DataFrame(rows)


def trend_chart(check: MetricCheck):
    """One metric per commit: the median with its quartile band, steps as rules, drift shaded."""
    import altair as alt

    from perfkit.present.charts import axis_title  # altair: imported with the first chart

    # only what the chart shows: the page carries one row per commit and metric
    data = (check.series[["commit", "value", "q1", "q3", "n"]].reset_index(drop=True)
            .assign(position=lambda d: d.index))
    data = data.assign(commit=data["commit"].astype(str).str[:SHORT])
    base = alt.Chart(data).encode(x=alt.X("position:Q", title="commit (history order)"))
    band = base.mark_area(opacity=0.25).encode(y=alt.Y("q1:Q", title=axis_title(check.metric)),
                                                y2="q3:Q")
    line = base.mark_line(point=True).encode(
        y="value:Q", tooltip=["commit:N", alt.Tooltip("value:Q", format=".4g"), "n:Q"])
    layers = [band, line]
    if check.steps:
        steps = pd.DataFrame({"position": [s.index - 0.5 for s in check.steps],
                              "label": [f"{fmt.pct(s.change)} at {_short(s.commit_after)}"
                                        for s in check.steps]})
        layers.append(alt.Chart(steps).mark_rule(color="firebrick", strokeDash=[4, 3]).encode(
            x="position:Q", tooltip=["label:N"]))
    if check.drifts:
        drifts = pd.DataFrame({"start": [d.start for d in check.drifts],
                               "stop": [d.stop for d in check.drifts]})
        layers.insert(0, alt.Chart(drifts).mark_rect(color="orange", opacity=0.15).encode(
            x="start:Q", x2="stop:Q"))
    return alt.layer(*layers).properties(
        width=640, height=180, title=f"{check.benchmark} / {check.metric}")
