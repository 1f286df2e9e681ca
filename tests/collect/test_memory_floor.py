"""Peak memory without perfkit's own floor: the exec helper, GNU time as the reference, cgroups.

The reference is GNU ``/usr/bin/time -f %M``, which forks from a small process and execs the
command, as perfkit's exec helper does. The allocations are a C program compiled here with ``cc``
that mallocs N MiB and touches every page (so the pages are resident).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys

import pytest

from perfkit.collect.process import Spawner, exec_helper

GNU_TIME = "/usr/bin/time"
CC = shutil.which("cc")
needs_time = pytest.mark.skipif(not os.access(GNU_TIME, os.X_OK), reason="GNU time not installed")
needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler: the exec helper is not built")

ALLOC_C = r"""
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    size_t n = (size_t)atoi(argv[1]) << 20;
    char *p = malloc(n);
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    if (argc > 2) usleep(atoi(argv[2]) * 1000);  /* hold the memory a while */
    return p[n / 2] == 1 ? 0 : 1;
}
"""


@pytest.fixture(scope="module")
def spawner():
    with Spawner() as sp:
        yield sp


@pytest.fixture(scope="module")
def alloc(tmp_path_factory):
    if CC is None:
        pytest.skip("no C compiler")
    d = tmp_path_factory.mktemp("alloc")
    (d / "alloc.c").write_text(ALLOC_C)
    subprocess.run([CC, "-O0", "-o", str(d / "alloc"), str(d / "alloc.c")], check=True)
    return str(d / "alloc")


def _gnu_time_kib(argv: list[str]) -> float:
    values = []
    for _ in range(5):
        out = subprocess.run([GNU_TIME, "-f", "%M", *argv], capture_output=True, text=True, check=True)
        values.append(int(out.stderr.strip().splitlines()[-1]))
    return statistics.median(values)


def _perfkit_kib(spawner: Spawner, argv: list[str]) -> float:
    values = []
    for _ in range(5):
        r = spawner.run(argv)
        assert r.ok, r
        values.append(r.max_rss_kib)
    return statistics.median(values)


@needs_cc
def test_the_exec_helper_is_built_and_small():
    helper = exec_helper()
    assert helper.path is not None, helper.reason
    assert 0 < helper.floor_kib < 2048


@needs_cc
@needs_time
@pytest.mark.parametrize("mib", [1, 4, 32])
def test_c_allocation_reads_as_gnu_time_does(spawner, alloc, mib):
    ours, ref = _perfkit_kib(spawner, [alloc, str(mib)]), _gnu_time_kib([alloc, str(mib)])
    assert abs(ours - ref) <= 0.05 * ref, (ours, ref)
    assert ours >= mib * 1024  # the touched pages themselves


@needs_cc
@needs_time
def test_python_pass_reads_as_gnu_time_does(spawner):
    argv = [sys.executable, "-c", "pass"]
    ours, ref = _perfkit_kib(spawner, argv), _gnu_time_kib(argv)
    assert abs(ours - ref) <= 0.05 * ref, (ours, ref)


@needs_cc
def test_bin_true_reads_under_3_mib(spawner):
    true = shutil.which("true")
    assert _perfkit_kib(spawner, [true]) < 3 * 1024


@needs_cc
def test_without_the_helper_the_floor_is_the_python_spawner(monkeypatch):
    import perfkit.collect.process as process

    monkeypatch.setenv("PERFKIT_EXEC_HELPER", "0")
    monkeypatch.setattr(process, "_helper_cache", None)
    with Spawner() as sp:
        r = sp.run([shutil.which("true")])
        assert sp.helper.path is None and "PERFKIT_EXEC_HELPER" in sp.helper.reason
        assert r.cgroup_peak_kib is None and sp.cgroup_reason
    # the old floor: the command inherits the Python spawner's high-water mark at exec
    assert r.max_rss_kib >= r.spawner_rss_kib * 0.9 > 3 * 1024


def _memory_cgroup_possible() -> bool:
    return os.geteuid() == 0 and (
        os.path.exists("/sys/fs/cgroup/memory/memory.max_usage_in_bytes")
        or os.path.exists("/sys/fs/cgroup/cgroup.controllers"))


@needs_cc
def test_cgroup_peak_is_the_whole_tree_or_null_with_a_reason(spawner, alloc):
    # two 16 MiB processes at once (each holds it 300 ms): the largest single process is
    # ~16 MiB, the tree ~32 MiB
    r = spawner.run(["/bin/sh", "-c", f"{alloc} 16 300 & {alloc} 16 300 & wait"])
    assert r.ok, r
    if spawner.cgroup_reason is not None:
        assert r.cgroup_peak_kib is None
        assert not _memory_cgroup_possible() or spawner.cgroup_reason
        return
    assert 16 * 1024 <= r.max_rss_kib < 24 * 1024
    assert r.cgroup_peak_kib >= 32 * 1024
    # each run's own peak: a small run after a big one reads small
    small = spawner.run([shutil.which("true")])
    assert small.cgroup_peak_kib < 4 * 1024


def test_a_command_that_cannot_start_is_an_error(spawner, tmp_path):
    script = tmp_path / "x"
    script.write_text("#!/nonexistent/interpreter\n")
    script.chmod(0o755)
    r = spawner.run([str(script)])
    assert r.status == "error" and "cannot start" in r.error
