"""perfkit.measure with a workspace per variant (``orchestrator_root={variant: folder}``).

Each variant runs the stand-in orchestrator in a workspace of its own; every run's stages must
come from its own variant's workspace, even when a prepare command empties the other one.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from perfkit.collect.measure import measure
from perfkit.errors import UsageError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

FAKE = FIXTURES / "orchestrator" / "fake_orchestrator.py"


def _in(folder: Path, writes: int) -> str:
    return f"cd {shlex.quote(str(folder))} && exec " + shlex.join([sys.executable, str(FAKE), str(writes)])


def test_each_variant_reads_its_own_workspace(tmp_path):
    aged, fresh = tmp_path / "aged", tmp_path / "fresh"
    aged.mkdir()
    fresh.mkdir()
    ds = measure(
        {"aged": _in(aged, 3), "fresh": _in(fresh, 1)},
        out=tmp_path / "ds",
        runs=3,
        warmup=1,
        cwd=tmp_path,
        # before every run of either variant: `fresh` loses its history, `aged` keeps it
        prepare=f"rm -rf {shlex.quote(str(fresh / '.runs'))}",
        orchestrator_root={"aged": aged, "fresh": fresh},
        progress=False,
    )
    runs = ds.runs
    # each run created its own folder and sub-run folder, in its own workspace only
    assert (runs["orchestrator_runs"] == 2).all()
    aged_ids = {p.name for p in (aged / ".runs" / "demo" / "cli").iterdir()}
    assert len(aged_ids) == 2 * 4  # warm-up + 3 runs, each with a sub-run
    stages = ds.stages
    assert set(zip(stages["variant"], stages["run"])) == {
        (v, r) for v in ("aged", "fresh") for r in (1, 2, 3)
    }
    assert set(stages.loc[stages["variant"] == "aged", "run_id"]) <= aged_ids
    assert not set(stages.loc[stages["variant"] == "fresh", "run_id"]) & aged_ids
    per_run = runs[~runs["warmup"]].groupby("variant")["orchestrator_runs"].sum().to_dict()
    assert per_run == {"aged": 6, "fresh": 6}
    # only the last fresh run survives its reset, and it is the one the last fresh row saw
    fresh_left = {p.name for p in (fresh / ".runs" / "demo" / "cli").iterdir()}
    last_fresh = stages[(stages["variant"] == "fresh") & (stages["run"] == 3)]
    assert set(last_fresh["run_id"]) == fresh_left


def test_a_variant_without_workspace_gets_no_stages(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    ds = measure({"orch": _in(ws, 1), "plain": "true"}, out=tmp_path / "ds", runs=2,
                 orchestrator_root={"orch": ws}, progress=False)
    assert set(ds.stages["variant"]) == {"orch"}
    plain = ds.runs[ds.runs["variant"] == "plain"]
    assert plain["orchestrator_runs"].isna().all()


@pytest.mark.parametrize(
    ("roots", "message"),
    [
        ({"nope": "."}, r"--orchestrator-root: no variant named 'nope'"),
        ({}, r"--orchestrator-root: the mapping of variants to workspaces is empty"),
        ({"a": "/no/such/folder"}, r"--orchestrator-root /no/such/folder: no such folder"),
    ],
)
def test_bad_mapping_is_refused_before_anything_runs(tmp_path, roots, message):
    with pytest.raises(UsageError, match=message):
        measure({"a": "true"}, out=tmp_path / "ds", runs=1, orchestrator_root=roots, progress=False)
    assert not (tmp_path / "ds").exists()
