"""The spawner: a small helper process that starts, waits for and measures the runs.

Why a separate process: a child started with ``posix_spawn`` (``vfork`` + ``exec``) records the
*parent's* peak RSS as its own at ``exec`` (the kernel keeps the pre-exec image's high-water mark
in the child's ``maxrss``), so a command spawned from perfkit itself — 130 MB with pandas loaded, far
more in a busy Jupyter kernel — would report that as its peak memory. This helper in turn starts
each run through the tiny C exec helper (``_exec_helper.c``, class :class:`Helper`), whose
``posix_spawn`` execs the command from a ~0.5 MiB address space and reports the command's counters; without it
(no ``cc``), a command's ``max_rss_kib`` has a floor of this helper's own RSS (about 11 MiB).
The floor in use is reported with every run as ``spawner_rss_kib``.

This file is run as a script (``python -I -S _spawner.py RFD WFD``) and must import nothing but the
standard library, and as little of it as possible: every module loaded raises that floor. It is
one module for that reason: run with ``-I`` it cannot import a sibling file.

Protocol: one JSON object per line. The client writes a request
``{"path", "argv", "cwd", "timeout", "show_output", ["env"]}`` (``env`` only when it changed) and reads
one result object (the counters of :class:`perfkit.collect.process.RunResult`, ``started_at`` as epoch
seconds). SIGINT or SIGTERM during a run kills the run's tree, answers ``{"interrupted": true}`` and
ends the helper.

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


def children():
    """PIDs of this process's children, or None where the kernel does not list them."""
    pids = set()
    try:
        for tid in os.listdir("/proc/self/task"):
            try:
                with open("/proc/self/task/%s/children" % tid, "rb") as fh:
                    pids.update(int(p) for p in fh.read().split())
            except FileNotFoundError:
                continue
    except OSError:
        return None
    return pids


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


def wait_exit(pid, deadline):
    """Block until ``pid`` has exited (still a zombie); False when the deadline came first."""
    if deadline is None:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
        return True
    fd = pidfd(pid)
    if fd is not None:
        try:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            while True:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return exited(pid)
                # poll() takes a C int of milliseconds: wait in bounded slices
                if poller.poll(max(1, min(MAX_POLL_MS, int(left * 1000 + 0.999)))):
                    return True
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

    def reap(self, pid, counted=True):
        """Read the zombie's /proc io, reap it, add its counters; return the wait status.

        ``counted=False``: only reap (the exec helper, whose own counters are not the run's).
        """
        if not counted:
            try:
                return os.wait4(pid, 0)[1]
            except ChildProcessError:
                self.io_missing = True
                return None
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


REPORT_FIELDS = ("wall_ns", "user_us", "sys_us", "maxrss", "minflt", "majflt", "blk_in", "blk_out",
                 "nvcsw", "nivcsw", "io_ok") + IO_FIELDS


class Ready:
    """An exec helper started ahead of its run: its pid, the pipe it waits on, the pipe it reports
    on, the environment and file actions it was started with, and the cgroup it joined."""

    __slots__ = ("pid", "request", "report", "env", "actions", "cgroup")

    def __init__(self, pid, request, report, env, actions, cgroup):
        self.pid, self.request, self.report = pid, request, report
        self.env, self.actions, self.cgroup = env, actions, cgroup


class Helper:
    """The small exec helper (``_exec_helper.c``), one kept ready ahead of each run, and the runs'
    memory cgroup, when there are.

    A helper is started while perfkit records the last run (:meth:`prepare`), moves itself into
    the run's memory cgroup and waits for its run on a pipe: neither its ~1 ms of exec and
    start-up nor the move (a v1 move sleeps for an RCU grace period) sits just before the run,
    whose command then starts on a warmer machine (``benchmarks/bench_floor_gap.py``).

    Memory cgroup: on v1 one cgroup serves every run; before each its high-water mark is reset
    (a write to ``memory.max_usage_in_bytes``) and its usage read, and the run's peak is the mark's
    rise over that usage. A new cgroup per run made a 0.6 ms command ~5 % slower, inside the
    measured interval (its first charges). Page cache an earlier run left
    charged is in that usage, not in the rise; if a run frees some of it (deletes such a file), the
    rise understates its peak by that much. On v2 (whose ``memory.peak`` is reset per open file only
    from Linux 6.12) each run still gets its own cgroup, removed after it.
    """

    def __init__(self, path, cgroup):
        self.path = path  # None: commands are spawned from this process (the ~11 MiB floor)
        self.cgroup = cgroup  # a directory under which the runs' memory cgroup(s) are made, or None
        self.kind = None
        self.runs = 0
        self.current = None  # the memory cgroup of the run in flight
        self.base = 0  # its usage (bytes) when the run started
        self.ready = None  # the Ready helper started ahead of the next run
        self.shared = None  # v1: the one cgroup all runs use, once made
        if cgroup is not None:
            self.kind = "v2" if os.path.exists(os.path.join(cgroup, "..", "cgroup.controllers")) else "v1"

    def prepare(self, env, actions):
        """Start a helper that waits for its run: its exec, start-up and move into the run's
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
            pid = os.posix_spawn(self.path, [self.path, "--wait", str(qr), str(wfd), procs], env,
                                 file_actions=actions, setpgroup=0, setsigdef=DEFAULT_SIGNALS)
        except BaseException:  # OSError, an env the kernel refuses (ValueError), a signal
            for fd in fds:
                os.close(fd)
            self.drop_cgroup(cgroup)
            raise
        os.close(qr)  # the helper's ends
        os.close(wfd)
        self.ready = Ready(pid, qw, rfd, env, actions, cgroup)

    def discard(self):
        """End the helper kept ready (it exits at the end of its request pipe) and reap it."""
        if self.ready is None:
            return
        ready, self.ready = self.ready, None
        os.close(ready.request)
        os.close(ready.report)
        try:
            os.waitpid(ready.pid, 0)
        except ChildProcessError:
            pass
        self.drop_cgroup(ready.cgroup)

    def launch(self, req, env, actions):
        """Hand the run to the helper kept ready (a new one if none fits): (leader, report fd)."""
        fields = [req.get("cwd") or "", req["path"]] + list(req["argv"])
        if any("\0" in f for f in fields):
            raise ValueError("embedded null byte")
        data = b"".join(os.fsencode(f) + b"\0" for f in fields)
        for attempt in (1, 2):
            if self.ready is not None and (self.ready.env is not env
                                           or self.ready.actions is not actions):
                self.discard()
            if self.ready is None:
                self.prepare(env, actions)
            ready, self.ready = self.ready, None
            self.current = ready.cgroup
            self.start_peak()
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(ready.request, view):]
            except OSError:  # the helper kept ready is gone (killed): reap it, start another
                self.ready, self.current = ready, None
                self.discard()
                if attempt == 2:
                    raise
                continue
            os.close(ready.request)
            return ready.pid, ready.report

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
            with open(os.path.join(self.current, "memory.max_usage_in_bytes"), "wb") as fh:
                fh.write(b"0")
            with open(os.path.join(self.current, "memory.usage_in_bytes"), "rb") as fh:
                self.base = int(fh.read())
        except (OSError, ValueError):
            self.current = None  # no peak rather than a wrong one

    def cgroup_peak_kib(self):
        """The run's peak memory in its cgroup (KiB); None without one. A v2 run's cgroup is removed."""
        if self.current is None:
            return None
        name = "memory.peak" if self.kind == "v2" else "memory.max_usage_in_bytes"
        try:
            with open(os.path.join(self.current, name), "rb") as fh:
                value = max(0, int(fh.read().split()[0]) - self.base) // 1024
        except (OSError, ValueError, IndexError):
            value = None
        self.drop_cgroup(self.current)
        self.current = None
        return value

    def close(self):
        """End the helper kept ready and remove the runs' cgroup."""
        self.discard()
        self.cgroup_peak_kib()
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


def spawn(req, env, actions, helper):
    """Start the run; returns (leader pid, report pipe read end or None)."""
    if helper.path is None:
        return os.posix_spawn(req["path"], req["argv"], env, file_actions=actions,
                              setpgroup=0, setsigdef=DEFAULT_SIGNALS), None
    return helper.launch(req, env, actions)


def read_report(rfd):
    if rfd is None:
        return None
    chunks = []
    try:
        while True:
            chunk = os.read(rfd, 4096)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(rfd)
    return parse_report(b"".join(chunks))


def measure(req, env, subreaper, actions, helper):
    """Run one request (``actions``: the file actions for its output); return the result dict."""
    started_at = time.time()
    timeout = req.get("timeout")
    before = children() if subreaper else None
    cwd = req.get("cwd") if helper.path is None else None  # the exec helper enters it itself
    old_cwd = None
    leader = None
    rfd = None
    try:
        try:
            if cwd is not None:
                old_cwd = os.getcwd()
                os.chdir(cwd)
            t0 = time.perf_counter()
            leader, rfd = spawn(req, env, actions, helper)
        except OSError as exc:
            name = req["argv"][0] if req["argv"] else req["path"]
            return {"status": "error", "error": "cannot start %r: %s" % (name, exc.strerror),
                    "started_at": started_at}
        finally:
            if old_cwd is not None:
                os.chdir(old_cwd)
        deadline = None if timeout is None else t0 + timeout
        finished = wait_exit(leader, deadline)
        t1 = time.perf_counter()
        if not finished:
            try:
                os.killpg(leader, signal.SIGKILL)
            except OSError:
                pass
            os.waitid(os.P_PID, leader, os.WEXITED | os.WNOWAIT)
        tree = Tree()
        pgid = leader  # setpgroup=0: the leader's pid is its group's id
        report = read_report(rfd) if finished else None
        rfd = None
        status = tree.reap(leader, counted=report is None or "errno" in report)
        leader = None
        if report is not None and "errno" in report:
            name = req["argv"][0] if req["argv"] else req["path"]
            helper.cgroup_peak_kib()
            return {"status": "error", "started_at": started_at,
                    "error": "cannot start %r: %s" % (name, os.strerror(report["errno"]))}
        if report is not None:
            tree.add_report(report)
            t1 = t0 + report["wall_ns"] / 1e9
        orphans_done = collect_orphans(tree, before, deadline, pgid)
    except Interrupted:
        kill_tree(leader, before)
        raise
    finally:
        if rfd is not None:
            os.close(rfd)
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
    if status is None:
        out["exit_code"] = None
    elif os.WIFSIGNALED(status):
        out["exit_code"] = -os.WTERMSIG(status)
    else:
        out["exit_code"] = os.waitstatus_to_exitcode(status)
    if not finished:
        out["status"] = "timeout"
        out["error"] = "killed after the %g s timeout" % timeout
    elif not orphans_done:
        out["status"] = "timeout"
        out["error"] = "descendants still running at the %g s timeout were killed" % timeout
    elif out["exit_code"] != 0:
        out["status"] = "failed"
    return out


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
            try:
                out = measure(req, env, subreaper, actions, helper)
            except Interrupted:
                raise
            except Exception as exc:  # never die with a command running: kill it, say why
                helper.discard()
                kill_tree(None, None)
                for pid in children() or ():
                    kill(pid)
                    try:
                        os.waitpid(pid, 0)
                    except ChildProcessError:
                        pass
                out = {"status": "error", "started_at": time.time(),
                       "error": "perfkit's spawner failed (%s: %s); the run was killed"
                       % (type(exc).__name__, exc)}
            out["spawner_rss_kib"] = floor if helper_path else own_rss_kib()
            os.write(wfd, (json.dumps(out) + "\n").encode())
            if helper_path and helper.ready is None:
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
