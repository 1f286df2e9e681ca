"""Ingesting an orchestrator's run folders: manifests → runs, stages, artifacts and problems.

The Codex Orchestrator CLI (``@kbediako/codex-orchestrator`` on npm) records every run in a
workspace as::

    .runs/<task>/cli/<run-id>/manifest.json     the run and its commands (schema version 1)
    .runs/<task>/cli/<run-id>/...               runner.ndjson, events.jsonl, commands/*.ndjson, ...
    .runs/<task>/metrics.json, .runs/<task>/... task-level history
    out/<task>/...                              snapshots (runs.json grows with every run)

:func:`read_orchestrator` walks such a workspace and returns an :class:`OrchestratorData` of four
DataFrames. One bad file never stops the walk: it becomes a row of ``problems`` and every other
run is still read. Only a bad ``root`` (missing, not a folder) raises, as a :class:`PerfkitError`.

:func:`to_dataset_tables` maps an ingest onto the runs/stages contract of :mod:`perfkit.data.schema`
so that it can be saved with :func:`perfkit.save` and compared like measured runs.
"""

from __future__ import annotations

import array
import contextlib
import datetime as dt
import errno
import gc
import json
import os
import pickle
import re
import select
import signal
import stat as stat_mod
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from perfkit.errors import PerfkitError, UsageError
from perfkit.data.schema import STAGES_COLUMNS, runs_frame, stages_frame

#: Manifest schema versions (the manifest's ``version`` field) this reader understands.
SUPPORTED_MANIFEST_VERSIONS = frozenset({1})

#: A manifest larger than this is reported, not read (the real ones are ~10 KB; a runaway writer
#: can produce gigabytes and must not take the ingest down with it).
DEFAULT_MAX_MANIFEST_BYTES = 16 * 1024 * 1024

MANIFEST = "manifest.json"
_PARTIAL_TOKEN = re.compile(r"[A-Za-z0-9.+\-]*")

#: Orchestrator run status → the runs contract's status. Runs still queued or in progress have no
#: outcome yet: they stay in :class:`OrchestratorData` but are left out of a dataset.
STATUS_TO_CONTRACT = {"succeeded": "ok", "failed": "failed", "cancelled": "error"}
UNFINISHED_STATUSES = frozenset({"queued", "in_progress"})

# Field → allowed Python types. ``None`` in the tuple means JSON null is allowed.
_STR = (str,)
_STR_NULL = (str, type(None))
_INT_NULL = (int, type(None))
_RUN_FIELDS: dict[str, tuple[type, ...]] = {
    "run_id": _STR,
    "task_id": _STR,
    "pipeline_id": _STR,
    "parent_run_id": _STR_NULL,
    "status": _STR,
    "started_at": _STR,
    "completed_at": _STR_NULL,
    "heartbeat_at": _STR_NULL,
    "commands": (list,),
}
_OPTIONAL_RUN_FIELDS: dict[str, tuple[type, ...]] = {
    "pipeline_title": _STR_NULL,
    "status_detail": _STR_NULL,
}
_COMMAND_FIELDS: dict[str, tuple[type, ...]] = {
    "index": (int,),
    "id": _STR,
    "title": _STR,
    "kind": _STR,
    "status": _STR,
    "started_at": _STR_NULL,
    "completed_at": _STR_NULL,
    "exit_code": _INT_NULL,
    "sub_run_id": _STR_NULL,
}
def _spec(fields: dict[str, tuple[type, ...]]) -> tuple[tuple[str, frozenset], ...]:
    return tuple((name, frozenset(types)) for name, types in fields.items())


_RUN_SPEC = _spec(_RUN_FIELDS)
_OPTIONAL_RUN_SPEC = _spec(_OPTIONAL_RUN_FIELDS)
_COMMAND_SPEC = _spec(_COMMAND_FIELDS)
_JSON_TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
    type(None): "null",
}

RUNS_COLUMNS = {
    "variant": "string",
    "run": "int64",
    "task": "string",
    "run_id": "string",
    "pipeline": "string",
    "pipeline_title": "string",
    "status": "string",
    "status_detail": "string",
    "started_at": "datetime64[ns, UTC]",
    "completed_at": "datetime64[ns, UTC]",
    "heartbeat_at": "datetime64[ns, UTC]",
    "duration_s": "float64",
    "parent_run_id": "string",
    "n_stages": "int64",
    "manifest_version": "int64",
    "manifest_bytes": "int64",
    "artifact_bytes": "Int64",
    "artifact_files": "Int64",
    "manifest_path": "string",
}
STAGE_EXTRA_COLUMNS = {
    "task": "string",
    "run_id": "string",
    "kind": "string",
    "sub_run_id": "string",
    "command": "string",
}
ARTIFACTS_COLUMNS = {
    "task": "string",
    "run_id": "string",
    "scope": "string",
    "path": "string",
    "bytes": "int64",
    "modified_at": "datetime64[ns, UTC]",
}
PROBLEMS_COLUMNS = {"path": "string", "reason": "string", "detail": "string"}

#: The reasons a file can land in ``problems`` (the ``reason`` column).
PROBLEM_REASONS = (
    "truncated",  # JSON ends early: a crash mid-write
    "invalid-json",  # not JSON at all, or broken in the middle
    "not-utf8",  # bytes that are not UTF-8
    "not-an-object",  # valid JSON but not an object (e.g. a list)
    "missing-field",  # a required field is absent
    "wrong-type",  # a field has the wrong JSON type
    "bad-timestamp",  # a timestamp string that is not ISO 8601
    "unknown-version",  # manifest schema version this reader does not know
    "too-large",  # over the size cap
    "symlink-outside-root",  # a symlink whose target leaves the root
    "symlink-loop",  # a symlink that loops (or a directory reached twice)
    "broken-symlink",  # a symlink whose target does not exist
    "no-manifest",  # a run folder without manifest.json (a run that died before its first write)
    "unreadable",  # any other OS error (permissions, a folder where a file should be, ...)
)


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
        artifact_bytes  Int64     total bytes of every file of the run folder (null if not listed)
        artifact_files  Int64     number of files of the run folder (null if not listed)
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


class _BadManifest(Exception):
    """Internal: a manifest that cannot be used; becomes one row of ``problems``."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _type_name(value: Any) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


_MISSING = object()


def _check_fields(
    obj: dict, fields: tuple[tuple[str, frozenset], ...], where: str, *, required: bool = True
) -> None:
    # Exact type tests: the JSON decoder makes exactly str/int/float/bool/list/dict/None, and
    # ``type(True) is bool`` keeps booleans out of integer fields (isinstance would let them in).
    get = obj.get
    for name, types in fields:
        value = get(name, _MISSING)
        if type(value) in types:
            continue
        if value is _MISSING:
            if required:
                raise _BadManifest("missing-field", f"{where}missing field {name!r}")
            continue
        expected = " or ".join(sorted(_JSON_TYPE_NAMES[t] for t in types))
        raise _BadManifest(
            "wrong-type", f"{where}field {name!r} is {_type_name(value)}, expected {expected}"
        )


def _epoch_us(value: str | None, field: str) -> int | None:
    """ISO 8601 → integer microseconds since the epoch (naive stamps are taken as UTC)."""
    if value is None:
        return None
    try:
        stamp = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _BadManifest("bad-timestamp", f"{field} {value!r} is not an ISO 8601 time") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.timezone.utc)
    return round(stamp.timestamp() * 1_000_000)


def _decode_manifest(data: bytes) -> dict:
    """Bytes → validated manifest dict, or :class:`_BadManifest`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _BadManifest("not-utf8", f"byte {exc.start} is not UTF-8") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        # A write cut short leaves a prefix of valid JSON: the parser runs off the end, inside a
        # string or inside the last literal/number (``tru``, ``12.``).
        rest = text[exc.pos :].strip()
        if exc.msg.startswith("Unterminated string") or _PARTIAL_TOKEN.fullmatch(rest):
            raise _BadManifest(
                "truncated", f"JSON ends early at byte {len(data)} (a crash mid-write?)"
            ) from None
        raise _BadManifest("invalid-json", f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise _BadManifest("not-an-object", f"top level is a JSON {_type_name(obj)}, not an object")
    version = obj.get("version", None)
    if "version" not in obj:
        raise _BadManifest("missing-field", "missing field 'version'")
    if version not in SUPPORTED_MANIFEST_VERSIONS or isinstance(version, bool):
        known = ", ".join(str(v) for v in sorted(SUPPORTED_MANIFEST_VERSIONS))
        raise _BadManifest(
            "unknown-version", f"manifest version {version!r}; this perfkit reads version {known}"
        )
    _check_fields(obj, _RUN_SPEC, "")
    _check_fields(obj, _OPTIONAL_RUN_SPEC, "", required=False)
    for position, command in enumerate(obj["commands"]):
        if type(command) is not dict:
            raise _BadManifest(
                "wrong-type", f"commands[{position}]: is {_type_name(command)}, expected object"
            )
        _check_fields(command, _COMMAND_SPEC, f"commands[{position}]: ")
    return obj


class _Rows:
    """Rows collected by one walker (or one forked worker); merged in job order at the end.

    Artifacts are kept column-wise (three flat lists, plus one ``(key, task, run_id, scope,
    count)`` group per listed folder tree) because a workspace has ~23 files per run: a tuple
    per file and transposing them later cost more than the listing's own Python work. ``key``
    orders the groups: 0 for task and ``out/`` files, then the run folders in job order.
    """

    __slots__ = ("runs", "stages", "art_path", "art_size", "art_mtime", "art_groups", "problems")

    def __init__(self) -> None:
        self.runs: list[tuple] = []
        self.stages: list[tuple] = []
        self.art_path: list[str] = []
        self.art_size: list[int] = []
        self.art_mtime: list[int] = []
        self.art_groups: list[tuple[int, str, str | None, str, int]] = []
        self.problems: list[tuple[str, str, str]] = []

    def extend(self, other: _Rows) -> None:
        for name in self.__slots__:
            getattr(self, name).extend(getattr(other, name))

    def pack(self) -> bytes:
        """Pickled, for a worker process to send back: the artifact columns go as one string
        and two machine arrays rather than as 3 objects per file (~20 % faster both ways)."""
        return pickle.dumps(
            (
                self.runs,
                self.stages,
                "\0".join(self.art_path),  # NUL cannot occur in a file name
                array.array("q", self.art_size),
                array.array("q", self.art_mtime),
                self.art_groups,
                self.problems,
            ),
            protocol=pickle.HIGHEST_PROTOCOL,
        )

    @classmethod
    def unpack(cls, payload: bytes) -> _Rows:
        rows = cls()
        runs, stages, paths, sizes, mtimes, groups, problems = pickle.loads(payload)
        rows.runs, rows.stages, rows.art_groups, rows.problems = runs, stages, groups, problems
        rows.art_path = paths.split("\0") if paths else []
        rows.art_size, rows.art_mtime = sizes.tolist(), mtimes.tolist()
        return rows

    def add_group(self, key: int, task: str, run_id: str | None, scope: str, start: int) -> None:
        count = len(self.art_path) - start
        if count:
            self.art_groups.append((key, task, run_id, scope, count))


class _Walker:
    """Walks a workspace with os.scandir, collecting rows column-wise (fast to turn into frames).

    Every path is carried along with its path relative to the root (string joins are far cheaper
    than ``os.path.relpath`` over a quarter of a million files). Real folders form a tree, so only
    symlinks can make the walk leave the root or loop; each one is checked before it is followed.
    """

    def __init__(self, root: Path, *, artifacts: bool, max_manifest_bytes: int, workers: int):
        self.workers = workers
        self.root = os.fspath(root)
        self.root_real = os.path.realpath(root)
        self.root_prefix = self.root_real.rstrip(os.sep) + os.sep
        self.list_artifacts = artifacts
        self.max_bytes = max_manifest_bytes
        self.rows = _Rows()
        self.jobs: list[tuple[str, str, str, str]] = []  # run folders: (task, run id, path, rel)

    # symlinks and folders ------------------------------------------------------------------
    def link_verdict(self, path: str) -> tuple[str, str] | None:
        """None if the symlink at ``path`` is safe to follow, else (reason, detail)."""
        try:
            target = os.path.realpath(path, strict=True)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return ("symlink-loop", "symlink loops back on itself")
            if exc.errno == errno.ENOENT:
                return ("broken-symlink", "symlink target does not exist")
            return ("unreadable", f"cannot resolve symlink ({exc.strerror})")
        except RuntimeError:  # a loop, on some Python versions
            return ("symlink-loop", "symlink loops back on itself")
        if target != self.root_real and not target.startswith(self.root_prefix):
            return ("symlink-outside-root", f"symlink leads outside the root, to {target}")
        if os.path.isdir(target):
            container = os.path.realpath(os.path.dirname(path))
            if container == target or container.startswith(target.rstrip(os.sep) + os.sep):
                return ("symlink-loop", "symlink to a folder that contains it (a loop)")
        return None

    def follow(self, rows: _Rows, entry: os.DirEntry, rel: str) -> bool:
        if not entry.is_symlink():
            return True
        verdict = self.link_verdict(entry.path)
        if verdict is None:
            return True
        rows.problems.append((rel, *verdict))
        return False

    @staticmethod
    def listdir(rows: _Rows, path: str, rel: str, *, sort: bool = True) -> list[os.DirEntry]:
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError as exc:
            rows.problems.append((rel, "unreadable", f"cannot list folder ({exc.strerror})"))
            return []
        if sort:
            entries.sort(key=_entry_name)
        return entries

    @staticmethod
    def is_dir(entry: os.DirEntry) -> bool:
        try:
            return entry.is_dir()
        except OSError:
            return False

    # walking ------------------------------------------------------------------------------
    def files(self, rows: _Rows, path: str, rel: str) -> None:
        """Add every regular file under ``path`` (recursively) to the artifact columns."""
        paths, sizes, mtimes = rows.art_path, rows.art_size, rows.art_mtime
        # unsorted: the artifacts table is sorted once at the end
        for entry in self.listdir(rows, path, rel, sort=False):
            erel = f"{rel}/{entry.name}"
            if entry.is_symlink() and not self.follow(rows, entry, erel):
                continue
            try:
                if entry.is_dir():  # from the folder listing's d_type: no system call
                    self.files(rows, entry.path, erel)
                    continue
                st = entry.stat()  # the one stat of a file: type, size and mtime
            except OSError as exc:
                rows.problems.append((erel, "unreadable", f"cannot stat ({exc.strerror})"))
                continue
            if stat_mod.S_ISREG(st.st_mode):
                paths.append(erel)
                sizes.append(st.st_size)
                mtimes.append(st.st_mtime_ns)

    def walk(self) -> None:
        runs_dir = os.path.join(self.root, ".runs")
        if os.path.isdir(runs_dir):
            runs_rel = ".runs"
        else:  # ROOT may be the .runs folder itself
            runs_dir, runs_rel = self.root, ""
        rows = self.rows
        for task in self.listdir(rows, runs_dir, runs_rel or "."):
            trel = f"{runs_rel}/{task.name}" if runs_rel else task.name
            if self.follow(rows, task, trel) and self.is_dir(task):
                self.task(task.name, task.path, trel)
        out_dir = os.path.join(self.root, "out")
        if self.list_artifacts and runs_rel and os.path.isdir(out_dir):
            for task in self.listdir(rows, out_dir, "out"):
                trel = f"out/{task.name}"
                if self.follow(rows, task, trel) and self.is_dir(task):
                    start = len(rows.art_path)
                    self.files(rows, task.path, trel)
                    rows.add_group(0, task.name, None, "out", start)
        jobs = self.jobs
        # forking costs a few milliseconds: not worth it for a handful of run folders
        if self.workers > 1 and len(jobs) > 64 and hasattr(os, "fork"):
            _run_forked(self, jobs, self.workers)
        else:
            self.run_jobs(rows, jobs, 0)

    def run_jobs(self, rows: _Rows, jobs: list[tuple[str, str, str, str]], first: int) -> None:
        """Read run folders ``jobs`` (numbered from ``first``) into ``rows``, in order."""
        for key, job in enumerate(jobs, first + 1):
            self.run(rows, key, job)

    def task(self, task: str, path: str, rel: str) -> None:
        rows = self.rows
        for entry in self.listdir(rows, path, rel):
            erel = f"{rel}/{entry.name}"
            if not self.follow(rows, entry, erel):
                continue
            if entry.name == "cli" and self.is_dir(entry):
                for run in self.listdir(rows, entry.path, erel):
                    rrel = f"{erel}/{run.name}"
                    if self.follow(rows, run, rrel) and self.is_dir(run):
                        self.jobs.append((task, run.name, run.path, rrel))
            elif self.list_artifacts:
                start = len(rows.art_path)
                if self.is_dir(entry):
                    self.files(rows, entry.path, erel)
                else:
                    try:
                        st = entry.stat()
                    except OSError:
                        continue
                    if stat_mod.S_ISREG(st.st_mode):
                        rows.art_path.append(erel)
                        rows.art_size.append(st.st_size)
                        rows.art_mtime.append(st.st_mtime_ns)
                rows.add_group(0, task, None, "task", start)

    def run(self, rows: _Rows, key: int, job: tuple[str, str, str, str]) -> None:
        """One run folder → its rows, appended to ``rows``; ``key`` orders its artifacts."""
        task, run_id, path, rel = job
        manifest_path = os.path.join(path, MANIFEST)
        manifest_rel = f"{rel}/{MANIFEST}"
        if self.list_artifacts:
            start = len(rows.art_path)
            self.files(rows, path, rel)
            rows.add_group(key, task, run_id, "run", start)
        try:
            manifest = self.read_manifest(manifest_path)
        except _BadManifest as bad:
            rows.problems.append((manifest_rel, bad.reason, bad.detail))
            return
        if self.list_artifacts:
            manifest["_artifact_files"] = len(rows.art_path) - start
            manifest["_artifact_bytes"] = sum(rows.art_size[start:])
        self.add_run(rows, task, manifest_rel, manifest)

    def read_manifest(self, path: str) -> dict:
        try:
            # O_NOFOLLOW: the common case (a plain file) costs one open; a symlink fails with
            # ELOOP and is checked before it is followed.
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise _BadManifest("no-manifest", "run folder has no manifest.json") from None
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise _BadManifest("unreadable", f"cannot open ({exc.strerror})") from None
            verdict = self.link_verdict(path)
            if verdict is not None:
                raise _BadManifest(*verdict) from None
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as exc2:
                raise _BadManifest("unreadable", f"cannot open ({exc2.strerror})") from None
        try:
            st = os.fstat(fd)
            if not stat_mod.S_ISREG(st.st_mode):
                raise _BadManifest("unreadable", "manifest.json is not a regular file")
            if st.st_size > self.max_bytes:
                raise _BadManifest(
                    "too-large", f"{st.st_size} bytes, over the cap of {self.max_bytes} bytes"
                )
            chunks = []
            left = self.max_bytes + 1
            while left > 0:  # a file may grow while we read it: never past the cap
                chunk = os.read(fd, min(left, max(st.st_size, 65536) + 1))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            data = b"".join(chunks)
        except OSError as exc:
            raise _BadManifest("unreadable", f"cannot read ({exc.strerror})") from None
        finally:
            os.close(fd)
        if len(data) > self.max_bytes:  # grew while we read it
            raise _BadManifest("too-large", f"over the cap of {self.max_bytes} bytes")
        manifest = _decode_manifest(data)
        manifest["_bytes"] = len(data)
        return manifest

    def add_run(self, rows: _Rows, task: str, rel_manifest: str, m: dict) -> None:
        try:
            started = _epoch_us(m["started_at"], "started_at")
            completed = _epoch_us(m["completed_at"], "completed_at")
            heartbeat = _epoch_us(m["heartbeat_at"], "heartbeat_at")
            stage_rows = []
            for position, c in enumerate(m["commands"]):
                command = c.get("command")
                stage_rows.append(
                    (
                        c["id"],
                        c["title"],
                        c["index"],
                        c["status"],
                        _epoch_us(c["started_at"], f"commands[{position}].started_at"),
                        _epoch_us(c["completed_at"], f"commands[{position}].completed_at"),
                        c["exit_code"],
                        c["kind"],
                        c["sub_run_id"],
                        command if isinstance(command, str) else None,
                    )
                )
        except _BadManifest as bad:
            rows.problems.append((rel_manifest, bad.reason, bad.detail))
            return
        run_id = m["run_id"]
        rows.runs.append(  # in the order of _RUN_ROW
            (
                task,
                run_id,
                m["pipeline_id"],
                m.get("pipeline_title"),
                m["status"],
                m.get("status_detail"),
                started,
                completed,
                heartbeat,
                m["parent_run_id"],
                len(stage_rows),
                m["version"],
                m["_bytes"],
                m.get("_artifact_bytes"),
                m.get("_artifact_files"),
                rel_manifest,
            )
        )
        for row in stage_rows:
            rows.stages.append((task, run_id, rel_manifest, *row))


def _run_forked(walker: _Walker, jobs: list[tuple[str, str, str, str]], processes: int) -> None:
    """Read ``jobs`` split over ``processes`` processes; rows land in ``walker.rows`` in order.

    Listing a run folder is mostly system calls (one open/getdents/close per sub-folder, one
    stat per file) that a single Python thread cannot overlap, and threads fight over the GIL
    for the rest; forked processes share nothing: on 2 CPUs two of them cost the same CPU time
    as one and cut the wall time by ~40 % when the second CPU is free. Children run only this module's pure-Python reader (no pandas/Arrow calls after the
    fork) and send their rows back pickled through a pipe. A child that fails for any reason
    is not trusted: its share is read again here, so the result never depends on the split.
    """
    size = -(-len(jobs) // processes)
    chunks = [(first, jobs[first : first + size]) for first in range(0, len(jobs), size)]
    children: list[tuple[int, int, int, list]] = []  # (pid, read fd, first, chunk)
    try:
        for first, chunk in chunks[1:]:
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: read the share, write it back, leave without cleanup
                status = 1
                try:
                    os.close(read_fd)
                    part = _Rows()
                    walker.run_jobs(part, chunk, first)
                    payload = part.pack()
                    with os.fdopen(write_fd, "wb") as out:
                        out.write(payload)
                    status = 0
                finally:
                    os._exit(status)
            os.close(write_fd)
            children.append((pid, read_fd, first, chunk))
        first, chunk = chunks[0]
        started = time.monotonic()
        walker.run_jobs(walker.rows, chunk, first)
        # A child has the same amount of work as this process; one that takes far longer is
        # stuck (e.g. a lock another thread held at fork time, in a Jupyter kernel): stop
        # waiting, kill it and read its share here, so that an ingest can never hang on it.
        deadline = time.monotonic() + max(CHILD_GRACE_S, 3 * (time.monotonic() - started))
        while children:
            pid, read_fd, first, chunk = children[0]
            payload = _read_until_eof(read_fd, deadline)
            if payload is None:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            children.pop(0)
            os.close(read_fd)
            if status == 0 and payload:
                part = _Rows.unpack(payload)
            else:  # the child failed: read its share here
                part = _Rows()
                walker.run_jobs(part, chunk, first)
            walker.rows.extend(part)
    finally:
        for pid, read_fd, _, _ in children:  # interrupted: stop and reap what is left
            with contextlib.suppress(OSError):
                os.close(read_fd)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)


#: Seconds a forked ingest worker may take beyond the parent's own share (at least).
CHILD_GRACE_S = 10.0


def _read_until_eof(fd: int, deadline: float) -> bytes | None:
    """Everything written to pipe ``fd`` until the writer closes it; None if ``deadline``
    (time.monotonic) passes first. Reading as it comes keeps a child from blocking on a full pipe."""
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


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


def _entry_name(entry: os.DirEntry) -> str:
    return entry.name


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


_RUN_ROW = [
    ("task", "string"), ("run_id", "string"), ("pipeline", "string"),
    ("pipeline_title", "string"), ("status", "string"), ("status_detail", "string"),
    ("started_at", "us"), ("completed_at", "us"), ("heartbeat_at", "us"),
    ("parent_run_id", "string"), ("n_stages", "int64"), ("manifest_version", "int64"),
    ("manifest_bytes", "int64"), ("artifact_bytes", "Int64"), ("artifact_files", "Int64"),
    ("manifest_path", "string"),
]  # fmt: skip
_STAGE_ROW = [
    ("task", "string"), ("run_id", "string"), ("manifest_path", "string"), ("stage", "string"),
    ("title", "string"), ("index", "Int64"), ("status", "string"), ("started_at", "us"),
    ("completed_at", "us"), ("exit_code", "Int64"), ("kind", "string"),
    ("sub_run_id", "string"), ("command", "string"),
]  # fmt: skip


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


def to_dataset_tables(data: OrchestratorData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map an ingest onto the runs/stages contract, ready for :func:`perfkit.save`.

    ``variant`` and ``run`` are the ingest's; ``order`` is the global start order; ``status``
    maps succeeded → ok, failed → failed, cancelled → error; ``wall_s`` is the run's duration.
    Runs still queued or in progress have no outcome and are left out (with their stages).
    Extra columns kept: task, run_id, parent_run_id, orchestrator_status, n_stages,
    manifest_bytes, artifact_bytes, artifact_files (the numeric ones become comparable metrics).
    """
    runs = data.runs
    done = runs[~runs["status"].isin(UNFINISHED_STATUSES)].copy()
    out = pd.DataFrame(
        {
            "variant": done["variant"],
            "run": done["run"],
            "order": np.arange(1, len(done) + 1, dtype="int64"),
            "warmup": False,
            "traced": False,
            "started_at": done["started_at"],
            "status": done["status"].map(lambda s: STATUS_TO_CONTRACT.get(s, "error")),
            "wall_s": done["duration_s"],
            "task": done["task"],
            "run_id": done["run_id"],
            "parent_run_id": done["parent_run_id"],
            "orchestrator_status": done["status"],
            "n_stages": done["n_stages"].astype("Int64"),
            "manifest_bytes": done["manifest_bytes"].astype("Int64"),
            "artifact_bytes": done["artifact_bytes"],
            "artifact_files": done["artifact_files"],
        }
    )
    kept = set(zip(done["task"], done["run_id"], done["variant"], done["run"]))
    stages = data.stages
    mask = [
        key in kept
        for key in zip(stages["task"], stages["run_id"], stages["variant"], stages["run"])
    ]
    return runs_frame(out), stages_frame(stages[mask].copy())


def ingest(
    root: str | os.PathLike,
    out: str | os.PathLike,
    *,
    variant_by: Literal["pipeline", "task"] = "pipeline",
    append: bool = False,
) -> tuple[OrchestratorData, Any]:
    """Read ``root`` and write a dataset folder at ``out``.

    Writes the runs/stages of :func:`to_dataset_tables` with :func:`perfkit.data.store.save`, plus
    ``artifacts.parquet`` and ``problems.parquet`` (the full ingest tables) and
    ``orchestrator_runs.parquet`` (every run, unfinished ones included). Returns the ingest and
    the saved :class:`perfkit.Dataset`.
    """
    from perfkit.data.store import save

    data = read_orchestrator(root, variant_by=variant_by)
    runs, stages = to_dataset_tables(data)
    root_abs = str(Path(root).resolve())
    meta = {
        "source": "orchestrator",
        "orchestrator_root": root_abs,
        "variants": {
            str(v): {"command": None, "cwd": root_abs} for v in runs["variant"].drop_duplicates()
        },
        "ingest": {
            "runs": len(data.runs),
            "unfinished_runs": int(data.runs["status"].isin(UNFINISHED_STATUSES).sum()),
            "stages": len(data.stages),
            "artifacts": len(data.artifacts),
            "problems": len(data.problems),
        },
    }
    dataset = save(out, runs, stages, meta, append=append)
    folder = Path(out)
    data.artifacts.to_parquet(folder / "artifacts.parquet", index=False)
    data.problems.to_parquet(folder / "problems.parquet", index=False)
    data.runs.to_parquet(folder / "orchestrator_runs.parquet", index=False)
    return data, dataset


# --------------------------------------------------------------------------------------------
# measuring an orchestrator: the stages of the run folders each measured run created


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
