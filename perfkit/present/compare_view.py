"""The comparison report's content: everything ``notebooks/compare.ipynb`` shows, computed here.

:func:`comparison` loads the datasets, runs :func:`perfkit.compare` and returns a
:class:`ComparisonReport`, whose methods give the notebook its tables, charts and prose (HTML) and
the report its markdown summary and verdict JSON. The notebook only displays.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from perfkit import fmt
from perfkit.analysis.diagnostics import measured_values
from perfkit.analysis.multi import compare_many, split_variants
from perfkit.analysis.spending import level_text, recorded_confidence
from perfkit.analysis.stage_changes import stage_changes
from perfkit.analysis.stats import bootstrap_distribution
from perfkit.analysis.verdict import DEFAULT_GUARDRAILS, compare
from perfkit.data.sources import load, pick_pair
from perfkit.present import charts, handoff
from perfkit.present.compare_many_view import ManyComparisonReport
from perfkit.present.export import json as json_export
from perfkit.present.export._table import row_cells
from perfkit.present.headline import headline_html
from perfkit.present.markup import as_html, display_label, escape, meta_rows, shorten, table_html
from perfkit.present.outputs_view import outputs_comparison
from perfkit.present.pr_summary import pr_summary
from perfkit.present.runner import find_data

#: GitHub refuses pull-request comments over 65,536 characters; stay clearly below.
SUMMARY_LIMIT = 60_000

#: How an interval without resamples was found: the line a target shows instead of a histogram.
INTERVAL_METHODS = {
    "moses": "the interval is Moses's exact rank interval around the Hodges–Lehmann change "
             "(no resamples, so no histogram of them)",
    "exact": "every run counted the same in each variant: the change is exact, with no spread "
             "to draw",
    "undefined": "the change has no interval",
}


def _direction(verdict: str) -> str:
    """An informational row's reading: which way it went (Holm-adjusted), no target implied."""
    return {"better": "better", "worse": "worse", "no-change": "no clear change"}.get(verdict, "—")


@dataclass
class ComparisonReport:
    """Everything ``notebooks/compare.ipynb`` shows, computed by perfkit (the notebook only displays).

    Built by :func:`comparison`. ``result`` is :func:`perfkit.compare`'s
    :class:`~perfkit.analysis.verdict.Comparison`; ``baseline_data``/``candidate_data`` the datasets
    (``candidate_data`` is ``None`` when one dataset holds both variants).
    """

    result: Any
    baseline_data: Any
    candidate_data: Any | None
    title: str = ""
    sources: tuple[str, str] = ("", "")
    _distributions: dict[str, Any] = field(default_factory=dict, repr=False)
    _outputs: Any = field(default=None, repr=False)

    # -- labels and tables ------------------------------------------------------------------
    @property
    def baseline(self) -> str:
        return self.result.baseline

    @property
    def candidate(self) -> str:
        return self.result.candidate

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.result.settings)

    @property
    def targets(self) -> list[str]:
        t = self.result.table
        return list(t.loc[t["role"] == "target", "metric"])

    def _labels(self) -> tuple[str, str]:
        if self.baseline != self.candidate:
            return self.baseline, self.candidate
        return f"{self.baseline} (baseline)", f"{self.candidate} (candidate)"

    @property
    def runs(self) -> Any:
        """The runs of both variants in one table (``variant`` relabelled if both share a label)."""

        b_label, c_label = self._labels()
        first = self.baseline_data.runs
        if self.candidate_data is None:
            both = first[first["variant"].isin([self.baseline, self.candidate])].copy()
            return both
        b = first[first["variant"] == self.baseline].assign(variant=b_label)
        second = self.candidate_data.runs
        c = second[second["variant"] == self.candidate].assign(variant=c_label)
        return pd.concat([b, c], ignore_index=True)

    @property
    def stages(self) -> Any:

        b_label, c_label = self._labels()
        first = self.baseline_data.stages
        if self.candidate_data is None:
            return first[first["variant"].isin([self.baseline, self.candidate])].copy()
        second = self.candidate_data.stages
        return pd.concat(
            [first[first["variant"] == self.baseline].assign(variant=b_label),
             second[second["variant"] == self.candidate].assign(variant=c_label)],
            ignore_index=True,
        )

    # -- the answer ---------------------------------------------------------------------------
    def title_html(self) -> Any:
        """The report's title (escaped: labels come from data); where the data came from is in
        :meth:`metadata`, at the end."""
        title = self.title or f"{self.candidate} against {self.baseline}"
        return as_html(f"<h2>{escape(title)}</h2>")

    def answer(self) -> str:
        """The overall answer in one sentence (plain text)."""
        r = self.result
        t = r.table
        conf = level_text(self.settings.get('confidence', 0.95))
        low, high = self.settings.get("target", [0.1, 0.2])
        parts = []
        for row in t[t["role"] == "target"].itertuples():
            interval = ("exact: every run counted the same" if row.method == "exact" else
                        f"{conf} interval {fmt.pct(row.ci_low)} to {fmt.pct(row.ci_high)}")
            parts.append(
                f"{row.metric} {fmt.pct(row.change)} (better if positive; {interval}): {row.verdict}"
            )
        guards = t[t["role"] == "guardrail"]
        bad = [f"{g.metric} {g.verdict}" for g in guards.itertuples() if g.verdict != "held"]
        guard_text = "every guardrail held" if not bad else "guardrails: " + ", ".join(bad)
        head = {"cleared": "Cleared", "regressed": "Regressed", "not-shown": "Not shown"}.get(
            r.overall, r.overall)
        return (
            f"{head}: {shorten(r.candidate)!r} against {shorten(r.baseline)!r}, "
            f"target {low:.0%}–{high:.0%} better — "
            + "; ".join(parts) + f"; {guard_text}."
        )

    def answer_html(self) -> Any:
        """The first screen: a badge with the overall answer, then one line per target and
        guardrail with its change, its interval drawn against the band or margin, and its verdict
        (see :mod:`perfkit.present.headline`; escaped: names come from data)."""
        return as_html(headline_html(self.result))

    def _display(self, roles: tuple[str, ...]) -> Any:

        t = self.result.table
        t = t[t["role"].isin(roles)]
        conf = level_text(self.settings.get('confidence', 0.95))
        stat = self.settings.get("statistic", "median")
        stat = "median" if stat in ("hl", "auto") else stat  # hl rows show each variant's median
        rate = t["metric"] == "success_rate"  # perfkit.analysis.verdict.SUCCESS_METRIC

        def level(col: str) -> list[str]:  # the success rate reads as a percentage
            return [f"{v:.0%}" if r and v == v else fmt.num(v) for v, r in zip(t[col], rate)]

        info = roles == ("info",)
        cells = [row_cells(r) for r in t.itertuples()]
        return pd.DataFrame(
            {
                "metric": t["metric"].astype(str),
                "role": t["role"].astype(str),
                "runs (b/c)": [f"{a}/{b}" for a, b in zip(t["n_baseline"], t["n_candidate"])],
                f"baseline {stat}": level("baseline"),
                f"candidate {stat}": level("candidate"),
                # a guardrail shows its increase (candidate/baseline − 1), as its reason does
                "change": [c[0] for c in cells],
                # an exact comparison (constant counts) has no interval to show
                f"{conf} interval": [c[1] for c in cells],
                # informational rows have no target: say which way they went, not "cleared"
                ("direction" if info else "verdict"): (t["verdict"].map(_direction) if info
                                                       else t["verdict"].astype(str)),
                "method": t["method"].astype(str),
                "p": t["p_value"].map(lambda p: "—" if p != p else f"{p:.3g}"),
            }
        ).reset_index(drop=True)

    def verdict_table(self) -> Any:
        """Targets and guardrails (with their margins), formatted for reading (HTML, escaped)."""
        t = self.result.table
        shown = self._display(("target", "guardrail"))
        margins = t.loc[t["role"].isin(("target", "guardrail")), "margin"].tolist()
        shown.insert(2, "margin", [(fmt.MISSING if m != m else f"{m:.0%}") for m in margins])
        return as_html(table_html(shown))

    def guardrails_table(self) -> Any:
        """Guardrails with their margins (an HTML table, escaped)."""
        t = self.result.table
        g = self._display(("guardrail",))
        margins = t.loc[t["role"] == "guardrail", "margin"].tolist()
        g.insert(2, "margin", [(fmt.MISSING if m != m else f"{m:.0%}") for m in margins])
        return as_html(table_html(g))

    def info_table(self) -> Any:
        """Every other metric (informational rows, no verdict)."""
        return as_html(table_html(self._display(("info",))))

    def advice_html(self) -> Any:
        """Reasons, advice on more runs, and the statistical warnings, as escaped lists."""
        r = self.result
        blocks = []
        for title, items in (("Why", r.reasons), ("More runs?", r.advice or
                              ["no row is unresolved: more runs are not needed to decide"]),
                             ("Warnings", [str(w) for w in r.warnings])):
            if items:
                lis = "".join(f"<li>{escape(x)}</li>" for x in items)
                blocks.append(f"<p><strong>{escape(title)}</strong></p><ul>{lis}</ul>")
        return as_html("\n".join(blocks))

    def metadata(self) -> Any:
        """How the data were made: a short table (commands, host, settings), and every field of
        both sides' records folded in a ``<details>`` (escaped)."""

        first = meta_rows(self.baseline_data.meta)
        second = first if self.candidate_data is None else meta_rows(self.candidate_data.meta)
        short = [(f"{self.baseline} command", first.get(f"variants.{self.baseline}.command", "")),
                 (f"{self.candidate} command",
                  second.get(f"variants.{self.candidate}.command", ""))]
        for key, label in (("host", "host"), ("cpu_model", "CPU"), ("cpu_count", "CPUs"),
                           ("kernel", "kernel"), ("measure.runs", "runs per variant"),
                           ("measure.warmup", "warm-up runs"), ("started_at", "started"),
                           ("perfkit_version", "perfkit")):
            a, b = first.get(key, ""), second.get(key, "")
            if a or b:
                short.append((label, a if a == b or not b else f"{a} / {b}"))
        where = (self.sources[0] if self.candidate_data is None
                 else f"{self.sources[0]} → {self.sources[1]}")
        brief = pd.DataFrame([("data", where), *short], columns=["", "value"])
        if self.candidate_data is None:
            df = pd.DataFrame({"field": list(first), "value": list(first.values())})
        else:
            keys = list(dict.fromkeys([*first, *second]))
            df = pd.DataFrame({"field": keys,
                               f"baseline ({self.sources[0]})": [first.get(k, "") for k in keys],
                               f"candidate ({self.sources[1]})": [second.get(k, "") for k in keys]})
        return as_html(table_html(brief, classes="perfkit-meta")
                       + f"<details><summary>every metadata field ({len(df)})</summary>"
                       + table_html(df, classes="perfkit-meta") + "</details>")

    # -- statistics for the charts ----------------------------------------------------------
    def _values(self, metric: str) -> tuple[Any, Any]:
        first = self.baseline_data.runs
        second = first if self.candidate_data is None else self.candidate_data.runs
        b, _ = measured_values(first[first["variant"] == self.baseline], metric)
        c, _ = measured_values(second[second["variant"] == self.candidate], metric)
        return b, c

    def distribution(self, metric: str) -> Any:
        """Bootstrap replicates of the change of ``metric`` (the resamples behind its interval)."""
        if metric not in self._distributions and metric in self.result.distributions:
            # the very replicates behind the interval (a paired design resamples rounds)
            self._distributions[metric] = self.result.distributions[metric]
        if metric not in self._distributions:
            s = self.settings
            b, c = self._values(metric)
            self._distributions[metric] = bootstrap_distribution(
                b, c, statistic=s.get("statistic", "median"),
                n_resamples=int(s.get("n_resamples", 10_000)), seed=s.get("seed", 0))
        return self._distributions[metric]

    def stage_changes(self) -> Any:
        """Per-stage change of duration (see :func:`stage_changes`); empty without stages."""
        s = self.settings
        b_label, c_label = self._labels()
        return stage_changes(self.stages, b_label, c_label, confidence=s.get("confidence", 0.95),
                             statistic=s.get("statistic", "median"),
                             n_resamples=int(s.get("n_resamples", 10_000)), seed=s.get("seed", 0),
                             runs=self.runs)

    def stage_section(self) -> list[Any]:
        """What the report shows per stage: a chart and a table, or a note that there are none."""

        table = self.stage_changes()
        if table.empty:
            return [as_html("<p>This dataset records no stages that ran in both variants.</p>")]
        stat = self.settings.get("statistic", "median")
        stat = "median" if stat in ("hl", "auto") else stat  # stage rows show each variant's median
        shown = pd.DataFrame({
            "stage": table["stage"], "title": table["title"],
            "runs (b/c)": [f"{a}/{b}" for a, b in zip(table["n_baseline"], table["n_candidate"])],
            f"baseline {stat}": table["baseline"].map(fmt.seconds),
            f"candidate {stat}": table["candidate"].map(fmt.seconds),
            "change": table["change"].map(fmt.pct),
            "interval": [f"{fmt.pct(a)} to {fmt.pct(b)}"
                         for a, b in zip(table["ci_low"], table["ci_high"])],
            "method": table["method"],
        })
        return [self.stage_chart(), as_html(table_html(shown))]

    # -- outputs ------------------------------------------------------------------------------
    def outputs(self) -> Any:
        """The candidate's outputs against the baseline's (structure and normalised content per
        file pattern): :class:`perfkit.present.outputs_view.OutputsComparison`."""
        if self._outputs is None:
            self._outputs = outputs_comparison(self.baseline_data, self.baseline, self.candidate,
                                               self.candidate_data)
        return self._outputs

    def outputs_section(self) -> list[Any]:
        """"Outputs: same structure and content / differ", with the list of differences."""
        return [self.outputs().html()]

    # -- charts -------------------------------------------------------------------------------
    def distribution_chart(self, metric: str) -> Any:
        b_label, c_label = self._labels()
        return charts.distributions(self.runs, metric, variants=[b_label, c_label],
                                    seed=int(self.settings.get("seed", 0)))

    def bootstrap_chart(self, metric: str) -> Any:
        row = self.result.row(metric)
        s = self.settings
        return charts.bootstrap_change(
            self.distribution(metric), estimate=float(row["change"]), ci_low=float(row["ci_low"]),
            ci_high=float(row["ci_high"]), target=tuple(s.get("target", (0.1, 0.2))),
            metric=metric, confidence=s.get("confidence"))

    def resampled(self, metric: str) -> bool:
        """Whether the interval of ``metric`` comes from resamples that a histogram can show
        (not for an exact or undefined change, nor for the rank-based Moses interval)."""
        return (self.result.row(metric)["method"] not in ("exact", "undefined")
                and len(self.distribution(metric)) > 0)

    def interval_note(self, metric: str) -> str:
        """One line on how the interval of ``metric`` was found, for a target without a
        bootstrap chart."""
        row = self.result.row(metric)
        method = str(row["method"])
        how = INTERVAL_METHODS.get(method.removesuffix("-ar1"), f"interval by {method}")
        if method.endswith("-ar1"):
            how += " (widened for the autocorrelation of runs that were not interleaved)"
        if method == "undefined" and isinstance(row["note"], str) and row["note"]:
            how += f" ({row['note']})"
        return f"{metric}: {how}."

    def target_charts(self, metric: str) -> list[Any]:
        """The charts of one target: every run, and the bootstrap distribution of the change when
        its interval has resamples; otherwise one line saying how the interval was found."""
        shown = [self.distribution_chart(metric)]
        if self.resampled(metric):
            shown.append(self.bootstrap_chart(metric))
        else:
            shown.append(as_html(f'<p class="perfkit-note">{escape(self.interval_note(metric))}'
                                 "</p>"))
        return shown

    def order_note(self) -> Any:
        """The sentence above the execution-order charts, from the same diagnostic as the
        ``not-interleaved`` warning (:func:`perfkit.analysis.diagnostics.interleaving`): the
        report never says the runs were interleaved when they were not."""
        found = [w for w in self.result.warnings if w.kind == "not-interleaved"]
        if found:
            text = (f"Not interleaved: {found[0].message}. A trend in these lines cannot be told "
                    f"apart from an effect of the fix ({found[0].hint}).")
        else:
            text = ("The variants ran interleaved, round by round: a trend shared by both lines "
                    "is drift of the machine, not an effect of the fix.")
        return as_html(f"<p>{escape(text)}</p>")

    def order_chart(self, metric: str) -> Any:
        return charts.execution_order(self.runs, metric, variants=list(self._labels()))

    def stage_chart(self) -> Any:
        table = self.stage_changes()
        return charts.change_intervals(table.assign(label=table["title"]), label="label",
                                       title="change of each stage's duration, with its interval")

    # -- files ----------------------------------------------------------------------------------
    def summary_markdown(self, limit: int = SUMMARY_LIMIT, *, report_url: str | None = None) -> str:
        """The pull-request comment (:func:`perfkit.present.pr_summary.pr_summary`): one verdict
        line, a short table of targets and guardrails, the rest folded, a link to the report."""
        outputs = self.outputs()
        if not outputs.recorded:
            return pr_summary(self.result, title=self.title, report_url=report_url, limit=limit)
        section = shorten(outputs.markdown(), 4000)
        text = pr_summary(self.result, title=self.title, report_url=report_url,
                          limit=limit - len(section) - 2)
        return text.rstrip("\n") + "\n\n" + section

    def verdict_json(self) -> str:
        """The machine-readable verdict (:meth:`~perfkit.analysis.verdict.Comparison.to_json`,
        with each guardrail's increase: :mod:`perfkit.present.export.json`)."""
        return json_export.render(self.result)


def _displayable(dataset: Any) -> Any:
    """The dataset with variant names over :data:`~perfkit.present.markup.SHOWN_CHARS` characters
    replaced by :func:`~perfkit.present.markup.display_label` (in runs, stages and meta): a report
    repeats each name in every chart point and table row, and 100 kB names made a 23 MB page
    that took three minutes. The dataset on disk keeps the names whole."""
    runs = dataset.runs
    if runs.empty or "variant" not in runs.columns:
        return dataset
    names = runs["variant"].dropna().unique()
    mapping = {v: display_label(v) for v in names if display_label(v) != v}
    if not mapping or not dataclasses.is_dataclass(dataset):
        return dataset
    changes: dict[str, Any] = {"runs": runs.assign(variant=runs["variant"].replace(mapping))}
    stages = getattr(dataset, "stages", None)
    if stages is not None and "variant" in stages.columns:
        changes["stages"] = stages.assign(variant=stages["variant"].replace(mapping))
    meta = getattr(dataset, "meta", None)
    if isinstance(meta, dict) and isinstance(meta.get("variants"), dict):
        changes["meta"] = {**meta, "variants": {display_label(k): v
                                                for k, v in meta["variants"].items()}}
    return dataclasses.replace(dataset, **changes)


def default_metrics(*runs: Any) -> list[str]:
    """``wall_s``, plus ``manifest_writes`` when every runs table given has counts in it."""

    counted = all("manifest_writes" in r.columns
                  and pd.to_numeric(r["manifest_writes"], errors="coerce").notna().any()
                  for r in runs)
    return ["wall_s", "manifest_writes"] if counted else ["wall_s"]


def comparison_arguments(
    baseline_path: str | os.PathLike,
    candidate_path: str | os.PathLike | None = None,
    *,
    baseline: str | None = None,
    candidate: str | None = None,
    metrics: Any = None,
    target: Any = (0.10, 0.20),
    guardrails: Mapping[str, float] | None = None,
    confidence: float | None = None,
    statistic: str | None = None,
    seed: int = 0,
    resamples: int = 10_000,
    title: str = "",
) -> dict[str, Any]:
    """:func:`comparison`'s arguments in one canonical form (paths found, lists as tuples), the
    key under which ``perfkit report`` hands a built comparison to the notebook
    (:mod:`perfkit.present.handoff`)."""
    return {
        "baseline_path": str(find_data(baseline_path)),
        "candidate_path": str(find_data(candidate_path)) if candidate_path else None,
        "baseline": baseline or None,
        "candidate": candidate or None,
        "metrics": None if metrics is None else (metrics,) if isinstance(metrics, str)
        else tuple(metrics),
        "target": float(target) if isinstance(target, (int, float)) else tuple(map(float, target)),
        "guardrails": None if guardrails is None else tuple(sorted(dict(guardrails).items())),
        "confidence": None if confidence is None else float(confidence),
        "statistic": statistic,
        "seed": seed,
        "resamples": int(resamples),
        "title": title,
    }


def comparison(
    baseline_path: str | os.PathLike,
    candidate_path: str | os.PathLike | None = None,
    *,
    baseline: str | None = None,
    candidate: str | None = None,
    metrics: Any = None,
    target: Any = (0.10, 0.20),
    guardrails: Mapping[str, float] | None = None,
    confidence: float | None = None,
    statistic: str | None = None,
    seed: int = 0,
    resamples: int = 10_000,
    title: str = "",
    prepared: str | os.PathLike | None = None,
) -> ComparisonReport | ManyComparisonReport:
    """Load the dataset(s), run :func:`perfkit.compare`, and return what the report shows.

    ``baseline_path`` holds both variants, or (with ``candidate_path``) only the baseline's runs.
    Variant labels default to ``baseline``/``candidate``, or a one-variant dataset's only label.
    Relative paths are found with :func:`find_data`. ``metrics=None`` judges ``wall_s``, and
    ``manifest_writes`` too when both sides carry traced counts (the two targets ``perfkit demo``
    judges). ``guardrails=None`` uses compare's default (peak memory within 5 %).
    ``confidence``/``statistic`` None: those of the last look of a dataset collected with
    ``--until-decided`` (as ``perfkit compare`` judges it), else 0.95 and ``auto``.
    One dataset with more than two variants and no ``candidate``: every other variant against
    the baseline (``baseline``, or the one named ``baseline``, or the first), Holm-adjusted — a
    :class:`~perfkit.present.compare_many_view.ManyComparisonReport`.
    ``prepared`` is the file in which ``perfkit report`` handed over the comparison it built for
    exactly these arguments (:mod:`perfkit.present.handoff`); otherwise it is computed here.
    """
    key = comparison_arguments(
        baseline_path, candidate_path, baseline=baseline, candidate=candidate, metrics=metrics,
        target=target, guardrails=guardrails, confidence=confidence, statistic=statistic,
        seed=seed, resamples=resamples, title=title)
    built = handoff.take(prepared, "comparison", key)
    if isinstance(built, (ComparisonReport, ManyComparisonReport)):
        return built
    first = _displayable(load(key["baseline_path"]))
    second = _displayable(load(key["candidate_path"])) if candidate_path else None
    if second is None and not candidate and len(first.variants) > 2:
        return _many(first, key)
    base, cand = pick_pair(first, second, baseline and display_label(baseline),
                           candidate and display_label(candidate))
    if metrics is None:
        metrics = default_metrics(first.runs, (second if second is not None else first).runs)
    result = compare(
        first, base, cand, candidate_runs=second,
        targets=[metrics] if isinstance(metrics, str) else list(metrics),
        target=target if isinstance(target, (int, float)) else tuple(target),
        guardrails=DEFAULT_GUARDRAILS if guardrails is None else dict(guardrails),
        confidence=confidence, statistic=statistic, n_resamples=resamples, seed=seed,
    )
    sources = (str(baseline_path), str(candidate_path or baseline_path))
    return ComparisonReport(result=result, baseline_data=first, candidate_data=second,
                            title=title, sources=sources)


def _many(data: Any, key: dict[str, Any]) -> ManyComparisonReport:
    """Every other variant of ``data`` against the baseline, Holm-adjusted
    (:func:`~perfkit.analysis.multi.compare_many`)."""
    baseline, candidates = split_variants(data, key["baseline"] and display_label(key["baseline"]))
    metrics = key["metrics"]
    if metrics is None:
        metrics = default_metrics(data.runs)
    many = compare_many(
        data, baseline, candidates, targets=list(metrics),
        target=key["target"],
        confidence=recorded_confidence(data.meta) if key["confidence"] is None else key["confidence"],
        guardrails=DEFAULT_GUARDRAILS if key["guardrails"] is None else dict(key["guardrails"]),
        statistic=key["statistic"], n_resamples=key["resamples"], seed=key["seed"])
    source = key["baseline_path"]
    reports = [ComparisonReport(result=c, baseline_data=data, candidate_data=None,
                                title=key["title"], sources=(source, source))
               for c in many.comparisons]
    return ManyComparisonReport(result=many, reports=reports, data=data, title=key["title"])
