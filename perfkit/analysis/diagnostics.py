"""Statistical oddities in a runs table, as warnings with a hint (never failures).

:func:`diagnose` looks at each variant's measured runs of one or more metrics and reports:

``too-few-runs``
    fewer measured runs than ``min_runs``: intervals will be wide and checks below weak.
``high-spread``
    robust coefficient of variation ``1.4826 · MAD / median`` above :data:`HIGH_SPREAD_CV`
    (1.4826 · MAD estimates the standard deviation of normal data without being pulled by outliers).
``first-run``
    the first measured run is a high outlier against the others (cold caches, lazy compilation).
``drift``
    the metric moves with run order: Spearman's rank correlation with ``order`` is significant
    (p < :data:`DRIFT_ALPHA`) *and* the Theil–Sen line fitted through it changes by more than
    :data:`DRIFT_MATERIAL` of the median across the collection. Both are needed: significance
    alone fires on negligible trends in long collections; size alone fires on noise in short ones.
``outliers``
    runs whose modified z-score ``0.6745 · (x − median) / MAD`` exceeds :data:`OUTLIER_Z`
    (Iglewicz & Hoaglin 1993, "How to Detect and Handle Outliers"). When the MAD is zero (more
    than half the runs are equal, common for counts) the score uses the mean absolute deviation,
    ``(x − median) / (1.253314 · MeanAD)``, as IBM SPSS does after Iglewicz & Hoaglin; when
    that is zero too, every run is equal and none is an outlier. At small n the sample MAD is
    itself noisy: on clean normal data of 20 runs, ~10 % of samples have at least one run above
    3.5 (measured, 4000 samples), so this warning says "look", not "wrong".

:func:`compare_hosts` warns when two datasets were collected on different machines.

Which rows count as "measured": warm-ups never; for the exact file-operation counters of a traced
pass (``<label>_writes``, ``fs_*``) only traced rows; for everything else only untraced rows
(tracing perturbs timing and the I/O counters). Failed, timed-out and errored runs are left out
(they are counted in the success rate by the comparison instead).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from perfkit import fmt
from perfkit.data.schema import comparable_mask, comparable_rows
from perfkit.errors import UsageError

#: Robust CV above which a variant's runs are called noisy (pyperf warns at a 10 % std dev too).
HIGH_SPREAD_CV = 0.10
#: Modified z-score above which a run is an outlier (Iglewicz & Hoaglin's recommended cut-off).
OUTLIER_Z = 3.5
#: Significance level of the Spearman test of metric against run order.
DRIFT_ALPHA = 0.01
#: Fitted change across the collection, as a share of the median, that makes a drift material.
DRIFT_MATERIAL = 0.05
#: Consistency constant turning a MAD into a standard-deviation estimate for normal data.
MAD_TO_SD = 1.4826
#: Iglewicz & Hoaglin's 0.6745 = 1 / 1.4826 (the 75th percentile of the standard normal).
MODIFIED_Z_K = 0.6745
#: Consistency constant for the mean absolute deviation (sqrt(pi/2)), used when the MAD is zero.
MEANAD_TO_SD = 1.253314
#: Values whose whole range is within this share of their median have no outliers worth a word
#: (peak RSS that moves by 1.6 % is not "interference from other programs").
OUTLIER_MIN_RANGE = 0.05
#: Below this many runs the first-run, drift and outlier checks say nothing (too little to judge).
MIN_RUNS_FOR_SHAPE = 5


@dataclass(frozen=True)
class Diagnostic:
    """One warning: what was seen (``message``) and what to try (``hint``).

    ``kind`` is one of ``too-few-runs``, ``high-spread``, ``first-run``, ``drift``, ``outliers``,
    ``not-interleaved``,
    ``different-hosts``. ``variant`` and ``metric`` are ``None`` where they do not apply.
    """

    kind: str
    variant: str | None
    metric: str | None
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "variant": self.variant,
            "metric": self.metric,
            "message": self.message,
            "hint": self.hint,
        }


def measured_rows(runs: pd.DataFrame, metric: str, *, ok_only: bool = True) -> pd.DataFrame:
    """The rows of ``runs`` whose ``metric`` values may be compared: :func:`comparable_rows`."""
    return comparable_rows(runs, metric, ok_only=ok_only)


def measured_values(runs: pd.DataFrame, metric: str, mask: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(values, order)`` of a metric's measured, non-null runs, sorted by execution order
    (``mask``: :func:`comparable_mask` of ``metric`` when the caller has it already)."""
    mask = comparable_mask(runs, metric) if mask is None else mask.copy()
    values = pd.to_numeric(runs[metric], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    order = (pd.to_numeric(runs["order"]).to_numpy(dtype="float64") if "order" in runs.columns
             else np.arange(len(runs), dtype=float))
    mask &= ~np.isnan(values)
    v, o = values[mask], order[mask]
    idx = np.argsort(o, kind="stable")
    return v[idx], o[idx]


def modified_z(values: np.ndarray) -> np.ndarray:
    """Iglewicz & Hoaglin's modified z-scores, with the mean-absolute-deviation fallback.

    Returns zeros when every value is equal (no run stands out).
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return x
    med = np.median(x)
    dev = x - med
    mad = np.median(np.abs(dev))
    if mad > 0:
        return MODIFIED_Z_K * dev / mad
    mean_ad = np.mean(np.abs(dev))
    if mean_ad > 0:
        return dev / (MEANAD_TO_SD * mean_ad)
    return np.zeros_like(x)


def robust_cv(values: np.ndarray) -> float:
    """``1.4826 · MAD / median`` (NaN when the median is zero)."""
    x = np.asarray(values, dtype=float)
    med = np.median(x)
    if med == 0:
        return float("nan")
    return float(MAD_TO_SD * np.median(np.abs(x - med)) / abs(med))


def _check_variant(variant: str, metric: str, v: np.ndarray, o: np.ndarray, min_runs: int,
                   timeouts: int = 0):
    """Every check of one variant's values ``v`` (in execution order ``o``) of one metric."""
    out = _too_few(variant, metric, v.size, min_runs)
    if v.size < 2:
        return out
    out += _spread(variant, metric, v)
    if v.size < MIN_RUNS_FOR_SHAPE:
        return out
    first = _first_run(variant, metric, v)
    return out + first + _drift(variant, metric, v, o) + _outliers(
        variant, metric, v, skip_first=bool(first), timeouts=timeouts)


def _too_few(variant: str, metric: str, n: int, min_runs: int) -> list[Diagnostic]:
    if n >= min_runs:
        return []
    seen = (f"{variant}: only {n} measured run{'s' if n != 1 else ''} of {metric} "
            if n else f"{variant}: no successful measured runs of {metric} ")
    return [Diagnostic("too-few-runs", variant, metric, seen + f"(at least {min_runs} recommended)",
                       "collect more runs per variant; intervals from few runs are wide")]


def _spread(variant: str, metric: str, v: np.ndarray) -> list[Diagnostic]:
    cv = robust_cv(v)
    if not (np.isfinite(cv) and cv > HIGH_SPREAD_CV):
        return []
    return [Diagnostic("high-spread", variant, metric,
                       f"{variant}: {metric} varies a lot between runs (robust CV {cv:.0%}, "
                       f"above {HIGH_SPREAD_CV:.0%})",
                       "a noisy machine? close other programs, or collect more runs")]


def _first_run(variant: str, metric: str, v: np.ndarray) -> list[Diagnostic]:
    """The first measured run far above the others (modified z of it against the rest)."""
    rest = v[1:]
    rest_med = np.median(rest)
    rest_mad = np.median(np.abs(rest - rest_med))
    if rest_mad > 0:
        z_first = MODIFIED_Z_K * (v[0] - rest_med) / rest_mad
    else:
        mean_ad = np.mean(np.abs(rest - rest_med))
        z_first = (v[0] - rest_med) / (MEANAD_TO_SD * mean_ad) if mean_ad > 0 else (
            np.inf if v[0] > rest_med else 0.0
        )
    if z_first <= OUTLIER_Z:
        return []
    return [Diagnostic("first-run", variant, metric,
                       f"{variant}: the first measured run's {metric} ({fmt.num(v[0])}) is far "
                       f"above the others (median {fmt.num(rest_med)})",
                       "cold caches or lazy start-up? add warm-up runs (--warmup)")]


def _drift(variant: str, metric: str, v: np.ndarray, o: np.ndarray) -> list[Diagnostic]:
    """A monotone trend with run order (Spearman), material by a Theil–Sen fit."""
    if not (np.ptp(v) > 0 and np.ptp(o) > 0):
        return []
    from scipy import stats  # imported here: scipy.stats costs ~1 s at startup

    rho, p = stats.spearmanr(o, v)
    if not (np.isfinite(p) and p < DRIFT_ALPHA):
        return []
    slope, intercept, *_ = stats.theilslopes(v, o)
    med = np.median(v)
    fitted = slope * (o[-1] - o[0])
    share = fitted / abs(med) if med != 0 else np.inf
    if abs(share) <= DRIFT_MATERIAL:
        return []
    direction = "grows" if fitted > 0 else "shrinks"
    return [Diagnostic("drift", variant, metric,
                       f"{variant}: {metric} {direction} with run order "
                       f"(by {abs(share):.0%} of its median across the collection; "
                       f"Spearman rho {rho:.2f}, p={p:.2g})",
                       "state accumulating between runs? use --prepare to reset it, "
                       "or more warm-up runs")]


def _outliers(variant: str, metric: str, v: np.ndarray, *, skip_first: bool,
              timeouts: int = 0) -> list[Diagnostic]:
    med = abs(float(np.median(v)))
    if med > 0 and np.ptp(v) / med < OUTLIER_MIN_RANGE:
        return []
    flagged = np.abs(modified_z(v)) > OUTLIER_Z
    if skip_first:
        flagged[0] = False  # already said by the first-run check
    k = int(flagged.sum())
    if not k:
        return []
    hint = "interference from other programs? look at those runs, or collect more runs"
    if timeouts and bool(np.all(v[flagged] > np.median(v))):
        # slow runs beside runs stopped at the timeout: the program's own slow tail
        hint = (f"a slow tail of the program itself ({timeouts} more run"
                f"{'s' if timeouts != 1 else ''} hit the timeout); `perfkit reliability` "
                "shows which stage it is in")
    return [Diagnostic("outliers", variant, metric,
                       f"{variant}: {k} of {v.size} runs of {metric} "
                       f"{'is an outlier' if k == 1 else 'are outliers'} "
                       f"(modified z-score above {OUTLIER_Z})", hint)]


def _timeout_count(runs: pd.DataFrame) -> tuple[int, int]:
    """``(timed out, measured)`` among a variant's measured runs (warm-up and traced left out)."""
    measured = np.ones(len(runs), dtype=bool)
    for flag in ("warmup", "traced"):
        if flag in runs.columns:
            measured &= ~runs[flag].fillna(False).astype(bool).to_numpy()
    timed_out = (runs["status"].astype(str) == "timeout").to_numpy() & measured
    return int(timed_out.sum()), int(measured.sum())


def _timeout_tail(variant: str, t: int, n: int) -> list[Diagnostic]:
    """Measured runs stopped at ``--timeout``: a tail of the program, left out of comparisons."""
    if not t:
        return []
    return [Diagnostic("timeout-tail", variant, None,
                       f"{variant}: {t} of {n} runs hit the timeout — a slow tail of the "
                       "program (their times are cut at the limit and left out of comparisons)",
                       "`perfkit reliability` shows the stage each stopped in; raise --timeout "
                       "to measure the tail")]


def diagnose(
    runs: pd.DataFrame,
    *,
    metric: str | Sequence[str] = "wall_s",
    min_runs: int = 10,
    variants: Iterable[str] | None = None,
) -> list[Diagnostic]:
    """Warnings with hints about each variant's measured runs of ``metric`` (one name or several).

    Ignores warm-up, failed/timed-out runs, and traced runs (untraced runs for trace counters).
    Returns a list of :class:`Diagnostic`, ordered by metric, then variant, then check; then one
    ``timeout-tail`` per variant whose measured runs hit the timeout (a tail, not interference).
    """
    metrics = [metric] if isinstance(metric, str) else list(metric)
    for m in metrics:
        if m not in runs.columns:
            raise UsageError(f"`metric`: {m!r} is not a column of the runs table")
    if isinstance(min_runs, bool) or not isinstance(min_runs, (int, np.integer)) or min_runs < 1:
        raise UsageError(f"`min_runs` must be a positive integer, not {min_runs!r}")
    if variants is None:
        variants = list(pd.unique(runs.sort_values("order")["variant"])) if len(runs) else []
    out: list[Diagnostic] = []
    counts = {variant: (_timeout_count(runs[runs["variant"] == variant])
                        if "status" in runs.columns else (0, 0)) for variant in variants}
    for m in metrics:
        for variant in variants:
            v, o = measured_values(runs[runs["variant"] == variant], m)
            out.extend(_check_variant(str(variant), m, v, o, int(min_runs), counts[variant][0]))
    return out + [d for variant in variants for d in _timeout_tail(str(variant), *counts[variant])]


# meta keys that different writers may use for the same fact
_HOST_FIELDS: dict[str, tuple[str, ...]] = {
    "hostname": ("hostname", "host"),
    "CPU": ("cpu_model", "cpu", "processor"),
    "kernel": ("kernel", "kernel_release", "release"),
}


def _flatten(meta: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in meta.items():
        if isinstance(value, Mapping) and key in ("host", "machine", "system", "platform"):
            for k, v in value.items():
                flat.setdefault(k, v)
        else:
            flat.setdefault(key, value)
    return flat


def _host_field(meta: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    flat = _flatten(meta)
    for name in names:
        value = flat.get(name)
        if value not in (None, "") and not isinstance(value, Mapping):
            return value
    return None


def compare_hosts(meta_a: Mapping[str, Any], meta_b: Mapping[str, Any]) -> Diagnostic | None:
    """A ``different-hosts`` warning when two datasets' hostname, CPU or kernel differ.

    Fields missing from either record are not compared; returns ``None`` when nothing differs.
    """
    diffs = []
    for label, names in _HOST_FIELDS.items():
        a, b = _host_field(meta_a or {}, names), _host_field(meta_b or {}, names)
        if a is not None and b is not None and str(a) != str(b):
            diffs.append(f"{label} {a!s} vs {b!s}")
    if not diffs:
        return None
    return Diagnostic(
        "different-hosts",
        None,
        None,
        "baseline and candidate were measured on different machines: " + "; ".join(diffs),
        "timings across machines are not comparable; measure both variants on one host",
    )


def interleaving(baseline: pd.DataFrame, candidate: pd.DataFrame, *, same_dataset: bool
                 ) -> Diagnostic | None:
    """A ``not-interleaved`` warning when the two variants did not run in shared rounds.

    ``perfkit measure`` runs variants round by round (the ``round`` column), so that a machine
    that drifts — another job starts, a disk fills — slows both alike. Runs from two datasets, from
    an import (no rounds), or one variant after the other share no rounds: drift then lands in
    the change itself, and an interval that assumes independent runs is too narrow.
    """
    hint = ("measure both variants in one `perfkit measure` run (interleaved rounds), so that "
            "machine drift hits both alike")
    if not same_dataset:
        return Diagnostic("not-interleaved", None, None,
                          "baseline and candidate come from two collections: their runs were not "
                          "interleaved, so drift between the collections is part of the change",
                          hint)
    rounds_b = set(baseline["round"].dropna()) if "round" in baseline.columns else set()
    rounds_c = set(candidate["round"].dropna()) if "round" in candidate.columns else set()
    if rounds_b and rounds_c and len(rounds_b & rounds_c) >= 0.5 * min(len(rounds_b), len(rounds_c)):
        return None
    if "order" in baseline.columns and "order" in candidate.columns and not rounds_b | rounds_c:
        ob, oc = baseline["order"].dropna(), candidate["order"].dropna()
        apart = len(ob) and len(oc) and (ob.max() < oc.min() or oc.max() < ob.min())
        if not apart:
            return None  # no rounds recorded (an import), but the runs alternate
    return Diagnostic("not-interleaved", None, None,
                      "the variants ran one after the other, not in shared rounds: drift of the "
                      "machine during the collection is part of the change", hint)
