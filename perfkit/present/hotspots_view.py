"""The hotspot report's content: everything ``notebooks/hotspots.ipynb`` shows, computed here.

:func:`hotspots` reads a dataset or an orchestrator workspace and returns a
:class:`HotspotsReport`: stage shares, I/O per run, growth with history, and a markdown summary.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pandas as pd
from tabulate import tabulate

from perfkit import fmt
from perfkit.analysis.hotspots import (
    top_files,
    growth,
    growth_slopes,
    io_metrics,
    stage_growth,
    stage_growth_slopes,
    stage_shares,
)
from perfkit.data.sources import load_source, read_artifact_sizes
from perfkit.present import charts
from perfkit.present.compare_view import SUMMARY_LIMIT
from perfkit.present.markup import as_html, escape, md_escape, meta_rows, shorten, table_html
from perfkit.present.outputs_view import (
    artifact_trends,
    sizes_html,
    sizes_markdown,
    stability_html,
    stability_of,
)
from perfkit.present.reliability_view import from_tables
from perfkit.present.runner import find_data


def _varies(values: Any, rel: float = 0.001) -> bool:
    """At least two values, spread over more than ``rel`` (0.1 %) of their median's size."""
    v = values.dropna()
    if len(v) < 2 or v.nunique() < 2:
        return False
    scale = abs(float(v.median()))
    return scale == 0 or float(v.max() - v.min()) > rel * scale


@dataclass
class HotspotsReport:
    """Everything ``notebooks/hotspots.ipynb`` shows; built by :func:`hotspots`."""

    data: Any
    source: str
    title: str = ""

    @property
    def runs(self) -> Any:
        return self.data.runs

    @property
    def stages(self) -> Any:
        return self.data.stages

    def overview(self) -> str:
        """One sentence: what was read, and where the time goes."""
        runs, shares = self.runs, self.shares()
        variants = ", ".join(map(str, self.data.variants)) or "none"
        warm = int(runs["warmup"].sum()) if "warmup" in runs.columns else 0
        traced = int(runs["traced"].sum()) if "traced" in runs.columns else 0
        extra = [f"{warm} warm-up" + "s" * (warm > 1)] * bool(warm) + [
            f"{traced} traced"] * bool(traced)
        text = (f"{len(runs) - warm - traced} timed runs"
                + (f" (+{', '.join(extra)})" if extra else "")
                + f" of {variants}, {len(self.stages)} stage records")
        if len(shares):
            top = shares.iloc[0]
            text += (f"; the largest stage is {top['title']!r}, a median {top['share']:.0%} of a "
                     f"run's wall time (25–75 %: {top['share_p25']:.0%}–{top['share_p75']:.0%})")
        slopes = self.slopes()
        # CPU time next to wall time: a wall-time slope with flat CPU time is the machine drifting
        # over a collection made run after run, not the history
        for metric, label in (("wall_s", "wall time"), ("cpu_s", "CPU time (user + sys)")):
            fit = slopes[(slopes["metric"] == metric) & slopes["growth"].notna()]
            if len(fit):
                fits = [(f"{w.variant}: " if len(fit) > 1 else "")
                        + f"{w.growth:+.1%} over {w.n} runs (r = {fmt.ratio(w.r)})"
                        for w in fit.itertuples()]
                text += f"; fitted {label} from the first to the last run: " + ", ".join(fits)
        return text + "."

    def title_html(self) -> Any:
        title = self.title or "Where do time and I/O go?"
        return as_html(f"<h2>{escape(title)}</h2><p>data: {escape(self.source)}</p>")

    def overview_html(self) -> Any:
        return as_html(f'<p class="perfkit-answer">{escape(self.overview())}</p>')

    def shares(self) -> Any:
        return stage_shares(self.stages, self.runs)

    def shares_table(self) -> Any:

        s = self.shares()
        df = pd.DataFrame({
            "stage": s["stage"], "title": s["title"], "runs": s["runs"],
            "median s": s["median_s"].map(fmt.num),
            "share": s["share"].map(lambda x: f"{x:.1%}"),
            "share 25–75 %": [f"{a:.1%}–{b:.1%}" for a, b in zip(s["share_p25"], s["share_p75"])],
            "cv": s["cv"].map(lambda x: "—" if x != x else f"{x:.2f}"),
        })
        return as_html(table_html(df))

    def io_metrics(self) -> list[str]:
        return io_metrics(self.runs)

    def history(self) -> Any:
        return growth(self.runs)

    def slopes(self) -> Any:
        """Growth per earlier run of the run-level metrics, then of each stage's duration."""

        run_level = growth_slopes(self.history())
        per_stage = stage_growth_slopes(stage_growth(self.stages, self.runs))
        return pd.concat([run_level, per_stage], ignore_index=True) if len(per_stage) else run_level

    def slopes_table(self) -> Any:

        s = self.slopes()
        df = pd.DataFrame({
            "variant": s["variant"], "metric": s["metric"], "runs": s["n"], "fitted first": s["first"].map(fmt.num),
            "fitted last": s["last"].map(fmt.num), "per run": s["per_run"].map(fmt.num),
            "first → last": s["growth"].map(fmt.pct),
            "r": s["r"].map(fmt.ratio),
        })
        return as_html(table_html(df))

    def reliability(self) -> Any:
        """Failure modes per stage (failed, timed out, unfinished, retried; Wilson intervals),
        worst first: :class:`perfkit.present.reliability_view.ReliabilityReport`."""
        return from_tables(self.runs, self.stages, self.source)

    def reliability_section(self) -> list[Any]:
        """The "Reliability" section: the per-stage table ranked by failure rate."""
        if self.stages is None or self.stages.empty:
            return [as_html("<p>These runs record no stages.</p>")]
        return [self.reliability().html()]

    def outputs_section(self) -> list[Any]:
        """Output stability per file pattern: distinct contents (raw / after masking volatile
        values), structures, size and growth; flaky patterns first, with the first differing field."""
        return [stability_html(stability_of(self.data))]

    def artifacts(self) -> Any:
        """Artifact predictability: per pattern, size per run, spread and growth per run."""
        return artifact_trends(self.data)

    def artifacts_section(self) -> list[Any]:
        """The size table, and the size per run of the steadiest-growing pattern (if one grows)."""
        trends = self.artifacts()
        out = [sizes_html(trends)]
        grow = trends[(trends["growth_per_run"] > 0) & (trends["r"] >= 0.9)] if len(trends) else trends
        if len(grow):
            top = grow.iloc[0]
            sizes = read_artifact_sizes(self.data)
            sizes = sizes[(sizes["pattern"] == top["pattern"]) & (sizes["variant"] == top["variant"])
                          & ~sizes["warmup"].astype(bool)]
            history = pd.DataFrame({"history": sizes["run"].astype(int) - 1,
                                    "size_kib": sizes["size"].astype(float) / 1024})
            out.append(charts.growth(history, "size_kib", y_title="size (KiB)",
                                     title=f"{shorten(top['pattern'], 80)}: size per run"))
        return out

    def metadata(self) -> Any:

        flat = meta_rows(self.data.meta)
        return as_html(table_html(pd.DataFrame({"field": list(flat), "value": list(flat.values())}),
                                classes="perfkit-meta"))

    # charts
    def shares_chart(self) -> Any:
        return charts.stage_shares(self.shares())

    def io_section(self) -> list[Any]:
        """A panel per I/O counter the runs carry, or a note that they carry none."""
        metrics = self.io_metrics()
        if not metrics:
            return [as_html("<p>These runs carry no I/O counters.</p>")]
        return [charts.per_run(self.runs, metrics, title="I/O and file operations per run")]

    def shares_section(self) -> list[Any]:
        if self.shares().empty:
            return [as_html("<p>These runs record no stages.</p>")]
        return [self.shares_chart(), self.shares_table()]

    def growth_charts(self) -> list[Any]:

        h = self.history()
        out = [charts.growth(h, m) for m in h.columns
               if m not in ("history", "variant", "run", "order") and _varies(h[m])]
        # a constant (or a size that moves by a few bytes in 50 KB) is in the table: its chart,
        # on an axis that does not start at zero, would draw a steep line through nothing
        per_stage = stage_growth(self.stages, self.runs)
        if len(per_stage):
            out.append(charts.stage_growth(per_stage))
        return out

    def summary_markdown(self, limit: int = SUMMARY_LIMIT) -> str:
        """Top stages and growth for a pull-request comment (text and tables only)."""

        s = self.shares().head(15)
        lines = ([f"## {md_escape(shorten(self.title, 300))}", ""] if self.title else []) + [
            md_escape(shorten(self.overview(), 2000)), ""]
        if len(s):
            rows = [[md_escape(shorten(r.title)), r.runs, fmt.num(r.median_s), f"{r.share:.1%}",
                     f"{r.share_p25:.1%}–{r.share_p75:.1%}"] for r in s.itertuples()]
            lines += tabulate(rows, headers=["stage", "runs", "median s", "share", "25–75 %"],
                              tablefmt="github", disable_numparse=True).splitlines() + [""]
        g = self.slopes()
        if len(g):
            rows = [[md_escape(shorten(r.variant)), md_escape(shorten(r.metric)), r.n, fmt.num(r.per_run), fmt.pct(r.growth),
                     fmt.ratio(r.r)] for r in g.itertuples()]
            lines += tabulate(rows, headers=["variant", "metric", "runs", "per run", "first → last",
                                             "r"],
                              tablefmt="github", disable_numparse=True).splitlines()
        sizes = sizes_markdown(self.artifacts())
        lines += ["", sizes] if sizes else []
        text = "\n".join(lines) + "\n"
        return text if len(text) <= limit else text[: limit - 20] + "\n_(truncated)_\n"


def hotspots(source: str | os.PathLike, *, title: str = "") -> HotspotsReport:
    """Load a dataset or an orchestrator workspace for the hotspot report."""
    return HotspotsReport(data=load_source(find_data(source)), source=str(source), title=title)


def format_top_files(files: pd.DataFrame | None, n: int = 5) -> list[str]:
    """Terminal lines: the files written most per traced run, per variant (no table → none)."""
    table = top_files(files, n) if files is not None else None
    if table is None or table.empty:
        return []
    lines = [f"files written most per traced run (top {n} per variant; <run>, <ts>, <tmp>: folded segments):"]
    for r in table.itertuples():
        per_write = "" if pd.isna(r.bytes_per_write) else f", {fmt.bytes_(r.bytes_per_write)}/write call"
        lines.append(f"  {r.variant}: {r.pattern}: {fmt.count(r.writes_per_run)} writes, "
                     f"{fmt.count(r.write_calls_per_run)} write calls, "
                     f"{fmt.bytes_(r.bytes_per_run)}{per_write}, {fmt.count(r.renames_per_run)} "
                     f"renames onto, {fmt.count(r.fsyncs_per_run)} fsyncs")
    return lines
