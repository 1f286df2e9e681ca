"""Error spending for sequential decisions: the level each look may use, and the plan on record.

A collection that looks at its verdict every K rounds and stops once it is settled gets more than
one chance to call a change ``cleared``; at a fixed 95 % interval each look would add to the
chance of calling a true 10 % change (the band's edge) cleared — 11 % after looks every 5 runs.
Group-sequential designs keep that chance at the nominal one-sided ``α`` (2.5 %, the one-sided
error of a 95 % interval): look ``j``, at information fraction ``t_j = n_j / max_runs``, compares
the estimate with a boundary ``c_j`` chosen so that the probability of crossing *first* at look
``j`` equals what the spending function allows then, ``α(t_j) − α(t_{j−1})``.

Spending function: Lan–DeMets' O'Brien–Fleming type, ``α(t) = 2 − 2 Φ(z_{1−α/2} / √t)``. It spends
almost nothing at early looks (a decision on 5 runs needs overwhelming evidence) and leaves the
last look at nearly the fixed design's level, so a sequential plan loses little power against a
fixed number of runs while stopping early when the effect is clear. A confidence sequence would
be valid for any stopping rule, but is wider at every n (it pays for infinitely many looks); the
planned looks here are known in advance, so spending is the tighter choice.

The boundaries come from the joint normal law of the estimates at the looks (independent
increments, information proportional to runs): the first-crossing probabilities are integrated
numerically, look by look (Armitage, McPherson & Rowe 1969; Jennison & Turnbull 2000, ch. 19).
Checked against the published Lan–DeMets O'Brien–Fleming boundaries for 5 equally spaced looks
(4.877, 3.357, 2.680, 2.290, 2.031) in ``tests/analysis/test_sequential.py``.

Each look's boundary ``c_j`` is used as the interval's level: a two-sided interval at confidence
``1 − 2 (1 − Φ(c_j))`` whose lower bound clears the target edge is a crossing of ``c_j``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from perfkit.errors import UsageError

#: Name of the only spending function offered (recorded in meta.json).
OBRIEN_FLEMING = "lan-demets-obrien-fleming"
#: Grid points per look of the numerical integration (the boundaries agree with 801 points to 1e-7).
_GRID = 401


def _norm():
    from scipy import stats  # lazy: scipy takes a second to import

    return stats.norm


def obf_spending(t: np.ndarray | float, alpha: float) -> np.ndarray:
    """Lan–DeMets O'Brien–Fleming-type spending ``α(t) = 2 − 2Φ(z_{1−α/2}/√t)`` (one-sided α)."""
    t = np.asarray(t, dtype=float)
    norm = _norm()
    with np.errstate(divide="ignore"):
        return np.where(t > 0, 2 - 2 * norm.cdf(norm.ppf(1 - alpha / 2) / np.sqrt(t)), 0.0)


def boundaries(fractions: Sequence[float], alpha: float) -> np.ndarray:
    """One-sided critical values ``c_j`` (z scale) at information ``fractions`` (increasing, in
    (0, 1]) that spend ``alpha`` by :func:`obf_spending`."""
    return np.array(_boundaries(tuple(float(f) for f in fractions), float(alpha)))


@functools.lru_cache(maxsize=64)
def _boundaries(fractions: tuple[float, ...], alpha: float) -> tuple[float, ...]:
    from scipy.optimize import brentq
    from scipy.special import ndtr, ndtri

    t = np.asarray(fractions, dtype=float)
    if t.size == 0 or np.any(np.diff(t) <= 0) or t[0] <= 0 or t[-1] > 1 + 1e-12:
        raise UsageError(f"`fractions` must increase within (0, 1], not {list(fractions)}")
    spent = np.diff(np.concatenate([[0.0], obf_spending(t, alpha)]))
    c = np.empty(t.size)
    # look 1: W(t1) ~ N(0, t1); crossing W ≥ b
    c[0] = -float(ndtri(spent[0])) if spent[0] > 0 else math.inf
    b = c[0] * math.sqrt(t[0])
    x = np.linspace(-10 * math.sqrt(t[0]), min(b, 10 * math.sqrt(t[0])), _GRID)
    dens = np.exp(-0.5 * x * x / t[0]) / math.sqrt(2 * math.pi * t[0])
    for j in range(1, t.size):
        sd = math.sqrt(t[j] - t[j - 1])
        mass = _weights(x) * dens  # probability of still running, at each grid point

        def exit_prob(bj: float) -> float:
            return float(mass @ ndtr((x - bj) / sd))

        hi = x[-1] + 12 * sd
        if spent[j] <= exit_prob(hi):
            bj = hi  # nothing to spend here (numerically): no crossing
        else:
            bj = brentq(lambda v: exit_prob(v) - spent[j], x[0] - 12 * sd, hi, xtol=1e-10)
        c[j] = bj / math.sqrt(t[j])
        new_x = np.linspace(-10 * math.sqrt(t[j]), min(bj, 10 * math.sqrt(t[j])), _GRID)
        u = (new_x[:, None] - x[None, :]) / sd
        dens = np.exp(-0.5 * u * u) @ mass / (sd * math.sqrt(2 * math.pi))
        x = new_x
    return tuple(float(v) for v in c)


def _weights(x: np.ndarray) -> np.ndarray:
    """Simpson weights of an evenly spaced grid with an odd number of points."""
    h = x[1] - x[0]
    w = np.ones(x.size)
    w[1:-1:2], w[2:-1:2] = 4, 2
    return w * h / 3


@dataclass
class SequentialPlan:
    """Look every ``look_every`` rounds up to ``max_runs`` runs per variant, spending the one-sided
    ``alpha`` (default 2.5 %: the one-sided error of a 95 % interval) over the looks.

    ``looks`` are the runs per variant at each look; ``confidence(j)`` the two-sided interval level
    of look ``j`` (0-based) whose lower bound is compared with the target edge.
    """

    max_runs: int
    look_every: int
    alpha: float = 0.025
    spending: str = OBRIEN_FLEMING
    first_look: int = 3
    looks: list[int] = field(init=False)
    critical: list[float] = field(init=False)

    def __post_init__(self) -> None:
        for name, value, low in (("--max-runs", self.max_runs, 3), ("--look-every", self.look_every, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise UsageError(f"{name} must be a whole number of at least {low}, not {value!r}")
        if not 0 < self.alpha < 0.5:
            raise UsageError(f"`alpha` must lie in (0, 0.5), not {self.alpha!r}")
        if self.spending != OBRIEN_FLEMING:
            raise UsageError(f"`spending`: only {OBRIEN_FLEMING!r} is offered, not {self.spending!r}")
        looks = list(range(self.look_every, self.max_runs, self.look_every))
        looks = [n for n in looks if n >= self.first_look] + [int(self.max_runs)]
        self.looks = looks
        self.critical = [float(c) for c in boundaries([n / self.max_runs for n in looks], self.alpha)]

    def look_index(self, runs: int) -> int | None:
        """The look made at ``runs`` runs per variant, or None if none is planned there."""
        return self.looks.index(runs) if runs in self.looks else None

    def confidence(self, look: int) -> float:
        """Two-sided interval level of look ``look`` (0-based)."""
        return float(1 - 2 * _norm().sf(self.critical[look]))

    def to_meta(self) -> dict[str, Any]:
        return {"max_runs": int(self.max_runs), "look_every": int(self.look_every),
                "alpha": self.alpha, "spending": self.spending, "looks": list(self.looks),
                "critical_z": list(self.critical),
                "confidence": [self.confidence(j) for j in range(len(self.looks))]}

    @classmethod
    def from_meta(cls, record: Mapping[str, Any]) -> SequentialPlan:
        return cls(int(record["max_runs"]), int(record["look_every"]),
                   float(record.get("alpha", 0.025)), str(record.get("spending", OBRIEN_FLEMING)))


#: The interval level of a comparison that names none and was not collected sequentially.
DEFAULT_CONFIDENCE = 0.95


def level_text(confidence: float) -> str:
    """"95%", or "96.62%" for a sequential look's level (not a round number)."""
    return f"{confidence:.0%}" if round(confidence, 2) == confidence else f"{confidence:.2%}"


def recorded_statistic(meta: Mapping[str, Any] | None, default: str = "auto") -> str:
    """The statistic a dataset collected with ``--until-decided`` was judged with at its looks
    (``meta["sequential"]["statistic"]``), so that a later comparison gives the verdict the
    collection stopped on; ``default`` otherwise."""
    record = (meta or {}).get("sequential")
    statistic = record.get("statistic") if isinstance(record, Mapping) else None
    return statistic if isinstance(statistic, str) else default


def recorded_confidence(meta: Mapping[str, Any] | None,
                        default: float | None = DEFAULT_CONFIDENCE) -> float | None:
    """The interval level a dataset collected with ``--until-decided`` must be judged at: that of
    its last look (the one it stopped at), as recorded in ``meta["sequential"]``; ``default``
    when the dataset was not collected sequentially."""
    record = (meta or {}).get("sequential")
    if not isinstance(record, Mapping):
        return default
    looks = record.get("looks") or []
    if looks:
        return float(looks[-1]["confidence"])
    levels = (record.get("plan") or {}).get("confidence") or []
    return float(levels[-1]) if levels else default
