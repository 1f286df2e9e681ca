"""The real orchestrator: manifests of one structure across runs, and a stage that fails sometimes
shown with its failure rate and interval."""

from __future__ import annotations

import json
import subprocess

import pytest

from perfkit.present.reliability_view import reliability

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# `flaky` fails when the run's counter file says so: runs 2 and 4 of 5 (a known truth, no clock)
CONFIG = {"pipelines": [{"id": "p", "title": "P", "stages": [
    {"kind": "command", "id": "prep", "title": "Prep", "command": "echo prep"},
    {"kind": "command", "id": "flaky", "title": "Flaky",
     "command": "n=$(cat n); echo $((n+1)) > n; [ $((n % 2)) -eq 0 ]"},
]}, {"id": "steady", "title": "Steady", "stages": [
    {"kind": "command", "id": "one", "title": "One", "command": "echo one"},
    {"kind": "command", "id": "two", "title": "Two", "command": "sleep 0.01 && echo two"},
]}]}


def test_real_orchestrator_manifest_structure_and_stage_failure_rate(orchestrator_bin, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "codex.orchestrator.json").write_text(json.dumps(CONFIG))
    (ws / "n").write_text("0\n")
    for pipeline in ("p", "steady"):
        for _ in range(5):
            subprocess.run([str(orchestrator_bin), "start", pipeline, "--format", "json",
                            "--task", "t"], cwd=ws, capture_output=True, timeout=120)
    report = reliability(ws)
    # every run of the steady pipeline: one structure after masking. (Their normalised contents
    # still differ: orchestrator 0.2.1 writes per-run context digests under memory.* and a
    # workspace-wide counter control_plane.drift.total_samples that grows by one per run.)
    man = report.manifests.set_index("variant")
    assert man.loc["steady", "runs"] == 5
    assert man.loc["steady", "structures"] == 1 and man.loc["steady", "consistent"], man
    # a failed run's manifest has another shape than a succeeded one's: p has both
    assert man.loc["p", "structures"] == 2 and not man.loc["p", "consistent"], man
    stages = report.stages.set_index("stage")
    flaky = stages.loc["flaky"]
    assert (flaky["runs"], flaky["failed"]) == (5, 2)
    assert flaky["failed_low"] < 0.4 < flaky["failed_high"]
    assert report.stages.iloc[0]["stage"] == "flaky"
    assert stages.loc["prep", "failed"] == 0
    assert "flaky" in report.text() and "2 of 5 runs" in report.text()
    # the same manifests as the outputs table (no flag): one structure per pattern for steady
    outputs = report.outputs
    steady = outputs[(outputs["variant"] == "steady") & (outputs["kind"] == "json")]
    assert len(steady) == 1 and steady.iloc[0]["runs"] == 5, outputs
    assert steady.iloc[0]["structures"] == 1
