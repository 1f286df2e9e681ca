"""Merged batches: every COMPACT_AT adds of a benchmark become one file per table, nothing is
read twice or lost (also after a crash between a batch's rename and its singles' deletion), and a
merged dataset is still refused a second time."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from perfkit.data import history_files
from perfkit.data.history import open_history
from perfkit.errors import DatasetError


def _names(folder):
    return sorted(p.name.split("-")[0] if p.name.startswith("batch-") else "single"
                  for p in folder.glob("*.parquet"))


def test_adds_are_merged_into_batches_and_read_once(tmp_path, make_history_dataset, monkeypatch):
    monkeypatch.setattr(history_files, "COMPACT_AT", 3)
    h = open_history(tmp_path / "h", create=True)
    datasets = [make_history_dataset(f"d{i}", 1 + i / 10, seed=i, runs=3) for i in range(4)]
    for i, ds in enumerate(datasets[:3]):
        h.add(ds, "b", commit=f"c{i}")
    runs_dir, stages_dir = (tmp_path / "h" / t / "benchmark=b" for t in ("runs", "stages"))
    assert _names(runs_dir) == ["batch"] and _names(stages_dir) == ["batch"]
    kept = open_history(tmp_path / "h")
    before = kept.runs("b")
    assert len(before) == 12 and list(kept.commits("b")["commit"]) == ["c0", "c1", "c2"]
    assert len(kept.stages("b")) == 18
    with pytest.raises(DatasetError, match="already in the history"):
        kept.add(datasets[1], "b", commit="again")
    h.add(datasets[3], "b", commit="c3")
    assert _names(runs_dir) == ["batch", "single"]
    # a crash after a batch was renamed, before its singles were deleted: c0's single is back
    batch = next(runs_dir.glob("batch-*"))
    rows = pd.read_parquet(batch)
    id0 = before.loc[before["commit"] == "c0", "dataset_id"].iloc[0]
    rows[rows["dataset_id"] == id0].to_parquet(runs_dir / f"{id0}.parquet", index=False)
    assert len(kept.runs("b")) == 16
    assert list(kept.series("b", "wall_s")["n"]) == [3, 3, 3, 3]
    # the next merge deletes the leftover instead of merging it again
    monkeypatch.setattr(history_files, "COMPACT_AT", 2)
    h.add(make_history_dataset("d4", 2, seed=4, runs=3), "b", commit="c4")
    assert _names(runs_dir) == ["batch", "batch"]
    assert not (runs_dir / f"{id0}.parquet").exists()
    assert list(kept.commits("b")["commit"]) == ["c0", "c1", "c2", "c3", "c4"]
    assert len(kept.runs("b")) == 20 and len(kept.stages("b")) == 30
