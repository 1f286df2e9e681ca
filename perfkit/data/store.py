"""Datasets on disk: a journal while collecting, Parquet and a metadata record when done.

A dataset is a folder::

    meta.json        schema version, perfkit version, host, variants and their commands, times
    runs.jsonl       the journal: one JSON line per finished run, flushed and fsynced
    stages.jsonl     the journal of stages (orchestrator runs), same rules
    runs.parquet     written when a collection finishes (the journal stays: it is the source)
    stages.parquet
    outputs.jsonl, outputs.parquet   the same for each table of schema.JOURNALED_TABLES, when
                     a collection recorded rows of it (read with :func:`read_table`)

A crash or Ctrl-C loses at most the run in flight: :func:`load` reads whatever a folder holds,
a finished collection from Parquet and an interrupted one from its journal (a torn last line
is skipped with a warning).

One writer per dataset: a :class:`DatasetWriter` (a collection, an ingest, an import) holds an
exclusive ``flock`` on ``.perfkit.lock`` in the folder for its whole life; a second writer is
refused with the holder's pid. The kernel drops the lock when its holder dies (even by kill -9),
so a stale lock file is simply taken over. Only the lock holder writes ``meta.json``.

Journal repair: before appending, a torn last line (a write cut short by a crash or a full disk)
is truncated away, with a warning; a line that cannot be parsed is skipped with a warning and
never makes the lines before or after it unreadable; a ``runs.parquet`` that cannot be read
beside an intact journal is rebuilt from the journal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import threading
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from perfkit.data.atomic import write_text_atomic  # noqa: F401 - part of this module's API
from perfkit.data.journal import read_journal, read_regular, repair_journal
from perfkit.data.lock import LOCK, dataset_lock  # noqa: F401 - LOCK: part of the folder layout
from perfkit.data.schema import (
    JOURNALED_TABLES,
    SCHEMA_VERSION,
    runs_frame,
    stages_frame,
)
from perfkit.errors import DatasetError, FailedError, PerfkitError, describe_os_error

META = "meta.json"
RUNS_JOURNAL = "runs.jsonl"
STAGES_JOURNAL = "stages.jsonl"
RUNS_PARQUET = "runs.parquet"
STAGES_PARQUET = "stages.parquet"


@dataclass
class Dataset:
    """What :func:`load` returns: the two tables and the metadata record."""

    runs: pd.DataFrame
    stages: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    @property
    def variants(self) -> list[str]:
        """Variant labels in the order they first ran."""
        if self.runs.empty:
            return list(self.meta.get("variants", {}))
        return list(self.runs.sort_values("order")["variant"].drop_duplicates())

    @property
    def complete(self) -> bool:
        return bool(self.meta.get("complete", False))

    def __repr__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return (
            f"<perfkit.Dataset{where}: {len(self.runs)} runs of {self.variants}, "
            f"{len(self.stages)} stages, {'complete' if self.complete else 'incomplete'}>"
        )


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _clean(record: Mapping[str, Any]) -> dict[str, Any]:
    """Replace NaN/NA by None so that the journal is strict JSON."""
    out = {}
    for key, value in record.items():
        if value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
            value = None
        out[key] = value
    return out


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=_json_default, allow_nan=False, sort_keys=False)


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON with :func:`write_text_atomic` (never a half-written file)."""
    write_text_atomic(path, json.dumps(obj, default=_json_default, indent=2) + "\n")


def read_meta(folder: Path) -> dict[str, Any]:
    path = Path(folder) / META
    try:
        meta = json.loads(read_regular(path).decode("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: unreadable metadata record ({exc})") from None
    if not isinstance(meta, dict):
        raise DatasetError(f"{path}: metadata record is not a JSON object")
    version = meta.get("schema_version")
    if version != SCHEMA_VERSION:
        raise DatasetError(
            f"{folder}: dataset schema version {version!r}, this perfkit reads version "
            f"{SCHEMA_VERSION}; use the perfkit that wrote it or collect again"
        )
    return meta


def is_dataset(folder: str | os.PathLike) -> bool:
    folder = Path(folder)
    return folder.is_dir() and any(
        (folder / name).exists() for name in (META, RUNS_JOURNAL, RUNS_PARQUET)
    )


def load_folder(folder: str | os.PathLike) -> Dataset:
    """Read a dataset folder, finished (Parquet) or interrupted (journal)."""
    folder = Path(folder)
    if not folder.exists():
        raise DatasetError(f"{folder}: no such dataset folder")
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder (and not a file format perfkit reads)")
    if not is_dataset(folder):
        raise DatasetError(f"{folder}: not a perfkit dataset (no {META} or {RUNS_JOURNAL})")
    meta = read_meta(folder)
    parquet_ok = meta.get("complete") and (folder / RUNS_PARQUET).exists()
    runs = stages = None
    if parquet_ok:
        try:
            read_regular(folder / RUNS_PARQUET, probe=True)
            runs = runs_frame(pd.read_parquet(folder / RUNS_PARQUET))
            stages_path = folder / STAGES_PARQUET
            if stages_path.exists():
                read_regular(stages_path, probe=True)
            stages = stages_frame(pd.read_parquet(stages_path) if stages_path.exists() else [])
        except (OSError, ValueError, TypeError, KeyError) as exc:
            if not (folder / RUNS_JOURNAL).exists():
                raise DatasetError(f"{folder}: cannot read the runs table ({exc})") from None
            runs = None
            why = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            warnings.warn(f"{folder}: {RUNS_PARQUET} is unreadable ({why}); "
                          "rebuilt from the journal", stacklevel=2)
    if runs is None:
        try:
            runs = runs_frame(read_journal(folder / RUNS_JOURNAL))
            stages = stages_frame(read_journal(folder / STAGES_JOURNAL))
        except DatasetError:
            raise
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise DatasetError(f"{folder}: cannot read the runs table ({exc})") from None
        if parquet_ok:
            _rewrite_parquet(folder, runs, stages)
    return _dataset(folder, runs, stages, meta)


def _dataset(folder: Path, runs: pd.DataFrame, stages: pd.DataFrame,
             meta: dict[str, Any]) -> Dataset:
    """A :class:`Dataset` of tables already coerced to the schema, runs in collection order."""
    if not runs.empty:
        runs = runs.sort_values("order", kind="stable").reset_index(drop=True)
    return Dataset(runs=runs, stages=stages, meta=meta, path=folder)


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Parquet via a temporary file and a rename: a full disk never leaves a truncated table."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_table(folder: Path, name: str) -> pd.DataFrame | None:
    """A journaled table (schema.JOURNALED_TABLES) of a dataset folder: its Parquet file when the
    collection finished, else its journal (every finished run's rows); None if neither exists."""
    frame = JOURNALED_TABLES[name]
    parquet, journal = folder / f"{name}.parquet", folder / f"{name}.jsonl"
    if parquet.is_file() and read_meta(folder).get("complete"):
        try:
            read_regular(parquet, probe=True)
            return frame(pd.read_parquet(parquet))
        except (OSError, ValueError, TypeError, KeyError):
            pass  # the journal is the source
    return frame(read_journal(journal)) if journal.is_file() else None


def _rewrite_parquet(folder: Path, runs: pd.DataFrame, stages: pd.DataFrame) -> None:
    """Replace unreadable Parquet tables by the journal's, if no one else is writing the folder."""
    try:
        with dataset_lock(folder):
            write_parquet_atomic(runs, folder / RUNS_PARQUET)
            write_parquet_atomic(stages, folder / STAGES_PARQUET)
    except (DatasetError, OSError, ValueError):
        pass  # read-only, full, or being written: the journal still serves every read


class DatasetWriter:
    """Appends runs to a dataset folder's journal as they finish; writes Parquet at the end.

    ``append=False`` refuses a folder that already holds runs; ``append=True`` continues its
    numbering. A folder holding a dataset of another schema is always refused.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        meta: Mapping[str, Any],
        *,
        append: bool = False,
        fsync_interval_s: float = 0.0,
    ):
        # Every journal line is flushed to the kernel at once: that alone survives Ctrl-C and
        # kill -9 of perfkit. fsync (surviving an OS crash or power loss too) follows each line
        # when ``fsync_interval_s`` is 0; otherwise a timer fsyncs what is pending at most
        # ``fsync_interval_s`` seconds after it was written (so an OS crash loses at most that
        # much), and close() fsyncs the rest. A collection of millisecond runs needs the
        # interval: an fsync costs more than such a run, and its disk flush disturbs the next.
        self.fsync_interval_s = fsync_interval_s
        self._sync_lock = threading.Lock()
        self._sync_timer: threading.Timer | None = None
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatasetError(f"--out {self.folder}: cannot create folder ({exc.strerror})") from None
        if not os.access(self.folder, os.W_OK | os.X_OK):
            raise DatasetError(f"--out {self.folder}: folder is not writable")
        self._lock = contextlib.ExitStack()
        self._lock.enter_context(dataset_lock(self.folder))  # held until close()
        try:
            self._open(meta, append)
        except BaseException:
            self._lock.close()
            raise

    def _open(self, meta: Mapping[str, Any], append: bool) -> None:
        self._tables: dict[str, Any] = {}  # journaled tables' files, opened at their first row
        for name in (RUNS_JOURNAL, STAGES_JOURNAL, *(f"{t}.jsonl" for t in JOURNALED_TABLES)):
            try:
                cut = repair_journal(self.folder / name)
            except OSError as exc:
                raise DatasetError(f"{self.folder / name}: cannot repair the journal "
                                   f"({exc.strerror})") from None
            if cut:
                warnings.warn(f"{self.folder / name}: truncated a torn last line ({cut} bytes, "
                              "the run in flight when an earlier collection stopped) before "
                              "appending", stacklevel=3)
        existing = read_meta(self.folder) if (self.folder / META).exists() else None
        previous = load_folder(self.folder) if is_dataset(self.folder) else None
        if previous is not None and len(previous.runs) and not append:
            raise DatasetError(
                f"--out {self.folder}: already holds a dataset ({len(previous.runs)} runs); "
                "pass --append to add to it or choose another folder"
            )
        self.previous = previous
        now = dt.datetime.now(dt.timezone.utc)
        merged = dict(existing or {})
        variants = dict(merged.get("variants", {}))
        variants.update(meta.get("variants", {}))
        merged.update(meta)
        merged["variants"] = variants
        merged["schema_version"] = SCHEMA_VERSION
        merged.setdefault("started_at", now)
        merged["complete"] = False
        self.meta = merged
        self._write_meta()
        self._runs = open(self.folder / RUNS_JOURNAL, "a", encoding="utf-8")
        self._stages = open(self.folder / STAGES_JOURNAL, "a", encoding="utf-8")

    # numbering continues across --append
    @property
    def next_order(self) -> int:
        if self.previous is None or self.previous.runs.empty:
            return 1
        return int(self.previous.runs["order"].max()) + 1

    @property
    def next_round(self) -> int:
        """The first round of this collection: rounds go on across ``--append``."""
        if self.previous is None or "round" not in self.previous.runs.columns:
            return 1
        rounds = self.previous.runs["round"].dropna()
        return int(rounds.max()) + 1 if len(rounds) else 1

    def next_run(self, variant: str, *, traced: bool = False) -> int:
        if self.previous is None or self.previous.runs.empty:
            return 1
        r = self.previous.runs
        r = r[(r["variant"] == variant) & ~r["warmup"] & (r["traced"] == traced)]
        return int(r["run"].max()) + 1 if len(r) else 1

    def _write_meta(self) -> None:
        # only the lock holder gets here: meta.json has one writer
        try:
            write_json_atomic(self.folder / META, self.meta)
        except OSError as exc:
            raise FailedError(f"{self.folder}: cannot write {META}: {describe_os_error(exc)}") from None

    def _append(self, fh, record: Mapping[str, Any]) -> None:
        fh.write(dumps(_clean(record)) + "\n")
        fh.flush()
        self._sync(fh)

    def _sync(self, fh) -> None:
        """fsync ``fh`` now, or within ``fsync_interval_s``."""
        if self.fsync_interval_s <= 0:
            os.fsync(fh.fileno())
            return
        with self._sync_lock:
            if self._sync_timer is None:
                self._sync_timer = threading.Timer(self.fsync_interval_s, self._sync_pending)
                self._sync_timer.daemon = True
                self._sync_timer.start()

    def _sync_pending(self) -> None:
        with self._sync_lock:
            self._sync_timer = None
            for fh in (self._runs, self._stages, *self._tables.values()):
                if not fh.closed:
                    os.fsync(fh.fileno())

    def add_run(self, record: Mapping[str, Any]) -> None:
        self._append(self._runs, record)

    @property
    def runs_journal(self) -> Path:
        """The runs journal, for a process of this collection that appends to it itself (the
        spawner's batches: see :meth:`perfkit.collect.process.Spawner.run_batch`)."""
        return self.folder / RUNS_JOURNAL

    def runs_appended(self) -> None:
        """Lines were appended to :attr:`runs_journal` by another process of this collection:
        they are fsynced under the same rule as :meth:`add_run`'s."""
        self._sync(self._runs)

    def add_stages(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self._append(self._stages, row)

    def add_rows(self, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """Journal rows of a table of :data:`~perfkit.data.schema.JOURNALED_TABLES`."""
        if table not in self._tables:
            self._tables[table] = open(self.folder / f"{table}.jsonl", "a", encoding="utf-8")
        for row in rows:
            self._append(self._tables[table], row)

    def update_meta(self, **values: Any) -> None:
        self.meta.update(values)
        self._write_meta()

    def close(self, *, complete: bool = True) -> Dataset:
        """Close the journals; on a complete collection also write Parquet and mark it done.

        The lock is released last, whatever fails on the way (a full disk: the journal keeps
        every run that finished, and the folder reads as an interrupted collection).
        """
        try:
            failure = self._close_journals()
            if not complete:  # already on the way out of an error: keep what can be kept
                for name in (RUNS_JOURNAL, STAGES_JOURNAL,  # a line cut by a full disk
                             *(f"{t}.jsonl" for t in self._tables)):
                    with contextlib.suppress(OSError):
                        repair_journal(self.folder / name)
                with contextlib.suppress(OSError, PerfkitError):  # a full disk: meta stays
                    self.update_meta(interrupted_at=dt.datetime.now(dt.timezone.utc))
                return load_folder(self.folder)
            if failure is not None:
                raise failure
            runs = runs_frame(read_journal(self.folder / RUNS_JOURNAL))
            stages = stages_frame(read_journal(self.folder / STAGES_JOURNAL))
            write_parquet_atomic(runs, self.folder / RUNS_PARQUET)
            write_parquet_atomic(stages, self.folder / STAGES_PARQUET)
            for name, frame in JOURNALED_TABLES.items():  # also rows an earlier collection made
                if (self.folder / f"{name}.jsonl").is_file():
                    table = frame(read_journal(self.folder / f"{name}.jsonl"))
                    write_parquet_atomic(table, self.folder / f"{name}.parquet")
            self.meta.pop("interrupted_at", None)  # an appended-to collection is whole again
            self.update_meta(complete=True, finished_at=dt.datetime.now(dt.timezone.utc))
            # the tables just written, not read back (a second coercion: a third of a short
            # collection's closing time); meta.json as a load reads it
            return _dataset(self.folder, runs, stages, read_meta(self.folder))
        finally:
            self._lock.close()

    def _close_journals(self) -> OSError | None:
        """Flush, fsync and close both journals; the first OSError (a full disk) is returned."""
        failure = None
        with self._sync_lock:
            if self._sync_timer is not None:
                self._sync_timer.cancel()
                self._sync_timer = None
            for fh in (self._runs, self._stages, *self._tables.values()):
                if fh.closed:
                    continue
                try:
                    fh.flush()
                    os.fsync(fh.fileno())
                except OSError as exc:
                    failure = failure or exc
                try:
                    fh.close()
                except OSError as exc:
                    failure = failure or exc
        return failure

    @property
    def closed(self) -> bool:
        return self._runs.closed

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._runs.closed:
            self.close(complete=exc_type is None)


def save(folder: str | os.PathLike, runs: pd.DataFrame, stages: pd.DataFrame | None = None,
         meta: Mapping[str, Any] | None = None, *, append: bool = False,
         tables: Mapping[str, pd.DataFrame] | None = None) -> Dataset:
    """Write ready-made tables (an ingest or an import) as a dataset folder; ``tables``: rows of
    journaled tables by name (``{"outputs": frame}``)."""
    with DatasetWriter(folder, dict(meta or {}), append=append) as writer:
        for record in runs_frame(runs).to_dict("records"):
            writer.add_run(record)
        if stages is not None and len(stages):
            writer.add_stages(stages_frame(stages).to_dict("records"))
        for name, table in (tables or {}).items():
            writer.add_rows(name, JOURNALED_TABLES[name](table).to_dict("records"))
    return load_folder(folder)
