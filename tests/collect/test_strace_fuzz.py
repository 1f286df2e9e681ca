"""Property-based tests (Hypothesis) of the strace parser: any log text gives counts, never raises.

A traced run's log is whatever strace and the command left (a run killed at its timeout cuts it
anywhere; a path can hold any byte): the parser must count what it can and skip the rest.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfkit.collect.strace import TraceCounts, parse_strace

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Pieces of real strace -f -y lines, recombined in any order and cut anywhere.
PIECES = st.sampled_from([
    "1234 ", "99 ", "openat(AT_FDCWD</w>, \"a/manifest.json\", O_WRONLY|O_CREAT|O_TRUNC, 0666)",
    " = 3</w/a/manifest.json>", " = -1 ENOENT (No such file or directory)", " = ?",
    "renameat2(AT_FDCWD</w>, \"t.tmp\", AT_FDCWD</w>, \"manifest.json\", RENAME_NOREPLACE)",
    " <unfinished ...>", "<... openat resumed>", "<... rename resumed>", ") = 0",
    "clone(child_stack=NULL, flags=CLONE_FS|SIGCHLD) = 1235", "chdir(\"/tmp/x\") = 0",
    "fchdir(3</tmp/y>) = 0", "fsync(3</w/f>) = 0", "creat(\"x\", 0644) = 4</w/x>",
    "vfork() = 77", "+++ exited with 0 +++", "--- SIGCHLD {si_signo=SIGCHLD} ---",
    "rename(\"a\", \"b\") = 0", "\"\\x00\\xff\"", "\n", "AT_FDCWD<", ">", "(", ")", "= 0x10",
])


@FUZZ
@given(st.lists(PIECES, max_size=40).map("".join))
def test_any_recombination_of_strace_pieces_is_counted_without_raising(text):
    counts = parse_strace(text, cwd="/w", write_globs={"manifest": "**/manifest.json"})
    assert isinstance(counts, TraceCounts)
    assert counts.writes["manifest"] >= 0


@FUZZ
@given(st.text(max_size=3000))
def test_arbitrary_text_is_counted_without_raising(text):
    counts = parse_strace(text, cwd="/w", write_globs={"any": "**"})
    assert all(v >= 0 for v in counts.writes.values())


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_as_trace_run_reads_them_never_raise(raw):
    text = raw.decode("utf-8", errors="surrogateescape")  # what trace_run reads a log as
    parse_strace(text, cwd="/w", write_globs={"manifest": "**/manifest.json"})
