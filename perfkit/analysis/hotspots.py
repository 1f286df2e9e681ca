"""Where do time and I/O go? Tables for the hotspot report (``notebooks/hotspots.ipynb``).

Three questions, one function each:

* :func:`stage_shares` — which stages take the largest share of a run's wall time, and how much
  does that share vary from run to run?
* :func:`io_metrics` — which I/O and file-operation counters the runs carry (to chart per run);
* :func:`growth` / :func:`growth_slopes` — do run time and artifact size grow as the history of
  runs grows (state accrued by earlier runs: the reason this loop exists)? Wall time is shown
  next to CPU time (``cpu_s``): runs made one after another also see the machine drift.

:func:`perfkit.data.sources.load_source` reads either a perfkit dataset or an orchestrator workspace.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from perfkit.data.schema import timed_rows
from perfkit.errors import UsageError

#: I/O and file-operation counters worth a panel each, in display order (present ones are used).
IO_METRICS = (
    "io_wchar",
    "io_syscw",
    "io_write_bytes",
    "io_rchar",
    "fs_opens_write",
    "fs_renames",
    "fs_fsyncs",
    "manifest_bytes",
    "artifact_bytes",
    "artifact_files",
    # what the run-folder watcher of `perfkit measure --orchestrator-root` saw each run write
    "orchestrator_manifest_bytes",
    "orchestrator_artifact_bytes",
)

#: What :func:`growth` fits by default, when present: wall time next to CPU time (for runs made
#: one after another, wall time also carries the machine's drift; CPU time mostly does not),
#: then the sizes of what the runs leave behind.
GROWTH_METRICS = (
    "wall_s",
    "cpu_s",
    "manifest_span_s",
    "artifact_bytes",
    "manifest_bytes",
    "orchestrator_manifest_bytes",
    "orchestrator_artifact_bytes",
    "io_wchar",
)


def size_columns(runs: pd.DataFrame) -> list[str]:
    """The ``size_<label>_bytes`` columns of ``perfkit measure --track-size``, in order."""
    return [c for c in runs.columns if c.startswith("size_") and c.endswith("_bytes")]


def with_cpu_s(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` with a derived ``cpu_s`` column = ``user_s`` + ``sys_s`` (CPU time of the run).

    Returned unchanged when it already has ``cpu_s`` or lacks either part; a run missing either
    part gets NaN (not the other part alone).
    """
    if "cpu_s" in runs.columns or not {"user_s", "sys_s"} <= set(runs.columns):
        return runs
    user = pd.to_numeric(runs["user_s"], errors="coerce").astype("float64")
    system = pd.to_numeric(runs["sys_s"], errors="coerce").astype("float64")
    return runs.assign(cpu_s=user + system)


def stage_shares(stages: pd.DataFrame, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rank stages by their share of the run's wall time, with the spread of that share.

    A stage's share in one run is its ``duration_s`` over the run's ``wall_s`` (when ``runs`` is
    given and has it; for an ingested workspace, nothing measured, the manifest's own span
    ``manifest_span_s``), else over the sum of the run's stage durations. Warm-up runs are left out.
    With the runs' wall times, the time outside every stage is a row of its own,
    ``(outside stages)`` (see :func:`outside_stages`): in an orchestrator, where persistence happens.
    Where stages carry timestamps, the time between them is a row too, ``(between stages)``
    (:func:`between_stages`; a part of ``(outside stages)``, not added to it).

    Returns one row per stage, largest median share first, with columns
        stage       stage id
        title       its title (the first one seen)
        runs        number of runs the stage appears in
        median_s    median duration in seconds
        p25_s, p75_s  25th and 75th percentile of the duration
        share       median share of the run's wall time (0.25 = a quarter)
        share_p25, share_p75  25th and 75th percentile of the share (the spread over runs)
        cv          coefficient of variation of the duration (std / mean; NaN for one run)
    """
    need = ["variant", "run", "stage", "duration_s"]
    missing = [c for c in need if c not in stages.columns]
    if missing:
        raise UsageError(f"`stages` lacks column(s) {', '.join(missing)}")
    columns = ["stage", "title", "runs", "median_s", "p25_s", "p75_s", "share", "share_p25",
               "share_p75", "cv"]
    st = stages.dropna(subset=["duration_s"]).copy()
    if st.empty:
        return pd.DataFrame(columns=columns)
    st["variant"] = st["variant"].astype(str)
    key = ["variant", "run"]
    total = st.groupby(key)["duration_s"].sum().rename("total_s")
    span = span_column(runs)
    if span is not None:
        # stages belong to timed runs: a traced run is numbered apart and may share a run number
        r = timed_rows(runs)
        wall = r.assign(variant=r["variant"].astype(str)).set_index(key)[span].dropna()
        wall = wall[~wall.index.duplicated()]
        total = wall.reindex(total.index).fillna(total).where(lambda s: s > 0, total)
        outside = outside_stages(st, wall)
        if not outside.empty:
            st = pd.concat([st, outside], ignore_index=True)
    gaps = between_stages(st[~st["stage"].isin([OUTSIDE, BETWEEN])])
    if not gaps.empty:
        st = pd.concat([st, gaps], ignore_index=True)
    st = st.join(total.rename("total_s"), on=key)
    st["share_run"] = st["duration_s"] / st["total_s"]
    if "title" not in st.columns:
        st["title"] = st["stage"]
    grouped = st.groupby("stage", sort=False)
    out = pd.DataFrame(
        {
            "title": grouped["title"].first().astype(str),
            "runs": grouped[key].apply(lambda g: len(g.drop_duplicates())).astype("int64"),
            "median_s": grouped["duration_s"].median(),
            "p25_s": grouped["duration_s"].quantile(0.25),
            "p75_s": grouped["duration_s"].quantile(0.75),
            "share": grouped["share_run"].median(),
            "share_p25": grouped["share_run"].quantile(0.25),
            "share_p75": grouped["share_run"].quantile(0.75),
            "cv": grouped["duration_s"].std() / grouped["duration_s"].mean(),
        }
    )
    out.index.name = "stage"
    out = out.reset_index()
    out["stage"] = out["stage"].astype(str)
    return out.sort_values(["share", "stage"], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )[columns]


OUTSIDE = "(outside stages)"
#: The pseudo-stage of the gaps between a run's stages (a part of :data:`OUTSIDE`).
BETWEEN = "(between stages)"
_BETWEEN_TITLE = "(between stages; part of outside)"


def _union_s(starts: pd.Series, ends: pd.Series) -> float:
    """Seconds covered by the union of the intervals [start, end) (overlaps counted once)."""
    spans = sorted(zip(starts, ends))
    total, cur_start, cur_end = 0.0, None, None
    for a, b in spans:
        if cur_end is None or a > cur_end:
            if cur_end is not None:
                total += (cur_end - cur_start).total_seconds()
            cur_start, cur_end = a, b
        elif b > cur_end:
            cur_end = b
    if cur_end is not None:
        total += (cur_end - cur_start).total_seconds()
    return total


def outside_stages(stages: pd.DataFrame, wall: pd.Series) -> pd.DataFrame:
    """Per run, the measured wall time outside every stage: ``wall_s`` minus the union of the
    stages' spans (``started_at``..``completed_at``; nested and overlapping stages counted once;
    without timestamps, the sum of durations). Rows shaped like ``stages`` (stage ``(outside
    stages)``); runs without a wall time are left out."""
    rows = []
    has_times = {"started_at", "completed_at"} <= set(stages.columns)
    for (variant, run), g in stages.groupby(["variant", "run"], sort=False):
        w = wall.get((variant, run))
        if w is None or pd.isna(w):
            continue
        timed = g.dropna(subset=["started_at", "completed_at"]) if has_times else g.iloc[0:0]
        covered = (_union_s(timed["started_at"], timed["completed_at"]) if len(timed) == len(g)
                   else float(g["duration_s"].sum()))
        rows.append({"variant": variant, "run": run, "stage": OUTSIDE, "title": OUTSIDE,
                     "duration_s": float(w) - covered})
    return pd.DataFrame(rows)


def _gaps_s(starts: pd.Series, ends: pd.Series) -> float:
    """Seconds between the first start and the last end not covered by any interval."""
    return (max(ends) - min(starts)).total_seconds() - _union_s(starts, ends)


def between_stages(stages: pd.DataFrame) -> pd.DataFrame:
    """Per run, the time between its stages: from the first stage's start to the last one's end,
    what no stage covers (nested and overlapping stages counted once). Only runs whose every
    stage has both timestamps. Rows shaped like ``stages`` (stage ``(between stages)``)."""
    if stages.empty or not {"started_at", "completed_at"} <= set(stages.columns):
        return pd.DataFrame()
    rows = []
    for (variant, run), g in stages.groupby(["variant", "run"], sort=False):
        if g["started_at"].isna().any() or g["completed_at"].isna().any():
            continue
        rows.append({"variant": variant, "run": run, "stage": BETWEEN, "title": _BETWEEN_TITLE,
                     "duration_s": _gaps_s(g["started_at"], g["completed_at"])})
    return pd.DataFrame(rows)


def span_column(runs: pd.DataFrame | None) -> str | None:
    """The column holding each run's whole span: ``wall_s`` measured, else an ingested
    workspace's ``manifest_span_s``; None when neither has a value."""
    return next((c for c in ("wall_s", "manifest_span_s")
                 if runs is not None and c in runs.columns and runs[c].notna().any()), None)


def with_pseudo_stages(stages: pd.DataFrame, runs: pd.DataFrame | None) -> pd.DataFrame:
    """``stages`` plus, per run, ``(outside stages)`` (needs the runs' spans) and ``(between
    stages)``: rows like any stage's, for growth and per-stage comparisons."""
    if stages is None or stages.empty or "duration_s" not in stages.columns:
        return stages
    st = stages.dropna(subset=["duration_s"]).assign(variant=lambda d: d["variant"].astype(str))
    parts = [stages]
    span = span_column(runs)
    if span is not None:
        r = timed_rows(runs)
        wall = r.assign(variant=r["variant"].astype(str)).set_index(["variant", "run"])[span].dropna()
        parts.append(outside_stages(st, wall[~wall.index.duplicated()]))
    parts.append(between_stages(st))
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else stages


def io_metrics(runs: pd.DataFrame) -> list[str]:
    """The I/O and file-operation columns of ``runs`` that hold a nonzero value, in display order.

    ``<label>_writes`` columns (exact counts from a traced pass, e.g. ``manifest_writes``) come
    first: they are the counts a fix usually targets.
    """
    writes = sorted(c for c in runs.columns if c.endswith("_writes"))
    ordered = writes + [c for c in IO_METRICS if c in runs.columns]
    # a counter that is zero (or missing) in every run would be an empty panel
    return [c for c in ordered if (pd.to_numeric(runs[c], errors="coerce").fillna(0) != 0).any()]


def growth(runs: pd.DataFrame, metrics: list[str] | None = None) -> pd.DataFrame:
    """Each run against the number of runs that came before it (in execution order).

    Returns one row per non-warm-up run with columns ``history`` (runs before this one, over all
    variants and including warm-up and traced runs: they share the workspace whose state
    accrues), ``variant``, ``run``, ``order`` and each metric of ``metrics`` (default: those of
    :data:`GROWTH_METRICS` present — ``wall_s``, ``cpu_s`` (``user_s`` + ``sys_s``, derived by
    :func:`with_cpu_s`), the artifact/manifest size columns and ``io_wchar`` — then the tracked
    file sizes ``size_<label>_bytes`` of ``--track-size``). A traced run keeps
    only the counts that only a traced pass records; its timings are left out.
    """
    if "order" not in runs.columns:
        raise UsageError("`runs` lacks column 'order'")
    runs = with_cpu_s(runs)
    if metrics is None:
        metrics = [c for c in [*GROWTH_METRICS, *size_columns(runs)]
                   if c in runs.columns and pd.to_numeric(runs[c], errors="coerce").notna().any()]
    missing = [m for m in metrics if m not in runs.columns]
    if missing:
        raise UsageError(f"unknown metric(s) {', '.join(map(repr, missing))}")
    r = runs.sort_values("order", kind="stable")
    # every earlier run counts, warm-ups and traced ones too: each left its state behind
    out = pd.DataFrame({"history": np.arange(len(r), dtype="int64")}, index=r.index)
    for col in ("variant", "run", "order"):
        out[col] = r[col]
    out["variant"] = out["variant"].astype(str)
    traced = r["traced"].astype(bool) if "traced" in r.columns else pd.Series(False, r.index)
    for m in metrics:
        values = pd.to_numeric(r[m], errors="coerce").astype("float64")
        if values[~traced].notna().any():
            values[traced] = np.nan  # a traced run's timings are perturbed by the tracer
        out[m] = values
    keep = ~r["warmup"].astype(bool) if "warmup" in r.columns else pd.Series(True, r.index)
    if metrics:
        keep &= out[metrics].notna().any(axis=1)
    else:
        keep &= ~traced
    return out[keep.to_numpy()].reset_index(drop=True)


def growth_slopes(history: pd.DataFrame, metrics: list[str] | None = None) -> pd.DataFrame:
    """Least-squares slope of each metric against ``history`` (how much one more run adds).

    Fitted per variant when ``history`` holds several (interleaved variants differ in level, and a
    single line through both would show their difference, not growth).

    Returns one row per (variant, metric) with columns
        variant         the variant ("" when ``history`` has no ``variant`` column)
        metric          the column
        n               runs used
        first, last     fitted value at the variant's first and last run
        per_run         slope: change per additional earlier run (metric's unit)
        growth          fitted change from the first to the last run, as a fraction of
                        ``first`` (0.5 = the last run is expected 50 % above the first)
        r               Pearson correlation of the metric with ``history`` (NaN if constant)
    """
    columns = ["variant", "metric", "n", "first", "last", "per_run", "growth", "r"]
    ids = ("history", "variant", "run", "order")
    metrics = metrics or [c for c in history.columns if c not in ids]
    groups = (history.groupby(history["variant"].astype(str), sort=False)
              if "variant" in history.columns else [("", history)])
    rows = []
    for variant, part in groups:
        for m in metrics:
            d = part[["history", m]].dropna()
            x, y = d["history"].to_numpy(float), d[m].to_numpy(float)
            row = {"variant": variant, "metric": m, "n": len(d), "first": np.nan, "last": np.nan,
                   "per_run": np.nan, "growth": np.nan, "r": np.nan}
            if len(d) >= 3 and np.ptp(x) > 0:
                # a constant needs no fit (polyfit would give a slope of ~1e-12, not 0)
                slope, intercept = np.polyfit(x, y, 1) if np.ptp(y) > 0 else (0.0, float(y[0]))
                first, last = intercept + slope * x.min(), intercept + slope * x.max()
                row.update(first=first, last=last, per_run=slope,
                           growth=(last / first - 1) if first else np.nan,
                           r=float(np.corrcoef(x, y)[0, 1]) if np.ptp(y) > 0 else np.nan)
            rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def stage_growth(stages: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Each stage's duration against the number of runs before its run (long form, for charts).

    Returns columns ``history`` (as in :func:`growth`), ``variant``, ``run``, ``stage``, ``title``
    and ``duration_s``; one row per stage record of a non-warm-up run, plus the run's
    ``(outside stages)`` and ``(between stages)`` (:func:`with_pseudo_stages`).
    """
    need = ["variant", "run", "stage", "duration_s"]
    if any(c not in stages.columns for c in need) or stages.empty:
        return pd.DataFrame(columns=["history", "variant", "run", "stage", "title", "duration_s"])
    hist = growth(runs, metrics=[])[["history", "variant", "run"]]
    st = with_pseudo_stages(stages, runs)
    st = st.assign(variant=st["variant"].astype(str))
    st = st.merge(hist, on=["variant", "run"], how="inner")
    if "title" not in st.columns:
        st["title"] = st["stage"]
    out = st[["history", "variant", "run", "stage", "title", "duration_s"]].copy()
    out["stage"] = out["stage"].astype(str)
    out["title"] = out["title"].astype(str)
    return out.dropna(subset=["duration_s"]).sort_values(["history", "stage"]).reset_index(drop=True)


def stage_growth_slopes(stage_history: pd.DataFrame) -> pd.DataFrame:
    """:func:`growth_slopes` of each stage's duration (``metric`` is ``stage <id>``)."""
    if stage_history.empty:
        return growth_slopes(pd.DataFrame({"history": []}), [])
    wide = stage_history.pivot_table(index=["history", "variant"], columns="stage",
                                     values="duration_s", aggfunc="mean")
    wide.columns = [f"stage {c}" for c in wide.columns]
    return growth_slopes(wide.reset_index(), list(wide.columns))


def read_files(folder) -> pd.DataFrame | None:
    """A dataset's per-file write table (``files.parquet`` of the traced pass), or None."""
    from pathlib import Path

    from perfkit.data.schema import FILES_PARQUET

    path = Path(folder) / FILES_PARQUET if folder is not None else None
    return pd.read_parquet(path) if path is not None and path.exists() else None


def top_files(files: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The ``n`` file patterns written most per traced run, per variant.

    Columns: variant, pattern, writes_per_run (logical writes: opens for writing + renames
    onto), write_calls_per_run, bytes_per_run, bytes_per_write (per write call), renames_per_run,
    fsyncs_per_run, paths_per_run (distinct paths folded into the pattern), process (the command
    line that wrote most). Means over the variant's traced runs.
    """
    if files is None or files.empty:
        return pd.DataFrame(columns=["variant", "pattern", "writes_per_run", "write_calls_per_run",
                                     "bytes_per_run", "bytes_per_write", "renames_per_run",
                                     "fsyncs_per_run", "paths_per_run", "process"])
    out = []
    for variant, rows in files.groupby("variant", sort=False):
        runs = rows["run"].nunique()
        by = rows.groupby("pattern")
        table = pd.DataFrame({
            "writes_per_run": by["writes"].sum() / runs,
            "write_calls_per_run": by["write_calls"].sum() / runs,
            "bytes_per_run": by["bytes"].sum() / runs,
            "renames_per_run": by["renames_onto"].sum() / runs,
            "fsyncs_per_run": by["fsyncs"].sum() / runs,
            "paths_per_run": by["path"].nunique() / runs,
        })
        table["bytes_per_write"] = (by["bytes"].sum() / by["write_calls"].sum()).where(
            by["write_calls"].sum() > 0)
        table["process"] = rows.groupby(["pattern", "process"])["writes"].sum().reset_index() \
            .sort_values("writes", ascending=False).drop_duplicates("pattern") \
            .set_index("pattern")["process"]
        table = table.sort_values(["writes_per_run", "bytes_per_run"], ascending=False).head(n)
        out.append(table.reset_index().assign(variant=variant))
    result = pd.concat(out, ignore_index=True)
    return result[["variant", "pattern", "writes_per_run", "write_calls_per_run", "bytes_per_run",
                   "bytes_per_write", "renames_per_run", "fsyncs_per_run", "paths_per_run",
                   "process"]]


#: The per-variant breakdown's columns, in order: time, CPU, memory, then I/O of the timed runs.
BREAKDOWN_METRICS = ("wall_s", "cpu_s", "user_s", "sys_s", "off_cpu_s", "max_rss_kib",
                     "cgroup_peak_kib", "io_rchar", "io_wchar", "io_syscr", "io_syscw",
                     "io_write_bytes", "nvcsw", "nivcsw")


def variant_breakdown(runs: pd.DataFrame) -> pd.DataFrame:
    """Per variant, the median of each time, CPU, memory and I/O column over its timed ok runs.

    ``off_cpu_s`` = ``wall_s`` − ``cpu_s``: time the run waited (I/O, sleep, other processes;
    negative when the tree ran on several cores at once). Columns with no value, or zero in every
    variant, are left out. Returns one row per variant (in order of first run) with ``variant``,
    ``runs`` and the medians.
    """
    r = timed_rows(with_cpu_s(runs))
    if "status" in r.columns:
        r = r[(r["status"] == "ok").fillna(False)]
    if r.empty:
        return pd.DataFrame(columns=["variant", "runs"])
    if {"wall_s", "cpu_s"} <= set(r.columns):
        r = r.assign(off_cpu_s=pd.to_numeric(r["wall_s"]) - r["cpu_s"])
    r = r.sort_values("order", kind="stable") if "order" in r.columns else r
    r = r.assign(variant=r["variant"].astype(str))
    present = [m for m in BREAKDOWN_METRICS if m in r.columns]
    values = r[present].apply(pd.to_numeric, errors="coerce").astype("float64")
    medians = values.groupby(r["variant"], sort=False).median()
    keep = [m for m in present if medians[m].notna().any() and (medians[m].fillna(0) != 0).any()]
    out = medians[keep].reset_index()
    out.insert(1, "runs", r.groupby("variant", sort=False).size().to_numpy())
    return out
