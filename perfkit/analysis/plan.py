"""A comparison's checked arguments and its plan: which rows are each variant's, which metrics
are targets, guardrails and info rows, at which level, and how the runs were collected.

:func:`check` is :func:`perfkit.compare`'s input validation (one message naming the argument, like
scipy's ``*_iv`` helpers); the :class:`Plan` it returns computes every metric's values and
interval in one batch (:func:`perfkit.analysis.design.metric_intervals`). The verdict rules that
read the plan are in :mod:`perfkit.analysis.verdict`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from perfkit.analysis.design import collection_design, metric_intervals
from perfkit.analysis.diagnostics import Diagnostic, interleaving
from perfkit.analysis.spending import recorded_confidence, recorded_statistic
from perfkit.analysis.stats import STATISTICS, ChangeInterval
from perfkit.analysis.success import success_roles
from perfkit.data.schema import metric_columns, timed_rows
from perfkit.errors import UsageError

#: The most bootstrap resamples a comparison takes (100 times the default; more only costs time
#: and memory: the interval's Monte Carlo error is already far below its width).
MAX_RESAMPLES = 1_000_000

class Default(dict):
    """Marks the default guardrails, so that a missing default metric is a warning, not an error."""


DEFAULT_GUARDRAILS: Mapping[str, float] = Default({"max_rss_kib": 0.05})


def _as_runs(obj: Any, name: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    if obj is None:
        return None, {}  # type: ignore[return-value]
    runs = getattr(obj, "runs", None)
    if isinstance(runs, pd.DataFrame):  # a perfkit Dataset
        return runs, dict(getattr(obj, "meta", {}) or {})
    if isinstance(obj, pd.DataFrame):
        return obj, {}
    raise UsageError(f"`{name}` must be a runs DataFrame or a perfkit Dataset, not {type(obj).__name__}")


def _band(target: Any) -> tuple[float, float]:
    if isinstance(target, (int, float)) and not isinstance(target, bool):
        low = high = float(target)
    else:
        try:
            low, high = (float(x) for x in target)
        except (TypeError, ValueError):
            raise UsageError(f"`target` must be a band (low, high), not {target!r}") from None
    if not (0 <= low <= high < 1) or not (math.isfinite(low) and math.isfinite(high)):
        raise UsageError(f"`target` band must satisfy 0 ≤ low ≤ high < 1, not ({low}, {high})")
    return low, high


def _variant_rows(runs: pd.DataFrame, variant: str, name: str) -> pd.DataFrame:
    if "variant" not in runs.columns:
        raise UsageError(f"`{name}`: the runs table has no `variant` column")
    known = [str(v) for v in pd.unique(runs["variant"].dropna())]
    if variant not in known:
        raise UsageError(
            f"`{name}`: unknown variant {variant!r} (the runs table holds: "
            f"{', '.join(known) or 'none'})"
        )
    rows = runs[runs["variant"] == variant]
    if "warmup" in rows.columns:
        rows = rows[~rows["warmup"].astype(bool)]
    if rows.empty:
        raise UsageError(f"`{name}`: variant {variant!r} has no measured runs (only warm-ups)")
    return rows


def _check_metric(name: str, metric: str, *tables: pd.DataFrame) -> None:
    for t in tables:
        if metric not in t.columns:
            raise UsageError(f"`{name}`: {metric!r} is not a column of the runs table")
        if not pd.api.types.is_numeric_dtype(t[metric]) or t[metric].dtype == bool:
            raise UsageError(f"`{name}`: {metric!r} is not a numeric metric")


@dataclass
class Plan:
    """A comparison's checked arguments: the rows of each variant and what to judge how."""

    base_runs: pd.DataFrame
    cand_runs: pd.DataFrame
    base_meta: dict[str, Any]
    cand_meta: dict[str, Any]
    baseline: str
    candidate: str
    b_rows: pd.DataFrame
    c_rows: pd.DataFrame
    targets: list[str]
    margins: dict[str, float]
    info: list[str]
    default_guardrails: bool
    low: float
    high: float
    confidence: float
    statistic: str
    n_resamples: int
    seed: int
    success_margin: float = 0.0  # points: --guardrail success_rate=5pts
    success_target: tuple[float, float] | None = None  # points: --target success_rate=+10pts
    order_warning: Diagnostic | None = None  # not-interleaved (None: shared rounds / alternate)
    design: str = "independent"  # perfkit.analysis.design.collection_design
    samples: dict[str, tuple] = field(default_factory=dict)  # design.metric_intervals
    intervals: dict[str, ChangeInterval] = field(default_factory=dict)

    def compute(self) -> None:  # every metric's values and interval: design.metric_intervals
        self.samples, self.intervals = metric_intervals(
            self.b_rows, self.c_rows, [*self.targets, *self.margins, *self.info], self.design,
            [*self.targets, *self.margins], statistic=self.statistic, confidence=self.confidence,
            n_resamples=self.n_resamples, seed=self.seed)

    def settings(self) -> dict[str, Any]:
        return {
            "targets": list(self.targets), "target": [self.low, self.high],
            "guardrails": dict(self.margins), "confidence": self.confidence,
            "statistic": self.statistic, "n_resamples": self.n_resamples, "seed": self.seed,
            "method": "BCa", "design": self.design,
        }


def check(runs, candidate_runs, baseline, candidate, targets, target, guardrails, info,
          confidence, statistic, n_resamples, seed, meta, candidate_meta,
          success_target=None) -> Plan:
    """Check :func:`compare`'s arguments (one message naming the argument) and plan the table."""
    base_runs, base_meta = _as_runs(runs, "runs")
    cand_runs, cand_meta = _as_runs(candidate_runs, "candidate_runs")
    if base_runs is None:
        raise UsageError("`runs` is required")
    if cand_runs is None:
        cand_runs = base_runs
        cand_meta = base_meta
        if baseline == candidate:
            raise UsageError(f"`candidate`: same variant as `baseline` ({baseline!r})")
    base_meta = dict(meta) if meta is not None else base_meta
    cand_meta = dict(candidate_meta) if candidate_meta is not None else cand_meta
    confidence = recorded_confidence(base_meta) if confidence is None else confidence
    statistic = recorded_statistic(base_meta) if statistic is None else statistic
    low, high = _band(target)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) \
            or not 0 < confidence < 1:
        raise UsageError(f"`confidence` must lie strictly between 0 and 1, not {confidence!r}")
    if not isinstance(statistic, str) or statistic not in STATISTICS:
        raise UsageError(f"`statistic` must be one of {', '.join(STATISTICS)}, not {statistic!r}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, (int, np.integer)) \
            or not 100 <= n_resamples <= MAX_RESAMPLES:
        raise UsageError(f"`n_resamples` (--resamples) must be a whole number from 100 to "
                         f"{MAX_RESAMPLES:,}, not {n_resamples!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise UsageError(f"`seed` (--seed) must be a whole number from 0 to 2**63-1, not {seed!r}")
    targets = [targets] if isinstance(targets, str) else list(targets)
    if not targets:
        raise UsageError("`targets`: name at least one target metric")
    if not isinstance(guardrails, Mapping):
        raise UsageError("`guardrails` must map metric names to margins, e.g. {'max_rss_kib': 0.05}")
    default_guardrails = isinstance(guardrails, Default)
    margins: dict[str, float] = {}
    for m, margin in guardrails.items():
        try:
            margin = float(margin)
        except (TypeError, ValueError):
            raise UsageError(f"`guardrails`: margin of {m!r} must be a number, not {margin!r}") from None
        if not (math.isfinite(margin) and margin >= 0):
            raise UsageError(f"`guardrails`: margin of {m!r} must be ≥ 0, not {margin!r}")
        margins[m] = margin
    both = set(targets) & set(margins)
    if both:
        raise UsageError(f"`guardrails`: {sorted(both)} also named in `targets`")
    success_margin, s_target = success_roles(
        targets, margins, lambda: _band(target if success_target is None else success_target))

    b_rows = _variant_rows(base_runs, baseline, "baseline")
    c_rows = _variant_rows(cand_runs, candidate, "candidate")
    if (targets == ["wall_s"] and "wall_s" not in b_rows.columns
            and "manifest_span_s" in b_rows.columns and "manifest_span_s" in c_rows.columns):
        # an ingested workspace: nothing measured the runs' wall time; the default target is
        # then their own recorded span, under its own name
        targets = ["manifest_span_s"]
    for m in targets:
        _check_metric("targets", m, b_rows, c_rows)
    for m in list(margins):
        if default_guardrails and (m not in b_rows.columns or m not in c_rows.columns):
            margins.pop(m)
            continue
        _check_metric("guardrails", m, b_rows, c_rows)
    if info is None:
        in_candidate = set(metric_columns(c_rows))
        info_metrics = [
            m for m in metric_columns(b_rows)
            if m in in_candidate and m not in targets and m not in margins
        ]
    else:
        info_metrics = [m for m in info if m not in targets and m not in margins]
        for m in info_metrics:
            _check_metric("info", m, b_rows, c_rows)
    same = cand_runs is base_runs
    order = interleaving(timed_rows(b_rows), timed_rows(c_rows), same_dataset=same)
    return Plan(base_runs, cand_runs, base_meta, cand_meta, baseline, candidate, b_rows, c_rows,
                 targets, margins, info_metrics, default_guardrails, low, high, confidence,
                 statistic, int(n_resamples), seed, success_margin, s_target, order,
                 collection_design(b_rows, c_rows, order))
