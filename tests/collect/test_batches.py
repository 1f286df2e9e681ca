"""Rounds run back to back in the spawner (batches), which journals each run itself.

What must not change with batches: the journal's lines, the plan (order, rounds, run numbers),
--fail-fast and --timeout per run, the looks of ``stop_when``, and that an interrupted or killed
collection keeps every run that finished.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from perfkit.collect import loop as loop_module
from perfkit.collect.hooks import RoundDecision
from perfkit.collect.measure import measure
from perfkit.collect.process import Spawner
from perfkit.data.store import load_folder as load

ROOT = Path(__file__).resolve().parents[2]
COUNTER = 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; '


def _lines(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "runs.jsonl").read_text().splitlines()]


def _sizes(monkeypatch) -> list[int]:
    """Record the number of runs in every batch the loop sends."""
    sizes: list[int] = []
    original = Spawner.run_batch

    def spy(self, runs, **kw):
        sizes.append(len(runs))
        return original(self, runs, **kw)

    monkeypatch.setattr(Spawner, "run_batch", spy)
    return sizes


def test_a_batch_journals_what_one_run_at_a_time_journals(tmp_path, monkeypatch):
    variants = {"a": ["/bin/true"], "b": ["/bin/sh", "-c", "exit 0"]}
    sizes = _sizes(monkeypatch)
    batched = measure(variants, out=tmp_path / "batched", runs=6, warmup=1, seed=3, progress=False)
    assert sizes and max(sizes) > 1  # the runs did go in batches
    sizes.clear()
    single = measure(variants, out=tmp_path / "single", runs=6, warmup=1, seed=3, progress=False,
                     after_run=[lambda ctx: None])  # a hook between runs: one at a time
    assert sizes == []
    for a, b in zip(_lines(tmp_path / "batched"), _lines(tmp_path / "single"), strict=True):
        assert list(a) == list(b)  # the same columns in the same order
        for key in ("variant", "run", "order", "round", "warmup", "traced", "status", "exit_code"):
            assert a[key] == b[key], key
        assert {k: type(v) for k, v in a.items()} == {k: type(v) for k, v in b.items()}
    assert batched.runs.dtypes.to_dict() == single.runs.dtypes.to_dict()
    started = batched.runs["started_at"]
    assert started.is_monotonic_increasing
    assert abs(started.iloc[-1] - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=1)


def test_batches_are_whole_rounds_growing_while_runs_are_short(tmp_path, monkeypatch):
    sizes = _sizes(monkeypatch)
    ds = measure({"a": ["/bin/true"], "b": ["/bin/true"], "c": ["/bin/true"]},
                 out=tmp_path / "d", runs=80, warmup=2, progress=False)
    assert sum(sizes) == len(ds.runs) == 3 * 82
    assert sizes[0] == 3 and all(size % 3 == 0 for size in sizes), sizes
    assert max(sizes) >= 12, sizes  # /bin/true: many rounds fit in a quarter second
    assert max(sizes) <= loop_module.MAX_BATCH_RUNS
    rounds = ds.runs.groupby("round")["variant"].apply(sorted)
    assert all(names == ["a", "b", "c"] for names in rounds)


def test_with_stop_when_every_batch_is_one_round_and_every_round_is_looked_at(tmp_path, monkeypatch):
    sizes = _sizes(monkeypatch)
    looked: list[tuple[int, int]] = []

    def stop_when(runs, rounds):
        looked.append((rounds, len(runs)))
        return RoundDecision(stop="enough" if rounds == 7 else None)

    ds = measure({"a": ["/bin/true"], "b": ["/bin/true"]}, out=tmp_path / "d", runs=50, warmup=1,
                 progress=False, stop_when=stop_when)
    assert looked == [(r, 2 * (r + 1)) for r in range(1, 8)]  # warm-ups are in the runs given
    assert sizes == [2] * 8
    assert len(ds.runs) == 16 and ds.meta["decided"] == "enough"


def test_fail_fast_ends_a_batch_at_its_failing_run(tmp_path):
    # batches of 1, then up to 4 and 16 runs: run 7 is inside the third
    ds = measure({"a": ["/bin/sh", "-c", COUNTER + '[ "$n" -ne 7 ]']}, out=tmp_path / "d",
                 runs=40, cwd=tmp_path, fail_fast=True, progress=False)
    assert ds.runs["status"].tolist() == ["ok"] * 6 + ["failed"]
    assert ds.meta["stopped"] == "--fail-fast: variant 'a' run 7 failed with exit code 1"
    assert len(_lines(tmp_path / "d")) == 7


def test_a_timeout_inside_a_batch_is_that_runs_own_and_the_batch_goes_on(tmp_path):
    started = time.monotonic()
    ds = measure({"a": ["/bin/sh", "-c", COUNTER + '[ "$n" -ne 3 ] || exec sleep 30']},
                 out=tmp_path / "d", runs=6, cwd=tmp_path, timeout=0.5, progress=False)
    assert time.monotonic() - started < 20
    assert ds.runs["status"].tolist() == ["ok", "ok", "timeout", "ok", "ok", "ok"]
    assert ds.runs["wall_s"].iloc[2] == pytest.approx(0.5, abs=0.3)


def test_a_run_that_cannot_start_is_journaled_in_its_place(tmp_path):
    journal = tmp_path / "runs.jsonl"
    journal.touch()
    tags = [{"variant": "x", "order": i} for i in (1, 2, 3)]
    with Spawner() as sp:
        results = sp.run_batch(list(zip(tags, [["/bin/true"], ["/no/such/command"], ["/bin/true"]])),
                               journal=journal)
    assert [r.status for r in results] == ["ok", "error", "ok"]
    assert "cannot start '/no/such/command'" in results[1].error
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [(line["order"], line["status"]) for line in lines] == [(1, "ok"), (2, "error"), (3, "ok")]
    assert lines[1]["error"] == results[1].error


def test_a_journal_that_cannot_be_written_is_an_error_naming_it(tmp_path):
    with Spawner() as sp, pytest.raises(OSError, match="cannot append to the journal .*missing"):
        sp.run_batch([({"order": 1}, ["/bin/true"])], journal=tmp_path / "missing" / "runs.jsonl")


def test_an_exec_helper_killed_during_a_run_is_that_runs_error_and_the_next_goes_on():
    with Spawner() as sp:
        if sp.helper.path is None:
            pytest.skip(f"no exec helper: {sp.helper.reason}")
        killed = sp.run(["/bin/sh", "-c", "kill -9 $PPID; sleep 0.2"])  # its parent: the helper
        assert killed.status == "error", killed
        assert "exec helper ended during the run" in killed.error
        assert sp.run(["/bin/true"]).ok


def _spawner_module():
    spec = importlib.util.spec_from_file_location(
        "perfkit_spawner_script", ROOT / "perfkit" / "collect" / "_spawner.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_spawners_times_are_the_writers_iso_format():
    iso_utc = _spawner_module().iso_utc
    rng = random.Random(7)
    epochs = [1_700_000_000.0, 1_700_000_000.5, 0.25] + [rng.uniform(1e9, 2e9) for _ in range(5000)]
    for epoch in epochs:
        assert iso_utc(epoch) == dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat(), epoch


SCRIPT = textwrap.dedent("""
    import sys
    from perfkit.collect.measure import measure, CollectionInterrupted
    try:
        measure({"a": ["/bin/sh", "-c", "exec sleep 0.0213"], "b": ["/bin/sh", "-c", "exec sleep 0.0213"]},
                out=sys.argv[1], runs=5000, progress=False)
    except CollectionInterrupted as exc:
        print(len(exc.dataset.runs))
        sys.exit(130)
""")


def _no_process_left(marker: str) -> bool:
    for _ in range(100):
        left = []
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    if marker.encode() in fh.read():
                        left.append(pid)
            except OSError:
                continue
        if not left:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("how", ["ctrl-c", "kill -9"])
def test_a_collection_stopped_in_a_batch_keeps_every_finished_run(tmp_path, how):
    out = tmp_path / "d"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(out)], stdout=subprocess.PIPE,
                            text=True, start_new_session=True, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not (out / "runs.jsonl").exists()
                                           or len((out / "runs.jsonl").read_bytes()) < 20_000):
        time.sleep(0.05)  # some batches done, one under way
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends: perfkit and its spawner
    else:
        os.kill(proc.pid, signal.SIGKILL)
    stdout, _ = proc.communicate(timeout=30)
    assert _no_process_left("sleep 0.0213")
    journal = _lines(out)  # every line whole
    assert len(journal) > 20
    assert [line["order"] for line in journal] == list(range(1, len(journal) + 1))
    assert len(load(out).runs) == len(journal)
    if how == "ctrl-c":
        assert proc.returncode == 130 and int(stdout) == len(journal)
