"""On the real orchestrator (integration): ``(outside stages)`` is the measured wall time minus the
stages' spans, and ``--track-size`` sees the history file ``runs.json`` grow with every run.

The reference for the stages' spans is the run manifest read with :mod:`json` here (its commands'
``started_at``..``completed_at``; the sub-pipeline runs inside its parent stage), not perfkit's
reader; the reference for the size is ``os.stat`` after the collection.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from perfkit.analysis.hotspots import OUTSIDE, outside_stages, stage_shares
from perfkit.cli import main
from perfkit.data.sources import load

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CONFIG = FIXTURES / "orchestrator" / "codex.orchestrator.json"

pytestmark = pytest.mark.integration


def _covered_s(manifest: dict) -> float:
    """Seconds covered by the union of the manifest's command spans."""
    spans = sorted((pd.Timestamp(c["started_at"]), pd.Timestamp(c["completed_at"]))
                   for c in manifest["commands"] if c.get("started_at") and c.get("completed_at"))
    total, end = 0.0, None
    for a, b in spans:
        if end is not None and a < end:
            a = end
        if b > a:
            total += (b - a).total_seconds()
            end = b if end is None or b > end else end
    return total


def test_outside_stages_and_tracked_history_size(orchestrator_bin, tmp_path, capsys):
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(CONFIG, ws / "codex.orchestrator.json")
    out = tmp_path / "ds"
    command = f"{orchestrator_bin} start quick --format json --task it"
    code = main(["measure", "--out", str(out), "--runs", "4", "--no-progress", "--cwd", str(ws),
                 "--orchestrator-root", str(ws), "--timeout", "120",
                 "--track-size", "runs=out/**/runs.json", "--track-size", "**/metrics.json",
                 command])
    assert code == 0
    text = capsys.readouterr().out
    from perfkit.data.sources import load

    ds = load(out)
    runs = ds.runs.sort_values("order")
    assert (runs["status"] == "ok").all()
    # runs.json after every run, growing every run; the last one as big as the file is now
    sizes = runs["size_runs_bytes"].astype(int).tolist()
    assert all(b > a for a, b in zip(sizes, sizes[1:])), sizes
    runs_json = list(ws.glob("out/**/runs.json"))
    assert len(runs_json) == 1 and sizes[-1] == runs_json[0].stat().st_size
    assert runs["size_metrics_json_bytes"].notna().all()
    assert "  runs: " in text and "per run" in text

    # (outside stages) = measured wall − the stages' spans, per run, within 5 ms
    wall = runs.set_index(["variant", "run"])["wall_s"]
    outside = outside_stages(ds.stages, wall).set_index("run")["duration_s"]
    top = ds.stages[ds.stages["pipeline"] == "quick"]
    assert top["run"].nunique() == 4
    for run, run_id in top.groupby("run")["run_id"].first().items():
        manifest = json.loads((ws / ".runs" / "it" / "cli" / run_id / "manifest.json").read_text())
        expected = float(wall[("cmd1", run)]) - _covered_s(manifest)
        assert outside[run] == pytest.approx(expected, abs=0.005)
        assert outside[run] > 0
    shares = stage_shares(ds.stages, ds.runs)
    assert OUTSIDE in set(shares["stage"])
