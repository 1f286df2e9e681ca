"""An orchestrator workspace as a perfkit dataset: the runs/stages contract, saved to a folder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from perfkit.data.orchestrator.manifest import STATUS_TO_CONTRACT, UNFINISHED_STATUSES
from perfkit.data.orchestrator.tables import OrchestratorData, read_orchestrator
from perfkit.data.schema import runs_frame, stages_frame
from perfkit.data.store import save


def to_dataset_tables(data: OrchestratorData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map an ingest onto the runs/stages contract, ready for :func:`perfkit.save`.

    ``variant`` and ``run`` are the ingest's; ``order`` is the global start order; ``status``
    maps succeeded → ok, failed → failed, cancelled → error; ``wall_s`` is the run's duration.
    Runs still queued or in progress have no outcome and are left out (with their stages).
    Extra columns kept: task, run_id, parent_run_id, orchestrator_status, n_stages,
    manifest_bytes, artifact_bytes, artifact_files (the numeric ones become comparable metrics).
    """
    runs = data.runs
    done = runs[~runs["status"].isin(UNFINISHED_STATUSES)].copy()
    out = pd.DataFrame(
        {
            "variant": done["variant"],
            "run": done["run"],
            "order": np.arange(1, len(done) + 1, dtype="int64"),
            "warmup": False,
            "traced": False,
            "started_at": done["started_at"],
            "status": done["status"].map(lambda s: STATUS_TO_CONTRACT.get(s, "error")),
            "wall_s": done["duration_s"],
            "task": done["task"],
            "run_id": done["run_id"],
            "parent_run_id": done["parent_run_id"],
            "orchestrator_status": done["status"],
            "n_stages": done["n_stages"].astype("Int64"),
            "manifest_bytes": done["manifest_bytes"].astype("Int64"),
            "artifact_bytes": done["artifact_bytes"],
            "artifact_files": done["artifact_files"],
        }
    )
    kept = set(zip(done["task"], done["run_id"], done["variant"], done["run"]))
    stages = data.stages
    mask = [
        key in kept
        for key in zip(stages["task"], stages["run_id"], stages["variant"], stages["run"])
    ]
    return runs_frame(out), stages_frame(stages[mask].copy())


def ingest(
    root: str | os.PathLike,
    out: str | os.PathLike,
    *,
    variant_by: Literal["pipeline", "task"] = "pipeline",
    append: bool = False,
) -> tuple[OrchestratorData, Any]:
    """Read ``root`` and write a dataset folder at ``out``.

    Writes the runs/stages of :func:`to_dataset_tables` with :func:`perfkit.data.store.save`, plus
    ``artifacts.parquet`` and ``problems.parquet`` (the full ingest tables) and
    ``orchestrator_runs.parquet`` (every run, unfinished ones included). Returns the ingest and
    the saved :class:`perfkit.Dataset`.
    """

    data = read_orchestrator(root, variant_by=variant_by)
    runs, stages = to_dataset_tables(data)
    root_abs = str(Path(root).resolve())
    meta = {
        "source": "orchestrator",
        "orchestrator_root": root_abs,
        "variants": {
            str(v): {"command": None, "cwd": root_abs} for v in runs["variant"].drop_duplicates()
        },
        "ingest": {
            "runs": len(data.runs),
            "unfinished_runs": int(data.runs["status"].isin(UNFINISHED_STATUSES).sum()),
            "stages": len(data.stages),
            "artifacts": len(data.artifacts),
            "problems": len(data.problems),
        },
    }
    dataset = save(out, runs, stages, meta, append=append)
    folder = Path(out)
    data.artifacts.to_parquet(folder / "artifacts.parquet", index=False)
    data.problems.to_parquet(folder / "problems.parquet", index=False)
    data.runs.to_parquet(folder / "orchestrator_runs.parquet", index=False)
    return data, dataset
