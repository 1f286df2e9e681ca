"""Walking a workspace: ``.runs/<task>/cli/<run>/`` folders, their manifests and artifacts.

Symlinks that leave the workspace, oversized or non-regular files, and unreadable folders become
``problems`` rows; the walk goes on.
"""

from __future__ import annotations

import errno
import os
import stat as stat_mod
from pathlib import Path

from perfkit.data.orchestrator.manifest import (
    MANIFEST,
    _BadManifest,
    _decode_manifest,
    _epoch_us,
)
from perfkit.data.orchestrator.pool import _run_forked
from perfkit.data.orchestrator.rows import _Rows


def _entry_name(entry: os.DirEntry) -> str:
    return entry.name


def _utf8(name: str) -> bool:
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
        if not _utf8(entry.name):  # a name the tables cannot hold (bytes that are not UTF-8)
            rows.problems.append((rel.encode("utf-8", "backslashreplace").decode("utf-8"),
                                  "not-utf8", "a file name that is not UTF-8"))
            return False
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
    def files(self, rows: _Rows, path: str, rel: str,
              seen: dict[tuple[int, int], int] | None = None) -> None:
        """Add every regular file under ``path`` (recursively) to the artifact columns.

        ``seen`` (when given) collects each distinct file's size by (device, inode): a file
        reached through a symlink or a hard link as well as by its own name is listed under
        every name but counted once in a run's ``artifact_bytes``."""
        paths, sizes, mtimes = rows.art_path, rows.art_size, rows.art_mtime
        # unsorted: the artifacts table is sorted once at the end
        for entry in self.listdir(rows, path, rel, sort=False):
            erel = f"{rel}/{entry.name}"
            if (entry.is_symlink() or not entry.name.isascii()) and not self.follow(rows, entry, erel):
                continue
            try:
                if entry.is_dir():  # from the folder listing's d_type: no system call
                    self.files(rows, entry.path, erel, seen)
                    continue
                st = entry.stat()  # the one stat of a file: type, size and mtime
            except OSError as exc:
                rows.problems.append((erel, "unreadable", f"cannot stat ({exc.strerror})"))
                continue
            if stat_mod.S_ISREG(st.st_mode):
                paths.append(erel)
                sizes.append(st.st_size)
                mtimes.append(st.st_mtime_ns)
                if seen is not None:
                    seen[(st.st_dev, st.st_ino)] = st.st_size

    def walk(self) -> None:
        runs_dir = os.path.join(self.root, ".runs")
        rows = self.rows
        if os.path.islink(runs_dir):  # .runs itself a symlink: checked like any other
            verdict = self.link_verdict(runs_dir)
            if verdict is not None:
                rows.problems.append((".runs", *verdict))
                return
        if os.path.isdir(runs_dir):
            runs_rel = ".runs"
        else:  # ROOT may be the .runs folder itself
            runs_dir, runs_rel = self.root, ""
        for task in self.listdir(rows, runs_dir, runs_rel or "."):
            trel = f"{runs_rel}/{task.name}" if runs_rel else task.name
            if self.follow(rows, task, trel) and self.is_dir(task):
                self.task(task.name, task.path, trel)
        out_dir = os.path.join(self.root, "out")
        if os.path.islink(out_dir) and self.link_verdict(out_dir) is not None:
            rows.problems.append(("out", *self.link_verdict(out_dir)))
            out_dir = ""
        if self.list_artifacts and runs_rel and out_dir and os.path.isdir(out_dir):
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
            distinct: dict[tuple[int, int], int] = {}
            self.files(rows, path, rel, distinct)
            rows.add_group(key, task, run_id, "run", start)
        try:
            manifest = self.read_manifest(manifest_path)
        except _BadManifest as bad:
            rows.problems.append((manifest_rel, bad.reason, bad.detail))
            return
        if self.list_artifacts:
            # each file once, however many names (symlinks, hard links) reach it
            manifest["_artifact_files"] = len(distinct)
            manifest["_artifact_bytes"] = sum(distinct.values())
        self.add_run(rows, task, manifest_rel, manifest)

    def read_manifest(self, path: str) -> dict:
        try:
            # O_NOFOLLOW: the common case (a plain file) costs one open; a symlink fails with
            # ELOOP and is checked before it is followed. O_NONBLOCK: a FIFO named
            # manifest.json would block open() until a writer comes; fstat then refuses it.
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            raise _BadManifest("no-manifest", "run folder has no manifest.json") from None
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise _BadManifest("unreadable", f"cannot open ({exc.strerror})") from None
            verdict = self.link_verdict(path)
            if verdict is not None:
                raise _BadManifest(*verdict) from None
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
            except OSError as exc2:
                raise _BadManifest("unreadable", f"cannot open ({exc2.strerror})") from None
        try:
            st = os.fstat(fd)
            if not stat_mod.S_ISREG(st.st_mode):
                kind = "a FIFO" if stat_mod.S_ISFIFO(st.st_mode) else "not a regular file"
                raise _BadManifest("unreadable", f"manifest.json is {kind}; not read")
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
