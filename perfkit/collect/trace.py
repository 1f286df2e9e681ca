"""The traced pass: K extra runs per variant under ``strace -f --seccomp-bpf``, never timed.

Timings of a traced run are not comparable (strace's own work lands in them), so a traced run is
never a timed run. What it gives instead are exact file-operation counts, parsed by
:mod:`perfkit.collect.strace` (what each count means is documented there). :func:`trace_run` runs
one command under strace; :class:`TracedPass` is the collection's ``after_collection`` hook that
adds the traced runs to a dataset.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from perfkit.collect.schedule import schedule
from perfkit.collect.strace import TRACED_SYSCALLS, GlobSet, TraceCounts, parse_strace
from perfkit.data.paths import fold_path
from perfkit.data.schema import FILES_COLUMNS, FILES_PARQUET
from perfkit.errors import TracerMissing, UsageError

#: The longest timeout of a traced run (as of a timed run: 7 days).
MAX_TRACE_TIMEOUT_S = 7 * 24 * 3600.0
#: How much of a traced run's stderr is kept (for the error message of a run that failed).
STDERR_TAIL_BYTES = 64 * 1024

STRACE_INSTALL_HINT = (
    "strace not found: install it with `apt-get install strace` (Debian/Ubuntu), "
    "`dnf install strace` (Fedora/RHEL) or `apk add strace` (Alpine)"
)

# --------------------------------------------------------------------------------------------
# running under strace


def strace_path() -> str:
    """The strace executable, or :class:`TracerMissing` with how to install it."""
    found = shutil.which("strace")
    if not found:
        raise TracerMissing(STRACE_INSTALL_HINT)
    return found


def strace_argv(log: str | os.PathLike, argv: Sequence[str]) -> list[str]:
    """The strace command line that runs ``argv`` and writes its log to ``log``."""
    return [
        strace_path(),
        "-f",  # follow every process and thread (Node does file work on worker threads)
        "-qq",  # no attach/exit chatter
        "--seccomp-bpf",  # stop only at the traced syscalls: ~1.1x instead of ~2x overhead
        "-y",  # print the path behind each descriptor, AT_FDCWD included
        "-s",
        "96",  # argv words of execve up to 96 characters (the written data is not needed)
        "-e",
        "trace=" + ",".join(TRACED_SYSCALLS),
        "-o",
        os.fspath(log),
        "--",
        *argv,
    ]


def trace_run(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    write_globs: Mapping[str, str] | None = None,
    keep_log: str | os.PathLike | None = None,
) -> TraceCounts:
    """Run ``argv`` once under ``strace -f --seccomp-bpf`` and count its file operations.

    ``write_globs`` maps a label to a glob (``{"manifest": "**/manifest.json"}``) and gives the
    ``<label>_writes`` counts. ``keep_log`` copies strace's raw log there. The result's
    ``status`` is ``ok``, ``failed`` (non-zero exit), ``timeout`` (the process group was killed)
    or ``error`` (the command could not start).

    Raises :class:`TracerMissing` when strace is not installed.
    """
    if not argv:
        raise UsageError("`argv` must name a command")
    if timeout is not None and not (0 < timeout <= MAX_TRACE_TIMEOUT_S):
        raise UsageError(f"`timeout` must be positive and at most {MAX_TRACE_TIMEOUT_S:g} s, "
                         f"not {timeout!r}")
    workdir = os.path.abspath(os.fspath(cwd) if cwd is not None else os.getcwd())
    GlobSet(dict(write_globs or {}), workdir)  # validate labels before running anything
    with tempfile.TemporaryDirectory(prefix="perfkit-trace-") as tmp:
        log = Path(tmp) / "strace.log"
        cmd = strace_argv(log, list(argv))
        t0 = time.perf_counter()
        # stderr (the command's and strace's) goes to a file, read back by its tail: a command
        # writing gigabytes costs disk, not perfkit's memory, and a daemon holding the stream
        # open cannot keep perfkit waiting for its end.
        with open(Path(tmp) / "stderr", "w+b") as err_file:
            try:
                proc = subprocess.Popen(
                    cmd,
                    cwd=workdir,
                    env=dict(env) if env is not None else None,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=err_file,
                    start_new_session=True,  # one process group: a timeout kills the whole tree
                )
            except OSError as exc:
                raise TracerMissing(f"cannot start strace ({exc.strerror})") from None
            status = "ok"
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_traced_tree(proc)
                status = "timeout"
            except BaseException:  # Ctrl-C: nothing of the traced run outlives perfkit
                _kill_traced_tree(proc)
                raise
            wall = time.perf_counter() - t0
            err = _tail(err_file, STDERR_TAIL_BYTES)
        text = log.read_text(encoding="utf-8", errors="surrogateescape") if log.exists() else ""
        if keep_log is not None:
            Path(keep_log).write_text(text, encoding="utf-8", errors="surrogateescape")
    counts = parse_strace(text, cwd=workdir, write_globs=write_globs)
    code = proc.returncode
    if status != "timeout":
        err_text = (err or b"").decode("utf-8", "replace")
        if code != 0 and not text.strip() and "strace: " in err_text:
            status = "error"  # strace could not exec the command (its message is on stderr)
            counts.exit_code = None
        else:
            status = "ok" if code == 0 else "failed"
            counts.exit_code = code
    counts.status = status
    counts.wall_s = wall
    counts.stderr = (err or b"").decode("utf-8", "replace")[-2000:]
    return counts


def _tail(fh, size: int) -> bytes:
    fh.seek(0, os.SEEK_END)
    end = fh.tell()
    fh.seek(max(0, end - size))
    return fh.read()


def _tracees(tracer: int) -> list[int]:
    """Every process that ``tracer`` traces (``TracerPid`` in /proc/<pid>/status): with ``-f``,
    the command and all its descendants, daemonised ones included."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"TracerPid:"):
                        if int(line.split()[1]) == tracer:
                            found.append(int(name))
                        break
        except (OSError, ValueError):
            continue
    return found


def _kill_traced_tree(proc: subprocess.Popen) -> None:
    """SIGKILL everything of a traced run: every tracee of strace (a daemon that left the process
    group too), their groups, then strace itself; reap strace."""
    for _ in range(100):  # a tracee may fork while we kill: until none is left
        pids = _tracees(proc.pid)
        if not pids:
            break
        for pid in pids:
            for kill in (lambda: os.killpg(os.getpgid(pid), signal.SIGKILL),
                         lambda: os.kill(pid, signal.SIGKILL)):
                try:
                    kill()
                except OSError:
                    pass
        time.sleep(0.01)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()


# --------------------------------------------------------------------------------------------
# the traced pass of a collection


class TracedPass:
    """An ``after_collection`` hook of :func:`perfkit.measure`: K traced runs per variant.

    Runs after every timed run, never mixed with them: rounds of one run per variant in a seeded
    order (the prepare command, if any, before each), each under :func:`trace_run`. Each adds a
    row with ``traced=True``, ``run`` numbered 1..K per variant, the status, exit code and
    (not comparable) wall time of the traced run, and the counts of
    :meth:`TraceCounts.as_record`.
    """

    def __init__(self, write_globs: Mapping[str, str] | None, runs: int):
        if isinstance(runs, bool) or not isinstance(runs, int) or runs < 0:
            raise UsageError(f"--trace-runs must be a whole number >= 0, not {runs!r}")
        self.write_globs = dict(write_globs or {})
        GlobSet(self.write_globs, "/")  # labels and globs are checked before anything runs
        self.runs = runs
        if runs:
            strace_path()  # TracerMissing now, not after the timed runs

    def __call__(self, collection) -> None:
        if not self.runs:
            return
        writer = collection.writer
        by_name = {v.name: v for v in collection.variants}
        plan = schedule(list(by_name), runs=self.runs, warmup=0, seed=collection.seed)
        next_run = {name: writer.next_run(name, traced=True) for name in by_name}
        order = getattr(collection, "next_order", None) or writer.next_order
        cwd = collection.cwd or os.getcwd()
        prepare = getattr(collection, "prepare", None)
        files: list[dict] = []
        for name, _ in plan:
            variant = by_name[name]
            started = _utcnow()
            if prepare is not None:
                prep = collection.spawner.run(prepare, cwd=collection.cwd, env=collection.env,
                                              timeout=collection.timeout)
                if not prep.ok:
                    writer.add_run({
                        "variant": name, "run": next_run[name], "order": order, "warmup": False,
                        "traced": True, "started_at": started, "status": "error",
                        "error": "--prepare failed before a traced run; the command was not run",
                    })
                    next_run[name] += 1
                    order += 1
                    continue
            counts = trace_run(variant.argv, cwd=cwd, env=collection.env,
                               timeout=collection.timeout, write_globs=self.write_globs)
            record = {
                "variant": name,
                "run": next_run[name],
                "order": order,
                "warmup": False,
                "traced": True,
                "started_at": started,
                "status": counts.status,
                "exit_code": counts.exit_code,
                "wall_s": counts.wall_s,
                **counts.as_record(),
            }
            if counts.status == "error":
                record["error"] = counts.stderr.strip().splitlines()[-1] if counts.stderr.strip() else "could not start"
            writer.add_run(record)
            files.extend(file_rows(counts, name, next_run[name], cwd))
            next_run[name] += 1
            order += 1
        save_files(writer.folder, files)


def file_rows(counts: TraceCounts, variant: str, run: int, cwd: str) -> list[dict]:
    """The per-file table's rows of one traced run: one per (path, process).

    Paths are shown relative to the run's working directory when inside it; ``pattern`` is the
    path folded (:func:`perfkit.data.paths.fold_path`), to sum over runs and run ids.
    """
    root = os.path.normpath(cwd).rstrip("/") + "/"
    rows = []
    for (path, argv), stat in counts.files.items():
        shown = path[len(root):] if path.startswith(root) else path
        row = {"variant": variant, "run": run, "pattern": fold_path(shown), "path": shown,
               "process": argv, "writes": stat.writes}
        for key in ("opens_write", "renames_onto", "write_calls", "bytes", "truncates", "fsyncs"):
            row[key] = getattr(stat, key)
        rows.append(row)
    return rows


def save_files(folder: str | os.PathLike, rows: list[dict]) -> None:
    """Write the per-file table (``files.parquet``, columns in :mod:`perfkit.data.schema`)."""
    import pandas as pd

    table = pd.DataFrame(rows, columns=list(FILES_COLUMNS)).astype(FILES_COLUMNS)
    table.to_parquet(Path(folder) / FILES_PARQUET, index=False)


def format_traced(runs) -> list[str]:
    """Lines for a terminal: each traced count per variant (``manifest_writes: a 12, b 4``).

    A count that differs between traced runs of a variant is shown as its range (``9–12``):
    a deterministic program gives one number. No traced rows → no lines.
    """
    if "traced" not in runs.columns or not runs["traced"].any():
        return []
    traced = runs[runs["traced"].astype(bool)]
    columns = [c for c in traced.columns if c.endswith("_writes")]
    columns += [c for c in ("fs_opens_write", "fs_renames", "fs_fsyncs") if c in traced.columns]
    per_variant = traced.groupby("variant", sort=False)
    lines = [f"traced pass (strace, {len(traced)} runs; exact counts per run):"]
    for column in columns:
        parts = []
        for variant, group in per_variant:
            values = group[column].dropna()
            if values.empty:
                text = "n/a"
            elif values.min() == values.max():
                text = f"{int(values.min())}"
            else:
                text = f"{int(values.min())}–{int(values.max())}"
            parts.append(f"{variant} {text}")
        lines.append(f"  {column}: " + ", ".join(parts))
    return lines


def _utcnow():

    return dt.datetime.now(dt.timezone.utc)
