"""The real orchestrator, from npm: measure it, ingest its workspace, count its manifest writes.

Installs ``@kbediako/codex-orchestrator`` (Node >= 20) once per test session into a temporary
folder (the ``orchestrator_bin`` fixture of conftest.py, shared with the study example's test). Skips with the reason when node/npm are missing or the registry cannot be reached;
fails when the install fails for any other reason.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from perfkit.collect.measure import measure
from perfkit.collect.trace import trace_run
from perfkit.data.orchestrator import read_orchestrator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

pytestmark = pytest.mark.integration

CONFIG = FIXTURES / "orchestrator" / "codex.orchestrator.json"
CLI_MANIFEST = ".runs/*/cli/*/manifest.json"
# `orchestrator_bin` (one npm install per session, shared with the study example's test; skips
# without node/npm or network): see conftest.py. PERFKIT_ORCHESTRATOR_VERSION tries another version.


@pytest.fixture
def workspace(tmp_path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(CONFIG, ws / "codex.orchestrator.json")
    return ws


def _raw_manifest_writes(log_prefix: Path) -> int:
    """Count writes of ``.runs/<task>/cli/<run>/manifest.json`` in ``strace -ff`` logs, by regex.

    Independent of perfkit's parser: one file per process means no unfinished/resumed halves.
    """
    target = re.compile(r"/\.runs/[^/]+/cli/[^/]+/manifest\.json$")
    rename = re.compile(r'^renam\w*\(.*"([^"]*)"(?:, [A-Z_|0]+)?\) = 0$')
    opened = re.compile(r'^(?:open|openat|creat)\((?:[^,]*, )?"([^"]*)", ([A-Z_|]+).*\) = \d+')
    count = 0
    for log in log_prefix.parent.glob(log_prefix.name + ".*"):
        for line in log.read_text(errors="replace").splitlines():
            m = rename.match(line)
            if m and target.search(m.group(1)):
                count += 1
                continue
            m = opened.match(line)
            if m and target.search(m.group(1)) and re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC", m.group(2)):
                count += 1
    return count


def test_measure_ingest_and_traced_counts_of_the_real_orchestrator(orchestrator_bin, workspace, tmp_path):
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (apt-get install strace)")
    command = f"{orchestrator_bin} start quick --format json --task it"
    ds = measure(
        {"quick": command},
        out=tmp_path / "ds",
        runs=3,
        cwd=workspace,
        orchestrator_root=workspace,
        trace_writes={"manifest": CLI_MANIFEST},
        trace_runs=1,
        timeout=120,
        progress=False,
    )
    runs = ds.runs
    timed, traced = runs[~runs["traced"]], runs[runs["traced"]]
    assert (runs["status"] == "ok").all(), runs[["status", "exit_code", "error"]]
    assert len(timed) == 3 and len(traced) == 1
    # each timed run created its own folder and its sub-pipeline's
    assert (timed["orchestrator_runs"] == 2).all()

    # --- ingest: every run of the workspace, stages agreeing with the raw manifests ---
    data = read_orchestrator(workspace)
    assert data.problems.empty, data.problems
    assert len(data.runs) == 8  # (3 timed + 1 traced) × (run + sub-run)
    assert set(data.runs["pipeline"]) == {"quick", "inner"}
    assert (data.runs["status"] == "succeeded").all()
    children = data.runs[data.runs["pipeline"] == "inner"]
    assert set(children["parent_run_id"]) <= set(data.runs["run_id"])
    for _, run in data.runs.iterrows():
        raw = json.loads((workspace / run["manifest_path"]).read_text())
        assert raw["version"] == 1 and raw["run_id"] == run["run_id"]
        span = (pd.Timestamp(raw["completed_at"]) - pd.Timestamp(raw["started_at"])).total_seconds()
        assert run["duration_s"] == pytest.approx(span, abs=1e-6)
        stages = data.stages[data.stages["run_id"] == run["run_id"]].sort_values("index")
        assert list(stages["stage"]) == [c["id"] for c in raw["commands"]]
        for (_, st), cmd in zip(stages.iterrows(), raw["commands"]):
            assert st["status"] == cmd["status"] and st["kind"] == cmd["kind"]
            expected = (pd.Timestamp(cmd["completed_at"]) - pd.Timestamp(cmd["started_at"])).total_seconds()
            assert st["duration_s"] == pytest.approx(expected, abs=1e-6)
            if cmd["kind"] == "subpipeline":
                assert st["sub_run_id"] == cmd["sub_run_id"] and st["sub_run_id"] in set(children["run_id"])
    # the measured dataset's stages are the same rows, keyed by variant and run
    assert len(ds.stages) == 3 * 5  # 4 stages of quick + 1 of inner, per timed run
    merged = ds.stages.merge(data.stages, on=["run_id", "stage"], suffixes=("", "_ingest"))
    assert len(merged) == len(ds.stages)
    assert (merged["duration_s"] - merged["duration_s_ingest"]).abs().max() < 1e-9
    assert sorted(ds.stages["run"].unique()) == [1, 2, 3]

    # --- traced count == what strace itself shows (a separate raw strace -ff run) ---
    prefix = tmp_path / "raw" / "strace"
    prefix.parent.mkdir()
    subprocess.run(
        ["strace", "-ff", "-qq", "-o", str(prefix), "-e", "trace=open,openat,creat,rename,renameat,renameat2",
         "--", str(orchestrator_bin), "start", "quick", "--format", "json", "--task", "it"],
        cwd=workspace, check=True, capture_output=True, timeout=120,
    )
    raw_count = _raw_manifest_writes(prefix)
    assert raw_count > 3  # the orchestrator persists its manifests many times per run
    assert traced["manifest_writes"].tolist() == [raw_count]
    # and perfkit's parser, on a log with -f's unfinished/resumed halves, finds the same count
    counts = trace_run([str(orchestrator_bin), "start", "quick", "--format", "json", "--task", "it"],
                       cwd=workspace, write_globs={"manifest": CLI_MANIFEST}, keep_log=tmp_path / "one.log")
    assert counts.status == "ok" and counts.unresolved == 0
    assert counts.writes["manifest"] == raw_count


def test_ingest_cli_on_a_real_workspace(orchestrator_bin, workspace, tmp_path, capsys):
    from perfkit import load
    from perfkit.cli import main as cli_main

    for _ in range(2):
        subprocess.run([str(orchestrator_bin), "start", "plain", "--format", "json", "--task", "it"],
                       cwd=workspace, check=True, capture_output=True, timeout=120)
    # a crash mid-write next to the real runs
    broken = workspace / ".runs/it/cli/crashed"
    broken.mkdir(parents=True)
    real = next((workspace / ".runs/it/cli").glob("2*/manifest.json")).read_bytes()
    (broken / "manifest.json").write_bytes(real[: len(real) // 3])
    assert cli_main(["ingest", str(workspace), "--out", str(tmp_path / "ds")]) == 0
    assert capsys.readouterr().out.startswith("2 runs, 4 stages")
    ds = load(tmp_path / "ds")
    assert list(ds.runs["variant"]) == ["plain", "plain"] and list(ds.runs["run"]) == [1, 2]
    problems = pd.read_parquet(tmp_path / "ds" / "problems.parquet")
    assert problems["reason"].tolist() == ["truncated"]
    artifacts = pd.read_parquet(tmp_path / "ds" / "artifacts.parquet")
    assert {"run", "task", "out"} <= set(artifacts["scope"])
    assert (artifacts["path"] == "out/it/runs.json").any()
