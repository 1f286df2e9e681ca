"""Which interval a comparison uses, from how its runs were collected (the estimands are in
:mod:`perfkit.analysis.paired`), and every metric's values and interval, computed in one batch.

``paired``
    both variants ran in shared rounds (the ``round`` column of ``perfkit measure``): each metric's
    values are paired by round (a metric whose runs do not pair up falls back to ``independent``).
``autocorrelated``
    the variants were not interleaved (two collections, an import, one after the other — the
    ``not-interleaved`` warning): intervals widened for autocorrelation in execution order.
``independent``
    no rounds recorded, but the runs alternate (an import of interleaved runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from perfkit.analysis.clock_grid import metric_note
from perfkit.analysis.diagnostics import Diagnostic, measured_values
from perfkit.analysis.paired import round_pairs
from perfkit.analysis.stats import ChangeInterval, change_intervals
from perfkit.data.schema import comparable_masks, is_count


def collection_design(b_rows: pd.DataFrame, c_rows: pd.DataFrame,
                      order_warning: Diagnostic | None) -> str:
    """``paired``, ``autocorrelated`` or ``independent`` (see the module docstring)."""
    if order_warning is not None:
        return "autocorrelated"
    if "round" in b_rows.columns and "round" in c_rows.columns and \
            b_rows["round"].notna().any() and c_rows["round"].notna().any():
        return "paired"
    return "independent"


def metric_intervals(b_rows: pd.DataFrame, c_rows: pd.DataFrame, metrics: Sequence[str],
                     design: str, judged_metrics: Sequence[str] = (), **options: Any
                     ) -> tuple[dict[str, tuple], dict[str, ChangeInterval]]:
    """``(samples, intervals)``: per metric ``(baseline values, candidate values, values the
    interval uses ×2, design)`` and, where both variants have values, its change interval
    (:func:`~perfkit.analysis.stats.change_intervals`: the bootstraps batched, the same numbers).
    ``options`` are ``statistic``, ``confidence``, ``n_resamples`` and ``seed``."""
    metrics = list(dict.fromkeys(metrics))
    masks_b = comparable_masks(b_rows, metrics)
    masks_c = comparable_masks(c_rows, metrics)
    samples: dict[str, tuple] = {}
    for m in metrics:
        vb, _ = measured_values(b_rows, m, masks_b[m])
        vc, _ = measured_values(c_rows, m, masks_c[m])
        xb, xc, used = vb, vc, design
        if design == "paired":
            pairs = round_pairs(b_rows, c_rows, m, (masks_b[m], masks_c[m]))
            xb, xc, used = (pairs[0], pairs[1], "paired") if pairs else (vb, vc, "independent")
        samples[m] = (vb, vc, xb, xc, used)
    todo = [m for m, (vb, vc, *_) in samples.items() if vb.size and vc.size]
    # ``auto`` judges targets and guardrails with Hodges–Lehmann; info rows (only their direction
    # is read, from Holm-adjusted p-values) keep the median, whose batched bootstrap is cheap
    judged = set(judged_metrics) if options.get("statistic") == "auto" else set(todo)
    intervals: dict[str, ChangeInterval] = {}
    for group, stat in (([m for m in todo if m in judged], options.get("statistic")),
                        ([m for m in todo if m not in judged], "median")):
        if group:
            cis = change_intervals([samples[m][2:] for m in group],
                                   exact=[is_count(m) for m in group],
                                   **{**options, "statistic": stat})
            intervals.update(zip(group, cis))
    for m in judged & set(todo):  # a coarse clock's note in the metric's unit
        note = metric_note(m, intervals[m].note, *samples[m][2:4])
        intervals[m] = replace(intervals[m], note=note)
    return samples, {m: intervals[m] for m in todo}


def finite(distribution: np.ndarray | None) -> np.ndarray | None:
    return None if distribution is None else distribution[np.isfinite(distribution)]
