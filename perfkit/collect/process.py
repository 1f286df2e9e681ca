"""Measuring one run of a command: wall, CPU, peak memory and I/O of its whole process tree.

How one run is measured (each step was verified by experiment on Linux 6.x):

1. ``os.posix_spawn`` the command in a new process group (``setpgroup=0``), so that a timeout can
   kill the whole group, and a Ctrl-C on the terminal reaches perfkit rather than the command.
2. ``waitid(P_PID, pid, WEXITED | WNOWAIT)`` (a ``pidfd`` polled against the deadline when there is
   a timeout): the command has exited but stays a zombie. The wall clock stops here.
3. Read ``/proc/<pid>/io`` from the zombie: the command's I/O *and* that of every descendant it (or
   they) reaped, and nothing of the harness's own I/O.
4. ``wait4(pid)`` reaps it and gives its rusage (again of the whole reaped subtree).

Descendants that are *not* reaped inside the tree (daemonised by a double fork, or outliving their
parent) would be re-parented to init and lost. The measuring process is therefore a *child
subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``): such orphans become its children. After the command
exits, every child that was not there before the run is an orphan of the run: it is waited for
(until the run's deadline), its ``/proc/<pid>/io`` read while it is a zombie, reaped with ``wait4``,
and its counters added.

What is counted
    - the command and every descendant, reaped inside the tree or re-parented to the spawner;
    - ``user_s``, ``sys_s``, the ``io_*`` and rusage counters are sums over that tree;
    - ``max_rss_kib`` is the largest single process of the tree (the kernel gives no sum).
What is not
    - ``wall_s`` stops when the command itself exits; orphans still running then are waited for
      (their counters belong to the run) but do not lengthen ``wall_s``;
    - processes that leave the tree other than by orphaning (a job handed to a service over a
      socket) are not descendants and stay invisible;
    - peak memory below the floor: at ``exec`` a command inherits the high-water RSS of the address
      space it replaces. Runs are therefore started by a tiny C exec helper (``_exec_helper.c``,
      built with the machine's ``cc`` at first use): the spawner starts it ahead of the runs (again
      when their environment or output redirection changes), and it starts one command after
      another with ``posix_spawn``, each in its own process group (a new process that execs from
      the helper's ~0.3 MiB address space, vfork-style as ``hyperfine -N``: nothing copied inside
      the timed interval), and takes steps 2-4 itself; the helper reads
      the command's counters and reports them, so the helper itself is in no number. Without a C
      compiler, runs are spawned from the Python spawner (:mod:`perfkit.collect._spawner`, about
      11 MiB) rather than from perfkit itself (hundreds of MiB inside a Jupyter kernel). Either
      floor is reported as ``spawner_rss_kib``; a ``max_rss_kib`` at it means "at most this".
    - where a memory cgroup can be made (root; cgroup v1 ``memory.max_usage_in_bytes``, or v2
      ``memory.peak``), the run's peak in it is ``cgroup_peak_kib``: all processes of the tree at
      once (and the helper's ~0.3 MiB and the page cache they charge). v1: one cgroup for all
      runs, its high-water mark reset before each and read as the rise over the usage then; v2:
      a cgroup per run (see :class:`perfkit.collect._spawner.Helper`).
Orphans still alive at the run's deadline are killed (SIGKILL, with their process groups) and the
run is recorded as ``timeout``; without a timeout they are waited for.
"""

from __future__ import annotations

import atexit
import datetime as dt
import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from perfkit.errors import MeasureError

#: The seven counters of ``/proc/<pid>/io`` as perfkit columns, in the kernel's order.
IO_COLUMNS = (
    "io_rchar",
    "io_wchar",
    "io_syscr",
    "io_syscw",
    "io_read_bytes",
    "io_write_bytes",
    "io_cancelled_write_bytes",
)
#: rusage counters summed over the tree (besides user/sys time and peak RSS).
RUSAGE_COLUMNS = ("blk_in", "blk_out", "minflt", "majflt", "nvcsw", "nivcsw")

_SPAWNER = Path(__file__).with_name("_spawner.py")
_HELPER_SOURCE = Path(__file__).with_name("_exec_helper.c")


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "perfkit"


@dataclass(frozen=True)
class ExecHelper:
    """The compiled exec helper (``path``) and the peak RSS a command starts from (``floor_kib``),
    or why there is none (``reason``: runs are then spawned from the Python spawner)."""

    path: str | None
    floor_kib: int | None
    reason: str | None = None


_helper_cache: ExecHelper | None = None


def exec_helper() -> ExecHelper:
    """Build (once per machine and source version, with ``$CC`` or ``cc``) and probe the exec helper.

    Why a C helper: the process that execs a command hands its own address space's high-water RSS
    to it; the smallest such process perfkit can have is a tiny C program (~0.25 MiB static,
    ~0.5 MiB dynamic, against the Python spawner's ~11 MiB; a fork of the spawner still starts at
    ~5 MiB). Its exec and start-up (~1 ms) happen while perfkit records the previous run, outside
    the measured interval; moving it into the runs' v1 memory cgroup (~3 ms: it waits for RCU)
    happens before the interval starts; set
    ``PERFKIT_EXEC_HELPER=0`` to spawn from the Python helper instead, ``PERFKIT_MEMORY_CGROUP=0``
    to go without the cgroup column.
    """
    global _helper_cache
    if _helper_cache is not None:
        return _helper_cache
    if os.environ.get("PERFKIT_EXEC_HELPER") == "0":
        _helper_cache = ExecHelper(None, None, "disabled by PERFKIT_EXEC_HELPER=0")
        return _helper_cache
    source = _HELPER_SOURCE.read_bytes()
    digest = hashlib.sha256(source + b"static-first" + os.uname().machine.encode()).hexdigest()[:16]
    target = _cache_dir() / f"exec-helper-{digest}"
    if not target.exists():
        cc = shutil.which(os.environ.get("CC", "cc"))
        if cc is None:
            _helper_cache = ExecHelper(None, None, "no C compiler (cc) to build the exec helper")
            return _helper_cache
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
            # static where libc.a is installed: no dynamic loading per run (~2 ms less on a
            # loaded machine) and a smaller floor (~0.25 MiB against ~0.5 MiB)
            for flags in (["-O2", "-static"], ["-O2"]):
                done = subprocess.run([cc, *flags, "-o", str(tmp), str(_HELPER_SOURCE)],
                                      capture_output=True, text=True, timeout=120)
                if done.returncode == 0:
                    break
            if done.returncode != 0:
                raise OSError(done.stderr.strip().splitlines()[-1:] or "cc failed")
            os.replace(tmp, target)
        except (OSError, subprocess.SubprocessError) as exc:
            _helper_cache = ExecHelper(None, None, f"cannot build the exec helper ({exc})")
            return _helper_cache
    try:
        out = subprocess.run([str(target), "--floor"], capture_output=True, text=True, timeout=10)
        floor = int(out.stdout.split()[0])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        _helper_cache = ExecHelper(None, None, f"the exec helper does not run ({exc})")
        return _helper_cache
    _helper_cache = ExecHelper(str(target), floor)
    return _helper_cache

#: The longest timeout of a run: 7 days (a longer one is a typo, and past ~24 days poll()'s
#: millisecond counter would overflow).
MAX_TIMEOUT_S = 7 * 24 * 3600.0


@dataclass
class RunResult:
    """One measured run: the ``runs`` columns that one execution determines.

    status        ``ok`` | ``failed`` (non-zero exit or killed by a signal) | ``timeout`` | ``error``
    exit_code     exit status; a signal is its negative number; None when the command never started
    error         why it could not start (``error``) or was stopped (``timeout``); else None
    started_at    UTC time of the spawn
    wall_s        spawn → exit of the command itself, seconds
    user_s, sys_s CPU seconds of the whole reaped tree
    max_rss_kib   peak RSS of the largest single process of the tree
    io_*          ``/proc/<pid>/io`` counters summed over the tree
    cgroup_peak_kib  peak memory of the run in its memory cgroup: the whole tree at once, page
                  cache included (None where no memory cgroup can be made)
    blk_in, blk_out, minflt, majflt, nvcsw, nivcsw   rusage counters summed over the tree
    orphans       re-parented descendants reaped and counted (diagnostic, not a runs column)
    spawner_rss_kib  the spawner's own peak RSS: the floor under ``max_rss_kib`` (not a column)
    """

    status: str
    exit_code: int | None = None
    error: str | None = None
    started_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    wall_s: float | None = None
    user_s: float | None = None
    sys_s: float | None = None
    max_rss_kib: int | None = None
    io_rchar: int | None = None
    io_wchar: int | None = None
    io_syscr: int | None = None
    io_syscw: int | None = None
    io_read_bytes: int | None = None
    io_write_bytes: int | None = None
    io_cancelled_write_bytes: int | None = None
    blk_in: int | None = None
    blk_out: int | None = None
    minflt: int | None = None
    majflt: int | None = None
    nvcsw: int | None = None
    nivcsw: int | None = None
    cgroup_peak_kib: int | None = None
    orphans: int = 0
    spawner_rss_kib: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def record(self) -> dict[str, Any]:
        """The ``runs`` columns of this run (without the two diagnostics)."""
        # not dataclasses.asdict: its deep copy costs more than a short run (benchmarks)
        return {name: getattr(self, name) for name in _RECORD_FIELDS}

    @classmethod
    def _from_wire(cls, data: Mapping[str, Any]) -> RunResult:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["started_at"] = dt.datetime.fromtimestamp(data["started_at"], dt.timezone.utc)
        return cls(**known)


_RECORD_FIELDS = tuple(f.name for f in fields(RunResult) if f.name not in ("orphans", "spawner_rss_kib"))


def resolve_executable(
    argv: Sequence[str], *, cwd: str | os.PathLike | None, env: Mapping[str, str]
) -> str:
    """The file ``posix_spawn`` should run for ``argv[0]``: searched on ``env``'s PATH (like a shell).

    Raises FileNotFoundError when no such command exists.
    """
    name = argv[0]
    if "/" in name:
        if os.path.isabs(name) or cwd is None:
            return name
        return os.path.join(os.fspath(cwd), name)
    found = shutil.which(name, path=env.get("PATH", os.defpath))
    if found is None:
        raise FileNotFoundError(errno.ENOENT, "command not found", name)
    if os.path.isabs(found) or cwd is None:
        return found
    return os.path.join(os.fspath(cwd), found)


class Spawner:
    """A running spawner helper; :meth:`run` measures one run in it. Use as a context manager.

    Costs one Python start-up (~20 ms) and, per run, one pipe round trip (~50 µs) outside the
    measured interval.
    """

    def __init__(self) -> None:
        #: the exec helper in use (or why none): its ``floor_kib`` is the floor under max_rss_kib
        self.helper = exec_helper()
        rfd_child, self._wfd = os.pipe()
        self._rfd, wfd_child = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(_SPAWNER), str(rfd_child), str(wfd_child),
                 self.helper.path or "-", str(self.helper.floor_kib or 0)],
                pass_fds=(rfd_child, wfd_child),
                stdin=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise MeasureError(f"cannot start the spawner helper ({exc})") from None
        finally:
            os.close(rfd_child)
            os.close(wfd_child)
        self._buf = b""
        self._env: dict[str, str] | None = None
        self._lock = threading.Lock()
        hello = self._read()
        if not hello.get("ready"):
            raise MeasureError("the spawner helper did not start")
        #: whether orphaned descendants are reaped and counted (needs Linux ≥ 3.4)
        self.subreaper = bool(hello.get("subreaper"))
        self.pid = int(hello["pid"])
        #: why there is no ``cgroup_peak_kib`` (None when there is)
        self.cgroup_reason: str | None = hello.get("cgroup_reason")

    def memory_meta(self) -> dict[str, Any]:
        """What a dataset's meta records of how memory was measured (and why a column is null)."""
        return {"exec_helper": self.helper.path is not None,
                "exec_helper_reason": self.helper.reason,
                "cgroup_peak_kib_reason": self.cgroup_reason}

    def _read(self) -> dict[str, Any]:
        while b"\n" not in self._buf:
            chunk = os.read(self._rfd, 65536)
            if not chunk:
                self._ended()
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return json.loads(line)

    def _request(self, argv: Sequence[str], cwd: str | os.PathLike | None, env: Mapping[str, str],
                 timeout: float | None, show_output: bool) -> dict[str, Any] | RunResult:
        """A run's request to the helper, or the error result of a run that cannot start."""
        argv = [os.fspath(a) for a in argv]
        started = dt.datetime.now(dt.timezone.utc)
        if not argv:
            return RunResult("error", error="empty command", started_at=started)
        if cwd is not None and not os.path.isdir(cwd):
            return RunResult("error", error=f"cannot enter cwd {os.fspath(cwd)!r}", started_at=started)
        try:
            path = resolve_executable(argv, cwd=cwd, env=env)
        except OSError as exc:
            return RunResult("error", error=f"cannot start {argv[0]!r}: {exc.strerror}", started_at=started)
        return {"path": path, "argv": argv, "cwd": None if cwd is None else os.fspath(cwd),
                "timeout": timeout, "show_output": show_output}

    @staticmethod
    def _check_timeout(timeout: float | None) -> None:
        if timeout is not None and not (isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
                                        and 0 < timeout <= MAX_TIMEOUT_S):
            raise MeasureError(f"timeout must be a number of seconds in (0, {MAX_TIMEOUT_S:g}], "
                               f"not {timeout!r}")

    def _exchange(self, req: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
        """Send one request (with the environment when it changed) and read the reply."""
        with self._lock:
            if env != self._env:
                req["env"] = env
                self._env = env
            try:
                os.write(self._wfd, (json.dumps(req) + "\n").encode())
            except BrokenPipeError:
                self._ended()
            try:
                reply = self._read()
            except KeyboardInterrupt:
                self._interrupt()
                raise
        if reply.get("interrupted"):
            # the helper got the terminal's SIGINT first; ours is on its way, or it came from
            # someone who meant the whole collection: either way, stop
            self.close()
            raise KeyboardInterrupt
        return reply

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: str | os.PathLike | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        show_output: bool = False,
    ) -> RunResult:
        """Measure one run of ``argv`` (see :func:`run_once`)."""
        self._check_timeout(timeout)
        full_env = dict(os.environ if env is None else env)
        req = self._request(argv, cwd, full_env, timeout, show_output)
        if isinstance(req, RunResult):
            return req
        return RunResult._from_wire(self._exchange(req, full_env))

    def run_batch(
        self,
        runs: Sequence[tuple[Mapping[str, Any], Sequence[str]]],
        *,
        journal: str | os.PathLike,
        cwd: str | os.PathLike | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        show_output: bool = False,
        stop_on_failure: bool = False,
    ) -> list[RunResult]:
        """Measure runs back to back in the spawner, each ``(tag, argv)``: nothing of perfkit's
        runs between them but the spawner's own loop (about 0.2 ms), as in hyperfine's.

        The spawner appends each run's line to the dataset journal ``journal`` as it finishes:
        ``tag`` (variant, run, order...) and the :class:`RunResult` columns, so that a batch cut
        short (Ctrl-C, perfkit killed) keeps every run that finished. Returns the results, in order;
        ``stop_on_failure``: up to the first that is not ok. Raises OSError when the journal could
        not be written (the runs before it are in it).
        """
        self._check_timeout(timeout)
        full_env = dict(os.environ if env is None else env)
        items: list[dict[str, Any]] = []
        requests: dict[tuple[str, ...], dict[str, Any]] = {}  # a round's commands recur: one
        for tag, argv in runs:                                 # PATH search each per batch
            key = tuple(map(os.fspath, argv))
            if key not in requests:
                req = self._request(argv, cwd, full_env, timeout, show_output)
                if isinstance(req, RunResult):
                    req = {"result": {**req.record(), "started_at": req.started_at.timestamp()}}
                requests[key] = req
            items.append({**requests[key], "tag": dict(tag)})
        reply = self._exchange({"batch": items, "journal": os.fspath(journal),
                                "fields": list(_RECORD_FIELDS), "stop_on_failure": stop_on_failure,
                                "show_output": show_output}, full_env)
        results = [RunResult._from_wire(out) for out in reply["results"]]
        if reply.get("journal_error"):
            number, why = reply["journal_error"]
            raise OSError(number, f"cannot append to the journal {os.fspath(journal)}: {why}")
        return results

    def _ended(self) -> None:
        """The helper is gone: interrupted with us (Ctrl-C reaches the whole group) or crashed."""
        code = self._proc.wait()
        if code in (130, -signal.SIGINT, -signal.SIGTERM):
            raise KeyboardInterrupt
        raise MeasureError(f"the spawner helper ended unexpectedly (exit code {code})")

    def _interrupt(self) -> None:
        """Ctrl-C: have the helper kill the run in flight and end; wait for it."""
        try:
            self._proc.send_signal(signal.SIGINT)
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - the helper is stuck
            self._proc.kill()
            self._proc.wait()
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        for fd in ("_wfd", "_rfd"):
            value = getattr(self, fd, -1)
            if value >= 0:
                try:
                    os.close(value)
                except OSError:
                    pass
                setattr(self, fd, -1)
        if self._proc.poll() is None:
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> Spawner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_default: Spawner | None = None
_default_lock = threading.Lock()


def _default_spawner() -> Spawner:
    global _default
    with _default_lock:
        if _default is None or _default._proc.poll() is not None or _default._wfd < 0:
            _default = Spawner()
            atexit.register(_default.close)
        return _default


def run_once(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    show_output: bool = False,
) -> RunResult:
    """Run ``argv`` once and measure it and its whole process tree (see the module docstring).

    ``argv[0]`` is searched on ``env``'s PATH; ``env`` is the complete environment (None: perfkit's
    own). stdin, and unless ``show_output`` stdout and stderr, are ``/dev/null``. A command that
    fails, hangs or cannot start is not an exception but the returned ``status``; a
    KeyboardInterrupt kills the run's tree and is re-raised. Uses a shared spawner helper that
    lives as long as this Python process.
    """
    return _default_spawner().run(argv, cwd=cwd, env=env, timeout=timeout, show_output=show_output)
