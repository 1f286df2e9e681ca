"""The four tables of an orchestrator workspace (runs, stages, artifacts, problems), and
:func:`read_orchestrator`, which walks a workspace into them."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from perfkit.data.orchestrator.manifest import (
    _RUN_ROW,
    _STAGE_ROW,
    DEFAULT_MAX_MANIFEST_BYTES,
    PROBLEMS_COLUMNS,
    RUNS_COLUMNS,
    STAGE_EXTRA_COLUMNS,
)
from perfkit.data.orchestrator.rows import _Rows
from perfkit.data.orchestrator.walker import _Walker
from perfkit.data.schema import STAGES_COLUMNS
from perfkit.errors import PerfkitError, UsageError


@dataclass
class OrchestratorData:
    """What :func:`read_orchestrator` returns: four tables and the folder they came from.

    ``runs`` — one row per run (manifest):
        variant         str       the run's pipeline id (or task id, with ``variant_by="task"``)
        run             int       1-based index of the run within its variant, by start time
        task            str       task id (the ``.runs/<task>`` folder)
        run_id          str       the run's id (its folder name)
        pipeline        str       pipeline id
        pipeline_title  str       pipeline title (null if absent)
        status          str       orchestrator status: queued, in_progress, succeeded, failed,
                                  cancelled (runs still in progress are kept)
        status_detail   str       e.g. ``subpipeline:inner:failed``
        started_at, completed_at, heartbeat_at  datetime (UTC); completed_at null while running
        duration_s      float     completed_at − started_at (NaN while running)
        parent_run_id   str       the run that started this one as a sub-pipeline (null for roots)
        n_stages        int       number of commands in the manifest
        manifest_version int      the manifest's ``version`` field
        manifest_bytes  int       size of manifest.json
        artifact_bytes  Int64     total bytes of the distinct files of the run folder (a file reached
                                  by a symlink or hard link too is counted once; null if not listed)
        artifact_files  Int64     number of distinct files of the run folder (null if not listed)
        manifest_path   str       manifest path relative to ``root``

    ``stages`` — one row per command of each run: the ``stages`` contract columns (variant, run,
    stage, title, index, status, started_at, completed_at, duration_s, exit_code) plus
        task, run_id    str       the run the stage belongs to
        kind            str       ``command`` or ``subpipeline``
        sub_run_id      str       for a sub-pipeline stage, the child run's id (a row of ``runs``)
        command         str       the shell command (null for sub-pipelines)

    ``artifacts`` — one row per file (only when ``artifacts=True``):
        task            str
        run_id          str       null for task-level files
        scope           str       ``run`` (the run folder), ``task`` (``.runs/<task>/`` outside
                                  ``cli/``) or ``out`` (``out/<task>/``)
        path            str       relative to ``root``, with ``/``
        bytes           int       size
        modified_at     datetime  mtime (UTC)

    ``problems`` — one row per file that could not be read:
        path            str       relative to ``root``
        reason          str       one of :data:`PROBLEM_REASONS`
        detail          str       a human sentence
    """

    runs: pd.DataFrame
    stages: pd.DataFrame
    artifacts: pd.DataFrame
    problems: pd.DataFrame
    root: Path

    def __repr__(self) -> str:
        return (
            f"<perfkit.OrchestratorData at {self.root}: {len(self.runs)} runs, "
            f"{len(self.stages)} stages, {len(self.artifacts)} artifacts, "
            f"{len(self.problems)} problems>"
        )

    def summary(self) -> str:
        """One line: how many runs, stages and problems were read."""
        return (
            f"{len(self.runs)} runs, {len(self.stages)} stages, "
            f"{len(self.artifacts)} artifact files, {len(self.problems)} problems"
        )


def _frame(rows: list[tuple], spec: list[tuple[str, str]]) -> pd.DataFrame:
    """Rows → DataFrame, one typed column at a time.

    Building column by column with the dtype given is several times faster than letting
    ``pd.DataFrame(rows)`` infer a type for every object column (it tries each string column).
    ``"us"`` columns are integer microseconds (or None), kept as Int64 here.
    """
    columns = list(zip(*rows)) if rows else [()] * len(spec)
    data = {}
    for (name, dtype), values in zip(spec, columns):
        if dtype == "us":
            dtype = "Int64"
        if dtype == "int64":
            data[name] = np.fromiter(values, dtype="int64", count=len(values))
        elif dtype == "string":  # via Arrow: no per-value Python checks
            data[name] = pd.array(pa.array(values, type=pa.large_string()), dtype="string")
        else:
            data[name] = pd.array(list(values), dtype=dtype)
    return pd.DataFrame(data)


def _us_to_datetime(values: pd.Series) -> pd.Series:
    """Int64 microseconds since the epoch → datetime64[ns, UTC] (nulls → NaT)."""
    return pd.to_datetime(values, unit="us", utc=True).astype("datetime64[ns, UTC]")


def _typed(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    for name, dtype in columns.items():
        if name not in df.columns:
            df[name] = pd.Series(pd.NA, index=df.index)
        if dtype.startswith("datetime64"):
            if not isinstance(df[name].dtype, pd.DatetimeTZDtype):
                df[name] = pd.to_datetime(df[name], utc=True)
        else:
            df[name] = df[name].astype(dtype)
    return df[list(columns)]


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while rows pile up.

    The walk keeps hundreds of thousands of small acyclic tuples; every collection would scan
    them all again for nothing (about 7 % of an ingest). Reference counting still frees the
    parsed manifests as soon as they are used. The previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_orchestrator(
    root: str | os.PathLike,
    *,
    artifacts: bool = True,
    variant_by: Literal["pipeline", "task"] = "pipeline",
    max_manifest_bytes: int = DEFAULT_MAX_MANIFEST_BYTES,
    workers: int | None = None,
) -> OrchestratorData:
    """Read every run of an orchestrator workspace.

    Parameters
    ----------
    root
        The workspace (the folder holding ``.runs/`` and ``out/``), or its ``.runs`` folder.
    artifacts
        List every file of every run folder, task folder and ``out/<task>/`` (the ``artifacts``
        table, and ``artifact_bytes``/``artifact_files`` of ``runs``). ``False`` reads manifests
        only, which is faster.
    variant_by
        What becomes the ``variant`` column: the run's ``pipeline`` id (default) or its ``task``.
    max_manifest_bytes
        Manifests larger than this are reported in ``problems`` instead of read.
    workers
        Processes that list and read run folders (forked, on systems that have ``fork``; more
        than one only for more than 64 run folders). Default: 2 on Linux with 2 or more CPUs,
        else 1. The result does not depend on it.

    Returns
    -------
    OrchestratorData
        ``runs``, ``stages``, ``artifacts`` and ``problems``: see :class:`OrchestratorData` for
        every column. Runs are sorted by start time; stages by run, then index.

    Raises
    ------
    PerfkitError
        If ``root`` does not exist or is not a folder. Never for a bad file inside it.

    Notes
    -----
    Speed (benchmarks/bench_ingest.py, 10,000 runs with real-sized 12 KB manifests and 23 files
    in 11 folders per run, 2 CPUs, load average ~3): manifests only, about 11,700 manifests per
    CPU-second against 17,000 for a bare ``json.load`` loop; the default (artifacts listed)
    about 3,600 per CPU-second on one process and, on its 2 processes, ~5,200 per second of
    wall time at best (median ~4,600 with the machine's load average at 2). The listing is
    system calls: a bare ``os.scandir`` + ``stat`` walk manages ~6,300 run folders per
    CPU-second and GNU ``find`` (C) ~5,700, so one CPU cannot list and parse more than ~4,400
    runs per second whatever the Python around it.
    """
    if variant_by not in ("pipeline", "task"):
        raise UsageError(f"`variant_by` must be 'pipeline' or 'task', not {variant_by!r}")
    if not isinstance(max_manifest_bytes, int) or max_manifest_bytes < 1:
        raise UsageError(f"`max_manifest_bytes` must be a positive integer, not {max_manifest_bytes!r}")
    root_path = Path(root)
    if not root_path.exists():
        raise PerfkitError(f"orchestrator root {str(root_path)!r}: no such folder")
    if not root_path.is_dir():
        raise PerfkitError(f"orchestrator root {str(root_path)!r}: not a folder")

    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise UsageError(f"`workers` must be a positive integer, not {workers!r}")
    if workers is None:
        # Measured on 2 CPUs (benchmarks/bench_ingest.py): threads fought over the GIL (4 threads
        # doubled the CPU time for the same wall time); 2 forked processes cost the same CPU
        # time as one and cut the wall time by ~40 % when the second CPU is free. Linux only:
        # forking a process that runs system frameworks (macOS) is not safe.
        workers = 2 if sys.platform.startswith("linux") and (os.cpu_count() or 1) >= 2 else 1
    walker = _Walker(
        root_path, artifacts=artifacts, max_manifest_bytes=max_manifest_bytes, workers=workers
    )
    with _gc_paused():
        walker.walk()
    collected = walker.rows

    return _data(collected, root_path, variant_by)


def _data(rows: _Rows, root: Path, variant_by: str) -> OrchestratorData:
    """Collected rows → the four typed tables."""
    runs = _runs_table(rows.runs, variant_by)
    stages = _stages_table(rows.stages, runs)
    artifacts = _artifacts_table(rows)
    # a bad symlink can be met twice (listing the run folder, then reading its manifest)
    unique = list(dict.fromkeys(rows.problems))
    problems = _frame(unique, list(PROBLEMS_COLUMNS.items()))
    return OrchestratorData(
        runs=runs, stages=stages, artifacts=artifacts, problems=problems, root=root
    )


def _artifacts_table(rows: _Rows) -> pd.DataFrame:
    """The artifact columns → the ``artifacts`` table, sorted by group key, then path.

    task/run_id/scope repeat for every file of a group: they are built once per group and
    repeated by Arrow (``take``), and the sort is Arrow's, not a Python sort of row tuples.
    """
    groups = rows.art_groups
    keys, tasks, run_ids, scopes, counts = (
        (list(column) for column in zip(*groups)) if groups else ([], [], [], [], [])
    )
    counts_np = np.asarray(counts, dtype="int64")
    which = pa.array(np.repeat(np.arange(len(groups), dtype="int64"), counts_np))
    table = pa.table(
        {
            "key": pa.array(keys, type=pa.int64()).take(which),
            "path": pa.array(rows.art_path, type=pa.large_string()),
        }
    )
    order = pc.sort_indices(table, sort_keys=[("key", "ascending"), ("path", "ascending")])
    which = which.take(order)

    def strings(values: list) -> pd.arrays.ArrowStringArray:
        array = pa.array(values, type=pa.large_string()).take(which)
        return pd.array(array, dtype="string")

    mtimes = np.asarray(rows.art_mtime, dtype="int64")[order.to_numpy()]
    return pd.DataFrame(
        {
            "task": strings(tasks),
            "run_id": strings(run_ids),
            "scope": strings(scopes),
            "path": pd.array(table["path"].take(order).combine_chunks(), dtype="string"),
            "bytes": np.asarray(rows.art_size, dtype="int64")[order.to_numpy()],
            "modified_at": pd.to_datetime(mtimes, unit="ns", utc=True),
        }
    )


def _runs_table(records: list[tuple], variant_by: str) -> pd.DataFrame:
    if not records:
        return _typed(pd.DataFrame(), RUNS_COLUMNS)
    df = _frame(records, _RUN_ROW)
    df["duration_s"] = ((df["completed_at"] - df["started_at"]) / 1e6).astype("float64")
    for name in ("started_at", "completed_at", "heartbeat_at"):
        df[name] = _us_to_datetime(df[name])
    df["variant"] = df[variant_by]
    df = df.sort_values(["started_at", "run_id"], kind="stable").reset_index(drop=True)
    df["run"] = df.groupby("variant", sort=False).cumcount() + 1
    return _typed(df, RUNS_COLUMNS)


def _stages_table(rows: list[tuple], runs: pd.DataFrame) -> pd.DataFrame:
    columns = {**STAGES_COLUMNS, **STAGE_EXTRA_COLUMNS}
    if not rows:
        return _typed(pd.DataFrame(), columns)
    # The manifest path is the unique key of a run (a copied folder can repeat a run id); the
    # runs table is in start order, and stages follow their run's position, then their index.
    position = {path: i for i, path in enumerate(runs["manifest_path"].tolist())}
    where = np.array([position[row[2]] for row in rows], dtype="int64")
    index = np.array([row[5] for row in rows], dtype="int64")
    order = np.lexsort((index, where))
    df = _frame([rows[i] for i in order], _STAGE_ROW)
    where = where[order]
    df["variant"] = runs["variant"].array.take(where)
    df["run"] = runs["run"].to_numpy()[where]
    df["duration_s"] = ((df["completed_at"] - df["started_at"]) / 1e6).astype("float64")
    df["started_at"] = _us_to_datetime(df["started_at"])
    df["completed_at"] = _us_to_datetime(df["completed_at"])
    return _typed(df, columns)


def run_folders(runs_dir: str) -> set[tuple[str, str]]:
    """(task, run id) of every ``<runs_dir>/<task>/cli/<run>`` folder: two levels of scandir."""
    found: set[tuple[str, str]] = set()
    try:
        tasks = list(os.scandir(runs_dir))
    except OSError:
        return found
    for task in tasks:
        try:
            with os.scandir(os.path.join(task.path, "cli")) as it:
                found.update((task.name, run.name) for run in it if run.is_dir())
        except OSError:
            continue
    return found


def read_run_folders(
    root: str | os.PathLike, folders: list[tuple[str, str]]
) -> OrchestratorData:
    """Read only the given ``(task, run id)`` run folders of a workspace (same tables as
    :func:`read_orchestrator`; ``run`` numbers the given runs per pipeline, by start time)."""
    root_path = Path(root)
    walker = _Walker(root_path, artifacts=True, max_manifest_bytes=DEFAULT_MAX_MANIFEST_BYTES, workers=1)
    rows = _Rows()
    for key, (task, run_id) in enumerate(sorted(folders), 1):
        rel = f".runs/{task}/cli/{run_id}"
        walker.run(rows, key, (task, run_id, os.path.join(root_path, ".runs", task, "cli", run_id), rel))
    return _data(rows, root_path, "pipeline")
