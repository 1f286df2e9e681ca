"""perfkit.collect.measure: interleaved collection into a dataset folder."""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter

import pytest

import perfkit
from perfkit.collect.measure import (
    CollectionInterrupted,
    RunExtras,
    measure,
    schedule,
)
from perfkit.data.store import RUNS_PARQUET
from perfkit.errors import DatasetError, UsageError

FAST = {"a": "exit 0", "b": ["/bin/sh", "-c", "exit 0"]}


def _m(out, variants=FAST, **kw):
    kw.setdefault("runs", 2)
    kw.setdefault("progress", False)
    return measure(variants, out=out, **kw)


def test_schedule_interleaves_rounds_with_a_seeded_shuffle():
    names = ["a", "b", "c", "d"]
    plan = schedule(names, runs=6, warmup=2, seed=7)
    assert len(plan) == 8 * 4
    for r in range(8):
        round_ = plan[r * 4 : (r + 1) * 4]
        assert sorted(n for n, _ in round_) == names
        assert all(w == (r < 2) for _, w in round_)
    assert plan == schedule(names, runs=6, warmup=2, seed=7)
    assert plan != schedule(names, runs=6, warmup=2, seed=8)
    # the order within rounds really varies
    assert len({tuple(n for n, _ in plan[r * 4 : (r + 1) * 4]) for r in range(8)}) > 1


def test_measure_writes_a_complete_dataset(tmp_path):
    out = tmp_path / "ds"
    ds = _m(out, runs=3, warmup=1, seed=3)
    assert ds.complete and (out / RUNS_PARQUET).exists()
    runs = ds.runs
    assert len(runs) == 2 * 4
    assert list(runs["order"]) == list(range(1, 9))
    assert runs["warmup"].sum() == 2
    assert set(runs.loc[runs["warmup"], "run"]) == {0}
    for v in ("a", "b"):
        timed = runs[(runs["variant"] == v) & ~runs["warmup"]]
        assert sorted(timed["run"]) == [1, 2, 3]
    assert (runs["status"] == "ok").all() and not runs["traced"].any()
    assert runs["wall_s"].gt(0).all() and runs["io_syscw"].notna().all()
    assert runs["started_at"].dt.tz is not None
    # order follows the seeded schedule
    expected = [n for n, _ in schedule(["a", "b"], runs=3, warmup=1, seed=3)]
    assert list(runs["variant"]) == expected
    meta = ds.meta
    assert meta["variants"]["a"]["command"] == "exit 0"
    assert meta["variants"]["a"]["argv"] == ["/bin/sh", "-c", "exit 0"]
    assert meta["variants"]["b"]["shell"] is False
    for key in ("host", "cpu_model", "cpu_count", "kernel", "python", "perfkit_version", "cwd"):
        assert key in meta
    assert meta["measure"]["runs"] == 3 and meta["measure"]["seed"] == 3
    assert meta["spawner_rss_kib"] > 0
    # the public API and load() agree
    again = perfkit.load(out)
    assert len(again.runs) == len(runs) and again.complete


def test_no_shell_splits_the_command(tmp_path):
    ds = _m(tmp_path / "ds", {"q": "/bin/sh -c 'exit 4'"}, runs=1, shell=False)
    row = ds.runs.iloc[0]
    assert row["status"] == "failed" and row["exit_code"] == 4
    assert ds.meta["variants"]["q"]["argv"] == ["/bin/sh", "-c", "exit 4"]


def test_failures_are_recorded_and_collection_goes_on(tmp_path):
    ds = _m(tmp_path / "ds", {"ok": "exit 0", "bad": "exit 3", "gone": ["perfkit-no-such-cmd"]}, runs=2)
    by = ds.runs.groupby("variant")["status"].agg(list).to_dict()
    assert by == {"ok": ["ok", "ok"], "bad": ["failed", "failed"], "gone": ["error", "error"]}
    bad = ds.runs[ds.runs["variant"] == "bad"]
    assert (bad["exit_code"] == 3).all()
    gone = ds.runs[ds.runs["variant"] == "gone"]
    assert gone["exit_code"].isna().all() and gone["error"].str.contains("perfkit-no-such-cmd").all()
    assert ds.complete and "stopped" not in ds.meta


def test_fail_fast_stops_after_the_first_failure(tmp_path):
    ds = _m(tmp_path / "ds", {"ok": "exit 0", "bad": "exit 3"}, runs=5, fail_fast=True)
    assert len(ds.runs) < 10
    assert ds.runs.iloc[-1]["variant"] == "bad" and ds.runs.iloc[-1]["status"] == "failed"
    assert "--fail-fast" in ds.meta["stopped"] and "exit code 3" in ds.meta["stopped"]


def test_timeout_is_recorded_and_collection_goes_on(tmp_path):
    ds = _m(tmp_path / "ds", {"slow": "sleep 20", "fast": "exit 0"}, runs=1, timeout=0.3)
    by = dict(zip(ds.runs["variant"], ds.runs["status"]))
    assert by == {"slow": "timeout", "fast": "ok"}
    slow = ds.runs[ds.runs["variant"] == "slow"].iloc[0]
    assert 0.25 < slow["wall_s"] < 5 and slow["exit_code"] == -9


def test_prepare_cwd_and_env(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    # prepare writes the marker the command needs; env reaches both
    ds = _m(
        tmp_path / "ds",
        {"a": 'test -f marker && [ "$FOO" = bar ]'},
        runs=3,
        warmup=1,
        prepare='echo "$FOO" >> marker',
        cwd=work,
        env={"FOO": "bar"},
    )
    assert (ds.runs["status"] == "ok").all()
    assert (work / "marker").read_text().splitlines() == ["bar"] * 4
    assert ds.meta["measure"]["env"] == {"FOO": "bar"}
    assert ds.meta["measure"]["prepare"] == 'echo "$FOO" >> marker'


def test_failing_prepare_records_an_error_without_running(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    ds = _m(tmp_path / "ds", {"a": "touch ran"}, runs=2, prepare="exit 5", cwd=work)
    assert (ds.runs["status"] == "error").all()
    assert ds.runs["error"].str.contains("--prepare failed").all()
    assert not (work / "ran").exists()


def test_append_continues_numbering(tmp_path):
    out = tmp_path / "ds"
    _m(out, runs=2)
    with pytest.raises(DatasetError, match="already holds a dataset"):
        _m(out, runs=1)
    ds = _m(out, runs=2, append=True)
    a = ds.runs[ds.runs["variant"] == "a"]
    assert sorted(a["run"]) == [1, 2, 3, 4]
    assert list(ds.runs["order"]) == list(range(1, 9))


def test_after_run_and_after_collection_hooks(tmp_path):
    seen = []

    def after_run(ctx):
        seen.append((ctx.variant.name, ctx.run, ctx.warmup, ctx.result.status))
        if ctx.warmup:
            return None
        return RunExtras(
            columns={"hook_value": ctx.order * 10},
            stages=[{"variant": ctx.variant.name, "run": ctx.run, "stage": "s1", "duration_s": 0.5}],
        )

    collected = []

    def after_collection(col):
        collected.append([v.name for v in col.variants])
        # a traced pass would add its own runs here
        col.writer.add_run({"variant": "a", "run": 1, "order": 999, "traced": True, "status": "ok"})

    ds = _m(tmp_path / "ds", runs=2, warmup=1, after_run=[after_run], after_collection=[after_collection])
    assert len(seen) == 6 and sum(w for _, _, w, _ in seen) == 2
    timed = ds.runs[~ds.runs["warmup"] & ~ds.runs["traced"]]
    assert (timed["hook_value"] == timed["order"] * 10).all()
    assert len(ds.stages) == 4 and set(ds.stages["stage"]) == {"s1"}
    assert collected == [["a", "b"]]
    assert ds.runs["traced"].sum() == 1


def test_ctrl_c_keeps_finished_runs(tmp_path):
    calls = []

    def interrupt_third(ctx):
        calls.append(ctx.order)
        if len(calls) == 3:
            raise KeyboardInterrupt

    out = tmp_path / "ds"
    with pytest.raises(CollectionInterrupted) as info:
        _m(out, runs=5, after_run=[interrupt_third])
    assert isinstance(info.value, KeyboardInterrupt)
    kept = info.value.dataset
    assert len(kept.runs) == 2 and not kept.complete
    loaded = perfkit.load(out)
    assert len(loaded.runs) == 2 and not loaded.complete
    assert "interrupted_at" in loaded.meta


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"variants": {}}, "no variant given"),
        ({"variants": {"": "true"}}, "empty variant name"),
        ({"variants": {" a": "true"}}, "surrounding spaces"),
        ({"variants": {"a": "  "}}, "--variant a: empty command"),
        ({"variants": {"a": []}}, "--variant a: an argument list"),
        ({"variants": {"a": 42}}, "--variant a: a command is a string"),
        ({"variants": {"a": "echo 'open"}, "shell": False}, "cannot split"),
        ({"runs": 0}, "--runs must be at least 1"),
        ({"runs": -3}, "--runs must be at least 1"),
        ({"runs": 2.5}, "--runs must be an integer"),
        ({"warmup": -1}, "--warmup must be at least 0"),
        ({"timeout": -1}, "--timeout must be a positive"),
        ({"timeout": 0}, "--timeout must be a positive"),
        ({"timeout": math.nan}, "--timeout must be a positive"),
        ({"timeout": "5"}, "--timeout must be a number"),
        ({"cwd": "/nonexistent/perfkit"}, "--cwd /nonexistent/perfkit: no such directory"),
        ({"cwd": "FILE"}, "not a directory"),
        ({"env": {"A=B": "x"}}, "--env 'A=B'"),
        ({"env": {"": "x"}}, "--env ''"),
        ({"env": {"A": 1}}, "--env A: the value must be a string"),
        ({"prepare": ""}, "--prepare: empty command"),
        ({"seed": "x"}, "--seed must be an integer"),
    ],
)
def test_bad_arguments_raise_before_anything_is_written(tmp_path, kwargs, match):
    out = tmp_path / "ds"
    kwargs = dict(kwargs)
    variants = kwargs.pop("variants", FAST)
    if kwargs.get("cwd") == "FILE":
        kwargs["cwd"] = tmp_path / "a-file"
        kwargs["cwd"].write_text("x")
    with pytest.raises(UsageError, match=match):
        _m(out, variants, **kwargs)
    assert not out.exists()


def test_out_of_another_schema_is_refused(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "meta.json").write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(DatasetError, match="schema version 99"):
        _m(out)


def test_out_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DatasetError, match="--out"):
        _m(blocker / "ds")


def test_warmups_left_out_of_the_summary(tmp_path):
    from perfkit.present.summary import summarize

    ds = _m(tmp_path / "ds", runs=2, warmup=2)
    s = summarize(ds.runs)
    assert list(s["n"]) == [2, 2]
    assert Counter(ds.runs["warmup"]) == {True: 4, False: 4}


def test_journal_lines_are_flushed_at_once_and_fsynced_in_groups(tmp_path, monkeypatch):
    from perfkit.data import store

    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(store.os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    writer = store.DatasetWriter(tmp_path / "ds", {}, fsync_interval_s=0.2)
    synced.clear()  # meta.json's own fsync
    for i in range(20):
        writer.add_run({"variant": "a", "run": i + 1, "order": i + 1, "status": "ok"})
        # flushed: another reader (or a survivor of kill -9) sees the line at once
        assert (tmp_path / "ds" / "runs.jsonl").read_text().count("\n") == i + 1
    assert len(synced) == 0
    deadline = time.monotonic() + 5
    while not synced and time.monotonic() < deadline:
        time.sleep(0.01)
    assert 1 <= len(synced) <= 2  # one timer: runs and stages journals
    synced.clear()
    writer.close()
    assert len(synced) >= 2
