"""Several candidates against one baseline: one :func:`~perfkit.analysis.verdict.compare` each,
with the candidates' claims adjusted for their number by Holm's step-down procedure.

Each candidate's claim is its verdict. *Cleared* needs every target cleared and every guardrail
held — an intersection of interval claims, which needs no adjustment among the candidate's own
targets; *regressed* is confirmed among several targets at the Bonferroni level by
:func:`compare` itself. Across ``k`` candidates the claims form one family, and the chance that
any candidate is called cleared (or regressed) wrongly must stay at most ``1 − confidence``:

1. every candidate is compared at ``1 − α/k`` (α = 1 − confidence: Bonferroni, Holm's first
   step) — these comparisons stand for every candidate that does not clear later;
2. Holm's step-down, in the interval form of :func:`perfkit.analysis.multiplicity.holm`: the
   candidates that cleared leave the family, the ``m`` that remain are compared again at
   ``1 − α/m``, those that clear now leave too, and so on until a step clears none. Because a
   cleared verdict at one level stays cleared at every lower level (the intervals only narrow),
   this is exactly Holm's procedure on each candidate's cleared claim, valid whatever the
   dependence between the comparisons (they share the baseline's runs).

A regressed or not-shown verdict is always the one at the first (Bonferroni) level, so no claim
is made at a level looser than its own family allows. The overall answer is the worst of the
candidates' (regressed, then not shown, then cleared).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from perfkit.analysis.verdict import Comparison, compare
from perfkit.errors import UsageError

_WORST = {"regressed": 2, "not-shown": 1, "cleared": 0}

#: What ``method`` says about the multiplicity adjustment.
METHOD = "holm"


@dataclass
class MultiComparison:
    """One :class:`Comparison` per candidate (in the order given).

    ``levels[i]`` is the confidence level candidate ``i``'s comparison was made at (Holm's step
    that cleared it, or the first, Bonferroni, step); ``adjusted`` is that first level and
    ``steps`` the level of each step with the candidates it cleared.
    """

    baseline: str
    comparisons: list[Comparison]
    confidence: float
    adjusted: float
    levels: list[float] = field(default_factory=list)
    steps: list[tuple[float, list[str]]] = field(default_factory=list)
    method: str = METHOD

    @property
    def candidates(self) -> list[str]:
        return [c.candidate for c in self.comparisons]

    @property
    def overall(self) -> str:
        return max((c.overall for c in self.comparisons), key=lambda o: _WORST.get(o, 2))

    @property
    def exit_code(self) -> int:
        return max(c.exit_code for c in self.comparisons)

    @property
    def settings(self) -> dict[str, Any]:
        """The first comparison's settings, with the family's confidence and adjustment."""
        s = dict(self.comparisons[0].settings)
        s.update(confidence=self.confidence, multiplicity=self.method,
                 candidates=self.candidates)
        return s

    @property
    def table(self) -> pd.DataFrame:
        """Every candidate's table in one, with ``variant`` (which candidate: the tables' own
        ``candidate`` column is its statistic) and ``level`` columns first."""
        parts = [c.table.assign(variant=c.candidate, level=level)
                 for c, level in zip(self.comparisons, self.levels or
                                     [self.adjusted] * len(self.comparisons))]
        t = pd.concat(parts, ignore_index=True)
        return t[["variant", "level", *[c for c in t.columns if c not in ("variant", "level")]]]

    def summary_line(self) -> str:
        """How the candidates were adjusted, in one sentence."""
        k = len(self.comparisons)
        text = (f"{k} candidates against {self.baseline!r}: {self.overall.upper()} — Holm over "
                f"{k} candidates for {self.confidence:.0%} overall: each judged at "
                f"{self.adjusted:.2%} first")
        later = [(level, names) for level, names in self.steps[1:] if names]
        if later:
            text += "; then " + ", ".join(
                f"{', '.join(map(repr, names))} at {level:.2%}" for level, names in later)
        return text


def split_variants(data: Any, baseline: str | None = None) -> tuple[str, list[str]]:
    """(baseline, candidates) of a dataset with several variants, in the order it lists them
    (its meta's ``variants``, then any other): ``baseline`` if given, else the variant named
    ``baseline``, else the first."""
    order = list((getattr(data, "meta", None) or {}).get("variants") or data.variants)
    order += [v for v in data.variants if v not in order]
    order = [v for v in order if v in set(data.variants)]
    chosen = baseline or ("baseline" if "baseline" in order else order[0])
    if chosen not in order:
        raise UsageError(f"--baseline {chosen}: not a variant of this dataset "
                         f"({', '.join(order)})")
    return chosen, [v for v in order if v != chosen]


def adjusted_confidence(confidence: float, k: int) -> float:
    """Bonferroni (Holm's first step): each of ``k`` intervals at ``1 − (1 − confidence)/k``."""
    return 1 - (1 - confidence) / max(k, 1)


def compare_many(runs: Any, baseline: str, candidates: Sequence[str], *,
                 confidence: float = 0.95, **options: Any) -> MultiComparison:
    """Compare each of ``candidates`` with ``baseline`` (keyword ``options`` as :func:`compare`),
    Holm-adjusted over the candidates (see the module docstring)."""
    candidates = list(candidates)
    if not candidates:
        raise UsageError("`candidates`: no variant to compare with the baseline")
    if baseline in candidates:
        raise UsageError(f"`candidates`: {baseline!r} is the baseline")
    dup = sorted({c for c in candidates if candidates.count(c) > 1})
    if dup:
        raise UsageError(f"`candidates`: {', '.join(map(repr, dup))} given twice")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) \
            or not 0 < confidence < 1:
        raise UsageError(f"`confidence` must lie strictly between 0 and 1, not {confidence!r}")
    alpha = 1 - confidence
    first = adjusted_confidence(confidence, len(candidates))
    chosen = {c: compare(runs, baseline, c, confidence=first, **options) for c in candidates}
    levels = {c: first for c in candidates}
    cleared = [c for c in candidates if chosen[c].overall == "cleared"]
    steps = [(first, cleared)]
    remaining = [c for c in candidates if c not in cleared]
    while cleared and remaining:
        level = 1 - alpha / len(remaining)
        trial = {c: compare(runs, baseline, c, confidence=level, **options) for c in remaining}
        cleared = [c for c in remaining if trial[c].overall == "cleared"]
        for c in cleared:
            chosen[c], levels[c] = trial[c], level
        steps.append((level, cleared))
        remaining = [c for c in remaining if c not in cleared]
    return MultiComparison(baseline=baseline, comparisons=[chosen[c] for c in candidates],
                           confidence=confidence, adjusted=first,
                           levels=[levels[c] for c in candidates], steps=steps)
