"""The traced pass: strace's text → exact counts (pure parser), globs, and real strace runs."""

from __future__ import annotations

import gzip
import shutil
import sys
from pathlib import Path

import pytest

from perfkit.collect.strace import glob_to_regex, parse_strace, unescape
from perfkit.collect.trace import STRACE_INSTALL_HINT, trace_run
from perfkit.errors import TracerMissing, UsageError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

DATA = FIXTURES / "orchestrator"
# strace-plain.txt.gz: `strace -f -qq --seccomp-bpf -y -e trace=<TRACED_SYSCALLS>` of
# `codex-orchestrator start plain --task fixture-task` (v0.2.1) run in /tmp/orchx/ws.
REAL_CWD = "/tmp/orchx/ws"
REAL_RUN = "/tmp/orchx/ws/.runs/fixture-task/cli/2026-11-24T15-10-58-386Z-8d33eafa"

needs_strace = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


@pytest.mark.parametrize(
    "pattern, path, expected",
    [
        ("**/manifest.json", "manifest.json", True),
        ("**/manifest.json", "a/b/manifest.json", True),
        ("**/manifest.json", "a/b/manifest.json.tmp-1", False),
        ("**/manifest.json", "a/xmanifest.json", False),
        (".runs/*/cli/*/manifest.json", ".runs/t/cli/r/manifest.json", True),
        (".runs/*/cli/*/manifest.json", ".runs/t/mcp/r/manifest.json", False),
        (".runs/*/cli/*/manifest.json", ".runs/t/cli/r/x/manifest.json", False),
        ("out/**", "out/t/runs.json", True),
        ("out/**/*.json", "out/runs.json", True),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("a**b", "a/b", False),
        ("a**b", "axxb", True),
        ("*.js[!o]", "x.jsx", True),
        ("*.js[!o]", "x.jso", False),
        ("file?.txt", "file1.txt", True),
        ("file?.txt", "file/.txt", False),
        ("[ab].txt", "b.txt", True),
        ("a+b(1).txt", "a+b(1).txt", True),
        ("weird[", "weird[", True),
    ],
)
def test_glob_semantics(pattern, path, expected):
    assert bool(glob_to_regex(pattern).fullmatch(path)) is expected


def test_unescape_follows_strace_quoting():
    assert unescape(r"we\74ir\76d \"q\"") == 'we<ir>d "q"'
    assert unescape(r"x\ny\\z\x41") == "x\ny\\zA"
    assert unescape(r"\377.bin") == "\udcff.bin"  # a non-UTF-8 byte survives as a surrogate


def test_real_orchestrator_trace():
    text = gzip.open(DATA / "strace-plain.txt.gz", "rt", encoding="utf-8").read()
    assert "<unfinished ...>" in text and "resumed>" in text  # the rejoining is exercised
    counts = parse_strace(
        text,
        cwd=REAL_CWD,
        write_globs={"manifest": "**/manifest.json", "cli_manifest": ".runs/*/cli/*/manifest.json"},
    )
    # Independent count from the raw text: every successful rename onto the run's manifest.
    target = f'"{REAL_RUN}/manifest.json") = 0'
    raw_renames = sum(1 for line in text.splitlines() if line.startswith(tuple("0123456789")) and "rename(" in line and line.endswith(target))
    assert raw_renames == 12
    assert counts.writes["cli_manifest"] == 12
    # + the compat copy under mcp/ (rename) + the plan manifest .runs/<task>/<run>/manifest.json (open)
    assert counts.writes["manifest"] == 14
    ops = [op for op in counts.ops if "manifest" in op.labels]
    assert sorted(op.op for op in ops) == ["open_write"] + ["rename"] * 13
    assert counts.renames == 21 and counts.fsyncs == 0 and counts.opens_write == 45
    assert counts.unresolved == 0
    # every temp file write counts as an open, never as a manifest write
    assert all(not op.labels for op in counts.ops if ".tmp-" in (op.path or ""))
    assert counts.as_record() == {
        "manifest_writes": 14,
        "cli_manifest_writes": 12,
        "fs_opens_write": 45,
        "fs_renames": 21,
        "fs_fsyncs": 0,
    }


HAND = """\
100   openat(AT_FDCWD</w>, "m/manifest.json.tmp", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0644 <unfinished ...>
101   openat(AT_FDCWD</w>, "/w/lib.js", O_RDONLY|O_CLOEXEC) = 20</w/lib.js>
100   <... openat resumed>) = 21</w/m/manifest.json.tmp>
101   rename("/w/m/manifest.json.tmp", "/w/m/manifest.json" <unfinished ...>
100   fsync(21</w/m/manifest.json.tmp>) = 0
101   <... rename resumed>) = 0
100   openat(AT_FDCWD</w>, "m/manifest.json", O_RDONLY) = 22</w/m/manifest.json>
100   openat(AT_FDCWD</w>, "m/manifest.json", O_RDWR) = 23</w/m/manifest.json>
100   openat(AT_FDCWD</w>, "gone/manifest.json", O_WRONLY|O_CREAT, 0644) = -1 ENOENT (No such file or directory)
100   rename("/w/a", "/w/m/manifest.json") = -1 EACCES (Permission denied)
100   openat(AT_FDCWD</w>, "/dev/null", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</dev/null>
100   clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 200
200   chdir("sub") = 0
200   rename("x", "manifest.json") = 0
200   creat("manifest.json", 0644) = 4</w/sub/manifest.json>
100   rename("manifest.json.tmp", "manifest.json") = 0
100   clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, exit_signal=0} => {parent_tid=[300]}, 88) = 300
300   chdir("/w/deep") = 0
100   rename("y", "manifest.json") = 0
100   renameat2(AT_FDCWD</w>, "t", 5</w/m>, "manifest.json", RENAME_NOREPLACE) = 0
100   openat2(AT_FDCWD</w>, "o/manifest.json", {flags=O_WRONLY|O_CREAT, mode=0644, resolve=0}, 24) = 6</w/o/manifest.json>
100   renameat(7, "t", 7, "manifest.json") = 0
100   fdatasync(6</w/o/manifest.json>) = 0
100   fsync(99) = -1 EBADF (Bad file descriptor)
100   --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=200, si_status=0} ---
100   +++ exited with 0 +++
"""


def test_hand_written_trace_covers_every_rule():
    counts = parse_strace(HAND, cwd="/w", write_globs={"manifest": "**/manifest.json", "top": "manifest.json"})
    labelled = [(op.pid, op.syscall, op.path) for op in counts.ops if "manifest" in op.labels]
    assert labelled == [
        (101, "rename", "/w/m/manifest.json"),  # rejoined across another pid's line
        (100, "openat", "/w/m/manifest.json"),  # O_RDWR is a write open; O_RDONLY is not
        (200, "rename", "/w/sub/manifest.json"),  # child inherits /w, then chdir("sub")
        (200, "creat", "/w/sub/manifest.json"),
        (100, "rename", "/w/manifest.json"),  # parent's cwd unchanged by the child's chdir
        (100, "rename", "/w/deep/manifest.json"),  # a CLONE_FS thread's chdir moves its parent
        (100, "renameat2", "/w/m/manifest.json"),  # relative to the new dirfd
        (100, "openat2", "/w/o/manifest.json"),
    ]
    assert counts.writes == {"manifest": 8, "top": 1}
    assert counts.unresolved == 1  # renameat(7, ...) with no -y path: its directory is unknown
    assert counts.renames == 6  # the EACCES one does not count
    assert counts.opens_write == 4  # .tmp, O_RDWR, creat, openat2: not /dev/null, not ENOENT
    assert counts.fsyncs == 2


def test_paths_outside_the_working_directory():
    text = '1 openat(AT_FDCWD</w>, "/elsewhere/manifest.json", O_WRONLY|O_CREAT, 0644) = 3</elsewhere/manifest.json>\n'
    counts = parse_strace(text, cwd="/w", write_globs={"any": "**/manifest.json", "rel": "*/manifest.json", "abs": "/elsewhere/*.json"})
    assert counts.writes == {"any": 1, "rel": 0, "abs": 1}


def test_labels_are_validated():
    with pytest.raises(UsageError, match="label 'bad label'"):
        parse_strace("", cwd="/", write_globs={"bad label": "*"})
    with pytest.raises(UsageError, match="glob of 'x'"):
        parse_strace("", cwd="/", write_globs={"x": ""})


def test_missing_strace_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    with pytest.raises(TracerMissing, match="apt-get install strace"):
        trace_run(["true"], cwd=tmp_path)
    assert "\n" not in STRACE_INSTALL_HINT


@needs_strace
def test_trace_run_counts_a_real_process_tree(tmp_path):
    script = (
        "import os, subprocess, sys\n"
        "for i in range(3):\n"
        "    with open('state/manifest.json.tmp', 'w') as f:\n"
        "        f.write(str(i)); f.flush(); os.fsync(f.fileno())\n"
        "    os.replace('state/manifest.json.tmp', 'state/manifest.json')\n"
        "os.chdir('state')\n"
        "open('manifest.json', 'a').close()\n"
        "subprocess.run(['sh', '-c', 'echo x > ../log.txt; mv ../log.txt manifest.json'], check=True)\n"
        "sys.exit(3)\n"
    )
    (tmp_path / "state").mkdir()
    log = tmp_path / "strace.log"
    counts = trace_run([sys.executable, "-c", script], cwd=tmp_path, write_globs={"manifest": "**/manifest.json"}, keep_log=log)
    assert counts.status == "failed" and counts.exit_code == 3
    assert counts.writes == {"manifest": 5}  # 3 renames + 1 open for append + 1 mv
    assert counts.fsyncs == 3
    assert counts.renames == 4
    assert counts.wall_s > 0 and log.stat().st_size > 0


@needs_strace
def test_trace_run_timeout_and_bad_command(tmp_path):
    counts = trace_run(["sleep", "5"], cwd=tmp_path, timeout=0.3)
    assert counts.status == "timeout" and counts.wall_s < 4
    counts = trace_run(["perfkit-no-such-command"], cwd=tmp_path)
    assert counts.status == "error" and counts.exit_code is None
    with pytest.raises(UsageError, match="`timeout`"):
        trace_run(["true"], timeout=0)
    with pytest.raises(UsageError, match="`argv`"):
        trace_run([])
