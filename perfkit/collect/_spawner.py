"""The spawner: a small helper process that starts, waits for and measures the runs.

Why a separate process: a child started with ``posix_spawn`` (``vfork`` + ``exec``) records the
*parent's* peak RSS as its own at ``exec`` (the kernel keeps the pre-exec image's high-water mark
in the child's ``maxrss``), so a command spawned from perfkit itself — 130 MB with pandas loaded, far
more in a busy Jupyter kernel — would report that as its peak memory. This helper in turn starts
each run through the tiny C exec helper (``_exec_helper.c``, class :class:`Helper`), a process that
serves one run after another: its ``posix_spawn`` execs each command from a ~0.3 MiB address space,
and it reports the command's counters; without it
(no ``cc``), a command's ``max_rss_kib`` has a floor of this helper's own RSS (about 11 MiB).
The floor in use is reported with every run as ``spawner_rss_kib``.

This file is run as a script (``python -I -S _spawner.py RFD WFD``) and must import nothing but the
standard library, and as little of it as possible: every module loaded raises that floor. It is
one module for that reason: run with ``-I`` it cannot import a sibling file.

Protocol: one JSON object per line. The client writes a request
``{"path", "argv", "cwd", "timeout", "show_output", ["env"]}`` (``env`` only when it changed) and reads
one result object (the counters of :class:`perfkit.collect.process.RunResult`, ``started_at`` as epoch
seconds). A batch ``{"batch": [request + "tag", ...], "journal", "fields", "stop_on_failure",
"show_output", ["env"]}`` runs its requests back to back, appends each run's journal line to the
dataset's ``journal`` as it ends, and answers ``{"results": [...], "journal_error"}`` (see
:func:`run_batch`). SIGINT or SIGTERM during a run kills the run's tree, answers
``{"interrupted": true}`` and ends the helper.

How one run is measured, and what is and isn't counted, is in :mod:`perfkit.collect.process`.
"""

import ctypes
import json
import os
import select
import signal
import sys
import time

IO_FIELDS = ("rchar", "wchar", "syscr", "syscw", "read_bytes", "write_bytes", "cancelled_write_bytes")
RUSAGE_FIELDS = (
    ("blk_in", "ru_inblock"),
    ("blk_out", "ru_oublock"),
    ("minflt", "ru_minflt"),
    ("majflt", "ru_majflt"),
    ("nvcsw", "ru_nvcsw"),
    ("nivcsw", "ru_nivcsw"),
)
PR_SET_PDEATHSIG = 1
# Python ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across exec: give the
# command the defaults a shell would (as subprocess's restore_signals does), or `yes | head`
# would behave differently under perfkit.
DEFAULT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGPIPE", "SIGXFSZ", "SIGXFZ", "SIGINT", "SIGTERM")
    if hasattr(signal, name)
)
PR_SET_CHILD_SUBREAPER = 36
MAX_POLL_MS = 3_600_000  # one hour: poll()'s timeout is a C int of milliseconds


class Interrupted(Exception):
    """SIGINT/SIGTERM arrived: kill the tree in flight and stop."""


def _on_signal(signum, frame):
    # once: the clean-up that follows must not be interrupted in turn
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Interrupted()


def _prctl(option, value):
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


_children_fd = [None]  # /proc/self/task/<pid>/children, kept open: read twice a run


def children():
    """PIDs of this process's children, or None where the kernel does not list them.

    The spawner has one thread, whose children file lists them all (orphans are re-parented to a
    live thread of the subreaper: this one); it is kept open and re-read from its start (about
    3 µs, against 19 µs to list the tasks and open the file each time).
    """
    try:
        if _children_fd[0] is None:
            _children_fd[0] = os.open("/proc/self/task/%d/children" % os.getpid(),
                                      os.O_RDONLY | os.O_CLOEXEC)
        data = os.pread(_children_fd[0], 65536, 0)
        if len(data) == 65536:  # thousands of children: read it whole
            with open("/proc/self/task/%d/children" % os.getpid(), "rb") as fh:
                data = fh.read()
    except OSError:
        return None
    return {int(p) for p in data.split()}


def read_io(pid):
    try:
        fd = os.open("/proc/%d/io" % pid, os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)
    out = {}
    for line in data.split(b"\n"):
        key, _, value = line.partition(b":")
        if value:
            out[key.decode()] = int(value)
    return out


def exited(pid):
    """True when ``pid`` (a child) has exited and waits as a zombie."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None
    except ChildProcessError:
        return True


def pidfd(pid):
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def readable_by(fd, deadline):
    """Block until ``fd`` is readable (True) or the deadline passes (False)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return bool(poller.poll(0))
        # poll() takes a C int of milliseconds: wait in bounded slices
        if poller.poll(max(1, min(MAX_POLL_MS, int(left * 1000 + 0.999)))):
            return True


def write_all(fd, data):
    """Write all of ``data`` to ``fd`` (a pipe or file may take it in parts)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def wait_exit(pid, deadline):
    """Block until ``pid`` has exited (still a zombie); False when the deadline came first."""
    if deadline is None:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        return True
    fd = pidfd(pid)
    if fd is not None:
        try:
            return readable_by(fd, deadline)  # a pidfd is readable once its process exited
        finally:
            os.close(fd)
    delay = 0.0005  # no pidfd (kernel < 5.3): poll with a growing sleep
    while not exited(pid):
        if time.perf_counter() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.02)
    return True


def wait_any(pids, deadline):
    """Block until one of ``pids`` exits, the deadline passes, or 50 ms (new orphans may appear)."""
    limit = 0.05 if deadline is None else max(0.0, min(0.05, deadline - time.perf_counter()))
    fds = [fd for fd in (pidfd(p) for p in pids) if fd is not None]
    try:
        if fds:
            poller = select.poll()
            for fd in fds:
                poller.register(fd, select.POLLIN)
            poller.poll(int(limit * 1000) + 1)
        else:
            time.sleep(min(limit, 0.005))
    finally:
        for fd in fds:
            os.close(fd)


def kill(pid):
    """SIGKILL ``pid``'s process group (unless it is ours) and ``pid`` itself."""
    try:
        pgid = os.getpgid(pid)
        if pgid != os.getpgrp():
            os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


class Tree:
    """Sums of the counters of every process of one run's tree that was reaped here."""

    def __init__(self):
        self.user = 0.0
        self.sys = 0.0
        self.maxrss = 0
        self.io = dict.fromkeys(IO_FIELDS, 0)
        self.io_missing = False
        self.rusage = dict.fromkeys([name for name, _ in RUSAGE_FIELDS], 0)
        self.orphans = 0

    def add_report(self, report):
        """Add the counters the exec helper read of the command it started (and reaped)."""
        self.user += report["user_us"] / 1e6
        self.sys += report["sys_us"] / 1e6
        self.maxrss = max(self.maxrss, report["maxrss"])
        for name, _ in RUSAGE_FIELDS:
            self.rusage[name] += report[name]
        if report["io_ok"]:
            for key in IO_FIELDS:
                self.io[key] += report[key]
        else:
            self.io_missing = True

    def reap(self, pid):
        """Read the zombie's /proc io, reap it, add its counters; return the wait status."""
        io = read_io(pid)
        if io is None:
            self.io_missing = True
        else:
            for key in IO_FIELDS:
                self.io[key] += io.get(key, 0)
        try:
            _, status, ru = os.wait4(pid, 0)
        except ChildProcessError:
            self.io_missing = True
            return None
        self.user += ru.ru_utime
        self.sys += ru.ru_stime
        self.maxrss = max(self.maxrss, ru.ru_maxrss)
        for name, field in RUSAGE_FIELDS:
            self.rusage[name] += getattr(ru, field)
        return status


def collect_orphans(tree, before, deadline, leader):
    """Wait for, read and reap every child that joined during the run; False if killed at the deadline."""
    if before is None:
        return True
    killed = False
    while True:
        now = children()
        orphans = (now or set()) - before
        if not orphans:
            return not killed
        zombies = [p for p in orphans if exited(p)]
        for pid in zombies:
            tree.reap(pid)
            tree.orphans += 1
        if zombies:
            continue  # reaping one may re-parent its own children to us
        if deadline is not None and time.perf_counter() >= deadline:
            killed = True
            try:
                if leader is not None:
                    os.killpg(leader, signal.SIGKILL)
            except OSError:
                pass
            for pid in orphans:
                kill(pid)
            time.sleep(0.001)
            continue
        wait_any(sorted(orphans), deadline)


def kill_tree(leader, before):
    """Kill and reap everything of a run (on interrupt): the leader's group and every orphan."""
    if leader is not None:
        kill(leader)
        try:
            os.waitpid(leader, 0)
        except ChildProcessError:
            pass
    if before is None:
        return
    for _ in range(1000):
        orphans = (children() or set()) - before
        if not orphans:
            return
        for pid in orphans:
            kill(pid)
        for pid in orphans:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


REPORT_FIELDS = ("pid", "wait_status", "wall_ns", "user_us", "sys_us", "maxrss", "minflt", "majflt",
                 "blk_in", "blk_out", "nvcsw", "nivcsw", "io_ok") + IO_FIELDS


class Kept:
    """An exec helper serving runs: its pid, the pipe it reads requests on, the pipe it reports
    on (and what of it is read but not yet parsed), the environment and file actions it was
    started with, and the memory cgroup it joined."""

    __slots__ = ("pid", "request", "report", "pending", "env", "actions", "cgroup")

    def __init__(self, pid, request, report, env, actions, cgroup):
        self.pid, self.request, self.report, self.pending = pid, request, report, b""
        self.env, self.actions, self.cgroup = env, actions, cgroup


class Helper:
    """The small exec helper (``_exec_helper.c``) that starts the runs, and the runs' memory
    cgroup, when there are.

    A helper is started ahead of its runs (:meth:`prepare`, while perfkit records the last run),
    moves itself into the runs' memory cgroup and serves one run after another: neither its ~1 ms
    of exec and start-up nor the move (a v1 move sleeps for an RCU grace period) sits just before
    a run, whose command then starts on a warmer machine (``benchmarks/bench_floor_gap.py``). It
    is kept while the environment and output redirection it was started with fit the runs.

    Memory cgroup: on v1 one cgroup serves every run; before each its high-water mark is reset
    (a write to ``memory.max_usage_in_bytes``) and its usage read, and the run's peak is the mark's
    rise over that usage. A new cgroup per run made a 0.6 ms command ~5 % slower, inside the
    measured interval (its first charges). Page cache an earlier run left
    charged is in that usage, not in the rise; if a run frees some of it (deletes such a file), the
    rise understates its peak by that much. On v2 (whose ``memory.peak`` is reset per open file only
    from Linux 6.12) each run still gets its own cgroup and its own helper, both removed after it.
    """

    def __init__(self, path, cgroup):
        self.path = path  # None: commands are spawned from this process (the ~11 MiB floor)
        self.cgroup = cgroup  # a directory under which the runs' memory cgroup(s) are made, or None
        self.kind = None
        self.runs = 0
        self.current = None  # the memory cgroup of the run in flight
        self.base = 0  # its usage (bytes) when the run started
        self.kept = None  # the helper serving runs
        self.shared = None  # v1: the one cgroup all runs use, once made
        self.files = None  # v1: its high-water mark (to reset), usage and mark (to read), open
        if cgroup is not None:
            self.kind = "v2" if os.path.exists(os.path.join(cgroup, "..", "cgroup.controllers")) else "v1"

    def prepare(self, env, actions):
        """Start a helper that waits for runs: its exec, start-up and move into the runs'
        memory cgroup happen now, outside any run."""
        cgroup = self.run_cgroup()
        fds = []
        try:
            qr, qw = os.pipe()
            fds += [qr, qw]
            rfd, wfd = os.pipe()
            fds += [rfd, wfd]
            os.set_inheritable(qr, True)
            os.set_inheritable(wfd, True)
            procs = "-" if cgroup is None else os.path.join(cgroup, "cgroup.procs")
            pid = os.posix_spawn(self.path, [self.path, "--serve", str(qr), str(wfd), procs], env,
                                 file_actions=actions, setpgroup=0, setsigdef=DEFAULT_SIGNALS)
        except BaseException:  # OSError, an env the kernel refuses (ValueError), a signal
            for fd in fds:
                os.close(fd)
            self.drop_cgroup(cgroup)
            raise
        os.close(qr)  # the helper's ends
        os.close(wfd)
        self.kept = Kept(pid, qw, rfd, env, actions, cgroup)

    def discard(self):
        """End the helper serving runs (it exits at the end of its request pipe) and reap it."""
        if self.kept is None:
            return None
        kept, self.kept = self.kept, None
        os.close(kept.request)
        os.close(kept.report)
        try:
            status = os.waitpid(kept.pid, 0)[1]
        except ChildProcessError:
            status = None
        self.drop_cgroup(kept.cgroup)
        return status

    def launch(self, req, env, actions):
        """Hand a run to the helper (a new one if none fits)."""
        fields = [req.get("cwd") or "", req["path"]] + list(req["argv"])
        if any("\0" in f for f in fields):
            raise ValueError("embedded null byte")
        payload = b"".join(os.fsencode(f) + b"\0" for f in fields)
        data = b"%08x" % len(payload) + payload
        for attempt in (1, 2):
            if self.kept is not None and (self.kept.env is not env or self.kept.actions is not actions):
                self.discard()
            if self.kept is None:
                self.prepare(env, actions)
            self.current = self.kept.cgroup
            self.start_peak()
            try:
                write_all(self.kept.request, data)
            except OSError:  # the helper is gone (killed): reap it, start another
                self.current = None
                self.discard()
                if attempt == 2:
                    raise
                continue
            return

    def wait_report(self, deadline):
        """Block until the helper reports (True) or the deadline passes (False)."""
        if deadline is None or b"\n" in self.kept.pending:
            return True
        return readable_by(self.kept.report, deadline)

    def read_report(self):
        """The run's report, parsed; None when the helper died (it is then reaped, and its
        wait status is under ``"helper_status"``)."""
        kept = self.kept
        while b"\n" not in kept.pending:
            chunk = os.read(kept.report, 4096)
            if not chunk:
                return {"helper_status": self.discard()}
            kept.pending += chunk
        line, _, kept.pending = kept.pending.partition(b"\n")
        return parse_report(line)

    def command(self):
        """The pid of the command the helper has started and not yet reaped, or None."""
        try:
            with open("/proc/%d/task/%d/children" % (self.kept.pid, self.kept.pid), "rb") as fh:
                pids = fh.read().split()
        except (OSError, AttributeError):
            return None
        return int(pids[0]) if pids else None

    def kill_command(self):
        """SIGKILL the run in flight (its process group and itself); the helper then reports."""
        pid = self.command()
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGKILL)  # the helper starts each command in its own group
            except OSError:
                pass
            kill(pid)

    def run_cgroup(self):
        """The memory cgroup a run's helper will join (None: none); v2: a new one per run."""
        if self.cgroup is None:
            return None
        if self.kind == "v1":
            if self.shared is None:
                try:
                    os.mkdir(os.path.join(self.cgroup, "runs"))
                except OSError:
                    return None
                self.shared = os.path.join(self.cgroup, "runs")
            return self.shared
        self.runs += 1
        path = os.path.join(self.cgroup, "run-%d" % self.runs)
        try:
            os.mkdir(path)
        except OSError:
            return None
        return path

    def drop_cgroup(self, cgroup):
        """Remove a run's own (v2) cgroup; the shared v1 one stays until :meth:`close`."""
        if cgroup is not None and cgroup != self.shared:
            try:
                os.rmdir(cgroup)
            except OSError:
                pass

    def start_peak(self):
        """At the run's start: v1, reset the shared cgroup's high-water mark, note its usage."""
        self.base = 0
        if self.current is None or self.current != self.shared:
            return
        try:
            if self.files is None:  # kept open: 2 µs a run, against 25 µs to open them each time
                self.files = [os.open(os.path.join(self.shared, name), flags | os.O_CLOEXEC)
                              for name, flags in (("memory.max_usage_in_bytes", os.O_WRONLY),
                                                  ("memory.usage_in_bytes", os.O_RDONLY),
                                                  ("memory.max_usage_in_bytes", os.O_RDONLY))]
            os.write(self.files[0], b"0")
            self.base = int(os.pread(self.files[1], 64, 0))
        except (OSError, ValueError):
            self.current = None  # no peak rather than a wrong one

    def cgroup_peak_kib(self):
        """The run's peak memory in its cgroup (KiB); None without one. A v2 run's helper and
        cgroup are removed."""
        if self.current is None:
            return None
        try:
            if self.current == self.shared:
                data = os.pread(self.files[2], 64, 0)
            else:
                with open(os.path.join(self.current, "memory.peak"), "rb") as fh:
                    data = fh.read()
            value = max(0, int(data.split()[0]) - self.base) // 1024
        except (OSError, ValueError, IndexError, TypeError):
            value = None
        if self.current != self.shared and self.kept is not None and self.kept.cgroup == self.current:
            self.discard()  # a v2 run's helper sits in the run's cgroup, which then goes too
        self.drop_cgroup(self.current)
        self.current = None
        return value

    def close(self):
        """End the helper and remove the runs' cgroup."""
        self.cgroup_peak_kib()
        self.discard()
        for fd in self.files or ():
            os.close(fd)
        self.files = None
        if self.shared is not None:
            try:
                os.rmdir(self.shared)
            except OSError:
                pass


def parse_report(data):
    words = data.split()
    if not words:
        return None
    if words[0] in (b"exec", b"chdir"):
        return {"errno": int(words[1])}
    return dict(zip(REPORT_FIELDS, (int(w) for w in words[1:])))


def exit_code(status):
    """A wait status as perfkit's exit code: the exit status, or minus the signal's number."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.waitstatus_to_exitcode(status)


def measure(req, env, subreaper, actions, helper):
    """Run one request (``actions``: the file actions for its output); return the result dict."""
    started_at = time.time()
    timeout = req.get("timeout")
    before = children() if subreaper else None
    name = req["argv"][0] if req["argv"] else req["path"]
    tree = Tree()
    leader = None  # the command's pid, once known (direct spawns)
    try:
        try:
            t0 = time.perf_counter()
            if helper.path is None:
                leader = spawn_direct(req, env, actions)
            else:
                helper.launch(req, env, actions)
        except OSError as exc:
            helper.cgroup_peak_kib()
            return {"status": "error", "error": "cannot start %r: %s" % (name, exc.strerror),
                    "started_at": started_at}
        deadline = None if timeout is None else t0 + timeout
        if helper.path is None:
            finished = wait_exit(leader, deadline)
            t1 = time.perf_counter()
            if not finished:
                try:
                    os.killpg(leader, signal.SIGKILL)
                except OSError:
                    pass
                os.waitid(os.P_PID, leader, os.WEXITED | os.WNOWAIT)
            status = tree.reap(leader)
            pgid = leader  # setpgroup=0: the leader's pid is its group's id
            leader = None
        else:
            if before is not None:
                before.add(helper.kept.pid)  # the helper may have started just now
            finished = helper.wait_report(deadline)
            if not finished:
                helper.kill_command()
            report = helper.read_report()
            if "errno" in report:
                helper.cgroup_peak_kib()
                return {"status": "error", "started_at": started_at,
                        "error": "cannot start %r: %s" % (name, os.strerror(report["errno"]))}
            if "helper_status" in report:  # killed under the run: its command is now an orphan
                helper.cgroup_peak_kib()
                collect_orphans(tree, before, deadline, None)
                return {"status": "error", "started_at": started_at,
                        "error": "perfkit's exec helper ended during the run (wait status %s)"
                        % report["helper_status"]}
            tree.add_report(report)
            t1 = t0 + report["wall_ns"] / 1e9
            status, pgid = report["wait_status"], report["pid"]
        orphans_done = collect_orphans(tree, before, deadline, pgid)
    except Interrupted:
        if helper.kept is not None:
            helper.kill_command()
            helper.discard()
        kill_tree(leader, before)
        raise
    out = {
        "status": "ok",
        "started_at": started_at,
        "wall_s": t1 - t0,
        "user_s": tree.user,
        "sys_s": tree.sys,
        "max_rss_kib": tree.maxrss,
        "orphans": tree.orphans,
        "cgroup_peak_kib": helper.cgroup_peak_kib(),
    }
    for key in IO_FIELDS:
        out["io_" + key] = None if tree.io_missing and not any(tree.io.values()) else tree.io[key]
    out.update(tree.rusage)
    out["exit_code"] = None if status is None else exit_code(status)
    if not finished:
        out["status"] = "timeout"
        out["error"] = "killed after the %g s timeout" % timeout
    elif not orphans_done:
        out["status"] = "timeout"
        out["error"] = "descendants still running at the %g s timeout were killed" % timeout
    elif out["exit_code"] != 0:
        out["status"] = "failed"
    return out


def spawn_direct(req, env, actions):
    """Start the command from this process (no exec helper): in its cwd, in a new process group."""
    cwd = req.get("cwd")
    old_cwd = None
    try:
        if cwd is not None:
            old_cwd = os.getcwd()
            os.chdir(cwd)
        return os.posix_spawn(req["path"], req["argv"], env, file_actions=actions,
                              setpgroup=0, setsigdef=DEFAULT_SIGNALS)
    finally:
        if old_cwd is not None:
            os.chdir(old_cwd)


def own_rss_kib():
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


CGROUP_V1 = "/sys/fs/cgroup/memory"
CGROUP_ROOT = "/sys/fs/cgroup"


def make_cgroup():
    """A directory for this spawner's runs' memory cgroup(s): (path, None) or (None, reason)."""
    name = "perfkit-spawner-%d" % os.getpid()
    if os.environ.get("PERFKIT_MEMORY_CGROUP") == "0":
        return None, "disabled by PERFKIT_MEMORY_CGROUP=0"
    if os.path.exists(os.path.join(CGROUP_V1, "memory.max_usage_in_bytes")):
        base, probe = CGROUP_V1, "memory.max_usage_in_bytes"
    elif os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers")):
        try:
            with open("/proc/self/cgroup") as fh:
                own = [ln.split("::", 1)[1].strip() for ln in fh if ln.startswith("0::")][0]
        except (OSError, IndexError):
            return None, "cannot read this process's cgroup"
        # a process may not sit in a cgroup whose children have controllers: use the parent
        base, probe = os.path.dirname(CGROUP_ROOT + own.rstrip("/")), "memory.peak"
    else:
        return None, "no memory cgroup hierarchy is mounted"
    path = os.path.join(base, name)
    try:
        os.mkdir(path)
    except OSError as exc:
        return None, "cannot create a memory cgroup under %s (%s)" % (base, exc.strerror)
    try:
        os.mkdir(os.path.join(path, "run-0"))
        ok = os.path.exists(os.path.join(path, "run-0", probe))
        os.rmdir(os.path.join(path, "run-0"))
    except OSError as exc:
        ok, probe = False, exc.strerror
    if not ok:
        os.rmdir(path)
        return None, "the memory cgroup under %s has no %s (controller not enabled or kernel < 5.19)" % (base, probe)
    return path, None


def abandon(helper, exc):
    """The spawner failed during a run: kill the run and everything else it started, say why."""
    helper.kill_command()
    for pid in children() or ():
        kill(pid)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    helper.discard()
    helper.cgroup_peak_kib()
    return {"status": "error", "started_at": time.time(),
            "error": "perfkit's spawner failed (%s: %s); the run was killed" % (type(exc).__name__, exc)}


def iso_utc(epoch):
    """``epoch`` as perfkit's journal writes a time: ISO 8601, UTC, microseconds when not zero."""
    whole = int(epoch // 1)
    micro = int(round((epoch - whole) * 1e6))
    if micro == 1000000:
        whole, micro = whole + 1, 0
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return text + (".%06d" % micro if micro else "") + "+00:00"


def journal_line(tag, out, fields):
    """A run's line of the dataset's ``runs.jsonl``: its ``tag`` (variant, run, order...) and the
    result's ``fields``, as the client's writer would journal them."""
    record = dict(tag)
    for key in fields:
        record[key] = out.get(key)
    record["started_at"] = iso_utc(out["started_at"])
    return (json.dumps(record) + "\n").encode()


def run_batch(req, run_one):
    """Run a batch's runs back to back, nothing of perfkit's between them but this loop: each
    result is appended to the dataset's journal (``req["journal"]``) as it finishes, so that an
    interrupted batch keeps its finished runs, and all come back in one reply. A run the client
    could not start is given as its ``result``. ``stop_on_failure``: the batch ends after the first
    run that is not ok. A journal that cannot be written ends the batch (``journal_error``)."""
    results = []
    try:
        fd = os.open(req["journal"], os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
    except OSError as exc:
        return {"results": results, "journal_error": [exc.errno, exc.strerror]}
    try:
        for item in req["batch"]:
            out = item.get("result") or run_one(item)
            results.append(out)
            try:
                write_all(fd, journal_line(item["tag"], out, req["fields"]))
            except OSError as exc:
                return {"results": results, "journal_error": [exc.errno, exc.strerror]}
            if req.get("stop_on_failure") and out["status"] != "ok":
                break
    finally:
        os.close(fd)
    return {"results": results, "journal_error": None}


def serve(rfd, wfd, helper_path=None, floor=None):
    os.set_inheritable(rfd, False)
    os.set_inheritable(wfd, False)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    # if perfkit dies (kill -9), end the helper too, killing the run in flight
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    subreaper = _prctl(PR_SET_CHILD_SUBREAPER, 1)
    # /dev/null opened once here (close-on-exec) and dup2'ed in the child: no open() per run
    null_in = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    null_out = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
    devnull_actions = [
        (os.POSIX_SPAWN_DUP2, null_in, 0),
        (os.POSIX_SPAWN_DUP2, null_out, 1),
        (os.POSIX_SPAWN_DUP2, null_out, 2),
    ]
    actions_for = {False: devnull_actions, True: devnull_actions[:1]}  # by show_output
    reader = os.fdopen(rfd, "rb", buffering=0)
    env = dict(os.environ)
    cgroup, why = make_cgroup() if helper_path else (None, "needs the exec helper")
    helper = Helper(helper_path, cgroup)
    hello = {"ready": True, "subreaper": subreaper, "pid": os.getpid(), "cgroup": cgroup,
             "cgroup_reason": why}
    os.write(wfd, (json.dumps(hello) + "\n").encode())
    buf = b""

    def run_one(req):
        try:
            out = measure(req, env, subreaper, actions_for[bool(req.get("show_output"))], helper)
        except Interrupted:
            raise
        except Exception as exc:  # never die with a command running: kill it, say why
            out = abandon(helper, exc)
        out["spawner_rss_kib"] = floor if helper_path else own_rss_kib()
        return out

    try:
        while True:
            while b"\n" not in buf:
                chunk = reader.read(65536)
                if not chunk:
                    return 0  # the client closed the pipe: done
                buf += chunk
            line, _, buf = buf.partition(b"\n")
            req = json.loads(line)
            if "env" in req:
                env = req["env"]
            actions = actions_for[bool(req.get("show_output"))]
            reply = run_batch(req, run_one) if "batch" in req else run_one(req)
            write_all(wfd, (json.dumps(reply) + "\n").encode())  # a batch's: beyond a pipe's buffer
            if helper_path and helper.kept is None:
                try:  # the next run's helper starts while perfkit records this one
                    helper.prepare(env, actions)
                except (OSError, ValueError):
                    pass  # the next run starts one itself, and says why if it cannot
    except Interrupted:
        try:
            os.write(wfd, b'{"interrupted": true}\n')
        except OSError:
            pass
        return 130
    except BrokenPipeError:
        return 0
    finally:
        helper.close()
        if cgroup is not None:
            try:
                os.rmdir(cgroup)
            except OSError:
                pass


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(serve(int(args[0]), int(args[1]), args[2] if len(args) > 2 and args[2] != "-" else None,
                   int(args[3]) if len(args) > 3 else None))
