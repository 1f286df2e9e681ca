"""Several candidates against one baseline: one :func:`~perfkit.analysis.verdict.compare` each,
at a confidence level adjusted for their number.

With ``k`` candidates, each comparison's intervals are drawn at ``1 − (1 − confidence)/k``
(Bonferroni): the chance that any candidate's verdict rests on an interval that misses the truth
stays at most ``1 − confidence``, whatever the dependence between the comparisons (they share the
baseline's runs). Within one comparison, the rules of the verdict apply unchanged; this layer
does not touch them. The overall answer is the worst of the candidates' (regressed, then not
shown, then cleared).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from perfkit.analysis.verdict import Comparison, compare
from perfkit.errors import UsageError

_WORST = {"regressed": 2, "not-shown": 1, "cleared": 0}


@dataclass
class MultiComparison:
    """One :class:`Comparison` per candidate (in the order given), at ``adjusted`` confidence."""

    baseline: str
    comparisons: list[Comparison]
    confidence: float
    adjusted: float

    @property
    def overall(self) -> str:
        return max((c.overall for c in self.comparisons), key=lambda o: _WORST.get(o, 2))

    @property
    def exit_code(self) -> int:
        return max(c.exit_code for c in self.comparisons)

    @property
    def table(self) -> pd.DataFrame:
        """Every candidate's table in one, with a ``candidate`` column first."""
        return pd.concat([c.table.assign(candidate=c.candidate) for c in self.comparisons],
                         ignore_index=True).pipe(
            lambda t: t[["candidate", *[c for c in t.columns if c != "candidate"]]])


def adjusted_confidence(confidence: float, k: int) -> float:
    """Bonferroni: each of ``k`` intervals at ``1 − (1 − confidence)/k``."""
    return 1 - (1 - confidence) / max(k, 1)


def compare_many(runs: Any, baseline: str, candidates: Sequence[str], *,
                 confidence: float = 0.95, **options: Any) -> MultiComparison:
    """Compare each of ``candidates`` with ``baseline`` (keyword ``options`` as :func:`compare`)."""
    if not candidates:
        raise UsageError("`candidates`: no variant to compare with the baseline")
    if baseline in candidates:
        raise UsageError(f"`candidates`: {baseline!r} is the baseline")
    level = adjusted_confidence(confidence, len(candidates))
    done = [compare(runs, baseline, c, confidence=level, **options) for c in candidates]
    return MultiComparison(baseline=baseline, comparisons=done, confidence=confidence,
                           adjusted=level)
