"""``perfkit measure``: exit codes, one-line errors, Ctrl-C and kill -9 keep the finished runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import perfkit
from perfkit.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perfkit", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_measure_prints_a_summary_and_writes_the_dataset(tmp_path, capsys):
    out = tmp_path / "ds"
    code = main(["measure", "--out", str(out), "--runs", "3", "--warmup", "1", "--no-progress",
                 "--variant", "fast=exit 0", "--variant", "writer=printf abc", "--seed", "5"])
    assert code == 0
    captured = capsys.readouterr()
    table = captured.out.splitlines()
    assert table[0].split()[:2] == ["variant", "ok/runs"]
    assert any(line.startswith("fast ") and "3/3" in line for line in table)
    assert f"dataset: {out}" in captured.err
    ds = perfkit.load(out)
    assert ds.complete and len(ds.runs) == 8 and ds.meta["measure"]["seed"] == 5


def test_failing_variant_warns_and_exits_non_zero(tmp_path, capsys):
    code = main(["measure", "--out", str(tmp_path / "ds"), "--runs", "2", "--no-progress",
                 "--variant", "ok=exit 0", "--variant", "bad=exit 7"])
    err = capsys.readouterr().err
    assert code == 1
    assert "warning: bad: 2 of 2 runs not ok (2 failed; first: exit code 7)" in err
    assert "no successful run of bad" in err


def test_fail_fast_exit_code(tmp_path, capsys):
    code = main(["measure", "--out", str(tmp_path / "ds"), "--runs", "4", "--no-progress",
                 "--fail-fast", "--variant", "bad=exit 7"])
    assert code == 1
    assert "stopped by --fail-fast" in capsys.readouterr().err
    assert len(perfkit.load(tmp_path / "ds").runs) == 1


def test_no_shell_env_cwd_prepare_timeout_flags(tmp_path, capsys):
    work = tmp_path / "w"
    work.mkdir()
    code = main(["measure", "--out", str(tmp_path / "ds"), "--runs", "2", "--no-progress",
                 "--cwd", str(work), "--env", "X=1", "--env", "Y=a=b", "--timeout", "10",
                 "--prepare", "touch prepared", "--no-shell",
                 "--variant", """v=/bin/sh -c 'test -f prepared && [ "$X" = 1 ] && [ "$Y" = a=b ]'"""])
    assert code == 0, capsys.readouterr().err
    ds = perfkit.load(tmp_path / "ds")
    assert ds.meta["measure"]["env"] == {"X": "1", "Y": "a=b"}
    assert ds.meta["variants"]["v"]["argv"][0] == "/bin/sh"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no variant given"),
        (["--variant", "a=exit 0", "--variant", "a=exit 1"], "--variant a: the name is given twice"),
        (["--variant", "no-equals-sign"], "--variant 'no-equals-sign': expected NAME=COMMAND"),
        (["--variant", "=exit 0"], "expected NAME=COMMAND"),
        (["--variant", "a="], "--variant a: empty command"),
        (["--variant", "a=exit 0", "--runs", "-2"], "--runs must be at least 1"),
        (["--variant", "a=exit 0", "--warmup", "-1"], "--warmup must be at least 0"),
        (["--variant", "a=exit 0", "--timeout", "-1"], "--timeout must be a positive"),
        (["--variant", "a=exit 0", "--cwd", "/nonexistent/perfkit-cwd"], "--cwd /nonexistent/perfkit-cwd"),
        (["--variant", "a=exit 0", "--env", "NOVALUE"], "--env 'NOVALUE': expected KEY=VALUE"),
        (["--variant", "a=exit 0", "--env", "=x"], "expected KEY=VALUE"),
    ],
)
def test_usage_errors_in_process(tmp_path, capsys, args, message):
    out = tmp_path / "ds"
    code = main(["measure", "--out", str(out), "--no-progress", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_dataset_errors_in_process(tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    (other / "meta.json").write_text(json.dumps({"schema_version": 42}))
    blocker = tmp_path / "file"
    blocker.write_text("")
    for out, message in ((other, "schema version 42"), (blocker / "ds", f"--out {blocker / 'ds'}")):
        code = main(["measure", "--no-progress", "--out", str(out), "--variant", "a=exit 0"])
        err = capsys.readouterr().err
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_usage_error_as_a_command_one_line_no_traceback(tmp_path):
    # the contract seen from a shell (one python start-up: perfkit's import is slow on a busy box)
    other = tmp_path / "other"
    other.mkdir()
    (other / "meta.json").write_text(json.dumps({"schema_version": 42}))
    done = _cli("measure", "--no-progress", "--out", str(other), "--variant", "a=exit 0")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("perfkit: error:") and "schema version 42" in lines[0]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_non_writable_out(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code = main(["measure", "--out", str(locked / "ds"), "--variant", "a=exit 0", "--no-progress"])
        assert code == 2 and "--out" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def _journal_lines(out: Path) -> int:
    try:
        return (out / "runs.jsonl").read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _start_long_collection(out: Path, marker: str) -> subprocess.Popen:
    # each run sleeps for `marker` seconds: a unique number to find leftovers in /proc
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfkit", "measure", "--out", str(out), "--runs", "500",
         "--no-progress", "--variant", f"a=sleep {marker}", "--variant", f"b=sleep {marker}"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal job would be
    )
    deadline = time.monotonic() + 60
    while _journal_lines(out) < 3:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "collection did not start"
        time.sleep(0.02)
    return proc


def _leftovers(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                pass
    return found


def _wait_no_leftovers(marker: str) -> list[int]:
    deadline = time.monotonic() + 5
    while _leftovers(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _leftovers(marker)


def test_ctrl_c_keeps_runs_and_exits_130(tmp_path):
    out = tmp_path / "ds"
    marker = f"0.0{uuid.uuid4().int % 10**6:06d}3"
    proc = _start_long_collection(out, marker)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    kept_line = [line for line in err.splitlines() if "interrupted: kept" in line]
    assert len(kept_line) == 1
    ds = perfkit.load(out)
    assert not ds.complete and len(ds.runs) >= 3
    assert f"kept {len(ds.runs)} finished runs" in kept_line[0]
    assert _wait_no_leftovers(marker) == []


def test_kill_9_keeps_the_finished_runs(tmp_path):
    out = tmp_path / "ds"
    marker = f"0.0{uuid.uuid4().int % 10**6:06d}7"
    proc = _start_long_collection(out, marker)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    before = _journal_lines(out)
    ds = perfkit.load(out)
    assert not ds.complete
    assert len(ds.runs) >= 3 and len(ds.runs) == before
    assert (ds.runs["status"] == "ok").all()
    # the spawner notices its parent's death and kills the run in flight
    assert _wait_no_leftovers(marker) == []


def test_summary_warns_about_drift_and_a_first_run_effect(tmp_path, capsys):
    work = tmp_path / "w"
    work.mkdir()
    # "grow": each run sleeps 12 ms longer than the one before (state accumulating between runs;
    # large enough to stand out of the noise of a machine busy with other test runs);
    # "cold": only the first run is slow (a cold cache)
    grow = 'n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; sleep 0.$(printf %03d $((n*12)))'
    cold = "[ -f seen ] || { touch seen; sleep 0.3; }"
    code = main(["measure", "--out", str(tmp_path / "ds"), "--runs", "12", "--no-progress",
                 "--cwd", str(work), "--variant", f"grow={grow}", "--variant", f"cold={cold}"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "warning: grow: wall_s grows with run order" in err and "--prepare" in err
    assert "warning: cold: the first measured run's wall_s" in err and "--warmup" in err
