"""Hardening of a collection: bad input refused up front, nothing hangs, nothing left running.

Each test here failed (or hung) on the main this branch started from (78c7cdd): see RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import perfkit
from perfkit.collect.measure import measure
from perfkit.collect.process import Spawner
from perfkit.errors import MeasureError, UsageError

PERFKIT = [sys.executable, "-m", "perfkit"]
needs_strace = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


def perfkit_cli(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*PERFKIT, *args], capture_output=True, timeout=timeout)


def one_error_line(proc: subprocess.CompletedProcess, code: int = 2) -> str:
    err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    assert proc.returncode == code, proc.stderr
    assert len(err) == 1 and b"Traceback" not in proc.stderr, proc.stderr
    return err[0]


def alive_with(marker: str) -> list[int]:
    """Pids of processes whose command line contains ``marker``."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as fh:
                    if marker.encode() in fh.read():
                        found.append(int(name))
            except OSError:
                pass
    return found


@pytest.mark.parametrize("argv, what", [
    ([b"--variant", b"a\xffb=true"], "the name: not valid UTF-8"),
    ([b"--variant", b"a=echo \xff"], "the command: not valid UTF-8"),
    ([b"--variant", b"a\x1b[31m=true"], "the name: a control character"),
    ([b"--variant", b"a=echo \x07"], "the command: a control character"),
    ([b"--variant", b"n" * 300 + b"=true"], "over the limit of 200"),
])
def test_names_and_commands_perfkit_cannot_store_are_refused_before_any_run(tmp_path, argv, what):
    out = tmp_path / "ds"
    proc = subprocess.run([*map(os.fsencode, PERFKIT), b"measure", b"--out", os.fsencode(out),
                           b"--runs", b"2", b"--no-progress", *argv],
                          capture_output=True, timeout=60)
    line = one_error_line(proc)
    assert what in line and line.startswith("perfkit: error: --variant")
    assert not (out / "runs.jsonl").exists()


def test_append_with_a_changed_command_is_refused_unless_allowed(tmp_path):
    out = str(tmp_path / "ds")
    assert perfkit_cli("measure", "--out", out, "--runs", "2", "--no-progress",
                       "--variant", "a=true").returncode == 0
    line = one_error_line(perfkit_cli("measure", "--out", out, "--runs", "2", "--no-progress",
                                      "--append", "--variant", "a=sleep 0"))
    assert "another command than the dataset's ('true' there, 'sleep 0' now)" in line
    assert len(perfkit.load(out).runs) == 2
    ok = perfkit_cli("measure", "--out", out, "--runs", "2", "--no-progress", "--append",
                     "--allow-changed-command", "--variant", "a=sleep 0")
    assert ok.returncode == 0, ok.stderr
    meta = json.loads((tmp_path / "ds" / "meta.json").read_text())
    assert meta["variants"]["a"]["command"] == "sleep 0"
    assert meta["variants"]["a"]["previous_commands"] == ["true"]
    # the same command again is an ordinary append
    assert perfkit_cli("measure", "--out", out, "--runs", "1", "--no-progress", "--append",
                       "--variant", "a=sleep 0").returncode == 0


@pytest.mark.parametrize("value", ["3e6", "1e10", "inf", "nan", "0", "-1"])
def test_timeouts_out_of_range_are_one_line_and_nothing_runs(tmp_path, value):
    marker = f"perfkit-timeout-{uuid.uuid4().hex}"
    proc = perfkit_cli("measure", "--out", str(tmp_path / "ds"), "--runs", "1", "--no-progress",
                       f"--timeout={value}", "--variant", f"a=sleep 5 # {marker}", timeout=30)
    assert "--timeout must be a positive number of seconds" in one_error_line(proc)
    assert alive_with(marker) == []


def test_a_huge_timeout_never_crashes_the_spawner_nor_leaves_the_command_running():
    with Spawner() as spawner:
        with pytest.raises(MeasureError, match="timeout must be"):
            spawner.run(["true"], timeout=1e10)
        # a request past poll()'s int range, sent as is: the helper waits in slices
        spawner._lock.acquire()
        try:
            req = {"path": "/bin/sleep", "argv": ["sleep", "0.2"], "cwd": None, "timeout": 3e6,
                   "show_output": False, "env": dict(os.environ)}
            os.write(spawner._wfd, (json.dumps(req) + "\n").encode())
            reply = spawner._read()
        finally:
            spawner._lock.release()
        spawner._env = dict(os.environ)
        assert reply["status"] == "ok" and reply["exit_code"] == 0
        assert spawner.run(["true"]).ok  # and it still serves


def test_measure_api_refuses_a_timeout_over_seven_days(tmp_path):
    with pytest.raises(UsageError, match="at most 604800"):
        measure({"a": "true"}, out=tmp_path / "ds", runs=1, timeout=3e6, progress=False)
    assert not (tmp_path / "ds").exists()


@needs_strace
def test_traced_pass_honours_the_timeout_and_kills_a_daemonised_descendant(tmp_path):
    marker = f"{uuid.uuid4().int % 10**6}.{uuid.uuid4().int % 997}"
    daemon = f"setsid sh -c 'sleep {marker}' < /dev/null > /dev/null 2>&1 & exit 0"
    t0 = time.monotonic()
    ds = measure({"a": daemon}, out=tmp_path / "ds", runs=1, timeout=1.0, trace_runs=1,
                 progress=False)
    took = time.monotonic() - t0
    traced = ds.runs[ds.runs["traced"]]
    assert traced["status"].tolist() == ["timeout"]
    assert took < 30
    time.sleep(0.2)
    assert alive_with(f"sleep {marker}") == []


@needs_strace
def test_traced_pass_streams_stderr_instead_of_holding_it(tmp_path):
    code = (
        "import resource; from perfkit.collect.trace import trace_run\n"
        "rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "trace_run(['sh', '-c', 'echo warm >&2']); before = rss()\n"
        "c = trace_run(['sh', '-c', 'head -c 200000000 /dev/zero >&2; echo last words >&2'])\n"
        "print(c.status, rss() - before, repr(c.stderr[-11:]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    status, grew_kib, tail = proc.stdout.split(maxsplit=2)
    assert status == "ok", proc.stderr
    assert int(grew_kib) < 50_000  # 200 MB of stderr held would grow it by over 195,000 KiB
    assert tail.strip() == repr("last words\n")


@pytest.mark.slow
def test_soak_memory_stays_flat_and_no_descriptor_leaks(tmp_path):
    """A short benchmarks/soak.py (the long one: 5,000 runs)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    try:
        import soak
    finally:
        sys.path.pop(0)
    result = soak.soak(600, tmp_path / "ds")
    assert result["runs"] == 600
    assert result["fds_after"] == result["fds_before"]  # spawner pipes, journals, lock: closed
    assert result["fds_during_max"] <= result["fds_before"] + 8
    assert result["rss_growth_kib"] < 8 * 1024  # nothing kept per run (a row is ~1 KiB)
