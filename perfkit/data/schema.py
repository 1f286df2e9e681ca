"""The data contract: column names and types of the ``runs`` and ``stages`` tables.

Every step of perfkit (measuring, ingesting, importing, comparing, reporting) reads and writes
these tables. Columns may be added freely; the ones listed here are never renamed.

runs — one row per process run
    variant            str       label of the command/configuration
    run                int       1-based index within the variant (warm-ups excluded; 0 for warm-ups)
    order              int       global execution order over all variants (drift analysis)
    round              Int64     the round of an interleaved collection (every variant ran once in
                                 it, in a seeded order); null where there were no rounds (imports,
                                 traced runs)
    warmup             bool      warm-up run: kept, flagged, left out of comparisons
    traced             bool      made under a syscall tracer: counts exact, timings not comparable
    started_at         datetime  UTC
    status             str       ok | failed | timeout | error
    exit_code          Int64     null where there is none; a signal is its negative number
    wall_s, user_s, sys_s  float seconds; user/sys include every reaped descendant
    max_rss_kib        Int64     peak RSS of the largest single process of the tree (wait4)
    io_*               Int64     /proc/<pid>/io of the whole reaped tree
    cgroup_peak_kib    Int64     peak memory of the run in its memory cgroup: the whole tree at once,
                                 page cache included; null where none could be made (meta says why)
    blk_in, blk_out, minflt, majflt, nvcsw, nivcsw  Int64  rusage of the tree
    error              str       why a run could not start (error) or was stopped (timeout); else null
    <label>_writes, fs_opens_write, fs_renames, fs_fsyncs  Int64  traced runs only
    size_<label>_bytes Int64     ``perfkit measure --track-size [LABEL=]GLOB``: total size of the
                                 regular files matching GLOB after the run (a file reached by
                                 several links counted once); null where none matched and in
                                 traced runs. One column per label (wide, like <label>_writes):
                                 growth per run is a slope of it against ``order``

files — files.parquet, from the traced pass: one row per traced run, path written and process
    variant, run         the traced run (``traced`` rows of runs, numbered 1..K per variant)
    pattern    str       ``path`` with its run-to-run variable segments folded to ``<run>``, ``<ts>``, ``<tmp>``
                         (perfkit.data.paths.fold_path): group by it to compare runs
    path       str       the path written, relative to the run's folder when inside it
    process    str       argv (space-joined) of the process that wrote it ("?" if never exec'd
                         under the tracer)
    writes     int64     logical writes: opens for writing + renames onto (as <label>_writes)
    opens_write, renames_onto, truncates, fsyncs   int64
    write_calls int64    write/pwrite64/writev/pwritev calls on it
    bytes      int64     bytes those calls wrote

stages — one row per stage of a run whose own records name its stages
    variant, run, stage, title, index, status, started_at, completed_at, duration_s, exit_code

outputs — outputs.parquet (journal outputs.jsonl while collecting): one row per run and output file
    it wrote, from ``perfkit measure --outputs GLOB`` (files matching GLOB that the run created or
    changed) and, with no flag, the run manifests of an orchestrator workspace (ingest,
    ``--orchestrator-root``); see perfkit.data.outputs
    variant, run         the run (``run`` 0 and ``warmup`` true for a warm-up)
    warmup     bool
    source     str       the GLOB given, or ``orchestrator:manifest``
    pattern    str       ``path`` folded with perfkit.data.paths.fold_path (``<run>``, ``<ts>``,
                         ``<tmp>``); for a ``missing`` row, the GLOB
    path       str       relative to the run's working folder; null when the run wrote no match
    kind       str       json | text | binary | missing (the run wrote no file matching GLOB)
    size       Int64     bytes
    sha256     str       of the raw bytes
    normalised_sha256 str  after masking volatile values (JSON: perfkit.data.jsonshape rules plus
                         ``--volatile``; text: date-times, UUIDs, run ids, temp paths; binary: raw)
    signature  str       JSON only: a short hash of the structure (same shape, same signature)
    structure  str       JSON only: ``{key path: value type}`` as JSON text
    normalised str       JSON only: the normalised document (canonical JSON) when at most 64 KiB
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

SCHEMA_VERSION = 1

#: Column → pandas dtype, in display order.
RUNS_COLUMNS: dict[str, str] = {
    "variant": "string",
    "run": "int64",
    "order": "int64",
    "round": "Int64",
    "warmup": "bool",
    "traced": "bool",
    "started_at": "datetime64[ns, UTC]",
    "status": "string",
    "exit_code": "Int64",
    "wall_s": "float64",
    "user_s": "float64",
    "sys_s": "float64",
    "max_rss_kib": "Int64",
    "io_rchar": "Int64",
    "io_wchar": "Int64",
    "io_syscr": "Int64",
    "io_syscw": "Int64",
    "io_read_bytes": "Int64",
    "io_write_bytes": "Int64",
    "io_cancelled_write_bytes": "Int64",
    "blk_in": "Int64",
    "blk_out": "Int64",
    "minflt": "Int64",
    "majflt": "Int64",
    "nvcsw": "Int64",
    "nivcsw": "Int64",
    "cgroup_peak_kib": "Int64",
    "error": "string",
}

#: Counters filled by a traced pass; ``<label>_writes`` columns are added per user label.
TRACE_COLUMNS: dict[str, str] = {
    "fs_opens_write": "Int64",
    "fs_renames": "Int64",
    "fs_fsyncs": "Int64",
}

FILES_PARQUET = "files.parquet"
FILES_COLUMNS: dict[str, str] = {
    "variant": "string",
    "run": "int64",
    "pattern": "string",
    "path": "string",
    "process": "string",
    "writes": "int64",
    "opens_write": "int64",
    "renames_onto": "int64",
    "write_calls": "int64",
    "bytes": "int64",
    "truncates": "int64",
    "fsyncs": "int64",
}

STAGES_COLUMNS: dict[str, str] = {
    "variant": "string",
    "run": "int64",
    "stage": "string",
    "title": "string",
    "index": "Int64",
    "status": "string",
    "started_at": "datetime64[ns, UTC]",
    "completed_at": "datetime64[ns, UTC]",
    "duration_s": "float64",
    "exit_code": "Int64",
}

OUTPUTS_TABLE = "outputs"
OUTPUTS_COLUMNS: dict[str, str] = {
    "variant": "string",
    "run": "int64",
    "warmup": "bool",
    "source": "string",
    "pattern": "string",
    "path": "string",
    "kind": "string",
    "size": "Int64",
    "sha256": "string",
    "normalised_sha256": "string",
    "signature": "string",
    "structure": "string",
    "normalised": "string",
}

STATUSES = ("ok", "failed", "timeout", "error")

#: Columns that identify a run or describe it; everything numeric beyond these is a metric.
ID_COLUMNS = ("variant", "run", "order", "round", "warmup", "traced", "started_at", "status",
              "exit_code")



#: Integer counters: a value the program's own behaviour decides (how many writes, bytes, faults),
#: so that the same value in every run of both variants is an exact comparison. Timings and peak
#: memory are measurements with noise: never compared exactly, however alike their runs.
COUNT_COLUMNS = frozenset({
    "io_rchar", "io_wchar", "io_syscr", "io_syscw", "io_read_bytes", "io_write_bytes",
    "io_cancelled_write_bytes", "blk_in", "blk_out", "minflt", "majflt", "nvcsw", "nivcsw",
    *TRACE_COLUMNS,
})
#: Suffixes of count columns that are named per collection (``manifest_writes``, the orchestrator
#: watcher's ``orchestrator_runs``, ``orchestrator_manifest_bytes``…).
COUNT_SUFFIXES = ("_writes", "_bytes", "_runs", "_problems", "_count")


def is_count(metric: str) -> bool:
    """True for an integer counter declared as a count (see :data:`COUNT_COLUMNS`)."""
    return metric in COUNT_COLUMNS or metric.endswith(COUNT_SUFFIXES)


def _flag(runs: pd.DataFrame, column: str) -> pd.Series:
    """A boolean column as a plain bool Series (False where the table lacks it or it is null)."""
    if column not in runs.columns:
        return pd.Series(False, index=runs.index)
    return runs[column].astype("boolean").fillna(False).astype(bool)


def is_trace_metric(metric: str) -> bool:
    """True for the exact file-operation counters that only a traced pass fills."""
    return metric in TRACE_COLUMNS or metric.endswith("_writes")


def timed_rows(runs: pd.DataFrame) -> pd.DataFrame:
    """The timed runs: neither warm-ups nor traced runs, whatever their status."""
    return runs[~_flag(runs, "warmup") & ~_flag(runs, "traced")]


def comparable_mask(runs: pd.DataFrame, metric: str | None = None, *,
                    ok_only: bool = True) -> np.ndarray:
    """The rule of :func:`comparable_rows` as a boolean array over ``runs`` (no copy made)."""
    return comparable_masks(runs, [metric], ok_only=ok_only)[metric]


def comparable_masks(runs: pd.DataFrame, metrics, *, ok_only: bool = True
                     ) -> dict[str | None, np.ndarray]:
    """:func:`comparable_mask` of each of ``metrics``, the flag columns read once."""
    warm = ~_flag(runs, "warmup").to_numpy()
    traced = _flag(runs, "traced").to_numpy()
    ok = (runs["status"] == "ok").fillna(False).to_numpy(dtype=bool) \
        if ok_only and "status" in runs.columns else np.ones(len(runs), dtype=bool)
    out = {}
    for metric in metrics:
        use_traced = metric is not None and (
            is_trace_metric(metric)
            or (metric in runs.columns and traced.any()
                and not runs[metric].notna().to_numpy()[warm & ~traced].any())
        )
        out[metric] = warm & (traced if use_traced else ~traced) & ok
    return out


def comparable_rows(runs: pd.DataFrame, metric: str | None = None, *,
                    ok_only: bool = True) -> pd.DataFrame:
    """The rows whose ``metric`` values a statistic, a chart or a verdict may use — the one rule.

    Never warm-ups (their state is not the steady one). The traced runs for a count that only a
    traced pass records (:func:`is_trace_metric`, or a metric no timed run has a value of); the
    timed runs otherwise (a traced run's timings are perturbed by the tracer). With ``ok_only``
    (the default) only runs that ended ``ok``: a failed run's time measures the failure.
    """
    return runs[comparable_mask(runs, metric, ok_only=ok_only)]


def _coerce(df: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """Give ``df`` every contract column (missing ones filled with nulls) with its dtype."""
    for name, dtype in columns.items():
        if name not in df.columns:
            df[name] = pd.Series(pd.NA if dtype not in ("bool",) else False, index=df.index)
        if dtype.startswith("datetime64"):
            df[name] = pd.to_datetime(df[name], utc=True, format="ISO8601").astype(dtype)
        elif dtype == "bool":
            df[name] = df[name].fillna(False).astype(bool)
        elif dtype in ("int64",):
            df[name] = pd.to_numeric(df[name]).astype("int64")
        elif dtype == "Int64":
            df[name] = pd.to_numeric(df[name]).astype("Int64")
        elif dtype == "float64":
            df[name] = pd.to_numeric(df[name]).astype("float64")
        else:
            df[name] = df[name].astype(dtype)
    extra = [c for c in df.columns if c not in columns]
    for name in extra:
        if name.endswith("_writes") or (name.startswith("size_") and name.endswith("_bytes")):
            df[name] = pd.to_numeric(df[name]).astype("Int64")
    return df[list(columns) + extra]


def runs_frame(records: Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Build a ``runs`` table from dicts (or normalise a DataFrame) with the contract's dtypes."""
    df = records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    df = _coerce(df, {**RUNS_COLUMNS, **{k: v for k, v in TRACE_COLUMNS.items() if k in df.columns}})
    return df.reset_index(drop=True)


def stages_frame(records: Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Build a ``stages`` table from dicts (or normalise a DataFrame)."""
    df = records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    return _coerce(df, STAGES_COLUMNS).reset_index(drop=True)


def outputs_frame(records: Iterable[Mapping[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Build an ``outputs`` table from dicts (or normalise a DataFrame)."""
    df = records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    return _coerce(df, OUTPUTS_COLUMNS).reset_index(drop=True)


#: Tables beside runs and stages that a collection journals (``<name>.jsonl``) and writes as
#: ``<name>.parquet`` when it finishes: name → the function giving it the contract's columns.
JOURNALED_TABLES = {OUTPUTS_TABLE: outputs_frame}


def metric_columns(runs: pd.DataFrame) -> list[str]:
    """The numeric columns of a runs table that can be compared (everything but the ids)."""
    return [
        c
        for c in runs.columns
        if c not in ID_COLUMNS and pd.api.types.is_numeric_dtype(runs[c]) and runs[c].dtype != bool
    ]


def long_view(runs: pd.DataFrame, metrics: Iterable[str] | None = None) -> pd.DataFrame:
    """The tidy view ``variant, run, order, warmup, traced, status, metric, value`` (for altair)."""
    metrics = list(metrics) if metrics is not None else metric_columns(runs)
    keep = [c for c in ("variant", "run", "order", "warmup", "traced", "status") if c in runs.columns]
    out = runs.melt(id_vars=keep, value_vars=metrics, var_name="metric", value_name="value")
    out["value"] = pd.to_numeric(out["value"]).astype("float64")
    return out.dropna(subset=["value"]).reset_index(drop=True)
