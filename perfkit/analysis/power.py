"""How many runs would settle an unresolved verdict: a power calculation, not a width rule.

The interval of a change narrows like ``sqrt(1/n_b + 1/n_c)``: its standard error now is
``se = (U − L) / (2 z)`` (``z`` the normal quantile of the interval's confidence), and with ``n``
runs per variant it would be ``se_n = se · sqrt((2/n) / (1/n_b + 1/n_c))``. *If the true change is
what was measured* (``est``), a new estimate is ``X ~ N(est, se_n)`` and its interval is
``X ± z · se_n``. A verdict is settled when that interval contains none of the boundaries the
verdict table cuts at:

- a target metric: ``0`` and the target's lower edge ``low`` (then it is cleared, below target or
  regressed: ``cleared-stretch`` and ``cleared`` both count as cleared);
- a guardrail: the margin, on the change scale ``−margin``.

So ``P(settled at n) = 1 − P(X lies within z·se_n of a boundary)``, a union of normal interval
probabilities in closed form; the advice is the smallest ``n`` with ``P ≥`` :data:`POWER` (80 %).
The old rule (shrink the half-width to the distance from the estimate to the boundary) settles
only when the new estimate lands on the far side of where it was: about half the time.

An estimate near zero (less than :data:`NEAR_ZERO` of the way to the target's lower edge, or
worse) cannot reach the target at that effect: the advice says so, and gives instead the runs that
would show, with 80 % chance, that it misses the target (an upper bound below ``low``).

Checked by simulation with known truth in ``benchmarks/bench_advice.py`` (collecting the advised
number settles 70–90 % of unresolved cases) and ``tests/analysis/test_power.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: The chance to settle that advice aims at.
POWER = 0.80
#: The most runs per variant ever advised; beyond it, more runs are "unlikely to settle it".
CAP = 10_000
#: An estimate below this share of the target's lower edge is "near zero": out of reach.
NEAR_ZERO = 0.25


def _ncdf(x: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr  # lazy: scipy takes a second to import

    return ndtr(x)


def _z(confidence: float) -> float:
    from scipy.special import ndtri

    return float(ndtri(0.5 + confidence / 2))


def settle_probability(est: float, spread: np.ndarray | float, half_width: np.ndarray | float,
                       boundaries: Sequence[float]) -> np.ndarray:
    """``P(X ± half_width contains no boundary)`` for ``X ~ N(est, spread)`` (vectorised)."""
    spread = np.atleast_1d(np.asarray(spread, dtype=float))
    w = np.broadcast_to(np.asarray(half_width, dtype=float), spread.shape)
    spans = [(b - w, b + w) for b in sorted(float(b) for b in boundaries)]

    def mass(lo, hi):
        with np.errstate(divide="ignore", invalid="ignore"):
            a, b = (lo - est) / spread, (hi - est) / spread
        # spread 0: the estimate stays where it is; inside the span or not
        return np.where(spread > 0, _ncdf(b) - _ncdf(a), ((lo <= est) & (est <= hi)) * 1.0)

    # spans share their half-width, so their order by boundary is fixed; merge overlapping ones
    covered = np.zeros_like(spread)
    lo, hi = spans[0]
    for nlo, nhi in spans[1:]:
        overlap = nlo <= hi
        covered += np.where(overlap, 0.0, mass(lo, hi))
        lo, hi = np.where(overlap, lo, nlo), np.where(overlap, np.maximum(hi, nhi), nhi)
    covered += mass(lo, hi)
    return np.clip(1.0 - covered, 0.0, 1.0)


def runs_for_power(est: float, ci_low: float, ci_high: float, n_baseline: int,
                   n_candidate: int, boundaries: Sequence[float], confidence: float,
                   power: float = POWER, cap: int = CAP) -> int | None:
    """Runs per variant giving a ``power`` predictive chance that the interval then excludes every
    boundary; None when no number up to ``cap`` does (or no spread is known).

    The final estimate after ``n`` runs, given the one now (flat prior on the true change), is
    normal with mean ``est`` and variance ``se_now² − se_n²``; its interval is ``± z·se_n``.
    """
    z = _z(confidence)
    width = ci_high - ci_low
    if not (math.isfinite(est) and math.isfinite(width) and width > 0) or min(n_baseline,
                                                                              n_candidate) < 1:
        return None
    se_now = width / (2 * z)
    n = np.arange(1, cap + 1, dtype=float)
    se_n = se_now * np.sqrt((2.0 / n) / (1.0 / n_baseline + 1.0 / n_candidate))
    spread = np.sqrt(np.clip(se_now**2 - se_n**2, 0.0, None))
    ok = np.nonzero(settle_probability(est, spread, z * se_n, boundaries) >= power)[0]
    if ok.size == 0:
        return None
    return max(int(n[ok[0]]), max(n_baseline, n_candidate) + 1, 3)


@dataclass(frozen=True)
class Advice:
    """What more runs could do for one row: ``kind`` is ``settle`` (``runs`` give an 80 % chance
    to settle it), ``out-of-reach`` (the estimate is near zero: ``runs`` — or None — would show
    the target is missed), ``boundary`` (no number up to the cap settles it), ``text`` (advice
    written out in ``text``), or ``none``."""

    kind: str
    runs: int | None = None
    text: str = ""


UNSETTLED_TARGET = ("improved-unresolved", "no-change")


def target_advice(verdict: str, est: float, ci_low: float, ci_high: float, n_baseline: int,
                  n_candidate: int, low: float, confidence: float) -> Advice:
    """Advice for a target row (``change`` scale, higher is better; band's lower edge ``low``)."""
    if verdict not in UNSETTLED_TARGET or not (math.isfinite(ci_low) and math.isfinite(ci_high)):
        return Advice("none")
    args = (est, ci_low, ci_high, n_baseline, n_candidate)
    if low > 0 and est < NEAR_ZERO * low:
        return Advice("out-of-reach", runs_for_power(*args, [low], confidence))
    bounds = [0.0, low] if low > 0 else [0.0]
    need = runs_for_power(*args, bounds, confidence)
    return Advice("settle", need) if need is not None else Advice("boundary")


def guardrail_advice(verdict: str, est: float, ci_low: float, ci_high: float, n_baseline: int,
                     n_candidate: int, margin: float, confidence: float) -> Advice:
    """Advice for an unresolved guardrail on the change scale (its boundary is ``−margin``)."""
    if verdict != "unresolved" or not (math.isfinite(ci_low) and math.isfinite(ci_high)):
        return Advice("none")
    need = runs_for_power(est, ci_low, ci_high, n_baseline, n_candidate, [-margin], confidence)
    return Advice("settle", need) if need is not None else Advice("boundary")
