"""An orchestrator workspace as a perfkit dataset: the runs/stages contract, saved to a folder."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from perfkit.data.orchestrator.flags import read_measured
from perfkit.data.orchestrator.manifest import STATUS_TO_CONTRACT, UNFINISHED_STATUSES
from perfkit.data.orchestrator.tables import OrchestratorData, read_orchestrator
from perfkit.data.outputs import manifest_rows
from perfkit.data.schema import OUTPUTS_TABLE, outputs_frame, runs_frame, stages_frame
from perfkit.data.store import dataset_lock, is_dataset, load_folder, save, write_parquet_atomic
from perfkit.errors import DatasetError


def to_dataset_tables(
    data: OrchestratorData, flags: Mapping[tuple[str, str], Mapping[str, bool]] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map an ingest onto the runs/stages contract, ready for :func:`perfkit.save`.

    ``variant`` and ``run`` are the ingest's; ``order`` is the global start order; ``status``
    maps succeeded → ok, failed → failed, cancelled → error; ``manifest_span_s`` is the run's own span as its manifest
    records it (not ``wall_s``: nothing measured the process, whose start and exit lie outside it).
    Runs still queued or in progress have no outcome and are left out (with their stages).
    ``flags`` (:func:`perfkit.data.orchestrator.flags.read_measured` of the workspace) marks the
    runs ``perfkit measure`` made as warm-ups or under strace: ``warmup``/``traced`` are kept, so
    summaries and comparisons leave them out as they do in the measured dataset (``run`` keeps
    the ingest's numbering, unique within the variant).
    Extra columns kept: task, run_id, parent_run_id, orchestrator_status, n_stages,
    manifest_bytes, artifact_bytes, artifact_files (the numeric ones become comparable metrics).
    """
    runs = data.runs
    done = runs[~runs["status"].isin(UNFINISHED_STATUSES)].copy()
    flags = flags or {}
    keys = list(zip(done["task"].astype(str), done["run_id"].astype(str)))
    warmup = [bool(flags.get(k, {}).get("warmup")) for k in keys]
    traced = [bool(flags.get(k, {}).get("traced")) for k in keys]
    out = pd.DataFrame(
        {
            "variant": done["variant"],
            "run": done["run"],
            "order": np.arange(1, len(done) + 1, dtype="int64"),
            "warmup": warmup,
            "traced": traced,
            "started_at": done["started_at"],
            "status": done["status"].map(lambda s: STATUS_TO_CONTRACT.get(s, "error")),
            # the manifest's own span (started_at..completed_at): no one measured this run's
            # process, so it is not wall_s (which, measured, also holds node's start and exit)
            "manifest_span_s": done["duration_s"],
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
    runs, stages = to_dataset_tables(data, read_measured(root))
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
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"--out {folder}: cannot create folder ({exc.strerror})") from None
    with dataset_lock(folder):  # one writer from the first read to the last table
        if append and is_dataset(folder):
            runs, stages = _only_new_runs(runs, stages, load_folder(folder).runs)
        dataset = save(out, runs, stages, meta, append=append,
                       tables={OUTPUTS_TABLE: _manifest_outputs(data, runs)})
        for name, table, key in (("artifacts.parquet", data.artifacts, ["path"]),
                                 ("problems.parquet", data.problems, None),
                                 ("orchestrator_runs.parquet", data.runs, ["manifest_path"])):
            _write_table(folder / name, table, key, append=append)
    return data, dataset


def _manifest_outputs(data: OrchestratorData, runs: pd.DataFrame) -> pd.DataFrame:
    """The ``outputs`` rows of the saved runs' manifests (variant and run as saved, by run id)."""
    key = {rid: (v, r) for rid, v, r in zip(runs["run_id"], runs["variant"], runs["run"])}
    by_path = dict(zip(data.runs["manifest_path"], data.runs["run_id"]))
    rows = []
    for row in manifest_rows(data):
        saved = key.get(by_path.get(row["path"]))
        if saved is not None:
            rows.append({**row, "variant": saved[0], "run": int(saved[1])})
    return outputs_frame(rows)


def _only_new_runs(runs: pd.DataFrame, stages: pd.DataFrame,
                   previous: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``ingest --append``: drop runs already in the dataset (by run id) and number the rest
    after it (``order`` and each variant's ``run`` continue), stages renumbered with their run."""
    if previous.empty:
        return runs, stages
    seen = set(previous["run_id"].dropna()) if "run_id" in previous.columns else set()
    new = runs[~runs["run_id"].isin(seen)].copy()
    last_run = previous.groupby("variant")["run"].max().to_dict()
    renumber = {}
    for variant, group in new.groupby("variant", sort=False):
        first = int(last_run.get(variant, 0))
        for offset, old in enumerate(sorted(group["run"]), 1):
            renumber[(variant, old)] = first + offset
    new["run"] = [renumber[(v, r)] for v, r in zip(new["variant"], new["run"])]
    new["order"] = range(int(previous["order"].max()) + 1,
                         int(previous["order"].max()) + 1 + len(new))
    kept = stages[~stages["run_id"].isin(seen)].copy() if "run_id" in stages.columns else stages
    if len(kept):
        kept["run"] = [renumber.get((v, r), r) for v, r in zip(kept["variant"], kept["run"])]
    return runs_frame(new), stages_frame(kept)


def _write_table(path: Path, table: pd.DataFrame, key: list[str] | None, *, append: bool) -> None:
    """One of the ingest's extra tables; with ``append``, added to what the folder holds (rows
    met again replace their old copy), never overwriting it."""
    if append and path.exists():
        try:
            before = pd.read_parquet(path)
        except (OSError, ValueError):
            before = None  # unreadable: this ingest's table replaces it
        if before is not None and len(before):
            table = pd.concat([before, table], ignore_index=True)
            table = table.drop_duplicates(subset=key, keep="last", ignore_index=True)
    write_parquet_atomic(table, path)
