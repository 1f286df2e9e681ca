"""Hardening of the dataset folder: one writer per dataset, journal repair, Parquet rebuilt.

Each test here failed on the main this branch started from (78c7cdd): see RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

from perfkit.data import store
from perfkit.data.schema import runs_frame
from perfkit.data.sources import load
from perfkit.errors import DatasetError

PERFKIT = [sys.executable, "-m", "perfkit"]


def runs(n: int = 3, variant: str = "a", start: int = 1) -> pd.DataFrame:
    return runs_frame([
        {"variant": variant, "run": i, "order": start + i, "status": "ok", "wall_s": 0.1 * i}
        for i in range(1, n + 1)
    ])


def interrupted(folder, n: int = 3) -> None:
    """A folder as a killed collection leaves it: journal of ``n`` runs, incomplete."""
    writer = store.DatasetWriter(folder, {"variants": {"a": {"command": "true"}}})
    for record in runs(n).to_dict("records"):
        writer.add_run(record)
    writer.close(complete=False)


def test_append_after_a_torn_last_line_truncates_it_and_keeps_every_earlier_run(tmp_path):
    folder = tmp_path / "ds"
    interrupted(folder, 3)
    with open(folder / store.RUNS_JOURNAL, "a") as fh:
        fh.write('{"variant": "a", "run": 4, "ord')  # what a full disk or kill -9 leaves
    with pytest.warns(UserWarning, match=r"truncated a torn last line \(\d+ bytes"):
        writer = store.DatasetWriter(folder, {}, append=True)
    for record in runs(2, start=10).to_dict("records"):
        writer.add_run({**record, "run": record["run"] + 3})
    ds = writer.close()
    assert list(ds.runs["run"]) == [1, 2, 3, 4, 5]
    assert (folder / store.RUNS_JOURNAL).read_bytes().endswith(b"\n")


def test_an_unparseable_line_never_makes_the_lines_before_it_unreadable(tmp_path):
    folder = tmp_path / "ds"
    interrupted(folder, 3)
    journal = folder / store.RUNS_JOURNAL
    lines = journal.read_bytes().split(b"\n")
    lines.insert(2, b'{"variant": "a", "run": 9, "ord{"garbage\xff')
    journal.write_bytes(b"\n".join(lines))
    with pytest.warns(UserWarning, match=r"skipped 1 malformed journal line\(s\) \(line 3\)"):
        ds = load(folder)
    assert list(ds.runs["run"]) == [1, 2, 3]


def test_a_corrupted_parquet_beside_an_intact_journal_is_rebuilt_from_it(tmp_path):
    folder = tmp_path / "ds"
    store.save(folder, runs(5))
    (folder / store.RUNS_PARQUET).write_bytes(b"PAR1 this is not parquet any more")
    with pytest.warns(UserWarning, match="unreadable .*rebuilt from the journal"):
        ds = load(folder)
    assert list(ds.runs["run"]) == [1, 2, 3, 4, 5]
    pd.read_parquet(folder / store.RUNS_PARQUET)  # rewritten: readable again
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(load(folder).runs) == 5


def test_a_second_writer_in_another_process_is_refused_naming_the_holder(tmp_path):
    folder = tmp_path / "ds"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from perfkit.data.store import DatasetWriter\n"
         "w = DatasetWriter(sys.argv[1], {}); print('locked', flush=True); time.sleep(60)",
         str(folder)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(DatasetError, match=rf"another perfkit \(pid {holder.pid}\) is writing"):
            store.DatasetWriter(folder, {}, append=True)
    finally:
        holder.kill()
        holder.wait()


def test_a_stale_lock_of_a_killed_writer_is_taken_over(tmp_path, capfd):
    folder = tmp_path / "ds"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from perfkit.data.store import DatasetWriter\n"
         "w = DatasetWriter(sys.argv[1], {}); print('locked', flush=True); time.sleep(60)",
         str(folder)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert (folder / store.LOCK).read_text().strip() == str(holder.pid)  # the file stays behind
    writer = store.DatasetWriter(folder, {}, append=True)
    assert f"took over the stale lock of pid {holder.pid}" in capfd.readouterr().err
    assert (folder / store.LOCK).read_text().strip() == str(os.getpid())
    writer.close()


def test_the_lock_is_released_when_the_writer_closes_even_after_an_error(tmp_path):
    folder = tmp_path / "ds"
    with pytest.raises(RuntimeError):
        with store.DatasetWriter(folder, {}):
            raise RuntimeError("boom")
    store.DatasetWriter(folder, {}, append=True).close()


def test_two_concurrent_measure_commands_on_one_folder_one_is_refused(tmp_path):
    out = tmp_path / "ds"
    go = tmp_path / "go"  # the first collection's runs wait for it: it is surely still running
    wait = f"i=0; while [ ! -e {go} ] && [ $i -lt 3000 ]; do sleep 0.02; i=$((i+1)); done"
    first = subprocess.Popen(
        [*PERFKIT, "measure", "--out", str(out), "--runs", "40", "--no-progress",
         "--variant", f"a={wait}", "--variant", f"b={wait}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (out / store.LOCK).exists() or not (out / store.LOCK).read_text().strip():
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.05)
        second = subprocess.run(
            [*PERFKIT, "measure", "--out", str(out), "--append", "--runs", "5", "--no-progress",
             "--variant", "c=true"], capture_output=True, text=True, timeout=60)
    finally:
        go.touch()
        first.communicate(timeout=120)
    assert second.returncode == 2
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and f"pid {first.pid}" in lines[0], second.stderr
    assert first.returncode == 0
    ds = load(out)
    assert len(ds.runs) == 80
    assert not ds.runs.duplicated(["variant", "run", "warmup", "traced"]).any()
    assert set(ds.meta["variants"]) == {"a", "b"}


@pytest.mark.slow
def test_a_full_disk_during_measure_is_one_line_exit_4_and_keeps_the_finished_runs(tmp_path):
    import resource

    out = tmp_path / "ds"

    def small_files() -> None:  # RLIMIT_FSIZE stands in for a full disk (EFBIG, not ENOSPC)
        resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))

    proc = subprocess.run(
        [*PERFKIT, "measure", "--out", str(out), "--runs", "500", "--no-progress",
         "--variant", "a=true"], capture_output=True, text=True, timeout=120,
        preexec_fn=small_files)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 4, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("perfkit: failed: ") and "kept" in lines[0]
    assert "Traceback" not in proc.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kept = load(out)
    assert 10 < len(kept.runs) < 500
    assert not kept.complete
    meta = json.loads((out / store.META).read_text())
    assert meta["variants"]["a"]["command"] == "true"


def test_a_fifo_named_runs_jsonl_is_refused_not_waited_for(tmp_path):
    folder = tmp_path / "ds"
    interrupted(folder, 2)
    (folder / store.RUNS_JOURNAL).unlink()
    os.mkfifo(folder / store.RUNS_JOURNAL)
    code = ("import sys; from perfkit.data.sources import load\n"
            "from perfkit.errors import DatasetError\n"
            "try:\n    load(sys.argv[1])\nexcept DatasetError as exc:\n    print('refused:', exc)")
    proc = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True,
                          text=True, timeout=60)
    assert proc.stdout.startswith("refused:") and "not a regular file" in proc.stdout, proc.stderr
    with pytest.raises(DatasetError, match="not a regular file"):
        store.DatasetWriter(folder, {}, append=True)


@pytest.mark.parametrize("source", ["demo-fix", "orchestrator-measured"])
def test_the_dataset_a_writer_returns_is_the_one_a_load_reads(tmp_path, source):
    """close() returns the tables it wrote rather than reading them back: the same frames, dtypes
    and meta as a load of the folder (runs appended out of order, and stages, included)."""
    data = load(Path(__file__).resolve().parents[2] / "data" / source)
    writer = store.DatasetWriter(tmp_path / "d", data.meta)
    for record in data.runs.sample(frac=1, random_state=0).to_dict("records"):
        writer.add_run(record)
    writer.add_stages(data.stages.to_dict("records"))
    returned = writer.close()
    loaded = store.load_folder(tmp_path / "d")
    pd.testing.assert_frame_equal(returned.runs, loaded.runs)
    pd.testing.assert_frame_equal(returned.stages, loaded.stages)
    assert returned.meta == loaded.meta and returned.complete
