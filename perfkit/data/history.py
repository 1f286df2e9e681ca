"""The history store: every commit's measurements kept, as Parquet partitioned by benchmark.

A history is a folder::

    perfkit-history.json                    marks the folder (layout version); nothing else in it
    runs/benchmark=<name>/<id>.parquet      one file per added dataset: its runs, all columns,
                                            plus commit, branch, commit_time, added_at, sequence,
                                            chain_position, dataset_id and the host record (JSON)
    stages/benchmark=<name>/<id>.parquet    that dataset's stages, same extra columns
    */benchmark=<name>/batch-*.parquet      every 100 adds merged into one file (with a hidden
                                            id list beside it): see :mod:`.history_files`
    .lock                                   serialises writers (``fcntl.flock``)
    .sequence                               the last ``sequence`` given (written under the lock)

``<id>`` is a fingerprint of the dataset's rows: adding the same dataset twice is refused.
Writes go to ``*.parquet.tmp`` files that are fsynced and then renamed (stages first, runs last:
a runs file is what makes an add visible), so a crash leaves at most a stray ``.tmp`` file that no
reader matches, never a half-written Parquet file. Two concurrent adds take the lock in turn and
each writes its own file: nothing is lost. The lock is this module's own (a small ``flock``);
the dataset store may get its own — they guard different folders.

**History order** — the order of a benchmark's commits, which the change-point search runs along —
is *not* the commit time. Commit times lie about main's order: a branch that is fast-forwarded or
merged brings commits made before main's last one, so sorting by time interleaves states main was
never in and invents steps. The rule:

1. When every commit of the benchmark was added with a repository (``add(..., repo=DIR)``,
   ``history add --repo DIR``), commits are ordered by ``chain_position``: the commit's depth on
   its first-parent chain (``git rev-list --count --first-parent SHA``), which for a commit of
   main is its place in main's own sequence of states, whatever its time says. Ties (commits of
   other branches at the same depth) fall back to rule 2.
2. Otherwise by ``sequence``: the order the commits were added (the first add of each commit;
   ``sequence`` is one more than the last one given, kept in ``.sequence`` under the writers'
   lock — not a count of files, which a compaction of many adds into one file would reset;
   without that file, one more than the largest ``sequence`` in the files). A CI job that adds every push to main adds
   them in main's order; a backfill must add oldest first, or give ``--repo``.

``commit_time`` (``--when``, or the committer time from ``--repo``) is kept as metadata: shown,
never used to order — except in a history written before ``chain_position`` existed (no file
has the column), which reads as it did then: by commit time, then sequence. Its first add by
this version brings the column, and with it rules 1 and 2 (rule 2 for the old commits).

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
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from perfkit.data import history_files
from perfkit.data.schema import ID_COLUMNS, is_trace_metric
from perfkit.data.store import Dataset
from perfkit.errors import DatasetError, UsageError

MARKER = "perfkit-history.json"
LAYOUT_VERSION = 1
#: Where a history lives when ``--history`` is not given (relative to the working folder).
DEFAULT_DIR = ".perfkit-history"
ENV_VAR = "PERFKIT_HISTORY"
#: Columns the store adds to every row.
EXTRA_COLUMNS = ("commit", "branch", "commit_time", "added_at", "sequence", "chain_position",
                 "dataset_id", "host")
#: The two orders of a benchmark's commits (see the module docstring).
BY_CHAIN, BY_ADDED = "first-parent chain order", "order added"
#: The order of a history written before ``chain_position`` existed: as it was read then.
BY_TIME = "commit-time order (a history from before chain positions)"
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


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              timeout=120)
    except FileNotFoundError:
        raise UsageError("`--repo` needs git, and git is not installed") from None
    return done.stdout.strip() if done.returncode == 0 else None


def chain_position(repo: str | os.PathLike, commit: str) -> tuple[int, pd.Timestamp]:
    """``commit``'s depth on its first-parent chain in the git repository ``repo`` (1 for a root
    commit) and its committer time. For a commit of main the depth is its place in main's
    sequence of states: a fast-forwarded branch's commits get the places main gave them, whatever
    their times. A shallow clone is refused (its depths are counted from the cut, not the root)."""
    repo = Path(repo)
    shallow = _git(repo, "rev-parse", "--is-shallow-repository")
    if shallow is None:
        raise UsageError(f"`--repo` {str(repo)!r} is not a git repository")
    if shallow == "true":
        raise UsageError(f"`--repo` {str(repo)!r} is a shallow clone: commit depths would be "
                         "counted from its cut (fetch the full history, e.g. actions/checkout "
                         "with fetch-depth: 0)")
    full = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{commit}^{{commit}}")
    if not full:
        raise UsageError(f"`--commit` {commit!r} is not a commit of the repository {str(repo)!r}")
    depth = _git(repo, "rev-list", "--count", "--first-parent", full)
    when = _git(repo, "show", "-s", "--format=%cI", full)
    if depth is None or when is None:
        raise UsageError(f"`--repo` {str(repo)!r}: git could not read commit {commit!r}")
    return int(depth), _timestamp(when, "--when")


def in_history_order(commits: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """One row per commit (with ``sequence``, ``commit_time`` and maybe ``chain_position``)
    sorted in history order, and which rule ordered it (:data:`BY_CHAIN`, :data:`BY_ADDED`, or
    for a history no file of which has a ``chain_position`` column, :data:`BY_TIME`)."""
    if "chain_position" not in commits.columns:
        keys, rule = ["commit_time", "sequence"], BY_TIME
    elif len(commits) and bool(commits["chain_position"].notna().all()):
        keys, rule = ["chain_position", "sequence"], BY_CHAIN
    else:
        keys, rule = ["sequence"], BY_ADDED
    return commits.sort_values(keys, kind="stable").reset_index(drop=True), rule


@dataclass(frozen=True)
class Added:
    """What :meth:`History.add` wrote: the benchmark, commit, id and row counts."""

    benchmark: str
    commit: str
    dataset_id: str
    runs: int
    stages: int
    sequence: int
    chain_position: int | None = None


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
            when: str | dt.datetime | None = None,
            repo: str | os.PathLike | None = None) -> Added:
        """Append ``dataset``'s runs of one variant (and its stages) as benchmark ``name``.

        ``repo``: a git repository holding ``commit``; its first-parent depth is recorded as
        ``chain_position`` (the history order, see the module docstring) and its committer time
        is the default of ``when``. ``when`` is metadata only: it never orders the history.
        """
        if not _NAME.match(name or ""):
            raise UsageError(f"`--name` must be letters, digits, '.', '_' or '-' "
                             f"(at most 100, not starting with a sign), not {name!r}")
        runs, stages = _one_variant(dataset, variant)
        commit = commit or str(dataset.meta.get("git_commit") or "")
        if not commit:
            raise UsageError("`--commit` is needed: the dataset records no commit")
        position = None
        if repo is not None:
            position, git_time = chain_position(repo, commit)
            when = git_time if when is None else when
        commit_time = _timestamp(when, "--when")
        fingerprint = _fingerprint(runs, stages)
        extra = {"commit": commit, "branch": branch or "", "commit_time": commit_time,
                 "added_at": pd.Timestamp.now(tz="UTC"), "dataset_id": fingerprint,
                 "host": json.dumps(dataset.meta.get("host", {}), sort_keys=True, default=str)}
        self._ensure()
        with _locked(self.path):
            if (any(self.path.glob(f"runs/*/{fingerprint}.parquet"))
                    or fingerprint in self._merged_ids()):
                raise DatasetError(f"this dataset is already in the history {self.path} "
                                   f"(id {fingerprint}); nothing added")
            sequence = self._next_sequence()
            part = f"benchmark={name}"
            order = {"sequence": sequence,
                     "chain_position": pd.array([position] * len(runs), dtype="Int64")}
            out_runs = runs.assign(**extra, **order)
            if not stages.empty:
                _write_atomic(stages.assign(**extra, sequence=sequence),
                              self.path / "stages" / part / f"{fingerprint}.parquet")
            _write_atomic(out_runs, self.path / "runs" / part / f"{fingerprint}.parquet")
            history_files.compact(self.path, name)  # every COMPACT_AT adds: one batch file
        return Added(benchmark=name, commit=commit, dataset_id=fingerprint, runs=len(runs),
                     stages=len(stages), sequence=sequence, chain_position=position)

    def _merged_ids(self) -> set[str]:
        """Dataset ids inside merged batches (from their id lists: no query, no DuckDB)."""
        if all(history_files.is_single(p) for p in self.path.glob("runs/*/*.parquet")):
            return set()
        return history_files.merged_ids(self.path, "runs")

    def _next_sequence(self) -> int:
        """One more than the last sequence given (call under the lock). The counter file is
        written before the data files: a crash leaves a gap in the sequence, never a repeat."""
        counter = self.path / ".sequence"
        try:
            last = int(counter.read_text(encoding="ascii"))
        except (OSError, ValueError):  # a history from before the counter, or a compacted copy
            found = self._query("runs", "SELECT max(sequence) AS last FROM t")
            last = 0 if found.empty or pd.isna(found["last"].iloc[0]) else int(found["last"].iloc[0])
        tmp = counter.with_name(f".sequence.{os.getpid()}.tmp")
        tmp.write_text(f"{last + 1}\n", encoding="ascii")
        os.replace(tmp, counter)
        return last + 1

    # -- reading -----------------------------------------------------------------------------
    def _query(self, table: str, sql: str, params: list | None = None) -> pd.DataFrame:
        import duckdb  # lazy: only history commands pay for its import

        if not any(self.path.glob(f"{table}/*/*.parquet")):
            return pd.DataFrame()
        con = duckdb.connect()
        try:
            con.execute(history_files.view_sql(self.path, table))  # each row once, from any file
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
        """Every run of benchmark ``name``, in history order of its commits, then add and run."""
        self._require(name)
        return self._in_commit_order(name, self._query(
            "runs", 'SELECT * FROM t WHERE benchmark = ? ORDER BY sequence, "order"', [name]))

    def stages(self, name: str) -> pd.DataFrame:
        """Every stage row of benchmark ``name`` (empty when it has none), in history order."""
        self._require(name)
        return self._in_commit_order(name, self._query(
            "stages", "SELECT * FROM t WHERE benchmark = ? ORDER BY sequence", [name]))

    def _in_commit_order(self, name: str, rows: pd.DataFrame) -> pd.DataFrame:
        if rows.empty:
            return rows
        rank = {c: i for i, c in enumerate(self.commits(name)["commit"])}
        key = rows["commit"].map(rank)
        return rows.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)

    def _chain_sql(self) -> str:
        """``, min(chain_position) AS chain_position`` for a per-commit query, or nothing when
        no file has the column (a history from before it: ordered as it was then)."""
        return ", min(chain_position) AS chain_position" if "chain_position" in self.columns() else ""

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
        """The commits of benchmark ``name`` in history order, with their run counts (the rule
        that ordered them: :meth:`order`)."""
        return self._commits(name)[0]

    def order(self, name: str) -> str:
        """Which rule orders benchmark ``name``'s commits: :data:`BY_CHAIN` or :data:`BY_ADDED`."""
        return self._commits(name)[1]

    def _commits(self, name: str) -> tuple[pd.DataFrame, str]:
        self._require(name)
        return in_history_order(self._query("runs", f"""
            SELECT "commit", any_value(branch) AS branch, min(commit_time) AS commit_time,
                   min(sequence) AS sequence{self._chain_sql()}, count(*) AS runs
            FROM t WHERE benchmark = ? GROUP BY "commit" """, [name]))

    def series(self, name: str, metric: str) -> pd.DataFrame:
        """Per-commit values of ``metric``: median, quartiles and run count, in history order
        (the module docstring says which; never by ``commit_time``).

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
                       count({col}) AS n{self._chain_sql()},
                       quantile_cont({col}, [0.5, 0.25, 0.75]) AS qs
                FROM t WHERE benchmark = ? AND NOT coalesce(warmup, false)
                     AND coalesce(traced, false) = {traced} AND status = 'ok'
                     AND {col} IS NOT NULL
                GROUP BY "commit" """, [name])
        if found.empty:  # no such column, or no value of it in this benchmark
            raise UsageError(f"`--metric` {metric!r} is not a metric of benchmark {name!r} "
                             f"(it has: {', '.join(self.metrics(name))})")
        found, _ = in_history_order(found)
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
