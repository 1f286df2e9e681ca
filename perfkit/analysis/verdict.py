"""The verdict: did the candidate clear its target on every target metric, and did every guardrail hold?

The rules (the verdict table below and in README.md), implemented literally. Sign conventions:

- ``change`` = 1 − S(candidate)/S(baseline) for every bootstrapped metric (all of perfkit's metrics
  are lower-is-better): 0.15 = 15 % better, negative = worse. ``ci_low``/``ci_high`` bound it.
- a guardrail's *increase* is candidate/baseline − 1 = −change, so its interval is
  ``[−ci_high, −ci_low]``: it holds when that lies entirely below the margin
  (``−ci_low < margin``), is broken when it lies entirely above (``−ci_high > margin``), and is
  unresolved otherwise.
- the ``success_rate`` row is higher-is-better: ``baseline``/``candidate`` are the share of runs
  that ended ``ok``, ``change`` is the candidate's share minus the baseline's (negative = the
  candidate fails more often) and its interval is Newcombe's for a difference of proportions. It
  is broken when the interval lies entirely below 0 (the candidate fails more often, with
  confidence), held when the candidate failed no more often than the baseline, else unresolved.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from perfkit import fmt
from perfkit.analysis.design import finite
from perfkit.analysis.diagnostics import Diagnostic, compare_hosts, diagnose
from perfkit.analysis.floors import at_floor_reason, measurable_floor
from perfkit.analysis.multiplicity import judge_info
from perfkit.analysis.plan import (  # re-exported: DEFAULT_GUARDRAILS, MAX_RESAMPLES
    DEFAULT_GUARDRAILS,
    MAX_RESAMPLES,  # noqa: F401
    Plan,
    check,
)
from perfkit.analysis.power import Advice, guardrail_advice, target_advice
from perfkit.analysis.reasons import ADVICE_KEY, advice_lines, guardrail_reason, target_reason
from perfkit.analysis.spending import level_text
from perfkit.analysis.stats import ChangeInterval, change_interval
from perfkit.analysis.success import success_row, success_verdict  # noqa: F401
from perfkit.analysis.vocabulary import (  # re-exported: the verdict's words
    GUARDRAIL_VERDICTS,  # noqa: F401
    INFO_VERDICTS,  # noqa: F401
    INSUFFICIENT,
    MIN_DECISION_RUNS,
    OVERALL,  # noqa: F401
    SUCCESS_METRIC,  # noqa: F401
    TARGET_VERDICTS,  # noqa: F401
    UNDEFINED,
)
from perfkit.errors import EXIT_CODES, UsageError

#: Version of the JSON document :meth:`Comparison.to_dict` returns.
JSON_SCHEMA = "perfkit.compare/1"

#: Minimum runs per variant below which diagnose() warns.
MIN_RUNS = 10

TABLE_COLUMNS = [
    "metric", "role", "n_baseline", "n_candidate", "baseline", "candidate", "change",
    "ci_low", "ci_high", "verdict", "method", "p_value", "p_holm", "margin", "runs_needed", "note",
]


def target_verdict(low_ci: float, high_ci: float, low: float, high: float) -> str:
    """DESIGN's target table, rule by rule, for a change interval ``[L, U]`` and band ``[low, high]``."""
    L, U = low_ci, high_ci
    if math.isnan(L) or math.isnan(U):
        return UNDEFINED
    if L >= high:
        return "cleared-stretch"
    if low <= L < high:
        return "cleared"
    if 0 < L < low <= U:
        return "improved-unresolved"
    if 0 < L and U < low:
        return "improved-below-target"
    if L <= 0 <= U:
        return "no-change"
    if U < 0:
        return "regressed"
    return UNDEFINED  # unreachable for L <= U; kept so that a bad interval never passes silently


def guardrail_verdict(low_ci: float, high_ci: float, margin: float) -> str:
    """Guardrail rule on the *change* interval: the increase interval is ``[−high_ci, −low_ci]``."""
    if math.isnan(low_ci) or math.isnan(high_ci):
        return UNDEFINED
    inc_low, inc_high = -high_ci, -low_ci
    if inc_high < margin:
        return "held"
    if inc_low > margin:
        return "broken"
    return "unresolved"


def _json_value(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    return v


@dataclass
class Comparison:
    """What :func:`compare` returns.

    ``table`` (one row per metric; columns below), ``overall`` (``cleared``, ``not-shown`` or
    ``regressed``), ``reasons`` (one sentence per target/guardrail that is not cleared/held, or
    why it is cleared), ``advice`` (runs per variant that give an 80 % chance to settle an unresolved row),
    ``warnings`` (:class:`~perfkit.analysis.diagnostics.Diagnostic` with hints) and the ``settings`` used.

    Table columns: ``metric``, ``role`` (target / guardrail / info), ``n_baseline``,
    ``n_candidate`` (runs used), ``baseline``, ``candidate`` (the statistic of each variant),
    ``change`` (1 − candidate/baseline; for ``success_rate`` the difference of success shares),
    ``ci_low``, ``ci_high`` (its interval), ``verdict``, ``method`` (``bca``, ``percentile``,
    ``paired-bca`` (rounds resampled together), ``bca-ar1``/``moses-ar1`` (not interleaved),
    ``moses``, ``exact``, ``newcombe``, ``undefined``; :mod:`perfkit.analysis.paired`), ``p_value`` (Mann–Whitney U, two-sided; Fisher's exact
    test for the success rate), ``margin`` (guardrails), ``runs_needed`` (per variant, for an
    unresolved row), ``note``.
    """

    table: pd.DataFrame
    overall: str
    reasons: list[str]
    advice: list[str]
    warnings: list[Diagnostic]
    baseline: str
    candidate: str
    settings: dict[str, Any] = field(default_factory=dict)
    #: per bootstrapped metric: the replicates of the change behind its interval (finite only)
    distributions: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def exit_code(self) -> int:
        """0 cleared, 1 not shown, 3 regressed or a guardrail broken."""
        return EXIT_CODES[self.overall]

    def row(self, metric: str) -> pd.Series:
        """The table row of one metric."""
        hit = self.table[self.table["metric"] == metric]
        if hit.empty:
            raise UsageError(f"`metric`: {metric!r} is not in this comparison")
        return hit.iloc[0]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record (non-finite numbers become null)."""
        rows = [
            {k: _json_value(v) for k, v in rec.items()} for rec in self.table.to_dict("records")
        ]
        return {
            "schema": JSON_SCHEMA,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "overall": self.overall,
            "exit_code": self.exit_code,
            "reasons": list(self.reasons),
            "advice": list(self.advice),
            "warnings": [w.to_dict() for w in self.warnings],
            "settings": {k: _json_value(v) if not isinstance(v, (list, dict)) else v
                         for k, v in self.settings.items()},
            "metrics": rows,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def __str__(self) -> str:
        """One line and the reasons; the full table is :mod:`perfkit.present.export`'s."""
        lines = [f"perfkit compare: {self.candidate!r} against {self.baseline!r}: "
                 f"{self.overall.upper()}"]
        return "\n".join(lines + [f"  - {reason}" for reason in self.reasons])


# --------------------------------------------------------------------------------------------
# the comparison


def compare(
    runs: pd.DataFrame | Any,
    baseline: str = "baseline",
    candidate: str = "candidate",
    *,
    candidate_runs: pd.DataFrame | Any | None = None,
    targets: Sequence[str] = ("wall_s",),
    target: tuple[float, float] | float = (0.10, 0.20),
    guardrails: Mapping[str, float] = DEFAULT_GUARDRAILS,
    info: Sequence[str] | None = None,
    confidence: float | None = None,
    statistic: str | None = None,
    n_resamples: int = 10_000,
    seed: int = 0,
    min_runs: int = MIN_RUNS,
    meta: Mapping[str, Any] | None = None,
    candidate_meta: Mapping[str, Any] | None = None,
    success_target: tuple[float, float] | float | None = None,
) -> Comparison:
    """Compare ``candidate`` against ``baseline``: one verdict per metric and an overall answer.

    ``runs`` is a runs table (or a :class:`perfkit.Dataset`) holding both variants; or, with
    ``candidate_runs`` given, the baseline's table, the candidate then coming from
    ``candidate_runs``. ``targets`` are judged against the band ``target`` = (low, high);
    ``guardrails`` maps a metric to its margin (0.05 = may grow by less than 5 %); every other
    metric column is an ``info`` row (or only those named in ``info``). The success rate is a
    guardrail (margin in points: ``guardrails={"success_rate": 0.05}`` = 5 points; default 0), or a
    target when ``targets`` names ``success_rate`` (band in points: ``success_target``, else
    ``target``). ``meta``/``candidate_meta`` (taken from Datasets when given) feed the
    different-hosts warning. ``confidence`` and ``statistic`` left None: those a collection made
    with ``--until-decided`` was judged with at its last look (``meta["sequential"]``), else
    0.95 and ``"auto"``.

    Returns a :class:`Comparison`; its ``table`` columns are listed there.
    """
    cfg = check(runs, candidate_runs, baseline, candidate, targets, target, guardrails, info,
                confidence, statistic, n_resamples, seed, meta, candidate_meta, success_target)
    cfg.compute()
    warns: list[Diagnostic] = []

    def judged(metrics: list[str], role: str) -> list[dict[str, Any]]:
        return [r for m in metrics if (r := _metric_row(cfg, m, role, warns)) is not None]

    # table order: targets, guardrails, the success rate (always a guardrail), info rows
    ok = [success_row(cfg.b_rows, cfg.c_rows, cfg.confidence, cfg.success_margin,
                      cfg.success_target, target_verdict)]  # a target, or a guardrail
    rows = judged(cfg.targets, "target") + (ok if cfg.success_target else []) + judged(
        list(cfg.margins), "guardrail") + ([] if cfg.success_target else ok) + judged(cfg.info, "info")

    kinds = {r["metric"]: r.pop(ADVICE_KEY, None) for r in rows}
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    table["p_holm"] = table["p_holm"].astype("float64")
    judge_info(table, 1 - cfg.confidence)
    table["n_baseline"] = table["n_baseline"].astype("int64")
    table["n_candidate"] = table["n_candidate"].astype("int64")
    table["runs_needed"] = table["runs_needed"].astype("Int64")

    conf = level_text(cfg.confidence)
    t_rows = table[table["role"] == "target"]
    g_rows = table[table["role"] == "guardrail"]
    reasons = [target_reason(r, cfg.low, cfg.high, conf) for r in t_rows.itertuples()]
    reasons += [guardrail_reason(r, conf) for r in g_rows.itertuples()]
    warns[:0] = _data_warnings(cfg, table, min_runs)
    dists = {m: finite(ci.distribution) for m, ci in cfg.intervals.items()
             if ci.distribution is not None}
    return Comparison(table=table, overall=_overall(t_rows, g_rows), reasons=reasons,
                      advice=advice_lines(table, kinds, cfg.low), warnings=warns, baseline=baseline,
                      candidate=candidate, settings=cfg.settings(), distributions=dists)


def _metric_row(cfg: Plan, metric: str, role: str, warns: list[Diagnostic]) -> dict[str, Any] | None:
    """One row of the table: the change of ``metric``, its interval and its verdict."""
    vb, vc, xb, xc, design = cfg.samples[metric]
    margin = cfg.margins.get(metric, math.nan)
    rec: dict[str, Any] = {"metric": metric, "role": role, "n_baseline": vb.size,
                           "n_candidate": vc.size, "margin": margin, "runs_needed": pd.NA}
    if vb.size == 0 or vc.size == 0:
        if role == "info":
            return None  # a counter this collection did not record (e.g. no traced pass)
        if role == "guardrail" and cfg.default_guardrails:
            warns.append(Diagnostic(
                "no-data", None, metric,
                f"guardrail {metric} has no measured values in "
                f"{'the baseline' if vb.size == 0 else 'the candidate'}; not checked",
                "collect with a runner that records it, or name other guardrails"))
            return None
        empty = cfg.baseline if vb.size == 0 else cfg.candidate
        rec.update(baseline=math.nan, candidate=math.nan, change=math.nan, ci_low=math.nan,
                   ci_high=math.nan, verdict=UNDEFINED, method="undefined", p_value=math.nan,
                   note=f"no successful measured runs of {metric} in {empty!r}")
        return rec
    ci: ChangeInterval = cfg.intervals[metric]
    rec.update(baseline=ci.baseline, candidate=ci.candidate, change=ci.change,
               ci_low=ci.ci_low, ci_high=ci.ci_high, method=ci.method, p_value=ci.p_value,
               note=ci.note)
    if role == "info":
        rec["verdict"] = UNDEFINED  # set by _judge_info once every info row's p-value is known
        return rec
    if min(vb.size, vc.size) < MIN_DECISION_RUNS:
        rec["verdict"] = INSUFFICIENT
        rec["note"] = (f"{min(vb.size, vc.size)} run(s) in a variant: at least "
                       f"{MIN_DECISION_RUNS} per variant are needed for a verdict")
        rec["runs_needed"] = MIN_DECISION_RUNS
        return rec
    if role == "target" and ci.ci_high < 0 and len(cfg.targets) > 1:
        _confirm_regression(cfg, rec, xb, xc, design)
        if rec.get("verdict") == "no-change":
            return rec
    spread = (ci.change, ci.ci_low, ci.ci_high, vb.size, vc.size)
    if role == "guardrail":
        rec["verdict"] = guardrail_verdict(ci.ci_low, ci.ci_high, margin)
        advice = guardrail_advice(rec["verdict"], *spread, margin, cfg.confidence)
        if _at_floor(cfg, rec, metric, margin, warns):
            advice = Advice("none")
    else:
        rec["verdict"] = target_verdict(ci.ci_low, ci.ci_high, cfg.low, cfg.high)
        advice = target_advice(rec["verdict"], *spread, cfg.low, cfg.confidence)
    rec[ADVICE_KEY], rec["runs_needed"] = advice, advice.runs if advice.kind == "settle" else pd.NA
    return rec


def _at_floor(cfg: Plan, rec: dict[str, Any], metric: str, margin: float,
              warns: list[Diagnostic]) -> bool:
    """A guardrail at the measurable floor (:mod:`perfkit.analysis.floors`): unresolved, with why."""
    why = at_floor_reason(metric, rec["baseline"], rec["candidate"], margin,
                          measurable_floor(metric, cfg.base_meta, cfg.cand_meta))
    if why is None:
        return False
    rec.update(verdict="unresolved", note=why)
    warns.append(Diagnostic("at-floor", None, metric, f"{metric}: {why}",
                            "compare a metric perfkit can see, or measure with the exec helper (needs cc)"))
    return True


def _confirm_regression(cfg: Plan, rec: dict[str, Any], vb: np.ndarray, vc: np.ndarray,
                        design: str) -> None:
    """With k targets, a target is called regressed only if its interval at the Bonferroni level
    (1 − α/k) lies below 0 too, so that an A/A comparison of k targets ends ``regressed`` with
    probability at most α/2 (the one-sided error of a two-sided interval), whatever k is."""
    k = len(cfg.targets)
    level = 1 - (1 - cfg.confidence) / k
    wide = change_interval(vb, vc, statistic=cfg.statistic, confidence=level,
                           n_resamples=cfg.n_resamples, seed=cfg.seed, design=design)
    if wide.method == "exact" or wide.ci_high < 0:
        return  # set by the caller as usual
    rec["verdict"] = "no-change"
    rec["note"] = (f"worse at {cfg.confidence:.0%}, but not at the {level:.1%} level that {k} "
                   f"targets need (upper bound {fmt.pct(wide.ci_high)})")


def _overall(t_rows: pd.DataFrame, g_rows: pd.DataFrame) -> str:
    """cleared: every target cleared and every guardrail held; regressed: a target regressed or
    a guardrail broke; otherwise not shown."""
    regressed = (t_rows["verdict"] == "regressed").any() or (g_rows["verdict"] == "broken").any()
    cleared = t_rows["verdict"].isin(["cleared", "cleared-stretch"]).all() and (
        g_rows["verdict"] == "held"
    ).all()
    return "regressed" if regressed else "cleared" if cleared else "not-shown"


def _data_warnings(cfg: Plan, table: pd.DataFrame, min_runs: int) -> list[Diagnostic]:
    """Statistical oddities of the judged metrics, as warnings with hints.

    A count that was the same in every run of both variants (method "exact") has no spread,
    drift or outliers, and more runs would not change it: nothing to warn about.
    """
    exact = set(table.loc[table["method"] == "exact", "metric"])
    judged = [m for m in (*cfg.targets, *cfg.margins)
              if m in table["metric"].values and m not in exact]
    same = cfg.cand_runs is cfg.base_runs
    order = cfg.order_warning
    if same:
        both_rows = pd.concat([cfg.b_rows, cfg.c_rows])
        warns = diagnose(both_rows, metric=judged, min_runs=min_runs,
                         variants=[cfg.baseline, cfg.candidate])
        return warns + ([order] if order is not None else [])
    warns = ([order] if order is not None else []) + diagnose(cfg.b_rows, metric=judged, min_runs=min_runs, variants=[cfg.baseline]) + \
        diagnose(cfg.c_rows, metric=judged, min_runs=min_runs, variants=[cfg.candidate])
    host = compare_hosts(cfg.base_meta, cfg.cand_meta)
    if host is not None:
        warns.append(host)
    return warns
