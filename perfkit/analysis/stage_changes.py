"""How each stage's duration changed between two variants, with its interval.

The comparison report's per-stage section: which stage a fix made faster, and by how much.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from perfkit.analysis.hotspots import BETWEEN, OUTSIDE, with_pseudo_stages
from perfkit.analysis.stats import change_interval


def stage_changes(
    stages: Any, baseline: str, candidate: str, *, confidence: float = 0.95,
    statistic: str = "median", n_resamples: int = 10_000, seed: int = 0, runs: Any = None,
) -> Any:
    """Change of each stage's duration between two variants, with its bootstrap interval.

    Only stages that ran (with a duration) in both variants are compared. With ``runs`` (their
    ``wall_s``), the time outside the stages is compared as a stage of its own, ``(outside
    stages)``, and the gaps between stages as ``(between stages)`` (after the real stages; see
    :func:`perfkit.analysis.hotspots.with_pseudo_stages`). Returns one row per
    stage, in the baseline's stage order, with columns ``stage``, ``title``, ``n_baseline``,
    ``n_candidate``, ``baseline``, ``candidate`` (the statistic of the durations, seconds),
    ``change`` (1 − candidate/baseline: positive = faster), ``ci_low``, ``ci_high``, ``method``.
    """

    columns = ["stage", "title", "n_baseline", "n_candidate", "baseline", "candidate", "change",
               "ci_low", "ci_high", "method"]
    if stages is None or len(stages) == 0:
        return pd.DataFrame(columns=columns)
    st = with_pseudo_stages(stages, runs).dropna(subset=["duration_s"])
    if "status" in st.columns:
        st = st[st["status"].isin(["ok", "succeeded"]) | st["status"].isna()]
    b = st[st["variant"] == baseline]
    c = st[st["variant"] == candidate]
    order = b.sort_values("index", kind="stable")["stage"].drop_duplicates() if "index" in b else (
        b["stage"].drop_duplicates())
    pseudo = [s for s in (OUTSIDE, BETWEEN) if s in set(order)]  # after the real stages
    order = [s for s in order if s not in pseudo] + pseudo
    rows = []
    for stage in order:
        vb = b.loc[b["stage"] == stage, "duration_s"].to_numpy(float)
        vc = c.loc[c["stage"] == stage, "duration_s"].to_numpy(float)
        if vb.size < 2 or vc.size < 2:
            continue
        ci = change_interval(vb, vc, statistic=statistic, confidence=confidence,
                             n_resamples=n_resamples, seed=seed)
        title = b.loc[b["stage"] == stage, "title"].dropna()
        rows.append({"stage": str(stage), "title": str(title.iloc[0]) if len(title) else str(stage),
                     "n_baseline": ci.n_baseline, "n_candidate": ci.n_candidate,
                     "baseline": ci.baseline, "candidate": ci.candidate, "change": ci.change,
                     "ci_low": ci.ci_low, "ci_high": ci.ci_high, "method": ci.method})
    return pd.DataFrame(rows, columns=columns)
