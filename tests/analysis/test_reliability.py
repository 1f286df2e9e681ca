"""Failure modes per stage, on workloads whose truth is known."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from perfkit.analysis.reliability import classify, run_outcomes, stage_reliability


def _workload(n=200, seed=7):
    """build → flaky (fails 30 %) → slow (timed out in 10 % of runs, else ~1 s) → upload (retried
    once in every 4th run, always ok in the end). A run killed mid-`slow` when it timed out."""
    rng = np.random.default_rng(seed)
    stages, runs = [], []
    for run in range(1, n + 1):
        rs = "ok"
        stages.append(("v", run, "build", "succeeded", 0.5))
        if rng.random() < 0.30:
            stages.append(("v", run, "flaky", "failed", 0.1))
            stages.append(("v", run, "slow", "pending", None))
            runs.append(("v", run, "failed"))
            continue
        stages.append(("v", run, "flaky", "succeeded", 0.1))
        if run % 10 == 0:
            stages.append(("v", run, "slow", "running", None))
            runs.append(("v", run, "timeout"))
            continue
        stages.append(("v", run, "slow", "succeeded", 1.0 + rng.random() * 0.1))
        if run % 4 == 0:
            stages.append(("v", run, "upload", "failed", 0.2))
        stages.append(("v", run, "upload", "succeeded", 0.2))
        runs.append(("v", run, rs))
    st = pd.DataFrame(stages, columns=["variant", "run", "stage", "status", "duration_s"])
    rn = pd.DataFrame(runs, columns=["variant", "run", "status"])
    return st, rn


def test_seeded_failure_rate_is_covered_by_its_wilson_interval():
    st, rn = _workload()
    table = stage_reliability(st, rn).set_index("stage")
    flaky = table.loc["flaky"]
    k, n = int(flaky["failed"]), int(flaky["runs"])
    assert n == 200
    assert flaky["failed_low"] < 0.30 < flaky["failed_high"]
    # independent reference: scipy's Wilson interval of the same count
    ref = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert math.isclose(flaky["failed_low"], ref.low, rel_tol=1e-9)
    assert math.isclose(flaky["failed_high"], ref.high, rel_tol=1e-9)
    # ranked first: the worst stage
    assert table.index[0] == "flaky"


def test_timed_out_stage_counts_as_timed_out_not_unfinished_and_pending_is_not_an_attempt():
    st, rn = _workload()
    slow = stage_reliability(st, rn).set_index("stage").loc["slow"]
    started = st[(st.stage == "slow") & (st.status != "pending")]
    assert slow["runs"] == len(started)
    assert slow["timed_out"] == (started.status == "running").sum() > 0
    assert slow["unfinished"] == 0 and slow["failed"] == 0
    assert slow["timed_out_low"] < slow["timed_out_rate"] < slow["timed_out_high"]


def test_running_stage_without_a_timeout_is_unfinished_killed():
    st = pd.DataFrame({"variant": ["v", "v"], "run": [1, 2], "stage": ["s", "s"],
                       "status": ["running", "succeeded"], "duration_s": [None, 1.0]})
    rn = pd.DataFrame({"variant": ["v", "v"], "run": [1, 2], "status": ["in_progress", "ok"]})
    row = stage_reliability(st, rn).iloc[0]
    assert (row["unfinished"], row["timed_out"], row["ok"], row["runs"]) == (1, 0, 1, 2)
    # with no runs table a running stage is unfinished too
    assert stage_reliability(st).iloc[0]["unfinished"] == 1


def test_retried_stage_counts_runs_with_more_than_one_attempt_and_last_attempt_decides():
    st, rn = _workload()
    up = stage_reliability(st, rn).set_index("stage").loc["upload"]
    expected = st[(st.stage == "upload") & (st.status == "failed")]["run"].nunique()
    assert up["retried"] == expected > 0
    assert up["failed"] == 0 and up["ok"] == up["runs"]
    assert up["attempts"] == up["runs"] + expected


def test_tail_ratio_is_p95_over_median_of_ok_durations():
    d = [1.0] * 19 + [4.0]
    st = pd.DataFrame({"variant": "v", "run": range(1, 21), "stage": "s", "status": "succeeded",
                       "duration_s": d})
    row = stage_reliability(st).iloc[0]
    assert row["tail_ratio"] == pytest.approx(np.quantile(d, 0.95) / 1.0)


def test_empty_and_classify_edges():
    assert stage_reliability(pd.DataFrame(columns=["variant", "run", "stage", "status"])).empty
    assert classify(None) == "other" and classify("TIMEOUT") == "timed_out"
    assert classify("running", "timeout") == "timed_out"


def test_run_outcomes_counts_and_interval():
    rn = pd.DataFrame({"variant": ["a"] * 4, "run": [1, 2, 3, 4], "warmup": [False] * 4,
                       "status": ["ok", "failed", "timeout", "in_progress"]})
    row = run_outcomes(rn).iloc[0]
    assert (row["ok"], row["failed"], row["timeout"], row["unfinished"]) == (1, 1, 1, 1)
    assert row["bad_rate"] == 0.75 and row["bad_low"] < 0.75 < row["bad_high"]
