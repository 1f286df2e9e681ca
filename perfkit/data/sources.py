"""Reading any source perfkit understands into a :class:`~perfkit.data.store.Dataset`.

:func:`load` takes a dataset folder (finished or interrupted) or a results file another tool wrote
(hyperfine, pyperf); :func:`load_source` also takes an orchestrator workspace, mapped onto the
runs/stages contract in memory. This module sits above the store, the importers and the
orchestrator reader, so that none of them needs to know the others.
"""

from __future__ import annotations

import os
from pathlib import Path

from perfkit.data.importers import load_file
from perfkit.data.orchestrator import read_orchestrator, to_dataset_tables
from perfkit.data.orchestrator.flags import read_measured
from perfkit.data.store import Dataset, is_dataset, load_folder
from perfkit.errors import DatasetError


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
