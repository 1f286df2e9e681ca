"""``measure --until-decided``: the collection loop and the sequential verdict, wired together.

The loop (:mod:`perfkit.collect.measure`) knows nothing of verdicts; it calls a ``stop_when``
callable after each round. This module builds that callable from
:func:`perfkit.analysis.sequential.stopper` — the same decision the simulations check — and is
what both the CLI and the Python API (:func:`perfkit.measure_until_decided`) call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from perfkit.analysis.sequential import Look, stopper
from perfkit.analysis.spending import SequentialPlan
from perfkit.analysis.verdict import DEFAULT_GUARDRAILS, Comparison, compare
from perfkit.collect.hooks import RoundDecision
from perfkit.collect.measure import Command, measure
from perfkit.data.store import Dataset
from perfkit.errors import UsageError


def pick_pair(names: Sequence[str], baseline: str | None,
              candidate: str | None) -> tuple[str, str]:
    """(baseline, candidate) of a two-variant collection: as named, else ``baseline`` and
    ``candidate`` when those are the names, else the first and the second given."""
    names = list(names)
    if len(names) != 2:
        raise UsageError(f"--until-decided: compares two variants, not {len(names)} "
                         f"({', '.join(names)})")
    base = baseline or ("baseline" if "baseline" in names else names[0])
    cand = candidate or next(n for n in names if n != base)
    for option, name in (("--baseline", base), ("--candidate", cand)):
        if name not in names:
            raise UsageError(f"{option} {name}: not one of the variants ({', '.join(names)})")
    if base == cand:
        raise UsageError(f"--candidate: same variant as --baseline ({base!r})")
    return base, cand


def measure_until_decided(
    variants: Mapping[str, Command],
    *,
    out: str | os.PathLike,
    max_runs: int = 100,
    look_every: int = 5,
    baseline: str | None = None,
    candidate: str | None = None,
    targets: Sequence[str] = ("wall_s",),
    target: tuple[float, float] = (0.10, 0.20),
    guardrails: Mapping[str, float] = DEFAULT_GUARDRAILS,
    statistic: str = "median",
    n_resamples: int = 10_000,
    on_look: Callable[[Look], None] | None = None,
    **measure_options: Any,
) -> tuple[Dataset, Comparison]:
    """Measure two variants in interleaved rounds and look at the verdict every ``look_every``
    rounds, with Lan–DeMets O'Brien–Fleming error spending up to ``max_runs`` runs per variant
    (:mod:`perfkit.analysis.spending`); stop once it is cleared, below target, regressed or
    futile. The plan and every look go to ``meta.json`` (``sequential``). ``measure_options`` are
    :func:`perfkit.measure`'s (not ``runs`` nor ``append``). Returns the dataset and the final
    comparison, judged at the level of the last look.
    """
    for banned in ("runs", "append", "stop_when"):
        if banned in measure_options:
            raise UsageError(f"`{banned}`: not with --until-decided (the plan sets the runs)")
    plan = SequentialPlan(max_runs, look_every)
    base, cand = pick_pair(list(variants), baseline, candidate)
    options = dict(targets=list(targets), target=target, guardrails=guardrails,
                   statistic=statistic, n_resamples=n_resamples)
    decide = stopper(plan, baseline=base, candidate=cand, on_look=on_look, **options)

    def stop_when(runs: pd.DataFrame, rounds: int) -> RoundDecision:
        why, record = decide(runs, rounds)
        return RoundDecision(stop=why, meta={"sequential": record})

    dataset = measure(variants, out=out, runs=plan.max_runs, stop_when=stop_when,
                      **measure_options)
    return dataset, compare(dataset, base, cand, **options)
