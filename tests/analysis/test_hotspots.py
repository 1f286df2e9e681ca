"""Tests for perfkit.analysis.hotspots: stage shares, I/O columns, growth with history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from perfkit.analysis import hotspots
from perfkit.analysis.stage_changes import stage_changes
from perfkit.data import sources
from perfkit.data.schema import runs_frame, stages_frame
from perfkit.errors import DatasetError, UsageError


def _stages() -> pd.DataFrame:
    rows = []
    # run 1: a=3 s, b=1 s; run 2: a=1 s, b=1 s (shares of the stage sums: .75/.25 and .5/.5)
    for run, (a, b) in enumerate([(3.0, 1.0), (1.0, 1.0)], start=1):
        rows.append(dict(variant="p", run=run, stage="a", title="Build <x>", index=0, duration_s=a))
        rows.append(dict(variant="p", run=run, stage="b", title="Test", index=1, duration_s=b))
    return stages_frame(rows)


def test_stage_shares_of_the_stage_sum():
    table = hotspots.stage_shares(_stages())
    assert list(table["stage"]) == ["a", "b"]
    a = table.iloc[0]
    assert a["share"] == pytest.approx((0.75 + 0.5) / 2)
    assert a["share_p25"] == pytest.approx(0.5625) and a["share_p75"] == pytest.approx(0.6875)
    assert a["median_s"] == pytest.approx(2.0) and a["runs"] == 2
    assert a["title"] == "Build <x>"


def test_stage_shares_of_the_run_wall_time():
    runs = runs_frame([dict(variant="p", run=r, order=r, status="ok", wall_s=8.0,
                            started_at="2026-01-01T00:00:00Z") for r in (1, 2)])
    table = hotspots.stage_shares(_stages(), runs)
    assert table.set_index("stage").loc["a", "share"] == pytest.approx((3 / 8 + 1 / 8) / 2)


def test_stage_shares_names_missing_columns():
    with pytest.raises(UsageError, match="duration_s"):
        hotspots.stage_shares(pd.DataFrame({"variant": [], "run": [], "stage": []}))


def test_io_metrics_puts_exact_write_counts_first():
    runs = runs_frame([dict(variant="v", run=1, order=1, status="ok", started_at="2026-01-01T00:00:00Z",
                            io_wchar=10, manifest_writes=3, io_syscw=None)])
    assert hotspots.io_metrics(runs) == ["manifest_writes", "io_wchar"]


def test_growth_slopes_recover_a_known_linear_growth():
    n = 30
    runs = runs_frame([dict(variant="v", run=i + 1, order=i + 1, status="ok",
                            started_at="2026-01-01T00:00:00Z", wall_s=1.0 + 0.01 * i,
                            artifact_bytes=1000 + 500 * i) for i in range(n)])
    history = hotspots.growth(runs)
    assert list(history["history"]) == list(range(n))
    slopes = hotspots.growth_slopes(history).set_index("metric")
    assert slopes.loc["wall_s", "per_run"] == pytest.approx(0.01)
    assert slopes.loc["wall_s", "growth"] == pytest.approx(0.29)
    assert slopes.loc["artifact_bytes", "per_run"] == pytest.approx(500)
    assert slopes.loc["artifact_bytes", "r"] == pytest.approx(1.0)


def test_load_source_refuses_a_folder_that_is_neither(tmp_path):
    with pytest.raises(DatasetError, match="neither"):
        sources.load_source(tmp_path)
    with pytest.raises(DatasetError, match="no such"):
        sources.load_source(tmp_path / "missing")


def test_stage_growth_joins_history_and_fits_each_stage():
    runs = runs_frame([dict(variant="v", run=i + 1, order=i + 1, status="ok",
                            started_at="2026-01-01T00:00:00Z", wall_s=1.0) for i in range(10)])
    stages = stages_frame(
        [dict(variant="v", run=i + 1, stage="grow", title="Grows", index=0, duration_s=0.1 + 0.02 * i)
         for i in range(10)]
        + [dict(variant="v", run=i + 1, stage="flat", title="Flat", index=1, duration_s=0.5)
           for i in range(10)]
    )
    long = hotspots.stage_growth(stages, runs)
    # the two stages, and the time outside them (wall 1 s − their sum), per run
    assert len(long) == 30 and set(long["history"]) == set(range(10))
    slopes = hotspots.stage_growth_slopes(long).set_index("metric")
    assert slopes.loc["stage grow", "per_run"] == pytest.approx(0.02)
    assert slopes.loc["stage flat", "per_run"] == pytest.approx(0.0, abs=1e-12)
    assert slopes.loc[f"stage {hotspots.OUTSIDE}", "per_run"] == pytest.approx(-0.02)


def test_gaps_between_stages_and_outside_them_in_growth_and_changes():
    t0 = pd.Timestamp("2026-01-01T00:00:00Z")
    runs, stages = [], []
    for i in range(8):
        variant, run = ("base", "cand")[i % 2], i // 2 + 1
        gap = 0.3 if variant == "base" else 0.1  # the candidate waits less between its stages
        start = t0 + pd.Timedelta(seconds=10 * i)
        runs.append(dict(variant=variant, run=run, order=i + 1, status="ok", started_at=start,
                         wall_s=2.0))
        a_end = start + pd.Timedelta(seconds=0.5)
        b_start = a_end + pd.Timedelta(seconds=gap)
        # a nested stage (a sub-run inside "b") is covered once
        stages += [dict(variant=variant, run=run, stage="a", index=0, duration_s=0.5,
                        started_at=start, completed_at=a_end),
                   dict(variant=variant, run=run, stage="b", index=1, duration_s=0.5,
                        started_at=b_start, completed_at=b_start + pd.Timedelta(seconds=0.5)),
                   dict(variant=variant, run=run, stage="b.inner", index=2, duration_s=0.2,
                        started_at=b_start, completed_at=b_start + pd.Timedelta(seconds=0.2))]
    runs, stages = runs_frame(runs), stages_frame(stages)
    full = hotspots.with_pseudo_stages(stages, runs)
    between = full[full["stage"] == hotspots.BETWEEN].set_index("variant")["duration_s"]
    outside = full[full["stage"] == hotspots.OUTSIDE].set_index("variant")["duration_s"]
    assert between["base"].tolist() == pytest.approx([0.3] * 4)
    assert between["cand"].tolist() == pytest.approx([0.1] * 4)
    assert outside.tolist() == pytest.approx([1.0] * 8)  # 2 s − the union of a and b
    shares = hotspots.stage_shares(stages, runs).set_index("stage")
    assert shares.loc[hotspots.BETWEEN, "median_s"] == pytest.approx(0.2)
    changes = stage_changes(stages, "base", "cand", runs=runs, n_resamples=200).set_index("stage")
    assert list(changes.index)[-2:] == [hotspots.OUTSIDE, hotspots.BETWEEN]
    assert changes.loc[hotspots.BETWEEN, "change"] == pytest.approx(1 - 0.1 / 0.3)
    assert changes.loc[hotspots.OUTSIDE, "change"] == pytest.approx(0.0, abs=1e-9)
    # without runs, no pseudo stage but the gaps (they need only the stages' timestamps)
    assert hotspots.OUTSIDE not in set(stage_changes(stages, "base", "cand", n_resamples=200)["stage"])


def test_growth_slopes_are_fitted_per_variant():
    # interleaved variants at different levels, neither growing: one line through both would
    # report the level difference as growth or noise; per variant the slope is zero
    runs = runs_frame([dict(variant="a" if i % 2 else "b", run=i // 2 + 1, order=i + 1, status="ok",
                            started_at="2026-01-01T00:00:00Z", wall_s=1.0 if i % 2 else 2.0)
                       for i in range(20)])
    slopes = hotspots.growth_slopes(hotspots.growth(runs, ["wall_s"]))
    assert list(slopes["variant"]) == ["b", "a"]
    assert slopes["per_run"].tolist() == pytest.approx([0.0, 0.0], abs=1e-12)


def test_growth_leaves_out_a_traced_runs_timings_but_keeps_its_counts():
    recs = [dict(variant="v", run=i + 1, order=i + 1, status="ok", started_at="2026-01-01T00:00:00Z",
                 wall_s=1.0 + i) for i in range(5)]
    recs.append(dict(variant="v", run=1, order=6, traced=True, status="ok",
                     started_at="2026-01-01T00:00:00Z", wall_s=99.0, manifest_writes=18))
    history = hotspots.growth(runs_frame(recs), ["wall_s", "manifest_writes"])
    assert history["wall_s"].max() == 5.0  # not the traced run's 99 s
    assert history.loc[history["history"] == 5, "manifest_writes"].tolist() == [18]


def test_growth_shows_cpu_time_next_to_wall_time():
    # wall time drifts up (a busier host) while CPU time stays flat: both must be fitted
    n = 20
    runs = runs_frame([dict(variant="v", run=i + 1, order=i + 1, status="ok",
                            started_at="2026-01-01T00:00:00Z", wall_s=1.0 + 0.02 * i,
                            user_s=0.4, sys_s=0.1 if i % 2 else 0.2) for i in range(n)])
    history = hotspots.growth(runs)
    assert list(history.columns[4:6]) == ["wall_s", "cpu_s"]
    assert history["cpu_s"].to_numpy() == pytest.approx([0.6 if i % 2 == 0 else 0.5 for i in range(n)])
    slopes = hotspots.growth_slopes(history).set_index("metric")
    assert slopes.loc["wall_s", "growth"] == pytest.approx(0.38)
    assert abs(slopes.loc["cpu_s", "growth"]) < 0.05  # alternating, no trend


def test_with_cpu_s_needs_both_parts_and_keeps_an_existing_column():
    runs = pd.DataFrame({"user_s": [1.0, None], "sys_s": [0.5, 0.5]})
    assert hotspots.with_cpu_s(runs)["cpu_s"].tolist()[0] == pytest.approx(1.5)
    assert np.isnan(hotspots.with_cpu_s(runs)["cpu_s"].tolist()[1])
    assert "cpu_s" not in hotspots.with_cpu_s(pd.DataFrame({"user_s": [1.0]})).columns
    given = pd.DataFrame({"user_s": [1.0], "sys_s": [1.0], "cpu_s": [7.0]})
    assert hotspots.with_cpu_s(given)["cpu_s"].tolist() == [7.0]


def test_growth_and_io_metrics_take_the_run_folder_watcher_columns():
    runs = runs_frame([dict(variant="v", run=i + 1, order=i + 1, status="ok",
                            started_at="2026-01-01T00:00:00Z", wall_s=1.0,
                            orchestrator_manifest_bytes=1000 + 10 * i,
                            orchestrator_artifact_bytes=5000 + 100 * i) for i in range(5)])
    assert hotspots.io_metrics(runs) == ["orchestrator_manifest_bytes", "orchestrator_artifact_bytes"]
    slopes = hotspots.growth_slopes(hotspots.growth(runs)).set_index("metric")
    assert slopes.loc["orchestrator_manifest_bytes", "per_run"] == pytest.approx(10)
    assert slopes.loc["orchestrator_artifact_bytes", "per_run"] == pytest.approx(100)


def test_time_outside_stages_is_its_own_row():
    from perfkit.analysis.hotspots import OUTSIDE, outside_stages, stage_shares

    t0 = pd.Timestamp("2026-01-01", tz="UTC")
    sec = pd.Timedelta(seconds=1)
    stages = pd.DataFrame({
        "variant": ["a"] * 3, "run": [1] * 3, "stage": ["build", "test", "child"],
        "started_at": [t0, t0 + 2 * sec, t0 + 2.5 * sec],   # child nested inside test
        "completed_at": [t0 + 1 * sec, t0 + 4 * sec, t0 + 3 * sec],
        "duration_s": [1.0, 2.0, 0.5],
    })
    runs = pd.DataFrame({"variant": ["a"], "run": [1], "warmup": [False], "traced": [False],
                         "status": ["ok"], "wall_s": [5.0]})
    wall = runs.set_index(["variant", "run"])["wall_s"]
    out = outside_stages(stages, wall)
    assert out["duration_s"].tolist() == [pytest.approx(5.0 - 3.0)]  # union 3 s, not 3.5 s
    shares = stage_shares(stages, runs).set_index("stage")
    assert shares.loc[OUTSIDE, "share"] == pytest.approx(2.0 / 5.0)
    assert OUTSIDE not in stage_shares(stages)["stage"].tolist()  # no wall time: no such row
