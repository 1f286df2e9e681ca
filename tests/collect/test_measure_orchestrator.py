"""perfkit.measure with --orchestrator-root and the traced pass, on a fast stand-in orchestrator.

The real orchestrator (Node) is exercised in test_orchestrator_integration.py.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from perfkit.cli import main as cli_main
from perfkit.collect.measure import measure
from perfkit.errors import TracerMissing, UsageError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

FAKE = FIXTURES / "orchestrator" / "fake_orchestrator.py"
needs_strace = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


def fake(writes: int, *extra: str) -> str:
    return shlex.join([sys.executable, str(FAKE), str(writes), *extra])


@needs_strace
def test_stages_attached_and_traced_counts(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    ds = measure(
        {"many": fake(4), "few": fake(1)},
        out=tmp_path / "ds",
        runs=2,
        warmup=1,
        cwd=ws,
        orchestrator_root=ws,
        trace_writes={"manifest": "**/manifest.json", "tmp": "**/*.tmp-*"},
        trace_runs=2,
        progress=False,
    )
    runs = ds.runs
    timed = runs[~runs["traced"]]
    traced = runs[runs["traced"]]
    assert len(timed) == 6 and len(traced) == 4
    # traced rows come after every timed run, numbered 1..K per variant
    assert traced["order"].min() > timed["order"].max()
    assert sorted(traced.groupby("variant")["run"].apply(list).to_dict().items()) == [
        ("few", [1, 2]),
        ("many", [1, 2]),
    ]
    # exact counts: WRITES renames of the outer manifest + 1 of the sub-run's
    writes = traced.groupby("variant")["manifest_writes"].agg(set).to_dict()
    assert writes == {"many": {5}, "few": {2}}
    assert traced.groupby("variant")["tmp_writes"].agg(set).to_dict() == {"many": {5}, "few": {2}}
    assert traced.groupby("variant")["fs_renames"].agg(set).to_dict() == {"many": {5}, "few": {2}}
    assert timed["manifest_writes"].isna().all() and timed["fs_renames"].isna().all()
    assert (traced["status"] == "ok").all()
    # every timed run created two run folders (its own and its sub-run)
    assert (timed["orchestrator_runs"] == 2).all() and (timed["orchestrator_problems"] == 0).all()
    assert (timed["orchestrator_manifest_bytes"] > 0).all()
    # stages: 3 of the outer run + 1 of the sub-run per timed run, none for warm-ups
    stages = ds.stages
    assert len(stages) == 4 * 4
    assert set(zip(stages["variant"], stages["run"])) == {("many", 1), ("many", 2), ("few", 1), ("few", 2)}
    assert sorted(stages["stage"].unique()) == ["build", "child", "lint", "test"]
    assert set(stages["pipeline"]) == {"outer", "inner"}
    sub = stages[stages["kind"] == "subpipeline"]
    inner_ids = set(stages.loc[stages["pipeline"] == "inner", "run_id"])
    assert set(sub["sub_run_id"]) == inner_ids and len(inner_ids) == 4
    # stage durations are the manifests' own
    for _, row in stages.iterrows():
        manifest = json.loads((ws / ".runs/demo/cli" / row["run_id"] / "manifest.json").read_text())
        cmd = next(c for c in manifest["commands"] if c["id"] == row["stage"])
        span = (pd.Timestamp(cmd["completed_at"]) - pd.Timestamp(cmd["started_at"])).total_seconds()
        assert row["duration_s"] == pytest.approx(span, abs=1e-6)


def test_orchestrator_root_without_tracing_and_failures(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    ds = measure(
        {"bad": fake(2, "--fail")}, out=tmp_path / "ds", runs=2, cwd=ws, orchestrator_root=ws,
        progress=False,
    )
    assert list(ds.runs["status"]) == ["failed", "failed"]
    assert not ds.runs["traced"].any() and "fs_renames" not in ds.runs.columns
    assert len(ds.stages) == 8 and list(ds.stages["run"].unique()) == [1, 2]


def test_runs_created_by_prepare_are_not_attributed(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    ds = measure(
        {"a": fake(1)}, out=tmp_path / "ds", runs=2, cwd=ws, orchestrator_root=ws,
        prepare=fake(1), progress=False,
    )
    assert (ds.runs["orchestrator_runs"] == 2).all()  # not 4: the prepare's folders are excluded
    assert len(ds.stages) == 2 * 4


def test_bad_arguments(tmp_path, monkeypatch):
    with pytest.raises(UsageError, match="--orchestrator-root .*no such folder"):
        measure({"a": "true"}, out=tmp_path / "ds", orchestrator_root=tmp_path / "nope", progress=False)
    with pytest.raises(UsageError, match="--trace-runs"):
        measure({"a": "true"}, out=tmp_path / "ds", trace_runs=-1, progress=False)
    with pytest.raises(UsageError, match="label 'a b'"):
        measure({"a": "true"}, out=tmp_path / "ds", trace_writes={"a b": "*"}, progress=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no strace on this PATH
    with pytest.raises(TracerMissing, match="apt-get install strace"):
        measure({"a": "/bin/true"}, out=tmp_path / "ds", trace_runs=1, progress=False)
    assert not (tmp_path / "ds").exists()  # refused before anything was written


def test_cli_flags(tmp_path, capsys, monkeypatch):
    ws = tmp_path / "ws"
    ws.mkdir()
    code = cli_main([
        "measure", "--out", str(tmp_path / "ds"), "--runs", "1", "--no-progress", "--cwd", str(ws),
        "--variant", f"a={fake(1)}", "--orchestrator-root", str(ws),
    ])
    assert code == 0
    capsys.readouterr()
    assert cli_main(["measure", "--out", str(tmp_path / "d2"), "--variant", "a=true",
                     "--trace-writes", "nolabel"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["perfkit: error: --trace-writes 'nolabel': expected LABEL=GLOB"]
    monkeypatch.setenv("PATH", str(tmp_path))
    assert cli_main(["measure", "--out", str(tmp_path / "d3"), "--variant", "a=/bin/true",
                     "--trace-writes", "m=**/manifest.json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "strace not found" in err[0] and "apt-get install strace" in err[0]


@needs_strace
def test_cli_traced_pass(tmp_path, capsys):
    ws = tmp_path / "ws"
    ws.mkdir()
    code = cli_main([
        "measure", "--out", str(tmp_path / "ds"), "--runs", "1", "--no-progress", "--cwd", str(ws),
        "--variant", f"a={fake(3)}", "--trace-writes", "manifest=.runs/*/cli/*/manifest.json",
        "--trace-runs", "1",
    ])
    assert code == 0
    from perfkit import load

    runs = load(tmp_path / "ds").runs
    assert runs.loc[runs["traced"], "manifest_writes"].tolist() == [4]
    out = capsys.readouterr().out
    assert "traced pass (strace, 1 runs; exact counts per run):" in out
    assert "  manifest_writes: a 4" in out and "  fs_renames: a 4" in out


@needs_strace
def test_traced_runs_follow_the_prepare_command(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    # the prepare resets the workspace before every run, traced ones included
    ds = measure(
        {"a": fake(2)},
        out=tmp_path / "ds", runs=1, cwd=ws, orchestrator_root=ws, prepare="rm -rf .runs",
        trace_writes={"manifest": "**/manifest.json"}, trace_runs=2, progress=False,
    )
    traced = ds.runs[ds.runs["traced"]]
    assert traced["manifest_writes"].tolist() == [3, 3]
    assert (ds.stages["run"] == 1).all() and len(ds.stages) == 4
    # a prepare that fails once "stop" exists: the traced run is recorded as an error, not run
    ds2 = measure(
        {"a": "touch stop"}, out=tmp_path / "ds2", runs=1, cwd=ws, prepare="test ! -e stop",
        trace_runs=1, progress=False,
    )
    row = ds2.runs[ds2.runs["traced"]].iloc[0]
    assert row["status"] == "error" and "--prepare failed" in row["error"]


def test_orchestrator_root_records_each_run_manifest_as_an_output_without_a_flag(tmp_path):
    from perfkit.analysis.outputs import output_stability
    from perfkit.data.sources import read_outputs

    ws = tmp_path / "ws"
    ws.mkdir()
    ds = measure({"v": fake(1)}, out=tmp_path / "ds", runs=3, cwd=ws, orchestrator_root=ws,
                 progress=False, volatile=["$..title"])
    table = read_outputs(ds)
    assert set(table["source"]) == {"orchestrator:manifest"}
    assert set(table["run"]) == {1, 2, 3} and (table["kind"] == "json").all()
    assert len(table) == 6  # per run: the run's manifest and its sub-run's (another shape)
    st = output_stability(table)
    assert st["pattern"].str.contains("<run>").all() and (st["runs"] == 3).all()
    # the runs' manifests share one structure, the sub-runs' another: two signatures in all
    assert table["signature"].nunique() == 2 and table.groupby("run")["signature"].nunique().eq(2).all()
