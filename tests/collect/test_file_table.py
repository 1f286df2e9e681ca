"""The per-file write table: parsed from strace text (exact), and from a real traced command."""

from __future__ import annotations

import shutil

import pytest

from perfkit.collect.strace import parse_strace
from perfkit.collect.trace import file_rows, trace_run
from perfkit.data.paths import fold_path

LOG = """\
100 execve("/usr/bin/node", ["node", "cli.js", "start"], 0x7ffd /* 3 vars */) = 0
100 openat(AT_FDCWD</ws>, ".runs/t/cli/2026-11-29T01-02-03-456Z-a1b2c3d4/m.json.tmp-100-1", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = 5</ws/.runs/t/cli/2026-11-29T01-02-03-456Z-a1b2c3d4/m.json.tmp-100-1>
100 write(5</ws/.runs/t/cli/2026-11-29T01-02-03-456Z-a1b2c3d4/m.json.tmp-100-1>, "{\\"a\\": 1}"..., 300) = 300
100 pwrite64(5</ws/.runs/t/cli/2026-11-29T01-02-03-456Z-a1b2c3d4/m.json.tmp-100-1>, "x", 1, 0) = 1
100 fsync(5</ws/.runs/t/cli/2026-11-29T01-02-03-456Z-a1b2c3d4/m.json.tmp-100-1>) = 0
100 rename("/ws/.runs/t/cli/2026-11-29T01-02-03-456Z-a1b2c3d4/m.json.tmp-100-1", "/ws/.runs/t/cli/2026-11-29T01-02-03-456Z-a1b2c3d4/m.json") = 0
100 write(1<pipe:[1234]>, "hello", 5) = 5
100 write(2</dev/null>, "x", 1) = 1
100 clone(child_stack=NULL, flags=SIGCHLD) = 101
101 ftruncate(7</ws/log.txt>, 0) = 0
101 write(7</ws/log.txt>, "ab", 2) = 2
101 write(7</ws/log.txt>, "ab", 2) = -1 ENOSPC (No space left on device)
101 execve("/bin/sh", ["sh", "-c", "echo"], 0x1 /* 1 vars */) = 0
101 truncate("log.txt", 10) = 0
"""


def test_writes_bytes_renames_fsyncs_truncates_per_path_and_process():
    counts = parse_strace(LOG, cwd="/ws")
    files = {(p, a): s for (p, a), s in counts.files.items()}
    run = "/ws/.runs/t/cli/2026-11-29T01-02-03-456Z-a1b2c3d4"
    tmp = files[(f"{run}/m.json.tmp-100-1", "node cli.js start")]
    assert (tmp.opens_write, tmp.write_calls, tmp.bytes, tmp.fsyncs, tmp.truncates) == (1, 2, 301, 1, 1)
    target = files[(f"{run}/m.json", "node cli.js start")]
    assert (target.renames_onto, target.writes, target.bytes) == (1, 1, 0)
    # the child inherits its parent's argv until its own execve; a failed write adds nothing
    log_node = files[("/ws/log.txt", "node cli.js start")]
    assert (log_node.truncates, log_node.write_calls, log_node.bytes) == (1, 1, 2)
    assert files[("/ws/log.txt", "sh -c echo")].truncates == 1
    assert not any(p.startswith(("/dev", "pipe")) or not p.startswith("/") for p, _ in files)


def test_rows_fold_run_ids_and_temp_suffixes():
    rows = file_rows(parse_strace(LOG, cwd="/ws"), "v", 1, "/ws")
    patterns = {r["pattern"] for r in rows}
    assert ".runs/t/cli/<run>/m.json" in patterns and ".runs/t/cli/<run>/m.json.tmp-<tmp>" in patterns
    assert fold_path("a/b.json") == "a/b.json"


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_a_real_traced_command(tmp_path):
    script = "for i in 1 2 3; do echo line >> out.log; done; echo x > t.tmp-99123; mv t.tmp-99123 final"
    counts = trace_run(["/bin/sh", "-c", script], cwd=tmp_path)
    assert counts.status == "ok"
    by_path = {}
    for (path, _), stat in counts.files.items():
        by_path.setdefault(path, []).append(stat)
    log = by_path[str(tmp_path / "out.log")]
    assert sum(s.opens_write for s in log) == 3 and sum(s.bytes for s in log) == 15
    assert sum(s.renames_onto for s in by_path[str(tmp_path / "final")]) == 1
