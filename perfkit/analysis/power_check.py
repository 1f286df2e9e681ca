"""Does the advice keep its word? A simulation with known truth of "collect N runs per variant".

Each trial draws ``n`` lognormal runs per variant (coefficient of variation ``cv``, the
candidate's median ``1 − true_change`` times the baseline's), runs :func:`perfkit.compare` exactly
as the CLI does (one target, ``wall_s``; no other rows), and, where the verdict is unresolved and
the advice names a number ``N`` of runs per variant, collects the missing ``N − n`` runs of each
variant from the same truth and compares again. The share of those that then settle (cleared,
cleared-stretch, improved-below-target or regressed) is what the advice promised at 80 % *if the
true change were the measured one*. Used by ``benchmarks/bench_advice.py`` and its test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from perfkit.analysis.verdict import compare
from perfkit.data.schema import runs_frame

SETTLED = ("cleared-stretch", "cleared", "improved-below-target", "regressed")
UNSETTLED = ("improved-unresolved", "no-change")


@dataclass(frozen=True)
class AdviceCell:
    n: int
    cv: float
    true_change: float


def _runs(base: np.ndarray, cand: np.ndarray, rounds: bool = True) -> pd.DataFrame:
    rows = [{"variant": v, "run": i + 1, "order": 2 * i + (v == "candidate") + 1,
             "round": i + 1 if rounds else None,
             "warmup": False, "traced": False, "status": "ok", "wall_s": float(x)}
            for v, xs in (("baseline", base), ("candidate", cand)) for i, x in enumerate(xs)]
    return runs_frame(rows)


def _draw(rng: np.random.Generator, size: int, cv: float, median: float) -> np.ndarray:
    sigma = math.sqrt(math.log1p(cv * cv))
    return median * np.exp(rng.normal(0.0, sigma, size))


def _judge(base, cand, n_resamples, seed, statistic, rounds=True):
    res = compare(_runs(base, cand, rounds), targets=["wall_s"], guardrails={}, info=[],
                  n_resamples=n_resamples, seed=seed, statistic=statistic)
    row = res.row("wall_s")
    return row["verdict"], row["runs_needed"], res.advice


def simulate_advice(cell: AdviceCell, trials: int, *, n_resamples: int = 10_000,
                    seed: int = 0, statistic: str = "median", rounds: bool = True) -> dict:
    """Run ``trials`` comparisons of ``cell``; follow the advice where one is given.

    Returns counts: ``unresolved``, ``advised`` (a settle advice with a number), ``settled``
    (of the advised, after collecting that many runs), ``out_of_reach`` (advice that the target is
    out of reach), ``advised_runs`` (the numbers advised).
    """
    rng = np.random.default_rng([seed, cell.n, round(cell.cv * 1e4), round(cell.true_change * 1e4)])
    out = {"n": cell.n, "cv": cell.cv, "true_change": cell.true_change, "trials": trials,
           "unresolved": 0, "advised": 0, "settled": 0, "out_of_reach": 0, "advised_runs": []}
    for trial in range(trials):
        base = _draw(rng, cell.n, cell.cv, 1.0)
        cand = _draw(rng, cell.n, cell.cv, 1.0 - cell.true_change)
        verdict, need, advice = _judge(base, cand, n_resamples, trial, statistic, rounds)
        if verdict not in UNSETTLED:
            continue
        out["unresolved"] += 1
        if any("out of reach" in a for a in advice):
            out["out_of_reach"] += 1
        if pd.isna(need):
            continue
        need = int(need)
        out["advised"] += 1
        out["advised_runs"].append(need)
        more = need - cell.n
        base = np.concatenate([base, _draw(rng, more, cell.cv, 1.0)])
        cand = np.concatenate([cand, _draw(rng, more, cell.cv, 1.0 - cell.true_change)])
        verdict, _, _ = _judge(base, cand, n_resamples, trial, statistic, rounds)
        out["settled"] += verdict in SETTLED
    out["settle_rate"] = out["settled"] / out["advised"] if out["advised"] else math.nan
    return out
