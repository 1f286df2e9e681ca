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
    read_files,
    size_columns,
    variant_breakdown,
    top_files,
    growth,
    growth_slopes,
    io_metrics,
    stage_growth,
    stage_growth_slopes,
    stage_shares,
)
from perfkit.data.schema import is_trace_metric
from perfkit.data.sources import load_source, read_artifact_sizes
from perfkit.present import charts, hotspot_charts
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
            "median": s["median_s"].map(fmt.seconds),
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
            "variant": s["variant"], "metric": s["metric"], "runs": s["n"],
            "fitted first": [fmt.of_metric(m, v) for m, v in zip(s["metric"], s["first"])],
            "fitted last": [fmt.of_metric(m, v) for m, v in zip(s["metric"], s["last"])],
            "per run": [fmt.of_metric(m, v) for m, v in zip(s["metric"], s["per_run"])],
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

    def variants(self) -> list[str]:
        """The variants in one order: every chart gives each variant the same colour."""
        named = [str(v) for v in (self.data.variants or [])]
        seen = list(dict.fromkeys(self.runs.sort_values("order")["variant"].astype(str))) if (
            "order" in self.runs.columns) else []
        return list(dict.fromkeys(named + seen))

    def io_section(self) -> list[Any]:
        """Panels of the I/O counters of the timed runs, then of the exact counts of the traced
        runs (a tracer's own work would pollute the first); counters that are zero in every run
        are left out (:func:`perfkit.analysis.hotspots.io_metrics`)."""
        metrics = self.io_metrics()
        if not metrics:
            return [as_html("<p>These runs carry no I/O counter with a nonzero value.</p>")]
        timed = [m for m in metrics if not is_trace_metric(m)]
        traced = [m for m in metrics if is_trace_metric(m)]
        out = []
        if timed:
            out.append(charts.per_run(self.runs, timed, variants=self.variants(),
                                      title="I/O per timed run (/proc/<pid>/io, rusage)"))
        if traced:
            out.append(charts.per_run(self.runs, traced, variants=self.variants(),
                                      title="file operations per traced run (strace: exact "
                                            "counts, timings not used)"))
        return out

    def breakdown(self) -> Any:
        """Per variant, medians of time, CPU, memory and I/O over timed ok runs."""
        return variant_breakdown(self.runs)

    def breakdown_section(self) -> list[Any]:
        """Where a run's time goes per variant (chart), and the medians with units (table)."""
        b = self.breakdown()
        if b.empty or len(b.columns) <= 2:
            return [as_html("<p>These runs have no timed ok run to break down.</p>")]
        out = []
        if any(m in b.columns for m in ("wall_s", "cpu_s", "user_s", "sys_s")):
            out.append(hotspot_charts.variant_breakdown(b, variants=self.variants()))
        table = pd.DataFrame({"variant": b["variant"], "runs": b["runs"]})
        for m in b.columns[2:]:
            table[f"{m} (median)"] = [fmt.of_metric(m, v) for v in b[m]]
        out.append(as_html(table_html(table)))
        return out

    def files(self) -> Any:
        """The traced pass's per-file write table (``files.parquet``), or None."""
        path = getattr(self.data, "path", None)
        return read_files(path) if path is not None and os.path.isdir(path) else None

    def top_files(self, n: int = 8) -> Any:
        return top_files(self.files(), n)

    def files_section(self, n: int = 8) -> list[Any]:
        """The files written most per traced run, per variant (``--trace-runs``)."""
        t = self.top_files(n)
        if t.empty:
            traced = "traced" in self.runs.columns and bool(self.runs["traced"].any())
            why = ("Its traced runs were made before perfkit kept a per-file table "
                   "(<code>files.parquet</code>)" if traced else "No traced pass")
            return [as_html(f"<p>{why}: run <code>perfkit measure --trace-runs K</code> to list "
                            "the files each run writes.</p>")]
        df = pd.DataFrame({
            "variant": t["variant"], "file (folded)": t["pattern"],
            "writes / run": t["writes_per_run"].map(fmt.count),
            "write calls / run": t["write_calls_per_run"].map(fmt.count),
            "bytes / run": t["bytes_per_run"].map(fmt.bytes_),
            "bytes / write call": t["bytes_per_write"].map(fmt.bytes_),
            "renames onto / run": t["renames_per_run"].map(fmt.count),
            "fsyncs / run": t["fsyncs_per_run"].map(fmt.count),
            "process": t["process"].map(lambda p: shorten(_program_name(str(p)), 80)),
        })
        return [as_html(table_html(df))]

    def shares_section(self) -> list[Any]:
        if self.shares().empty:
            return [as_html("<p>These runs record no stages.</p>")]
        return [self.shares_chart(), self.shares_table()]

    def growth_charts(self) -> list[Any]:

        h = self.history()
        out = [charts.growth(h, m, y_title=charts.axis_title(m), variants=self.variants())
               for m in h.columns
               if m not in ("history", "variant", "run", "order") and _varies(h[m])]
        # a constant (or a size that moves by a few bytes in 50 KB) is in the table: its chart,
        # on an axis that does not start at zero, would draw a steep line through nothing
        per_stage = stage_growth(self.stages, self.runs)
        if len(per_stage):
            out.append(hotspot_charts.stage_growth(per_stage))
        return out

    def summary_markdown(self, limit: int = SUMMARY_LIMIT) -> str:
        """Top stages and growth for a pull-request comment (text and tables only)."""

        s = self.shares().head(15)
        lines = ([f"## {md_escape(shorten(self.title, 300))}", ""] if self.title else []) + [
            md_escape(shorten(self.overview(), 2000)), ""]
        if len(s):
            rows = [[md_escape(shorten(r.title)), r.runs, fmt.seconds(r.median_s), f"{r.share:.1%}",
                     f"{r.share_p25:.1%}–{r.share_p75:.1%}"] for r in s.itertuples()]
            lines += tabulate(rows, headers=["stage", "runs", "median", "share", "25–75 %"],
                              tablefmt="github", disable_numparse=True).splitlines() + [""]
        g = self.slopes()
        if len(g):
            rows = [[md_escape(shorten(r.variant)), md_escape(shorten(r.metric)), r.n,
                     fmt.of_metric(r.metric, r.per_run), fmt.pct(r.growth),
                     fmt.ratio(r.r)] for r in g.itertuples()]
            lines += tabulate(rows, headers=["variant", "metric", "runs", "per run", "first → last",
                                             "r"],
                              tablefmt="github", disable_numparse=True).splitlines() + [""]
        t = self.top_files(5)
        if len(t):
            rows = [[md_escape(shorten(r.variant)), md_escape(shorten(r.pattern, 120)),
                     fmt.count(r.writes_per_run), fmt.bytes_(r.bytes_per_run),
                     fmt.count(r.renames_per_run), fmt.count(r.fsyncs_per_run)]
                    for r in t.itertuples()]
            lines += ["files written most per traced run:", ""] + tabulate(
                rows, headers=["variant", "file", "writes/run", "bytes/run", "renames onto/run",
                               "fsyncs/run"], tablefmt="github", disable_numparse=True).splitlines()
        sizes = sizes_markdown(self.artifacts())
        lines += ["", sizes] if sizes else []
        text = "\n".join(lines).rstrip("\n") + "\n"
        return text if len(text) <= limit else text[: limit - 20] + "\n_(truncated)_\n"


def _program_name(argv: str) -> str:
    """A command line with its program as a name, not a path (``/usr/bin/node x`` → ``node x``):
    the report reads the same on every machine."""
    program, sep, rest = argv.partition(" ")
    return (os.path.basename(program) if program.startswith("/") else program) + sep + rest


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


def format_size_growth(runs: pd.DataFrame) -> list[str]:
    """Terminal lines: each ``--track-size`` file's size after the first and last run and its
    fitted growth per run (per variant; a glob that matched no file says so)."""
    columns = size_columns(runs)
    if not columns:
        return []
    lines = ["tracked file sizes after each run (a line fitted against the runs before it):"]
    empty = [c for c in columns if not pd.to_numeric(runs[c], errors="coerce").notna().any()]
    fitted = growth_slopes(growth(runs, [c for c in columns if c not in empty]))
    for r in fitted.itertuples():
        label = r.metric[len("size_"):-len("_bytes")]
        who = f"{r.variant}: " if fitted["variant"].nunique() > 1 else ""
        if pd.isna(r.per_run):
            lines.append(f"  {who}{label}: {r.n} runs with a size: too few to fit a slope")
            continue
        lines.append(f"  {who}{label}: {fmt.bytes_(r.first)} → {fmt.bytes_(r.last)} fitted over "
                     f"{r.n} runs, {'+' if r.per_run >= 0 else ''}{fmt.bytes_(r.per_run)} per run "
                     f"(r = {fmt.ratio(r.r)})")
    lines += [f"  {c[len('size_'):-len('_bytes')]}: matched no file after any run" for c in empty]
    return lines
