"""The history store: every commit's measurements kept, as Parquet partitioned by benchmark.

A history is a folder::

    perfkit-history.json                    marks the folder (layout version); nothing else in it
    runs/benchmark=<name>/<id>.parquet      one file per added dataset: its runs, all columns,
                                            plus commit, branch, commit_time, added_at, sequence,
                                            dataset_id and the host record (JSON)
    stages/benchmark=<name>/<id>.parquet    that dataset's stages, same extra columns
    .lock                                   serialises writers (``fcntl.flock``)

``<id>`` is a fingerprint of the dataset's rows: adding the same dataset twice is refused.
Writes go to ``*.parquet.tmp`` files that are fsynced and then renamed (stages first, runs last:
a runs file is what makes an add visible), so a crash leaves at most a stray ``.tmp`` file that no
reader matches, never a half-written Parquet file. Two concurrent adds take the lock in turn and
each writes its own file: nothing is lost. The lock is this module's own (a small ``flock``);
the dataset store may get its own — they guard different folders.

Reading goes through DuckDB (``read_parquet(..., hive_partitioning = true, union_by_name =
true)``): the ``benchmark=<name>`` folders are Hive partitions, so Spark, Trino or DuckDB itself
read the same tree without perfkit (see the README's "History" section). Files differ in their
columns (a traced pass adds counters) — ``union_by_name`` fills the missing ones with nulls.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from perfkit.data.schema import ID_COLUMNS, is_trace_metric
from perfkit.data.store import Dataset
from perfkit.errors import DatasetError, UsageError

MARKER = "perfkit-history.json"
LAYOUT_VERSION = 1
#: Where a history lives when ``--history`` is not given (relative to the working folder).
DEFAULT_DIR = ".perfkit-history"
ENV_VAR = "PERFKIT_HISTORY"
#: Columns the store adds to every row.
EXTRA_COLUMNS = ("commit", "branch", "commit_time", "added_at", "sequence", "dataset_id", "host")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_NUMERIC = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|"
                      r"UBIGINT|FLOAT|DOUBLE|DECIMAL)")


def _ident(name: str) -> str:
    """A column name as a quoted SQL identifier (a column from data may hold any character)."""
    return '"' + str(name).replace('"', '""') + '"'


def default_dir() -> Path:
    """``$PERFKIT_HISTORY`` when set, else ``.perfkit-history`` in the working folder."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


@contextlib.contextmanager
def _locked(folder: Path):
    with open(folder / ".lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _fingerprint(runs: pd.DataFrame, stages: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    for frame in (runs, stages):
        digest.update(",".join(map(str, frame.columns)).encode())
        if not frame.empty:
            digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:20]


def _write_atomic(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    frame.to_parquet(tmp, index=False)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _timestamp(value: str | dt.datetime | None, what: str) -> pd.Timestamp:
    if value is None:
        return pd.Timestamp.now(tz="UTC")
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise UsageError(f"`{what}` is not a date and time: {value!r}") from None
    if pd.isna(ts):
        raise UsageError(f"`{what}` is not a date and time: {value!r}")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


@dataclass(frozen=True)
class Added:
    """What :meth:`History.add` wrote: the benchmark, commit, id and row counts."""

    benchmark: str
    commit: str
    dataset_id: str
    runs: int
    stages: int
    sequence: int


class History:
    """A history folder; open one with :func:`open_history`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        # answers that only change when a file is added: benchmarks, columns, metrics (a check
        # asks for them once per series); keyed by the runs files present, so an add by another
        # process is seen at the next call
        self._cache: dict = {}

    def _cached(self, key: tuple, compute):
        files = tuple(sorted(f"{p.parent.name}/{p.name}"
                             for p in self.path.glob("runs/*/*.parquet")))
        if self._cache.get("files") != files:
            self._cache = {"files": files}
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def _ensure(self) -> None:
        """Make the folder a history (on the first add, once everything was checked)."""
        marker = self.path / MARKER
        if marker.is_file():
            return
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.path / (MARKER + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"kind": "perfkit-history", "layout_version": LAYOUT_VERSION})
                       + "\n", encoding="utf-8")
        os.replace(tmp, marker)

    def __repr__(self) -> str:
        return f"<perfkit.History at {self.path}>"

    # -- writing -----------------------------------------------------------------------------
    def add(self, dataset: Dataset, name: str, *, variant: str | None = None,
            commit: str | None = None, branch: str | None = None,
            when: str | dt.datetime | None = None) -> Added:
        """Append ``dataset``'s runs of one variant (and its stages) as benchmark ``name``."""
        if not _NAME.match(name or ""):
            raise UsageError(f"`--name` must be letters, digits, '.', '_' or '-' "
                             f"(at most 100, not starting with a sign), not {name!r}")
        runs, stages = _one_variant(dataset, variant)
        commit = commit or str(dataset.meta.get("git_commit") or "")
        if not commit:
            raise UsageError("`--commit` is needed: the dataset records no commit")
        commit_time = _timestamp(when, "--when")
        fingerprint = _fingerprint(runs, stages)
        extra = {"commit": commit, "branch": branch or "", "commit_time": commit_time,
                 "added_at": pd.Timestamp.now(tz="UTC"), "dataset_id": fingerprint,
                 "host": json.dumps(dataset.meta.get("host", {}), sort_keys=True, default=str)}
        self._ensure()
        with _locked(self.path):
            if any(self.path.glob(f"runs/*/{fingerprint}.parquet")):
                raise DatasetError(f"this dataset is already in the history {self.path} "
                                   f"(id {fingerprint}); nothing added")
            sequence = sum(1 for _ in self.path.glob("runs/*/*.parquet")) + 1
            part = f"benchmark={name}"
            out_runs = runs.assign(**extra, sequence=sequence)
            if not stages.empty:
                _write_atomic(stages.assign(**extra, sequence=sequence),
                              self.path / "stages" / part / f"{fingerprint}.parquet")
            _write_atomic(out_runs, self.path / "runs" / part / f"{fingerprint}.parquet")
        return Added(benchmark=name, commit=commit, dataset_id=fingerprint, runs=len(runs),
                     stages=len(stages), sequence=sequence)

    # -- reading -----------------------------------------------------------------------------
    def _query(self, table: str, sql: str, params: list | None = None) -> pd.DataFrame:
        import duckdb  # lazy: only history commands pay for its import

        pattern = str(self.path / table / "*" / "*.parquet").replace("'", "''")
        if not any(self.path.glob(f"{table}/*/*.parquet")):
            return pd.DataFrame()
        con = duckdb.connect()
        try:
            con.execute(
                f"CREATE VIEW t AS SELECT * FROM read_parquet('{pattern}', hive_partitioning = "
                "true, union_by_name = true, hive_types = {'benchmark': 'VARCHAR'})")
            # through Arrow: DuckDB's own .df() trips a pandas deprecation warning
            return con.sql(sql, params=params or None).to_arrow_table().to_pandas()
        except Exception as exc:  # duckdb's errors share no public base class worth naming
            if type(exc).__module__.startswith("duckdb"):
                raise DatasetError(f"{self.path}: cannot read the history ({exc})") from None
            raise
        finally:
            con.close()

    def benchmarks(self) -> pd.DataFrame:
        """One row per benchmark: commits, adds, runs, the first and last commit time."""
        return self._cached(("benchmarks",), self._benchmarks).copy()

    def _benchmarks(self) -> pd.DataFrame:
        return self._query("runs", """
            SELECT benchmark, count(DISTINCT "commit") AS commits,
                   count(DISTINCT dataset_id) AS adds, count(*) AS runs,
                   min(commit_time) AS first, max(commit_time) AS last
            FROM t GROUP BY benchmark ORDER BY benchmark""")

    def runs(self, name: str) -> pd.DataFrame:
        """Every run of benchmark ``name``, ordered by commit time, add and run order."""
        self._require(name)
        return self._query("runs", 'SELECT * FROM t WHERE benchmark = ? '
                           'ORDER BY commit_time, sequence, "order"', [name])

    def stages(self, name: str) -> pd.DataFrame:
        """Every stage row of benchmark ``name`` (empty when it has none)."""
        self._require(name)
        return self._query("stages", "SELECT * FROM t WHERE benchmark = ? "
                           "ORDER BY commit_time, sequence", [name])

    def columns(self) -> dict[str, str]:
        """Every column of the runs files (their union) and its DuckDB type."""
        return dict(self._cached(("columns",), self._columns))

    def _columns(self) -> dict[str, str]:
        described = self._query("runs", "DESCRIBE t")
        if described.empty:
            return {}
        return dict(zip(described["column_name"], described["column_type"]))

    def metrics(self, name: str) -> list[str]:
        """The metrics benchmark ``name`` has values of (numeric columns, ids left out)."""
        self._require(name)
        return list(self._cached(("metrics", name), lambda: self._metrics(name)))

    def _metrics(self, name: str) -> list[str]:
        skip = set(ID_COLUMNS) | set(EXTRA_COLUMNS) | {"benchmark"}
        numeric = [c for c, kind in self.columns().items()
                   if c not in skip and _NUMERIC.match(kind)]
        if not numeric:
            return []
        counts = self._query("runs", "SELECT " + ", ".join(
            f"count({_ident(c)}) AS {_ident(c)}" for c in numeric)
            + " FROM t WHERE benchmark = ?", [name])
        return [c for c in numeric if int(counts[c].iloc[0]) > 0]

    def counters(self, name: str) -> pd.DataFrame:
        """``commit`` and the exact counters of the traced runs of benchmark ``name``."""
        self._require(name)
        names = [c for c in self.columns() if is_trace_metric(c)]
        if not names:
            return pd.DataFrame(columns=["commit"])
        return self._query("runs", 'SELECT "commit", ' + ", ".join(map(_ident, names))
                           + " FROM t WHERE benchmark = ? AND coalesce(traced, false) "
                           "AND NOT coalesce(warmup, false) AND status = 'ok'", [name])

    def commits(self, name: str) -> pd.DataFrame:
        """The commits of benchmark ``name`` in history order, with their run counts."""
        self._require(name)
        return self._query("runs", """
            SELECT "commit", any_value(branch) AS branch, min(commit_time) AS commit_time,
                   min(sequence) AS sequence, count(*) AS runs
            FROM t WHERE benchmark = ? GROUP BY "commit"
            ORDER BY commit_time, sequence""", [name])

    def series(self, name: str, metric: str) -> pd.DataFrame:
        """Per-commit values of ``metric``: median, quartiles and run count, in history order.

        Rows follow :func:`perfkit.data.schema.comparable_rows`: no warm-ups, only runs that
        ended ok, traced runs for exact counters and timed runs for everything else.
        """
        self._require(name)
        kind = self.columns().get(metric, "")
        skip = set(ID_COLUMNS) | set(EXTRA_COLUMNS) | {"benchmark"}
        found = pd.DataFrame()
        if _NUMERIC.match(kind) and metric not in skip:
            traced = "true" if is_trace_metric(metric) else "false"
            col = _ident(metric)
            # the three quantiles in one aggregate: one sort of each commit's values, not three
            found = self._query("runs", f"""
                SELECT "commit", min(commit_time) AS commit_time, min(sequence) AS sequence,
                       quantile_cont({col}, [0.5, 0.25, 0.75]) AS qs, count({col}) AS n
                FROM t WHERE benchmark = ? AND NOT coalesce(warmup, false)
                     AND coalesce(traced, false) = {traced} AND status = 'ok'
                     AND {col} IS NOT NULL
                GROUP BY "commit" ORDER BY commit_time, sequence""", [name])
        if found.empty:  # no such column, or no value of it in this benchmark
            raise UsageError(f"`--metric` {metric!r} is not a metric of benchmark {name!r} "
                             f"(it has: {', '.join(self.metrics(name))})")
        qs = np.array(found.pop("qs").tolist(), dtype=float).reshape(-1, 3)
        found.insert(3, "value", qs[:, 0])
        found.insert(4, "q1", qs[:, 1])
        found.insert(5, "q3", qs[:, 2])
        return found

    def names(self) -> list[str]:
        """The benchmarks that have runs, sorted (from the partition folders: no query)."""
        return sorted({p.parent.name.partition("=")[2]
                       for p in self.path.glob("runs/benchmark=*/*.parquet")})

    def _require(self, name: str) -> None:
        names = self.names()
        if not names:
            raise DatasetError(f"{self.path}: the history is empty (add a dataset first)")
        if name not in names:
            raise UsageError(f"`--name` {name!r} is not in the history "
                             f"(it has: {', '.join(names)})")


def _one_variant(dataset: Dataset, variant: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    runs, stages = dataset.runs, dataset.stages
    if runs.empty:
        raise DatasetError("the dataset holds no runs; nothing added")
    variants = dataset.variants
    if variant is None:
        if len(variants) != 1:
            raise UsageError(f"`--variant` is needed: the dataset has {', '.join(variants)}")
        variant = variants[0]
    if variant not in variants:
        raise UsageError(f"`--variant` {variant!r} is not in the dataset "
                         f"(it has: {', '.join(variants)})")
    clash = [c for c in EXTRA_COLUMNS + ("benchmark",) if c in runs.columns]
    if clash:
        raise DatasetError(f"the dataset has columns the history adds itself: {', '.join(clash)}")
    runs = runs[runs["variant"] == variant].reset_index(drop=True)
    if not stages.empty and "variant" in stages.columns:
        stages = stages[stages["variant"] == variant].reset_index(drop=True)
    return runs, stages


def open_history(path: str | os.PathLike | None = None, *, create: bool = False) -> History:
    """Open the history folder ``path`` (default :func:`default_dir`); ``create`` makes a new one
    when the folder is absent or empty (made on the first add). A folder that holds something else is refused."""
    folder = Path(path) if path is not None else default_dir()
    marker = folder / MARKER
    if marker.is_file():
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DatasetError(f"{folder}: unreadable history marker ({exc})") from None
        if not isinstance(info, dict) or info.get("layout_version") != LAYOUT_VERSION:
            raise DatasetError(f"{folder}: a history of another layout version "
                               f"({info.get('layout_version') if isinstance(info, dict) else info!r})")
        return History(folder)
    if folder.exists() and not folder.is_dir():
        raise DatasetError(f"{folder}: not a history folder (a file)")
    # another add may be creating it right now: its marker's temporary file is no stranger
    if folder.is_dir() and any(not p.name.startswith(MARKER) for p in folder.iterdir()):
        raise DatasetError(f"{folder}: not a history folder (no {MARKER})")
    if not create:
        raise DatasetError(f"{folder}: no history here (add a dataset first)")
    return History(folder)  # the folder is made by the first add, after its checks
