"""The history store: what an add keeps, refusals that change nothing, concurrent adds, torn
writes, and the Parquet layout read without perfkit (pyarrow's Hive partitioning)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as pads
import pytest

from perfkit.data import history as history_mod
from perfkit.data.history import MARKER, open_history
from perfkit.errors import DatasetError, UsageError


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_add_keeps_every_column_stages_counters_and_host(tmp_path, make_history_dataset):
    h = open_history(tmp_path / "h", create=True)
    for i in range(3):
        h.add(make_history_dataset(f"d{i}", 1 + i / 10, seed=i), "bench", commit=f"c{i}",
              branch="main", when=f"2026-01-0{i + 1}T12:00:00Z")
    assert (tmp_path / "h" / MARKER).is_file()
    table = h.benchmarks()
    assert table.loc[0, "benchmark"] == "bench" and table.loc[0, "commits"] == 3
    runs = h.runs("bench")
    assert len(runs) == 21 and set(runs["commit"]) == {"c0", "c1", "c2"}
    assert json.loads(runs["host"].iloc[0]) == {"cpu": "test"}
    assert {"max_rss_kib", "manifest_writes", "fs_fsyncs"} <= set(h.metrics("bench"))
    assert len(h.stages("bench")) == 36
    series = h.series("bench", "wall_s")
    assert list(series["commit"]) == ["c0", "c1", "c2"] and (series["n"] == 6).all()
    assert series["value"].is_monotonic_increasing
    # exact counters come from the traced run only, timings from the timed runs only
    assert list(h.series("bench", "manifest_writes")["n"]) == [1, 1, 1]


def test_without_a_repository_the_order_is_the_order_of_adding_not_the_commit_time(
        tmp_path, make_history_dataset):
    # a fast-forwarded branch's commit is older than main's last one, yet comes after it
    h = open_history(tmp_path / "h", create=True)
    h.add(make_history_dataset("main"), "b", commit="main-tip", when="2026-02-01")
    h.add(make_history_dataset("branch", seed=1), "b", commit="ff-branch", when="2026-01-01")
    assert list(h.commits("b")["commit"]) == ["main-tip", "ff-branch"]
    assert list(h.series("b", "wall_s")["commit"]) == ["main-tip", "ff-branch"]
    assert h.order("b") == history_mod.BY_ADDED


def test_adding_the_same_dataset_twice_is_refused_and_changes_nothing(tmp_path,
                                                                      make_history_dataset):
    h = open_history(tmp_path / "h", create=True)
    ds = make_history_dataset("d")
    h.add(ds, "bench", commit="c1")
    before = _files(tmp_path / "h")
    with pytest.raises(DatasetError, match="already in the history"):
        h.add(ds, "other", commit="c2")
    assert _files(tmp_path / "h") == before


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(name="bad name"), UsageError, "--name"),
    (dict(name="b", variant="nope"), UsageError, "--variant"),
    (dict(name="b", when="yesterday-ish"), UsageError, "--when"),
    (dict(name="b", commit=None), UsageError, "--commit"),
])
def test_bad_add_arguments_create_nothing(tmp_path, make_history_dataset, kwargs, error, message):
    ds = make_history_dataset("d")
    args = {"commit": "c1", **kwargs}
    h = open_history(tmp_path / "h", create=True)
    with pytest.raises(error, match=message):
        h.add(ds, args.pop("name"), **args)
    assert not (tmp_path / "h").exists()


def test_a_folder_that_is_not_a_history_is_refused(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not a history folder"):
        open_history(tmp_path / "x", create=True)
    with pytest.raises(DatasetError, match="no history here"):
        open_history(tmp_path / "absent")
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / MARKER).write_text('{"layout_version": 99}')
    with pytest.raises(DatasetError, match="another layout version"):
        open_history(tmp_path / "y")


def test_an_empty_history_and_an_unknown_name_or_metric_are_one_clear_error(
        tmp_path, make_history_dataset):
    h = open_history(tmp_path / "h", create=True)
    with pytest.raises(DatasetError, match="empty"):
        h.runs("bench")
    h.add(make_history_dataset("d"), "bench", commit="c1")
    with pytest.raises(UsageError, match="not in the history"):
        h.series("other", "wall_s")
    with pytest.raises(UsageError, match="not a metric of benchmark"):
        h.series("bench", "no_such_metric")
    with pytest.raises(UsageError, match="not a metric"):
        h.series("bench", "commit")


def test_a_crash_while_writing_leaves_the_history_as_it_was(tmp_path, make_history_dataset,
                                                            monkeypatch):
    h = open_history(tmp_path / "h", create=True)
    h.add(make_history_dataset("d0"), "bench", commit="c0")
    before = h.runs("bench")
    second = make_history_dataset("d1", seed=1)

    def crash(src, dst):
        raise OSError("disk pulled")

    monkeypatch.setattr(history_mod.os, "replace", crash)
    with pytest.raises(OSError):
        h.add(second, "bench", commit="c1")
    monkeypatch.undo()
    # the torn add left only a .tmp file, which no reader matches
    assert any(p.name.endswith(".tmp") for p in (tmp_path / "h").rglob("*"))
    assert h.runs("bench").equals(before)
    # and a half-written Parquet file (a copy cut short) is never named *.parquet
    assert not [p for p in (tmp_path / "h").rglob("*.parquet") if p.stat().st_size == 0]


_ADDER = """
import sys
from perfkit.data.history import open_history
from perfkit.data.sources import load
h = open_history(sys.argv[1], create=True)
for folder in sys.argv[3:]:
    h.add(load(folder), "bench", commit=sys.argv[2] + folder[-2:])
"""


@pytest.mark.slow
def test_two_concurrent_adds_lose_nothing(tmp_path, make_history_dataset):
    folders = [str(make_history_dataset(f"d{i:02d}", seed=i).path) for i in range(8)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [subprocess.Popen([sys.executable, "-c", _ADDER, str(tmp_path / "h"), tag, *chunk],
                              env=env)
             for tag, chunk in (("a", folders[0::2]), ("b", folders[1::2]))]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    h = open_history(tmp_path / "h")
    assert len(h.commits("bench")) == 8
    assert sorted(h.runs("bench")["sequence"].unique()) == list(range(1, 9))


def test_the_layout_is_hive_partitioned_parquet_that_other_engines_read(tmp_path,
                                                                        make_history_dataset):
    h = open_history(tmp_path / "h", create=True)
    h.add(make_history_dataset("d0"), "alpha", commit="c0")
    h.add(make_history_dataset("d1", seed=1), "beta", commit="c1")
    table = pads.dataset(tmp_path / "h" / "runs", format="parquet", partitioning="hive").to_table()
    frame = table.to_pandas()
    assert sorted(frame["benchmark"].astype(str).unique()) == ["alpha", "beta"]
    assert len(frame) == 14 and "wall_s" in frame.columns
