"""Failure modes per stage: how often each stage of each variant failed, timed out, was left
unfinished or was retried, each rate with a Wilson score interval, and its slow tail.

Input: a ``stages`` table (the contract columns ``variant, run, stage, status, duration_s``) and,
optionally, the ``runs`` table (``variant, run, status``) to tell a timeout from a kill. Each stage
row is one *attempt*; its outcome is, from the stage's own status:

    ok          succeeded, ok, passed, completed, skipped-by-success (``ok`` statuses below)
    failed      failed, error, cancelled
    timed_out   still running (or ``timeout``) in a run that the loop stopped at its ``--timeout``
    unfinished  still running / in progress in a run that was not timed out (killed, crashed)
    not_reached pending / queued / skipped: the stage never started; not counted as an attempt

Per (variant, stage), ``runs`` counts the runs in which the stage started at least once; a run's
outcome for the stage is its LAST attempt's. ``retried`` counts runs holding more than one attempt
(a stage recorded more than once in a run). Every ``*_rate`` is a count over ``runs`` with its
Wilson interval (:func:`perfkit.analysis.stats.wilson_interval`); ``bad_rate`` = failed + timed out
+ unfinished. ``tail_ratio`` is p95/median of ``duration_s`` over the stage's ok attempts (NaN with
fewer than 2). The table is ranked by ``bad_rate``, then ``failed_rate``, then ``tail_ratio``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from perfkit.analysis.stats import wilson_interval

OK_STATUSES = frozenset({"ok", "succeeded", "success", "passed", "completed", "done"})
FAILED_STATUSES = frozenset({"failed", "failure", "error", "cancelled", "canceled", "aborted"})
RUNNING_STATUSES = frozenset({"running", "in_progress", "started", "timeout"})
NOT_REACHED_STATUSES = frozenset({"pending", "queued", "skipped", "not_started"})
#: Run statuses (runs contract, or the orchestrator's own) that mean "stopped at the timeout".
TIMEOUT_RUN_STATUSES = frozenset({"timeout"})

OUTCOMES = ("ok", "failed", "timed_out", "unfinished")

#: Columns of :func:`stage_reliability`, in order.
COLUMNS = (
    "variant", "stage", "runs", "attempts", "ok", "failed", "timed_out", "unfinished", "retried",
    "failed_rate", "failed_low", "failed_high", "timed_out_rate", "timed_out_low", "timed_out_high",
    "unfinished_rate", "unfinished_low", "unfinished_high", "retried_rate", "retried_low",
    "retried_high", "bad_rate", "bad_low", "bad_high", "median_s", "p95_s", "tail_ratio",
)


def classify(stage_status: object, run_status: object = None) -> str:
    """The outcome of one stage attempt (see the module docstring); ``other`` if unknown."""
    s = str(stage_status).strip().lower() if isinstance(stage_status, str) else ""
    r = str(run_status).strip().lower() if isinstance(run_status, str) else ""
    if s in OK_STATUSES:
        return "ok"
    if s in FAILED_STATUSES:
        return "failed"
    if s in NOT_REACHED_STATUSES:
        return "not_reached"
    if s in RUNNING_STATUSES:
        return "timed_out" if (s == "timeout" or r in TIMEOUT_RUN_STATUSES) else "unfinished"
    return "other"


def _attempts(stages: pd.DataFrame, runs: pd.DataFrame | None) -> pd.DataFrame:
    """One row per stage attempt with its ``outcome``; never-started attempts dropped."""
    df = stages[["variant", "run", "stage", "status"]].copy()
    df["duration_s"] = stages["duration_s"] if "duration_s" in stages else np.nan
    df["variant"] = df["variant"].astype(str)
    df["stage"] = df["stage"].astype(str)
    df["_pos"] = np.arange(len(df))
    run_status = pd.Series([None] * len(df), index=df.index, dtype=object)
    if runs is not None and len(runs) and {"variant", "run", "status"} <= set(runs.columns):
        key = runs[["variant", "run", "status"]].astype({"variant": str})
        key = key.drop_duplicates(["variant", "run"], keep="last")
        lookup = dict(zip(zip(key["variant"], key["run"]), key["status"].astype(str)))
        run_status = pd.Series(
            [lookup.get((v, r)) for v, r in zip(df["variant"], df["run"])], index=df.index,
            dtype=object,
        )
    df["outcome"] = [classify(s, r) for s, r in zip(df["status"], run_status)]
    return df[df["outcome"] != "not_reached"]


def _rate(k: int, n: int, confidence: float) -> tuple[float, float, float]:
    low, high = wilson_interval(int(k), int(n), confidence)
    return (k / n if n else math.nan), low, high


def stage_reliability(
    stages: pd.DataFrame, runs: pd.DataFrame | None = None, *, confidence: float = 0.95
) -> pd.DataFrame:
    """Per variant and stage: counts, rates with Wilson intervals, slow tail; ranked worst first.

    ``runs`` (optional) gives each run's status, so that a stage still ``running`` in a run that
    ended ``timeout`` counts as timed out rather than unfinished. An empty table (no stages) gives
    an empty frame with :data:`COLUMNS`.
    """
    if stages is None or len(stages) == 0:
        return pd.DataFrame(columns=list(COLUMNS))
    att = _attempts(stages, runs)
    if len(att) == 0:
        return pd.DataFrame(columns=list(COLUMNS))
    per_run = att.sort_values("_pos").groupby(["variant", "run", "stage"], sort=False)
    last = per_run.tail(1).set_index(["variant", "run", "stage"])
    tries = per_run.size().rename("tries")
    per_run_tbl = last[["outcome"]].join(tries)
    rows = []
    for (variant, stage), grp in per_run_tbl.groupby(level=["variant", "stage"], sort=False):
        n = len(grp)
        counts = {o: int((grp["outcome"] == o).sum()) for o in OUTCOMES}
        retried = int((grp["tries"] > 1).sum())
        bad = counts["failed"] + counts["timed_out"] + counts["unfinished"]
        sel = att[(att["variant"] == variant) & (att["stage"] == stage) & (att["outcome"] == "ok")]
        ok_dur = pd.to_numeric(sel["duration_s"], errors="coerce").dropna().to_numpy(float)
        med = float(np.median(ok_dur)) if len(ok_dur) else math.nan
        p95 = float(np.quantile(ok_dur, 0.95)) if len(ok_dur) else math.nan
        row = {"variant": variant, "stage": stage, "runs": n, "attempts": int(grp["tries"].sum()),
               **counts, "retried": retried}
        for name, k in (("failed", counts["failed"]), ("timed_out", counts["timed_out"]),
                        ("unfinished", counts["unfinished"]), ("retried", retried), ("bad", bad)):
            row[f"{name}_rate"], row[f"{name}_low"], row[f"{name}_high"] = _rate(k, n, confidence)
        row["median_s"], row["p95_s"] = med, p95
        row["tail_ratio"] = p95 / med if len(ok_dur) >= 2 and med > 0 else math.nan
        rows.append(row)
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    out = out.sort_values(["bad_rate", "failed_rate", "tail_ratio", "variant", "stage"],
                          ascending=[False, False, False, True, True], na_position="last")
    return out.reset_index(drop=True)


def run_outcomes(runs: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """Per variant: runs and how many ended ok / failed / timeout / error / unfinished, with the
    Wilson interval of the share of bad runs (everything but ok). Warm-ups and traced runs are
    left out."""
    if runs is None or len(runs) == 0:
        return pd.DataFrame(columns=["variant", "runs", "ok", "failed", "timeout", "error",
                                     "unfinished", "bad_rate", "bad_low", "bad_high"])
    df = runs[~runs["warmup"].astype(bool)] if "warmup" in runs else runs
    if "traced" in df:  # a traced pass's runs repeat timed ones under strace: not more outcomes
        df = df[~df["traced"].astype(bool)]
    rows = []
    for variant, grp in df.groupby(df["variant"].astype(str), sort=True):
        status = grp["status"].astype(str).str.lower()
        counts = {
            "ok": int(status.isin(OK_STATUSES).sum()),
            "failed": int(status.isin(FAILED_STATUSES - {"error", "cancelled", "canceled"}).sum()),
            "timeout": int((status == "timeout").sum()),
            "error": int(status.isin({"error", "cancelled", "canceled"}).sum()),
            "unfinished": int(status.isin(RUNNING_STATUSES - {"timeout"} | {"queued"}).sum()),
        }
        n = len(grp)
        rate, low, high = _rate(n - counts["ok"], n, confidence)
        rows.append({"variant": variant, "runs": n, **counts, "bad_rate": rate, "bad_low": low,
                     "bad_high": high})
    return pd.DataFrame(rows)
