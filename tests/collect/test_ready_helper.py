"""The exec helper kept ready ahead of each run, and the memory cgroup the runs share (v1).

The spawner starts the next run's helper while perfkit records the last run; the run's cwd, path and
argv reach it on a pipe, its environment and output redirection when it starts. These tests pin
what must not change with that: each run gets its own cwd, environment and output, a helper that
died while waiting is replaced, none is left behind, and a run's cgroup peak is its own.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time

import pytest

from perfkit.collect.process import Spawner

needs_cc = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler: no exec helper")


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as fh:
            out.update(int(p) for p in fh.read().split())
    return out


def _ready_helper(sp: Spawner) -> int:
    """The helper the spawner keeps ready (its only child between runs)."""
    for _ in range(200):  # it is started just after the last reply
        kids = _children(sp.pid)
        if kids:
            (pid,) = kids
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if b"--serve" in fh.read():  # (not the spawner's copy before the exec)
                    return pid
        time.sleep(0.01)
    raise AssertionError("no helper kept ready")


@needs_cc
def test_alternating_cwds_and_environments_each_reach_their_run(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    script = 'pwd -P >> where; echo "$WHO" >> who'
    with Spawner() as sp:
        assert sp.helper.path is not None, sp.helper.reason
        for i in range(3):
            for d, who in ((a, "x"), (b, "y")):
                env = dict(os.environ, WHO=f"{who}{i}")
                assert sp.run(["/bin/sh", "-c", script], cwd=d, env=env).ok
    assert (a / "where").read_text().split() == [str(a.resolve())] * 3
    assert (b / "where").read_text().split() == [str(b.resolve())] * 3
    assert (a / "who").read_text().split() == ["x0", "x1", "x2"]
    assert (b / "who").read_text().split() == ["y0", "y1", "y2"]


@needs_cc
def test_shown_and_hidden_output_alternate(capfd):
    with Spawner() as sp:
        for i in range(2):
            assert sp.run(["/bin/sh", "-c", f"echo shown-{i}"], show_output=True).ok
            assert sp.run(["/bin/sh", "-c", f"echo hidden-{i}"]).ok
    out = capfd.readouterr().out
    assert "shown-0" in out and "shown-1" in out and "hidden" not in out


@needs_cc
def test_a_ready_helper_that_was_killed_is_replaced():
    with Spawner() as sp:
        assert sp.run(["/bin/true"]).ok
        ready = _ready_helper(sp)
        os.kill(ready, signal.SIGKILL)
        r = sp.run(["/bin/sh", "-c", "exit 3"])
        assert r.status == "failed" and r.exit_code == 3, r
        assert sp.run(["/bin/true"]).ok


@needs_cc
def test_no_helper_is_left_when_the_spawner_ends():
    with Spawner() as sp:
        assert sp.run(["/bin/true"]).ok
        ready = _ready_helper(sp)
        spawner_pid = sp.pid
    for _ in range(200):
        if not os.path.exists(f"/proc/{ready}") and not os.path.exists(f"/proc/{spawner_pid}"):
            break
        time.sleep(0.01)
    assert not os.path.exists(f"/proc/{ready}")


@needs_cc
def test_a_cwd_gone_before_the_run_is_one_error_and_the_spawner_serves_on(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    with Spawner() as sp:
        gone.rmdir()  # past the client's own check: the helper's chdir is what fails
        with sp._lock:
            req = {"path": "/bin/true", "argv": ["true"], "cwd": str(gone), "timeout": None,
                   "show_output": False, "env": dict(os.environ)}
            os.write(sp._wfd, (json.dumps(req) + "\n").encode())
            reply = sp._read()
        sp._env = dict(os.environ)
        assert reply["status"] == "error"
        assert reply["error"] == "cannot start 'true': No such file or directory"
        assert sp.run(["/bin/true"]).ok


@needs_cc
def test_page_cache_left_by_an_earlier_run_is_not_a_later_runs_peak(tmp_path):
    with Spawner() as sp:
        if sp.cgroup_reason is not None:
            pytest.skip(f"no memory cgroup: {sp.cgroup_reason}")
        big = sp.run(["/bin/sh", "-c", f"head -c 33554432 /dev/zero > {tmp_path / 'kept'}"])
        assert big.ok and big.cgroup_peak_kib >= 30 * 1024, big  # the file's page cache
        small = sp.run(["/bin/true"])
        assert small.ok and small.cgroup_peak_kib < 4 * 1024, small
        again = sp.run(["/bin/sh", "-c", f"head -c 16777216 /dev/zero > {tmp_path / 'more'}"])
        assert 15 * 1024 <= again.cgroup_peak_kib < 24 * 1024, again


@needs_cc
def test_an_environment_the_kernel_refuses_is_one_error_and_the_spawner_serves_on():
    with Spawner() as sp:
        assert sp.run(["/bin/true"]).ok
        bad = sp.run(["/bin/true"], env=dict(os.environ, BAD="a\0b"))
        assert bad.status == "error" and "embedded null byte" in bad.error, bad
        assert sp.run(["/bin/true"]).ok
        assert sp.run(["/bin/true"], env=dict(os.environ, GOOD="1")).ok
        assert len(os.listdir(f"/proc/{os.getpid()}/fd")) < 200  # no pipe leaked per attempt


@needs_cc
def test_the_shared_cgroups_high_water_mark_is_reset_before_every_run():
    with Spawner() as sp:
        if sp.cgroup_reason is not None:
            pytest.skip(f"no memory cgroup: {sp.cgroup_reason}")
        peaks = [sp.run(argv).cgroup_peak_kib for argv in (
            ["python3", "-c", "b = b'x' * (64 << 20)"], ["/bin/true"],
            ["python3", "-c", "b = b'x' * (16 << 20)"], ["/bin/true"])]
    big, small, middle, last = peaks
    assert big >= 64 * 1024 and 16 * 1024 <= middle < 40 * 1024, peaks
    assert small < 4 * 1024 and last < 4 * 1024, peaks  # not the mark an earlier run left
