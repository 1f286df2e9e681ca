"""perfkit.data.store and perfkit.data.sources: a dataset folder written, read back, appended to."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import perfkit
from perfkit.data import store
from perfkit.data.schema import SCHEMA_VERSION, runs_frame
from perfkit.data.sources import load, load_source, pick_variant
from perfkit.errors import DatasetError
from tests.conftest import ROOT


def runs(n: int = 3, variant: str = "a", start: int = 1) -> pd.DataFrame:
    return runs_frame([
        {"variant": variant, "run": i, "order": start + i, "status": "ok", "wall_s": 0.1 * i,
         "max_rss_kib": 1000 + i}
        for i in range(1, n + 1)
    ])


def test_save_and_load_round_trip_keeps_values_and_types(tmp_path):
    saved = store.save(tmp_path / "ds", runs(), meta={"note": "x"})
    again = load(tmp_path / "ds")
    assert again.complete and again.meta["note"] == "x"
    assert again.meta["schema_version"] == SCHEMA_VERSION
    pd.testing.assert_frame_equal(saved.runs, again.runs)
    assert list(again.runs["wall_s"]) == pytest.approx([0.1, 0.2, 0.3])
    assert str(again.runs["max_rss_kib"].dtype) == "Int64"
    assert (tmp_path / "ds" / store.RUNS_PARQUET).is_file()


def test_an_interrupted_collection_is_read_from_its_journal(tmp_path):
    writer = store.DatasetWriter(tmp_path / "ds", {"variants": {"a": {}}})
    for record in runs(2).to_dict("records"):
        writer.add_run(record)
    ds = writer.close(complete=False)
    assert not ds.complete and len(ds.runs) == 2 and "interrupted_at" in ds.meta
    assert not (tmp_path / "ds" / store.RUNS_PARQUET).exists()


def test_a_torn_last_journal_line_is_skipped_with_a_warning(tmp_path):
    store.save(tmp_path / "ds", runs(3))
    meta = json.loads((tmp_path / "ds" / store.META).read_text())
    meta["complete"] = False  # as if killed: the journal is the source
    (tmp_path / "ds" / store.META).write_text(json.dumps(meta))
    with open(tmp_path / "ds" / store.RUNS_JOURNAL, "a") as fh:
        fh.write('{"variant": "a", "run": 4, "ord')
    with pytest.warns(UserWarning, match="torn last line"):
        ds = load(tmp_path / "ds")
    assert list(ds.runs["run"]) == [1, 2, 3]


def test_a_folder_holding_a_dataset_is_refused_without_append(tmp_path):
    store.save(tmp_path / "ds", runs(2))
    with pytest.raises(DatasetError, match="already holds a dataset .2 runs.; pass --append"):
        store.save(tmp_path / "ds", runs(2))


def test_append_continues_the_numbering(tmp_path):
    store.save(tmp_path / "ds", runs(2))
    writer = store.DatasetWriter(tmp_path / "ds", {}, append=True)
    assert writer.next_order == 4 and writer.next_run("a") == 3 and writer.next_run("b") == 1
    writer.close()


def test_another_schema_version_is_refused(tmp_path):
    store.save(tmp_path / "ds", runs(1))
    meta = json.loads((tmp_path / "ds" / store.META).read_text())
    meta["schema_version"] = SCHEMA_VERSION + 1
    (tmp_path / "ds" / store.META).write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match=f"schema version {SCHEMA_VERSION + 1}"):
        load(tmp_path / "ds")


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing", "no such dataset folder"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "not a perfkit dataset"),
])
def test_load_says_what_is_wrong_with_a_folder(tmp_path, make, message):
    with pytest.raises(DatasetError, match=message):
        load(make(tmp_path))


def test_load_reads_another_tools_file_and_load_source_a_workspace():
    hyperfine = ROOT / "tests" / "fixtures" / "importers" / "hyperfine-pipeline.json"
    assert load(hyperfine).meta["source"]["format"] == "hyperfine"
    workspace = load_source(ROOT / "tests" / "fixtures" / "orchestrator" / "workspace")
    assert workspace.meta["source"] == "orchestrator" and len(workspace.runs) > 0


def test_pick_variant():
    ds = perfkit.Dataset(runs=runs(1, "only"), stages=pd.DataFrame())
    assert pick_variant(ds, "x", "baseline") == "x"
    assert pick_variant(ds, None, "baseline") == "only"
    assert pick_variant(ds, "", "baseline") == "only"  # an empty notebook parameter: the default
    two = perfkit.Dataset(runs=pd.concat([runs(1, "a"), runs(1, "b", start=5)]), stages=pd.DataFrame())
    assert pick_variant(two, None, "baseline") == "baseline"  # compare then names it as unknown
