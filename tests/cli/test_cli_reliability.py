"""``perfkit reliability``: a dataset or a workspace in, failure modes per stage out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from perfkit.cli import main
from perfkit.data.store import save
from perfkit.errors import EXIT_USAGE

FIXTURE = Path(__file__).parent.parent / "fixtures" / "orchestrator" / "workspace"


def _killed_workspace(tmp_path: Path) -> Path:
    """The fixture workspace with the `plain` run killed during its second stage: the manifest is
    left `in_progress` and the stage `running`, as a SIGKILL leaves them."""
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURE, ws)
    for path in (ws / ".runs").rglob("manifest.json"):
        doc = json.loads(path.read_text())
        if doc["pipeline_id"] == "plain":
            doc["status"], doc["completed_at"] = "in_progress", None
            doc["commands"][1].update(status="running", completed_at=None, exit_code=None)
            path.write_text(json.dumps(doc))
    return ws


def test_workspace_killed_run_counts_its_running_stage_as_unfinished(tmp_path, capsys):
    ws = _killed_workspace(tmp_path)
    assert main(["reliability", str(ws), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    stages = {(s["variant"], s["stage"]): s for s in out["stages"]}
    two = stages[("plain", "two")]
    assert (two["runs"], two["unfinished"], two["ok"], two["timed_out"]) == (1, 1, 0, 0)
    assert out["stages"][0]["stage"] == "two"  # ranked first
    runs = {r["variant"]: r for r in out["runs"]}
    assert runs["plain"]["unfinished"] == 1


def _dataset(tmp_path: Path) -> Path:
    runs = pd.DataFrame({"variant": "v", "run": [1, 2, 3, 4], "order": [1, 2, 3, 4],
                         "status": ["ok", "failed", "ok", "timeout"],
                         "wall_s": [1.0, 1.0, 1.0, 3.0]})
    stages = pd.DataFrame({"variant": "v", "run": [1, 2, 3, 4], "stage": "fetch|<b>",
                           "status": ["succeeded", "failed", "succeeded", "running"],
                           "duration_s": [1.0, 0.5, 1.2, None]})
    save(tmp_path / "ds", runs, stages)
    return tmp_path / "ds"


def test_dataset_text_and_markdown_escape_stage_names(tmp_path, capsys):
    ds = _dataset(tmp_path)
    assert main(["reliability", str(ds)]) == 0
    text = capsys.readouterr().out
    assert "Worst stage: fetch|<b> (v) went wrong in 2 of 4 runs" in text
    assert "25% (5%–70%)" in text  # 1 of 4 failed, Wilson interval
    assert main(["reliability", str(ds), "--format", "markdown"]) == 0
    md = capsys.readouterr().out
    assert "fetch\\|\\<b\\>" in md and "fetch|<b>" not in md


def test_missing_source_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["reliability", str(tmp_path / "nope")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("perfkit: error: ") and err.count("\n") == 1
