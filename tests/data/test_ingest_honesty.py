"""Ingest honesty: the manifest's span under its own name, perfkit's warm-up and traced flags kept
when a measured workspace is ingested, and a file reached by a symlink counted once."""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

import perfkit
from perfkit.cli import main as cli_main
from perfkit.collect.measure import measure
from perfkit.data.orchestrator import read_measured, read_orchestrator, record_measured
from perfkit.data.schema import timed_rows
from perfkit.data.sources import load_source
from tests.data.test_orchestrator import small_manifest, write_run

FAKE = Path(__file__).resolve().parents[1] / "fixtures" / "orchestrator" / "fake_orchestrator.py"


def _three_runs(ws: Path) -> None:
    for i, run_id in enumerate(["r1", "r2", "r3"]):
        write_run(ws, run_id, small_manifest(run_id, started_at=f"2026-01-01T00:0{i}:00.000Z",
                                             completed_at=f"2026-01-01T00:0{i}:01.250Z"))


def test_span_has_its_own_name_and_flags_are_kept(tmp_path, capsys):
    ws = tmp_path / "ws"
    _three_runs(ws)
    record_measured(ws, [{"task": "t", "run_id": "r1", "warmup": True, "traced": False},
                         {"task": "t", "run_id": "r3", "warmup": False, "traced": True}])
    record_measured(ws, [{"task": "t", "run_id": "r1", "warmup": True, "traced": False}])
    assert read_measured(ws) == {("t", "r1"): {"warmup": True, "traced": False},
                                 ("t", "r3"): {"warmup": False, "traced": True}}
    assert cli_main(["ingest", str(ws), "--out", str(tmp_path / "ds")]) == 0
    capsys.readouterr()
    runs = perfkit.load(tmp_path / "ds").runs.set_index("run_id")
    assert runs["manifest_span_s"].tolist() == [1.25, 1.25, 1.25]
    assert runs["wall_s"].isna().all()
    assert runs["warmup"].to_dict() == {"r1": True, "r2": False, "r3": False}
    assert runs["traced"].to_dict() == {"r1": False, "r2": False, "r3": True}
    # a workspace read directly keeps them too; only r2 is a timed run
    direct = load_source(ws).runs
    assert timed_rows(direct)["run_id"].tolist() == ["r2"]


def test_a_file_reached_by_a_symlink_counts_once(tmp_path):
    ws = tmp_path / "ws"
    manifest = write_run(ws, "r1", small_manifest("r1"))
    folder = manifest.parent
    (folder / "out.log").write_bytes(b"x" * 1000)
    os.symlink("manifest.json", folder / "latest-manifest.json")
    os.symlink("out.log", folder / "current.log")
    os.link(folder / "out.log", folder / "hard.log")
    data = read_orchestrator(ws)
    distinct = manifest.stat().st_size + 1000
    run = data.runs.iloc[0]
    assert int(run["artifact_bytes"]) == distinct and int(run["artifact_files"]) == 2
    # every name is still listed as an artifact
    assert len(data.artifacts) == 5


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_a_measured_workspace_keeps_warmup_and_traced_runs_apart_when_ingested(tmp_path, capsys):
    ws = tmp_path / "ws"
    ws.mkdir()
    command = shlex.join([sys.executable, str(FAKE), "1"])
    measure({"fake": command}, out=tmp_path / "measured", runs=2, warmup=1, trace_runs=1,
            cwd=ws, orchestrator_root=ws, progress=False)
    assert cli_main(["ingest", str(ws), "--out", str(tmp_path / "ingested")]) == 0
    capsys.readouterr()
    runs = perfkit.load(tmp_path / "ingested").runs
    # each measured run made a run and its sub-run: 1 warm-up, 2 timed, 1 traced → 8 folders
    top = runs[runs["parent_run_id"].isna()]
    assert len(runs) == 8 and len(top) == 4
    assert int(top["warmup"].sum()) == 1 and int(top["traced"].sum()) == 1
    assert int(runs["warmup"].sum()) == 2 and int(runs["traced"].sum()) == 2
    assert len(timed_rows(runs)) == 4
    # the first run folder is the warm-up's, the last the traced run's
    top = top.sort_values("started_at")
    assert bool(top["warmup"].iloc[0]) and bool(top["traced"].iloc[-1])
    assert isinstance(top["started_at"].iloc[0], pd.Timestamp)
