"""Checking a history: per-commit series → candidate steps → confirmed steps, drift, regressions.

For each benchmark and metric (lower is better, as everywhere in perfkit):

1. **Series.** One value per commit: the median of its comparable runs
   (:meth:`perfkit.data.history.History.series`). The commit is the unit: runs of one commit share
   a build and a machine state, so the spread that matters is between commits.
2. **Candidates.** :func:`perfkit.analysis.changepoint.e_divisive` over the series (seeded).
3. **Confirmation.** Each candidate ``k`` splits its neighbourhood — from the previous candidate
   to the next, at most ``span`` commits on each side — into *before* and *after*.
   :func:`perfkit.analysis.stats.change_interval` gives ``change = 1 − median(after)/median(before)``
   with its bootstrap interval; a step is confirmed when the interval excludes 0.
4. **Step or drift.** On the same neighbourhood a line ``a + b·t`` and a line with a step
   ``a + b·t + c·[t ≥ k]`` are fitted by least squares; if the step term does not improve the
   fit (F-test, ``p ≥ STEP_P``) the candidate is part of a slope, not a step. Between confirmed
   steps, a segment whose values trend (Kendall's τ against commit order, ``p < DRIFT_P``, and a
   Theil–Sen slope that adds up to at least ``drift_min`` over the segment) is reported once as
   **drift**, with its slope per commit — a gradual slide is one finding, not a row of steps.
5. **Verdict.** A step or a drift is a **regression** when it makes the metric worse by at least
   ``threshold`` (point estimate) and its interval (for a drift: the sign of its trend) says worse.

:func:`check_values` is steps 2–5 on arrays (what the known-truth benchmark runs);
:func:`check_history` adds the series, and for each step which stages and which exact
file-operation counters moved most between the two segments.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from perfkit.analysis.changepoint import (ALPHA, MIN_SIZE, PERMUTATIONS, WINDOW, e_divisive,
                                          refine)
from perfkit.analysis.stats import change_interval
from perfkit.errors import UsageError

#: Default regression threshold: a worsening of at least 5 %.
THRESHOLD = 0.05
#: BIC penalty of one step, in units of ln(commits) (BIC proper would be 1; see select_steps).
STEP_PENALTY = 3.0
#: A segment trends when Kendall's τ against commit order has p below this.
DRIFT_P = 0.001
#: Most commits taken on each side of a candidate for its confirmation.
SPAN = 30
#: Bootstrap resamples of a confirmation (seeded).
RESAMPLES = 2000
MIN_COMMITS = 10


@dataclass(frozen=True)
class Mover:
    """A stage or counter that moved between the two segments of a step."""

    name: str
    before: float
    after: float

    @property
    def delta(self) -> float:
        return self.after - self.before


@dataclass(frozen=True)
class Step:
    """A confirmed step: ``index`` is the first commit after it (position in the series)."""

    metric: str
    index: int
    commit_before: str
    commit_after: str
    before: float
    after: float
    change: float
    ci_low: float
    ci_high: float
    p_value: float
    regression: bool
    stages: tuple[Mover, ...] = ()
    files: tuple[Mover, ...] = ()


@dataclass(frozen=True)
class Drift:
    """A gradual trend between ``start`` and ``stop`` (positions, ``stop`` inclusive)."""

    metric: str
    start: int
    stop: int
    commit_first: str
    commit_last: str
    per_commit: float     # relative change per commit (positive = worse: the metric grows)
    total: float          # relative change over the segment, as ``change`` (negative = worse)
    p_value: float
    regression: bool


@dataclass
class MetricCheck:
    """The check of one metric of one benchmark."""

    benchmark: str
    metric: str
    series: pd.DataFrame
    steps: list[Step] = field(default_factory=list)
    drifts: list[Drift] = field(default_factory=list)
    candidates: int = 0
    note: str = ""

    @property
    def regressed(self) -> bool:
        return any(s.regression for s in self.steps) or any(d.regression for d in self.drifts)


@dataclass
class HistoryCheck:
    """What ``perfkit history check`` reports: one :class:`MetricCheck` per benchmark and metric."""

    checks: list[MetricCheck]
    threshold: float
    seed: int

    @property
    def regressed(self) -> bool:
        return any(c.regressed for c in self.checks)

    def to_dict(self) -> dict:
        return {
            "threshold": self.threshold, "seed": self.seed, "regressed": self.regressed,
            "checks": [{
                "benchmark": c.benchmark, "metric": c.metric, "commits": len(c.series),
                "candidates": c.candidates, "note": c.note, "regressed": c.regressed,
                "steps": [asdict(s) for s in c.steps], "drifts": [asdict(d) for d in c.drifts],
            } for c in self.checks],
        }


def _bic(y: np.ndarray, steps: list[int], slope: bool, penalty: float) -> float:
    """``n·ln(RSS/n)`` of a least-squares fit of levels (one per segment) and an optional common
    slope, plus ``penalty`` per step and ``ln n`` for the slope."""
    t = np.arange(y.size, dtype=float)
    cols = [np.ones_like(t)] + [(t >= k).astype(float) for k in steps] + ([t] if slope else [])
    x = np.column_stack(cols)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    rss = max(float(np.sum((y - x @ coef) ** 2)), 1e-300)
    return y.size * math.log(rss / y.size) + penalty * len(steps) + (math.log(y.size) if slope else 0)


def select_steps(y: np.ndarray, candidates: list[int], *, penalty: float | None = None
                 ) -> tuple[list[int], bool]:
    """Which candidates are steps, and whether a common slope explains the series better.

    Forward selection by BIC, once without and once with a slope, the better kept: in a drift
    the slope takes two parameters where steps would need many, so candidates that only cut a
    slope into stairs are dropped; a real step still pays for itself on top of a slope.
    """
    y = np.asarray(y, dtype=float)
    penalty = STEP_PENALTY * math.log(y.size) if penalty is None else penalty
    best: tuple[float, list[int], bool] | None = None
    for slope in (False, True):
        chosen: list[int] = []
        cost = _bic(y, chosen, slope, penalty)
        while True:
            trials = [(_bic(y, sorted(chosen + [k]), slope, penalty), k)
                      for k in candidates if k not in chosen]
            if not trials or min(trials)[0] >= cost:
                break
            cost, k = min(trials)
            chosen.append(k)
        if best is None or cost < best[0]:
            best = (cost, sorted(chosen), slope)
    return best[1], best[2]


def _drift(values: np.ndarray, start: int, stop: int, *, threshold: float, drift_min: float,
           metric: str, commits: list[str]) -> Drift | None:
    y = values[start:stop]
    if y.size < MIN_COMMITS:
        return None
    from scipy import stats

    t = np.arange(y.size, dtype=float)
    tau = stats.kendalltau(t, y)
    if not tau.pvalue < DRIFT_P:
        return None
    slope, intercept, *_ = stats.theilslopes(y, t)
    level = float(np.median(y))
    first, last = intercept, intercept + slope * (y.size - 1)
    if first <= 0 or level <= 0:
        return None
    total = 1 - last / first
    if abs(total) < drift_min:
        return None
    return Drift(metric=metric, start=start, stop=stop - 1, commit_first=commits[start],
                 commit_last=commits[stop - 1], per_commit=float(slope / level),
                 total=float(total), p_value=float(tau.pvalue),
                 regression=bool(-total >= threshold))


def check_values(values, commits: list[str] | None = None, *, metric: str = "value",
                 threshold: float = THRESHOLD, drift_min: float | None = None, seed: int = 0,
                 alpha: float = ALPHA, permutations: int = PERMUTATIONS,
                 window: int | None = WINDOW, span: int = SPAN,
                 resamples: int = RESAMPLES, penalty: float | None = None) -> tuple[list[Step], list[Drift], int]:
    """Confirmed steps, drifts and the number of candidates of one per-commit series."""
    y = np.asarray(values, dtype=float)
    if not np.isfinite(y).all():
        raise UsageError("`values` must be finite numbers")
    if threshold < 0:
        raise UsageError(f"`threshold` must be at least 0, not {threshold!r}")
    commits = list(commits) if commits is not None else [str(i) for i in range(y.size)]
    drift_min = threshold if drift_min is None else drift_min
    if y.size < MIN_COMMITS:
        return [], [], 0
    cands = e_divisive(y, alpha=alpha, permutations=permutations, window=window, seed=seed)
    placed = refine(y, [c.index for c in cands])
    bounds = [0] + placed + [y.size]
    confirmed = {}
    for i, (cp, k) in enumerate(zip(cands, placed)):
        lo, hi = max(bounds[i], k - span), min(bounds[i + 2], k + span)
        ci = change_interval(y[lo:k], y[k:hi], n_resamples=resamples, seed=seed)
        if ci.ci_high < 0 or ci.ci_low > 0:
            confirmed[k] = (ci, cp.p_value)
    kept, _ = select_steps(y, list(confirmed), penalty=penalty)
    steps: list[Step] = []
    for k in kept:
        ci, p = confirmed[k]
        steps.append(Step(metric=metric, index=k, commit_before=commits[k - 1],
                          commit_after=commits[k], before=ci.baseline, after=ci.candidate,
                          change=ci.change, ci_low=ci.ci_low, ci_high=ci.ci_high, p_value=p,
                          regression=bool(ci.ci_high < 0 and -ci.change >= threshold)))
    edges = [0] + [s.index for s in steps] + [y.size]
    drifts = [d for a, b in zip(edges, edges[1:])
              if (d := _drift(y, a, b, threshold=threshold, drift_min=drift_min,
                              metric=metric, commits=commits)) is not None]
    return steps, drifts, len(cands)


def _movers(table: pd.DataFrame, key: str, value: str, before: set, after: set,
            top: int | None = 3) -> tuple[Mover, ...]:
    """Per ``key``: median over commits of each commit's median ``value``, before vs after."""
    if table.empty or key not in table.columns:
        return ()
    per_commit = table.groupby([key, "commit"], observed=True)[value].median().reset_index()
    out = []
    for name, g in per_commit.groupby(key, observed=True):
        b = g.loc[g["commit"].isin(before), value].median()
        a = g.loc[g["commit"].isin(after), value].median()
        if pd.notna(a) and pd.notna(b) and a != b:
            out.append(Mover(name=str(name), before=float(b), after=float(a)))
    out.sort(key=lambda m: -abs(m.delta))
    return tuple(out[:top])


def _explain(step: Step, commits: list[str], counts: pd.DataFrame, stages: pd.DataFrame,
             span: int, edges: set[str] = frozenset()) -> Step:
    """Stages and counters that moved between the commits before ``step`` and after it: every
    stage (the per-stage breakdown), the three counters that moved most; largest moves first.

    Each side runs to at most ``span`` commits, and stops at the nearest other change point
    (``edges``: the first commits after every step of any metric of the benchmark, those at
    least ``MIN_SIZE`` commits away), so that a side does not mix two levels (a stage that
    changed at an earlier step is not this step's).
    """
    # another metric's step a few commits away is the same change, placed by other noise
    at = [i for i, c in enumerate(commits) if c in edges and abs(i - step.index) >= MIN_SIZE]
    lo = max([i for i in at if i < step.index] + [0, step.index - span])
    hi = min([i for i in at if i > step.index] + [len(commits), step.index + span])
    before, after = set(commits[lo:step.index]), set(commits[step.index:hi])
    stage_movers = ()
    if not stages.empty and "duration_s" in stages.columns:
        # as in stage_changes: a stage that ended well says "ok" (perfkit) or "succeeded"
        # (the orchestrator's manifests, the demo pipeline); one with no status is kept
        ok = (stages[stages["status"].isin(["ok", "succeeded"]) | stages["status"].isna()]
              if "status" in stages else stages)
        stage_movers = _movers(ok, "stage", "duration_s", before, after, top=None)
    counters = [c for c in counts.columns if c != "commit" and counts[c].notna().any()]
    file_movers = ()
    if counters:
        long = counts.melt(id_vars=["commit"], value_vars=counters, var_name="counter",
                           value_name="n").dropna()
        long["n"] = long["n"].astype(float)
        file_movers = _movers(long, "counter", "n", before, after)
    return Step(**{**asdict(step), "stages": stage_movers, "files": file_movers})


def check_history(history, *, names: list[str] | None = None, metrics: list[str] | None = None,
                  threshold: float = THRESHOLD, seed: int = 0, last: int | None = None,
                  **options) -> HistoryCheck:
    """Check every (or the named) benchmark and metric of a :class:`~perfkit.data.history.History`.

    ``last`` keeps only the last ``last`` commits of each series; ``options`` go to
    :func:`check_values` (``alpha``, ``permutations``, ``window``, ``span``, ``drift_min``).
    """
    available = history.names()
    if not available:
        raise UsageError(f"{history.path}: the history is empty (add a dataset first)")
    if last is not None and last < MIN_COMMITS:
        raise UsageError(f"`--last` must be at least {MIN_COMMITS}, not {last}")
    checks = []
    span = options.get("span", SPAN)
    for name in names or available:
        found = [_check_series(history, name, metric, last, threshold, seed, options)
                 for metric in metrics or history.metrics(name)]
        if any(c.steps for c in found):  # stages and counters: read once, only when needed
            context = [history.counters(name), history.stages(name)]
            edges = {s.commit_after for c in found for s in c.steps}
            for c in found:
                commits = c.series["commit"].astype(str).tolist()
                c.steps = [_explain(s, commits, *context, span, edges) for s in c.steps]
        checks += found
    return HistoryCheck(checks=checks, threshold=threshold, seed=seed)


def _check_series(history, name: str, metric: str, last: int | None, threshold: float,
                  seed: int, options: dict) -> MetricCheck:
    """One benchmark's metric: its series, steps (not yet explained) and drifts."""
    series = history.series(name, metric)
    if last is not None:
        series = series.tail(last).reset_index(drop=True)
    check = MetricCheck(benchmark=name, metric=metric, series=series)
    if len(series) < MIN_COMMITS:
        check.note = f"{len(series)} commits: at least {MIN_COMMITS} are needed"
        return check
    check.steps, check.drifts, check.candidates = check_values(
        series["value"].to_numpy(float), series["commit"].astype(str).tolist(), metric=metric,
        threshold=threshold, seed=seed, **options)
    return check


def relative_spread(series: pd.DataFrame) -> float:
    """Median of (q3 − q1) / median over commits: the typical within-commit spread."""
    if series.empty:
        return math.nan
    return float(((series["q3"] - series["q1"]) / series["value"]).median())
