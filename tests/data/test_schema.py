"""perfkit.data.schema: the column contract, and the one rule for which rows a statistic uses."""

from __future__ import annotations

import pandas as pd
import pytest

from perfkit.data.orchestrator import ARTIFACTS_COLUMNS, read_orchestrator
from perfkit.data.schema import (
    ID_COLUMNS,
    RUNS_COLUMNS,
    SCHEMA_VERSION,
    STAGES_COLUMNS,
    comparable_rows,
    is_trace_metric,
    long_view,
    metric_columns,
    runs_frame,
    stages_frame,
    timed_rows,
)
from tests.conftest import ROOT


def table() -> pd.DataFrame:
    # variant a: one warm-up, three timed runs (one failed), two traced runs with counts
    return runs_frame([
        {"variant": "a", "run": 0, "order": 0, "warmup": True, "traced": False, "status": "ok", "wall_s": 9.0},
        {"variant": "a", "run": 1, "order": 1, "warmup": False, "traced": False, "status": "ok", "wall_s": 1.0},
        {"variant": "a", "run": 2, "order": 2, "warmup": False, "traced": False, "status": "failed", "wall_s": 0.1},
        {"variant": "a", "run": 3, "order": 3, "warmup": False, "traced": False, "status": "ok", "wall_s": 1.2},
        {"variant": "a", "run": 1, "order": 4, "warmup": False, "traced": True, "status": "ok", "wall_s": 3.0,
         "manifest_writes": 7, "orchestrator_bytes": 5},
        {"variant": "a", "run": 2, "order": 5, "warmup": False, "traced": True, "status": "ok", "wall_s": 3.1,
         "manifest_writes": 7, "orchestrator_bytes": 5},
    ])


def test_runs_frame_has_every_contract_column_with_its_type():
    runs = runs_frame([{"variant": "a", "run": 1, "order": 0, "wall_s": 1.5}])
    assert list(runs.columns[: len(RUNS_COLUMNS)]) == list(RUNS_COLUMNS)
    for column, dtype in RUNS_COLUMNS.items():
        assert str(runs[column].dtype) == dtype, column
    assert runs.loc[0, "warmup"] == False  # noqa: E712 (a nullable boolean)
    assert set(ID_COLUMNS) <= set(RUNS_COLUMNS)
    assert isinstance(SCHEMA_VERSION, int)


def test_stages_frame_has_the_contract_columns():
    stages = stages_frame([{"variant": "a", "run": 1, "stage": "s", "duration_s": 0.5}])
    assert list(stages.columns[: len(STAGES_COLUMNS)]) == list(STAGES_COLUMNS)


def test_timed_rows_leave_out_warmups_and_traced_runs_whatever_their_status():
    assert list(timed_rows(table())["order"]) == [1, 2, 3]


def test_comparable_rows_timed_ok_runs_for_a_timing():
    assert list(comparable_rows(table(), "wall_s")["order"]) == [1, 3]
    assert list(comparable_rows(table(), "wall_s", ok_only=False)["order"]) == [1, 2, 3]


def test_comparable_rows_traced_runs_for_a_count_only_the_traced_pass_records():
    assert is_trace_metric("manifest_writes") and is_trace_metric("fs_renames")
    assert not is_trace_metric("orchestrator_bytes")
    assert list(comparable_rows(table(), "manifest_writes")["order"]) == [4, 5]
    # by the data too: no timed run has a value of this column (the two old rules disagreed here)
    assert list(comparable_rows(table(), "orchestrator_bytes")["order"]) == [4, 5]


def test_comparable_rows_of_a_plain_table():
    runs = pd.DataFrame({"variant": ["a", "a"], "wall_s": [1.0, 2.0]})
    assert len(comparable_rows(runs, "wall_s")) == 2


def test_metric_columns_and_long_view():
    runs = table()
    assert "wall_s" in metric_columns(runs) and "run" not in metric_columns(runs)
    long = long_view(runs, ["wall_s"])
    assert list(long.columns[-2:]) == ["metric", "value"] and len(long) == len(runs)


def test_the_artifacts_table_follows_its_documented_columns():
    workspace = ROOT / "tests" / "fixtures" / "orchestrator" / "workspace"
    if not workspace.is_dir():
        pytest.skip("orchestrator fixture missing")
    artifacts = read_orchestrator(workspace).artifacts
    assert {c: str(t) for c, t in artifacts.dtypes.items()} == ARTIFACTS_COLUMNS
