"""Reading any source perfkit understands into a :class:`~perfkit.data.store.Dataset`.

:func:`load` takes a dataset folder (finished or interrupted) or a results file another tool wrote
(hyperfine, pyperf); :func:`load_source` also takes an orchestrator workspace, mapped onto the
runs/stages contract in memory. This module sits above the store, the importers and the
orchestrator reader, so that none of them needs to know the others.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from perfkit.data.importers import load_file
from perfkit.data.orchestrator import read_orchestrator, to_dataset_tables
from perfkit.data.orchestrator.flags import read_measured
from perfkit.data.outputs import manifest_rows
from perfkit.data.paths import fold_path
from perfkit.data.schema import OUTPUTS_TABLE, outputs_frame
from perfkit.data.store import Dataset, is_dataset, load_folder, read_table
from perfkit.errors import DatasetError, UsageError


def load(path: str | os.PathLike) -> Dataset:
    """Read a dataset: a perfkit folder (finished or interrupted) or a file another tool wrote."""
    path = Path(path)
    if path.is_file():
        return load_file(path)
    return load_folder(path)


def load_source(path: str | os.PathLike) -> Dataset:
    """Read a dataset folder, or an orchestrator workspace (a folder holding ``.runs/``).

    A workspace is read with :func:`perfkit.read_orchestrator` and mapped onto the runs/stages
    contract in memory; nothing is written.
    """
    path = Path(path)
    if is_dataset(path) or path.is_file():
        return load(path)
    if (path / ".runs").is_dir() or path.name == ".runs":
        data = read_orchestrator(path)
        runs, stages = to_dataset_tables(data, read_measured(path))
        meta = {"source": "orchestrator", "orchestrator_root": str(path),
                "problems": len(data.problems)}
        return Dataset(runs=runs, stages=stages, meta=meta, path=path)
    if not path.exists():
        raise DatasetError(f"{path}: no such dataset or orchestrator workspace")
    raise DatasetError(f"{path}: neither a perfkit dataset nor an orchestrator workspace (no .runs/)")


def pick_variant(dataset: Dataset, wanted: str | None, default: str) -> str:
    """The variant a comparison uses: ``wanted`` when given (a non-empty name), else ``default``
    when the dataset has it, else the dataset's only variant (else ``default``, which the
    comparison then reports as unknown)."""
    if wanted:
        return wanted
    variants = dataset.variants
    if default in variants or len(variants) != 1:
        return default
    return variants[0]


def pick_pair(first: Dataset, second: Dataset | None, baseline: str | None,
              candidate: str | None) -> tuple[str, str]:
    """The (baseline, candidate) variants of a comparison (see :func:`pick_variant`); one dataset
    with a single variant and no second one is a clear error, not "the same variant twice"."""
    base = pick_variant(first, baseline, "baseline")
    cand = pick_variant(second if second is not None else first, candidate, "candidate")
    if second is None and base == cand and list(first.variants) == [base]:
        raise UsageError(f"the data has one variant ({base!r}) and a comparison needs two: give "
                         "the candidate's data as a second dataset, or see where its time goes "
                         "with `perfkit report --hotspots`")
    return base, cand


def read_outputs(dataset: Dataset) -> pd.DataFrame:
    """The ``outputs`` table of a loaded source (empty when it has none): a dataset's
    ``outputs.parquet`` (or its journal); an orchestrator workspace's run manifests."""
    path = dataset.path
    if path is None or Path(path).is_file():
        return outputs_frame([])
    if dataset.meta.get("source") == "orchestrator" and (Path(path) / ".runs").is_dir():
        return outputs_frame(manifest_rows(read_orchestrator(path, artifacts=False)))
    table = read_table(Path(path), OUTPUTS_TABLE)
    return outputs_frame(table if table is not None else [])


ARTIFACTS_PARQUET = "artifacts.parquet"  # written by perfkit.data.orchestrator.ingest


def _run_artifacts(artifacts: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Files of run folders (scope ``run``) with the ``variant`` and ``run`` of their run id."""
    if artifacts is None or artifacts.empty or "run_id" not in runs.columns:
        return pd.DataFrame(columns=["variant", "run", "warmup", "pattern", "size"])
    key = {rid: (v, r) for rid, v, r in zip(runs["run_id"], runs["variant"], runs["run"])
           if isinstance(rid, str)}
    files = artifacts[artifacts["run_id"].isin(key.keys())]
    if "scope" in files.columns:
        files = files[files["scope"] == "run"]
    found = [key[rid] for rid in files["run_id"]]
    return pd.DataFrame({"variant": [v for v, _ in found], "run": [int(r) for _, r in found],
                         "warmup": False, "pattern": files["path"].map(fold_path).to_numpy(),
                         "size": files["bytes"].to_numpy()})


def read_artifact_sizes(dataset: Dataset) -> pd.DataFrame:
    """``variant, run, warmup, pattern, size`` of every artifact a source records per run: the
    run-folder files of an orchestrator workspace or of an ingest (``artifacts.parquet``), else
    the files of its ``outputs`` table."""
    path = Path(dataset.path) if dataset.path is not None else None
    if path is not None and dataset.meta.get("source") == "orchestrator":
        if (path / ".runs").is_dir():
            data = read_orchestrator(path)
            return _run_artifacts(data.artifacts, data.runs)
        if (path / ARTIFACTS_PARQUET).is_file():
            try:
                artifacts = pd.read_parquet(path / ARTIFACTS_PARQUET)
            except (OSError, ValueError):
                artifacts = None
            return _run_artifacts(artifacts, dataset.runs)
    outputs = read_outputs(dataset)
    present = outputs[outputs["kind"] != "missing"]
    return present[["variant", "run", "warmup", "pattern", "size"]].reset_index(drop=True)
