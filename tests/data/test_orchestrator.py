"""Ingesting orchestrator workspaces: real manifests (tests/fixtures/orchestrator) and hand-written bad ones."""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

import perfkit
from perfkit.cli import main as cli_main
from perfkit.data.orchestrator import (
    PROBLEM_REASONS,
    SUPPORTED_MANIFEST_VERSIONS,
    read_orchestrator,
    to_dataset_tables,
)
from perfkit.data.schema import STAGES_COLUMNS
from perfkit.errors import PerfkitError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

DATA = FIXTURES / "orchestrator"
REAL = DATA / "workspace"
TASK = "fixture-task"
PLAIN = "2026-11-24T15-10-58-386Z-8d33eafa"  # pipeline "plain": two commands
PARENT = "2026-11-24T15-11-03-585Z-8dafdb44"  # pipeline "quick": 4 stages, one a sub-pipeline
CHILD = "2026-11-24T15-11-03-731Z-6a99291c"  # pipeline "inner", started by PARENT


def small_manifest(run_id: str, *, pipeline: str = "p", status: str = "succeeded", **extra) -> dict:
    """A hand-written manifest with the fields perfkit reads (schema version 1)."""
    manifest = {
        "version": 1,
        "task_id": "t",
        "run_id": run_id,
        "parent_run_id": None,
        "pipeline_id": pipeline,
        "pipeline_title": "P",
        "status": status,
        "status_detail": None,
        "started_at": "2026-01-01T00:00:00.000Z",
        "completed_at": "2026-01-01T00:00:02.500Z",
        "heartbeat_at": "2026-01-01T00:00:02.500Z",
        "commands": [
            {
                "index": 1,
                "id": "build",
                "title": "Build",
                "command": "make",
                "kind": "command",
                "status": "succeeded",
                "started_at": "2026-01-01T00:00:00.100Z",
                "completed_at": "2026-01-01T00:00:01.350Z",
                "exit_code": 0,
                "sub_run_id": None,
            },
            {
                "index": 2,
                "id": "test",
                "title": "Test",
                "command": "make test",
                "kind": "command",
                "status": "failed",
                "started_at": "2026-01-01T00:00:01.400Z",
                "completed_at": "2026-01-01T00:00:02.400Z",
                "exit_code": 3,
                "sub_run_id": None,
            },
        ],
    }
    manifest.update(extra)
    return manifest


def write_run(root: Path, run_id: str, content, *, task: str = "t") -> Path:
    folder = root / ".runs" / task / "cli" / run_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content, indent=2), encoding="utf-8")
    return path


@pytest.fixture
def good(tmp_path: Path) -> Path:
    write_run(tmp_path, "r1", small_manifest("r1"))
    (tmp_path / ".runs/t/cli/r1/runner.ndjson").write_bytes(b"x" * 100)
    (tmp_path / ".runs/t/cli/r1/commands").mkdir()
    (tmp_path / ".runs/t/cli/r1/commands/01-build.ndjson").write_bytes(b"y" * 40)
    (tmp_path / ".runs/t/metrics.json").write_bytes(b"{}")
    (tmp_path / "out/t").mkdir(parents=True)
    (tmp_path / "out/t/runs.json").write_bytes(b"[]" * 10)
    return tmp_path


def test_real_manifests_runs_and_stages():
    data = read_orchestrator(REAL)
    assert data.problems.empty
    runs = data.runs.set_index("run_id")
    assert set(runs.index) == {PLAIN, PARENT, CHILD}
    assert runs.loc[CHILD, "parent_run_id"] == PARENT
    assert pd.isna(runs.loc[PARENT, "parent_run_id"])
    assert runs.loc[PARENT, "pipeline"] == "quick" and runs.loc[PARENT, "n_stages"] == 4
    assert (runs["manifest_version"] == 1).all()
    # durations agree with the manifests' own timestamps, to the millisecond they carry
    for run_id in (PLAIN, PARENT, CHILD):
        raw = json.loads((REAL / ".runs" / TASK / "cli" / run_id / "manifest.json").read_text())
        assert runs.loc[run_id, "manifest_bytes"] == len(
            (REAL / ".runs" / TASK / "cli" / run_id / "manifest.json").read_bytes()
        )
        expected = (
            pd.Timestamp(raw["completed_at"]) - pd.Timestamp(raw["started_at"])
        ).total_seconds()
        assert runs.loc[run_id, "duration_s"] == pytest.approx(expected, abs=1e-9)
        stages = data.stages[data.stages["run_id"] == run_id].sort_values("index")
        assert list(stages["stage"]) == [c["id"] for c in raw["commands"]]
        for (_, row), cmd in zip(stages.iterrows(), raw["commands"]):
            span = (pd.Timestamp(cmd["completed_at"]) - pd.Timestamp(cmd["started_at"])).total_seconds()
            assert row["duration_s"] == pytest.approx(span, abs=1e-9)
            assert row["kind"] == cmd["kind"]
    # the sub-pipeline stage links to the child run
    sub = data.stages[(data.stages["run_id"] == PARENT) & (data.stages["kind"] == "subpipeline")]
    assert list(sub["sub_run_id"]) == [CHILD]
    assert pd.isna(sub["exit_code"].iloc[0])


def test_stage_and_run_columns_follow_the_contract(good):
    data = read_orchestrator(good)
    assert list(data.stages.columns[: len(STAGES_COLUMNS)]) == list(STAGES_COLUMNS)
    for name, dtype in STAGES_COLUMNS.items():
        assert str(data.stages[name].dtype) == dtype, name
    assert {"run_id", "task", "sub_run_id", "kind"} <= set(data.stages.columns)
    row = data.runs.iloc[0]
    assert row["variant"] == "p" and row["run"] == 1 and row["duration_s"] == pytest.approx(2.5)
    stages = data.stages
    assert list(stages["duration_s"]) == pytest.approx([1.25, 1.0])
    assert list(stages["exit_code"]) == [0, 3]
    assert list(stages["variant"]) == ["p", "p"] and list(stages["run"]) == [1, 1]


def test_artifacts_list_every_file_with_its_scope(good):
    data = read_orchestrator(good)
    art = data.artifacts.set_index("path")
    manifest_bytes = (good / ".runs/t/cli/r1/manifest.json").stat().st_size
    assert art.loc[".runs/t/cli/r1/runner.ndjson", "bytes"] == 100
    assert art.loc[".runs/t/cli/r1/commands/01-build.ndjson", "scope"] == "run"
    assert art.loc[".runs/t/metrics.json", "scope"] == "task"
    assert pd.isna(art.loc[".runs/t/metrics.json", "run_id"])
    assert art.loc["out/t/runs.json", "scope"] == "out" and art.loc["out/t/runs.json", "bytes"] == 20
    run = data.runs.iloc[0]
    assert run["artifact_files"] == 3
    assert run["artifact_bytes"] == 100 + 40 + manifest_bytes
    assert str(data.artifacts["modified_at"].dtype) == "datetime64[ns, UTC]"
    lean = read_orchestrator(good, artifacts=False)
    assert lean.artifacts.empty and pd.isna(lean.runs.iloc[0]["artifact_files"])


def test_runs_are_numbered_per_variant_in_start_order(tmp_path):
    for i, (rid, pipe) in enumerate([("b", "p"), ("a", "q"), ("c", "p")]):
        m = small_manifest(rid, pipeline=pipe)
        m["started_at"] = f"2026-01-01T00:0{i}:00Z"
        m["completed_at"] = f"2026-01-01T00:0{i}:01+00:00"
        write_run(tmp_path, rid, m)
    data = read_orchestrator(tmp_path)
    assert list(data.runs["run_id"]) == ["b", "a", "c"]
    assert list(data.runs["run"]) == [1, 1, 2]
    assert list(data.runs["duration_s"]) == [1.0, 1.0, 1.0]
    by_task = read_orchestrator(tmp_path, variant_by="task")
    assert list(by_task.runs["variant"]) == ["t", "t", "t"] and list(by_task.runs["run"]) == [1, 2, 3]


def test_threads_do_not_change_the_result(tmp_path):
    for i in range(150):  # enough run folders for the thread pool to be used
        write_run(tmp_path, f"r{i:03d}", small_manifest(f"r{i:03d}"), task=f"t{i % 3}")
        (tmp_path / f".runs/t{i % 3}/cli/r{i:03d}/log.txt").write_bytes(b"z" * i)
    write_run(tmp_path, "r-bad", "{", task="t0")
    one = read_orchestrator(tmp_path, workers=1)
    four = read_orchestrator(tmp_path, workers=4)
    for name in ("runs", "stages", "artifacts", "problems"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(four, name))
    assert len(one.runs) == 150 and len(one.artifacts) == 301 and len(one.problems) == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="worker processes need os.fork")
def test_a_failed_worker_process_is_read_again_in_process(tmp_path, monkeypatch):
    import types

    import perfkit.data.orchestrator.pool as orch
    import perfkit.data.orchestrator.rows as rows_mod

    for i in range(100):
        write_run(tmp_path, f"r{i:03d}", small_manifest(f"r{i:03d}"), task=f"t{i % 2}")
        (tmp_path / f".runs/t{i % 2}/cli/r{i:03d}/log.txt").write_bytes(b"z" * i)
    one = read_orchestrator(tmp_path, workers=1)
    forks = []
    real_fork = os.fork

    def counting_fork():
        forks.append(1)
        return real_fork()

    def broken_dumps(*args, **kwargs):  # runs in the child only: the child dies
        raise RuntimeError("worker cannot send its rows")

    monkeypatch.setattr(orch.os, "fork", counting_fork)
    monkeypatch.setattr(rows_mod, "pickle", types.SimpleNamespace(dumps=broken_dumps, loads=None))
    two = read_orchestrator(tmp_path, workers=2)
    assert forks == [1]
    for name in ("runs", "stages", "artifacts", "problems"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(two, name))


def test_a_stuck_worker_process_is_killed_and_its_share_read_in_process(tmp_path, monkeypatch):
    import time
    import types

    import perfkit.data.orchestrator.pool as orch
    import perfkit.data.orchestrator.rows as rows_mod

    for i in range(100):
        write_run(tmp_path, f"r{i:03d}", small_manifest(f"r{i:03d}"), task=f"t{i % 2}")
    one = read_orchestrator(tmp_path, workers=1)

    def stuck_dumps(*args, **kwargs):  # runs in the child only: it never answers
        time.sleep(120)

    monkeypatch.setattr(orch, "CHILD_GRACE_S", 0.5)
    monkeypatch.setattr(rows_mod, "pickle", types.SimpleNamespace(dumps=stuck_dumps, loads=None))
    started = time.monotonic()
    two = read_orchestrator(tmp_path, workers=2)
    assert time.monotonic() - started < 30
    for name in ("runs", "stages", "artifacts", "problems"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(two, name))


def test_runs_in_progress_are_kept(tmp_path):
    m = small_manifest("live", status="in_progress", completed_at=None)
    m["commands"][1].update(status="running", completed_at=None, exit_code=None)
    write_run(tmp_path, "live", m)
    data = read_orchestrator(tmp_path)
    assert data.problems.empty
    run = data.runs.iloc[0]
    assert run["status"] == "in_progress" and pd.isna(run["completed_at"]) and pd.isna(run["duration_s"])
    assert data.stages["status"].tolist() == ["succeeded", "running"]
    assert pd.isna(data.stages["duration_s"].iloc[1])
    # ... but left out of a dataset: it has no outcome yet
    runs, stages = to_dataset_tables(data)
    assert runs.empty and stages.empty


def _bad_cases() -> dict[str, tuple[object, str]]:
    good = json.dumps(small_manifest("x"), indent=2)
    no_status = small_manifest("x")
    del no_status["status"]
    no_cmd_field = small_manifest("x")
    del no_cmd_field["commands"][0]["started_at"]
    wrong_type = small_manifest("x", commands="build, test")
    wrong_cmd_type = copy.deepcopy(small_manifest("x"))
    wrong_cmd_type["commands"][1]["exit_code"] = "3"
    bool_index = small_manifest("x")
    bool_index["commands"][0]["index"] = True
    return {
        "truncated": (good[: len(good) // 2], "truncated"),
        "empty": ("", "truncated"),
        "cut-in-literal": ('{"version": 1, "status": tru', "truncated"),
        "invalid": ('{"version": 1, "run_id": x}', "invalid-json"),
        "not-utf8": (good.replace('"Build"', '"B\udcffuild"').encode("utf-8", "surrogateescape"), "not-utf8"),
        "list": ("[1, 2]", "not-an-object"),
        "missing": (no_status, "missing-field"),
        "missing-in-command": (no_cmd_field, "missing-field"),
        "no-version": ({k: v for k, v in small_manifest("x").items() if k != "version"}, "missing-field"),
        "wrong-type": (wrong_type, "wrong-type"),
        "wrong-command-type": (wrong_cmd_type, "wrong-type"),
        "bool-is-not-int": (bool_index, "wrong-type"),
        "version-2": (small_manifest("x", version=2), "unknown-version"),
        "version-str": (small_manifest("x", version="1"), "unknown-version"),
        "bad-time": (small_manifest("x", started_at="yesterday"), "bad-timestamp"),
    }


@pytest.mark.parametrize("case", sorted(_bad_cases()))
def test_each_malformed_manifest_is_one_problem_and_others_are_read(tmp_path, case):
    content, reason = _bad_cases()[case]
    write_run(tmp_path, "aaa-good", small_manifest("aaa-good"))
    write_run(tmp_path, "bad", content)
    write_run(tmp_path, "zzz-good", small_manifest("zzz-good"))
    data = read_orchestrator(tmp_path)
    assert reason in PROBLEM_REASONS
    assert data.problems.to_dict("records") == [
        {"path": ".runs/t/cli/bad/manifest.json", "reason": reason, "detail": data.problems["detail"].iloc[0]}
    ]
    assert data.problems["detail"].iloc[0]  # a sentence saying what is wrong
    assert sorted(data.runs["run_id"]) == ["aaa-good", "zzz-good"]
    assert len(data.stages) == 4


def test_problem_details_name_the_field(tmp_path):
    m = small_manifest("x")
    m["commands"][1]["exit_code"] = "3"
    write_run(tmp_path, "x", m)
    detail = read_orchestrator(tmp_path).problems["detail"].iloc[0]
    assert "commands[1]" in detail and "'exit_code'" in detail and "string" in detail
    write_run(tmp_path, "x", small_manifest("x", version=7))
    detail = read_orchestrator(tmp_path).problems["detail"].iloc[0]
    assert "7" in detail and str(min(SUPPORTED_MANIFEST_VERSIONS)) in detail


def test_size_cap(tmp_path):
    write_run(tmp_path, "big", small_manifest("big", summary="z" * 5000))
    write_run(tmp_path, "ok", small_manifest("ok"))
    data = read_orchestrator(tmp_path, max_manifest_bytes=3000)
    assert data.problems[["path", "reason"]].values.tolist() == [
        [".runs/t/cli/big/manifest.json", "too-large"]
    ]
    assert list(data.runs["run_id"]) == ["ok"]


def test_run_folder_without_manifest(tmp_path):
    (tmp_path / ".runs/t/cli/crashed").mkdir(parents=True)
    (tmp_path / ".runs/t/cli/crashed/runner.ndjson").write_text("{}\n")
    data = read_orchestrator(tmp_path)
    assert data.problems["reason"].tolist() == ["no-manifest"]
    assert data.artifacts["path"].tolist() == [".runs/t/cli/crashed/runner.ndjson"]


def test_symlinks_leaving_the_root_or_looping_are_problems(tmp_path):
    root = tmp_path / "ws"
    outside = tmp_path / "elsewhere"
    write_run(outside, "o", small_manifest("o"))
    write_run(root, "ok", small_manifest("ok"))
    # a run folder that is a symlink out of the root
    os.symlink(outside / ".runs/t/cli/o", root / ".runs/t/cli/escaped")
    # a manifest that is a symlink out of the root
    (root / ".runs/t/cli/linked").mkdir()
    os.symlink(outside / ".runs/t/cli/o/manifest.json", root / ".runs/t/cli/linked/manifest.json")
    # a symlink loop, and a folder symlink back up the tree
    os.symlink("loop-b", root / ".runs/t/cli/ok/loop-a")
    os.symlink("loop-a", root / ".runs/t/cli/ok/loop-b")
    os.symlink("..", root / ".runs/t/cli/ok/up")
    # a symlink that stays inside the root is followed
    write_run(root, "real", small_manifest("real"))
    (root / ".runs/t/cli/alias").mkdir()
    os.symlink("../real/manifest.json", root / ".runs/t/cli/alias/manifest.json")
    data = read_orchestrator(root)
    problems = dict(zip(data.problems["path"], data.problems["reason"]))
    assert problems == {
        ".runs/t/cli/escaped": "symlink-outside-root",
        ".runs/t/cli/linked/manifest.json": "symlink-outside-root",
        ".runs/t/cli/ok/loop-a": "symlink-loop",
        ".runs/t/cli/ok/loop-b": "symlink-loop",
        ".runs/t/cli/ok/up": "symlink-loop",
    }
    assert sorted(data.runs["run_id"]) == ["ok", "real", "real"]  # alias is a second copy


def test_manifest_that_is_a_folder_is_unreadable(tmp_path):
    (tmp_path / ".runs/t/cli/odd/manifest.json").mkdir(parents=True)
    write_run(tmp_path, "ok", small_manifest("ok"))
    data = read_orchestrator(tmp_path)
    assert data.problems[["path", "reason"]].values.tolist() == [
        [".runs/t/cli/odd/manifest.json", "unreadable"]
    ]
    assert list(data.runs["run_id"]) == ["ok"]


def test_unreadable_manifest_is_a_problem(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("running as root: file permissions do not stop reads")
    path = write_run(tmp_path, "locked", small_manifest("locked"))
    path.chmod(0)
    try:
        data = read_orchestrator(tmp_path)
    finally:
        path.chmod(0o644)
    assert data.problems["reason"].tolist() == ["unreadable"]


def test_bad_root_raises(tmp_path):
    with pytest.raises(PerfkitError, match="no such folder"):
        read_orchestrator(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(PerfkitError, match="not a folder"):
        read_orchestrator(tmp_path / "file")
    with pytest.raises(PerfkitError, match="`variant_by`"):
        read_orchestrator(tmp_path, variant_by="host")
    with pytest.raises(PerfkitError, match="`max_manifest_bytes`"):
        read_orchestrator(tmp_path, max_manifest_bytes=0)
    with pytest.raises(PerfkitError, match="`workers`"):
        read_orchestrator(tmp_path, workers=0)


def test_empty_workspace_and_runs_folder_as_root(tmp_path):
    data = read_orchestrator(tmp_path)
    assert data.runs.empty and data.stages.empty and data.problems.empty
    assert list(data.stages.columns[: len(STAGES_COLUMNS)]) == list(STAGES_COLUMNS)
    shutil.copytree(REAL, tmp_path / "ws")
    via_runs = read_orchestrator(tmp_path / "ws" / ".runs")
    assert len(via_runs.runs) == 3


def test_dataset_tables_and_ingest_cli(tmp_path, capsys):
    ws = tmp_path / "ws"
    shutil.copytree(REAL, ws)
    failed = small_manifest("f", pipeline="plain", status="failed")
    write_run(ws, "f", failed, task=TASK)
    write_run(ws, "broken", "{", task=TASK)
    out = tmp_path / "ds"
    assert cli_main(["ingest", str(ws), "--out", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("4 runs, 9 stages") and "1 problems" in line and str(out) in line
    ds = perfkit.load(out)
    assert ds.complete
    assert sorted(ds.runs["status"]) == ["failed", "ok", "ok", "ok"]
    assert set(ds.runs["variant"]) == {"plain", "quick", "inner"}
    plain = ds.runs[ds.runs["variant"] == "plain"].sort_values("run")
    assert list(plain["run_id"]) == ["f", PLAIN] and list(plain["run"]) == [1, 2]
    assert list(ds.runs["order"]) == [1, 2, 3, 4]
    # the manifest's own span has its own name: nothing measured these runs' wall time
    assert ds.runs["manifest_span_s"].notna().all() and ds.runs["wall_s"].isna().all()
    assert not ds.runs["traced"].any() and not ds.runs["warmup"].any()
    assert len(ds.stages) == 9 and "sub_run_id" in ds.stages.columns
    problems = pd.read_parquet(out / "problems.parquet")
    assert problems["reason"].tolist() == ["truncated"]
    assert len(pd.read_parquet(out / "artifacts.parquet")) >= 4


def test_ingest_cli_errors_are_one_line(tmp_path, capsys):
    assert cli_main(["ingest", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such folder" in err[0]


def test_public_api():
    assert perfkit.read_orchestrator is read_orchestrator
    assert "read_orchestrator" in perfkit.__all__
