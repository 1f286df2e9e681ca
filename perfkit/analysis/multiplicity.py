"""Many questions at once: Holm's adjustment, and the informational rows judged with it.

A comparison asks one question per metric. Twenty informational metrics read at 95 % each would
call at least one of them changed in most A/A comparisons (1 − 0.95²⁰ ≈ 64 %); adjusted with
Holm's step-down procedure the chance that any of them is called changed stays at 5 %.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from perfkit.analysis.vocabulary import UNDEFINED


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of ``p_values`` (NaN stays NaN and is not counted)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    order = ok[np.argsort(p[ok], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def judge_info(table: pd.DataFrame, alpha: float) -> None:
    """Informational rows: ``better``/``worse`` when the Holm-adjusted rank-test p-value is below
    ``alpha`` (the family: every info row), ``no-change`` otherwise; an exact row by its value."""
    info = table["role"] == "info"
    if not info.any():
        return
    table.loc[info, "p_holm"] = holm(table.loc[info, "p_value"].to_numpy(dtype=float))
    for i in table.index[info]:
        r = table.loc[i]
        if r["method"] == "undefined":
            verdict = UNDEFINED
        elif r["method"] == "exact" or (pd.notna(r["p_holm"]) and r["p_holm"] < alpha):
            change = r["change"]
            verdict = "no-change" if change == 0 or pd.isna(change) else (
                "better" if change > 0 else "worse")
        else:
            verdict = "no-change"
        table.loc[i, "verdict"] = verdict
