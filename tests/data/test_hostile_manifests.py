"""Hostile workspaces: every manifest the ingest cannot use is a ``problems`` row, nothing hangs.

Each case ran end to end through ``perfkit ingest`` (Parquet written and read back): on the main
this branch started from, each aborted the whole ingest with a traceback (exit 1) or hung.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

import perfkit
from perfkit.cli import main as cli_main
from perfkit.data.orchestrator import PROBLEM_REASONS, read_orchestrator
from tests.data.test_orchestrator import small_manifest, write_run


def _with(path: list, value) -> dict:
    """small_manifest("bad") with the field at ``path`` replaced by ``value``."""
    manifest = small_manifest("bad")
    target = manifest
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return manifest


def _raw(path: list, raw: str) -> str:
    """The manifest as text with the field at ``path`` set to the raw JSON ``raw``."""
    marker = "__RAW__"
    return json.dumps(_with(path, marker)).replace(f'"{marker}"', raw)


HOSTILE = {
    "version-list": (_with(["version"], [1]), "unknown-version"),
    "version-object": (_with(["version"], {}), "unknown-version"),
    "index-1e30": (_with(["commands", 0, "index"], 10**30), "out-of-range"),
    "exit-code-1e30": (_with(["commands", 0, "exit_code"], 10**30), "out-of-range"),
    "number-5000-digits": (_raw(["commands", 0, "exit_code"], "9" * 5000), "out-of-range"),
    "year-2500": (_with(["started_at"], "2500-01-01T00:00:00Z"), "out-of-range"),
    "year-9999": (_with(["commands", 1, "completed_at"], "9999-12-31T23:59:59Z"), "out-of-range"),
    "year-0001": (_with(["heartbeat_at"], "0001-01-01T00:00:00Z"), "out-of-range"),
    "nested-100k-closed": ("[" * 100_000 + "]" * 100_000, "too-deep"),
    "nested-100k-truncated": ("[" * 100_000, "too-deep"),
    "surrogate-title": (_raw(["commands", 0, "title"], '"\\ud800"'), "not-utf8"),
    "surrogate-run-id": (_raw(["run_id"], '"x\\udfff"'), "not-utf8"),
    "commands-not-a-list": (_with(["commands"], {"a": 1}), "wrong-type"),
    "command-a-string": (_with(["commands", 1], "make"), "wrong-type"),
    "index-float": (_with(["commands", 0, "index"], 1.5), "wrong-type"),
    "index-bool": (_with(["commands", 0, "index"], True), "wrong-type"),
    "status-number": (_with(["status"], 7), "wrong-type"),
    "title-null": (_with(["pipeline_title"], ["x"]), "wrong-type"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_each_hostile_manifest_is_a_problem_row_and_the_good_run_is_kept(tmp_path, case, capsys):
    content, reason = HOSTILE[case]
    assert reason in PROBLEM_REASONS
    ws = tmp_path / "ws"
    write_run(ws, "good", small_manifest("good"))
    write_run(ws, "bad", content)
    out = tmp_path / "ds"
    assert cli_main(["ingest", str(ws), "--out", str(out)]) == 0, capsys.readouterr().err
    problems = pd.read_parquet(out / "problems.parquet")
    assert problems["reason"].tolist() == [reason], problems.to_dict("records")
    assert problems["path"].tolist() == [".runs/t/cli/bad/manifest.json"]
    assert perfkit.load(out).runs["run_id"].tolist() == ["good"]


def _in_subprocess(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout)


def test_a_fifo_named_manifest_json_does_not_hang_the_ingest(tmp_path):
    ws = tmp_path / "ws"
    write_run(ws, "good", small_manifest("good"))
    fifo_dir = ws / ".runs/t/cli/fifo"
    fifo_dir.mkdir(parents=True)
    os.mkfifo(fifo_dir / "manifest.json")
    link_dir = ws / ".runs/t/cli/link"
    link_dir.mkdir()
    os.mkfifo(ws / "elsewhere.fifo")
    (link_dir / "manifest.json").symlink_to(ws / "elsewhere.fifo")
    proc = subprocess.run([sys.executable, "-m", "perfkit", "ingest", str(ws), "--out",
                           str(tmp_path / "ds")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    problems = pd.read_parquet(tmp_path / "ds" / "problems.parquet")
    assert sorted(problems["path"]) == [".runs/t/cli/fifo/manifest.json",
                                        ".runs/t/cli/link/manifest.json"]
    assert problems["detail"].str.contains("FIFO").all()


def test_runs_folder_that_is_a_symlink_leaving_the_root_is_a_problem(tmp_path):
    outside = tmp_path / "outside"
    write_run(outside, "secret", small_manifest("secret"))
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".runs").symlink_to(outside / ".runs")
    data = read_orchestrator(ws)
    assert data.runs.empty
    assert data.problems[["path", "reason"]].values.tolist() == [[".runs", "symlink-outside-root"]]


def test_a_folder_name_that_is_not_utf8_is_a_problem_not_a_crash(tmp_path, capsys):
    ws = tmp_path / "ws"
    write_run(ws, "good", small_manifest("good"))
    write_run(ws, "ok2", small_manifest("ok2"))
    os.rename(ws / ".runs/t/cli/ok2", os.fsencode(ws / ".runs/t/cli") + b"/bad\xff")
    assert cli_main(["ingest", str(ws), "--out", str(tmp_path / "ds")]) == 0
    problems = pd.read_parquet(tmp_path / "ds" / "problems.parquet")
    assert problems["reason"].tolist() == ["not-utf8"]


def test_ingest_append_of_the_same_workspace_twice_adds_nothing_and_keeps_problems(tmp_path, capsys):
    ws = tmp_path / "ws"
    write_run(ws, "r1", small_manifest("r1"))
    write_run(ws, "broken", "{")
    out = tmp_path / "ds"
    assert cli_main(["ingest", str(ws), "--out", str(out)]) == 0
    write_run(ws, "r2", small_manifest("r2", started_at="2026-01-02T00:00:00Z",
                                       completed_at="2026-01-02T00:00:01Z"))
    write_run(ws, "r3", "[1, 2")
    assert cli_main(["ingest", str(ws), "--out", str(out), "--append"]) == 0
    assert cli_main(["ingest", str(ws), "--out", str(out), "--append"]) == 0
    ds = perfkit.load(out)
    assert sorted(ds.runs["run_id"]) == ["r1", "r2"]
    assert not ds.runs.duplicated(["variant", "run"]).any()
    assert sorted(ds.runs["order"]) == [1, 2]
    assert len(ds.stages) == 4 and not ds.stages.duplicated(["variant", "run", "stage"]).any()
    problems = pd.read_parquet(out / "problems.parquet")
    assert sorted(problems["path"]) == [".runs/t/cli/broken/manifest.json",
                                        ".runs/t/cli/r3/manifest.json"]
