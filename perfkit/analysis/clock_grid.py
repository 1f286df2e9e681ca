"""Values on a coarse clock: when ``statistic="auto"`` uses the exact rank interval instead of the
bootstrap on rounds.

A metric recorded by a coarse clock (an import of 10 ms timings of runs around 0.3 s) takes one of
a few values; the paired bootstrap's replicates of the Hodges–Lehmann change then bunch on a
lattice and its quantiles land on lattice points: too wide where the truth is one, too narrow
between them (issue 10's grid: 90.5 % coverage at a 10 ms clock, 0.3 s median, n = 25, true 5 %).
The exact Moses interval of the two samples (rounds not paired) is distribution-free and ties
make it at worst conservative (95.2 % there); ``benchmarks/bench_grid_misses.py`` has the figures.

:func:`grid_step` says when that applies: every value of both variants is (to a relative
tolerance of :data:`TOLERANCE` of the step) a whole multiple of one common step, the step is at
least :data:`MIN_SHARE` of the median, and some values repeat (continuous timings never do).
perfkit's own nanosecond timings never qualify (a 1 ns step is 10⁻⁹ of a 1 s run); a 5 ms clock
on 0.3 s runs (1.7 %) does not either: the bootstrap covers 96 % there.
"""

from __future__ import annotations

import numpy as np

from perfkit import fmt

#: the smallest clock step, as a share of the pooled median, that counts as coarse
MIN_SHARE = 0.02
#: how far (in steps) a value may lie from a whole multiple of the step (float rounding of
#: imported decimals is ~1e-12 of a step; real continuous data miss by up to 0.5)
TOLERANCE = 1e-3
#: candidate steps tried: the smallest gap between distinct values divided by 1 … MAX_DIVISOR
#: (two values 20 ms apart on a 10 ms clock)
MAX_DIVISOR = 5


def grid_step(*samples: np.ndarray) -> float | None:
    """The common clock step of ``samples`` (pooled) when it is coarse, else None.

    >>> grid_step(np.array([0.29, 0.30, 0.30, 0.32]), np.array([0.28, 0.31, 0.31]))
    0.01
    >>> grid_step(np.array([0.2913, 0.3004, 0.3122]), np.array([0.2877, 0.3101])) is None
    True
    """
    x = np.concatenate([np.asarray(s, float).ravel() for s in samples])
    x = x[np.isfinite(x)]
    if x.size < 3 or x.min() <= 0:
        return None
    median = float(np.median(x))
    values = np.unique(x)  # merged where two decimals parsed apart by float rounding
    values = values[np.concatenate([[True], np.diff(values) > 1e-9 * median])]
    if values.size == x.size or values.size < 2:  # no repeats (continuous), or constant
        return None
    gaps = np.diff(values)
    smallest = float(gaps.min())
    for k in range(1, MAX_DIVISOR + 1):
        step = smallest / k
        if step < MIN_SHARE * median:
            return None
        steps = values / step
        if np.all(np.abs(steps - np.round(steps)) <= TOLERANCE):
            return float(np.round(step, 12))
    return None


#: how :func:`grid_note` starts (:func:`metric_note` finds it there)
NOTE_START = "values on a "


def grid_note(step: float, median: float, unit=fmt.num) -> str:
    """The row's note: why the interval is the exact rank one (``unit`` formats the step)."""
    return (f"{NOTE_START}{unit(step)} grid ({fmt.pct(step / median).lstrip('+')} of the median): "
            f"exact rank interval, rounds unpaired")


def on_grid(b: np.ndarray, c: np.ndarray, design: str, confidence: float) -> tuple[str, str]:
    """``(design, note)`` for ``statistic="auto"`` (hl): rounds (``paired``) whose values lie on
    a coarse clock become ``independent`` (the exact Moses interval) with :func:`grid_note`; else
    ``design`` unchanged and no note. Other designs already use a rank interval; too few runs
    for a rank interval at ``confidence`` (3 per variant at 95 %, 5 at 99.9 %: a sequential
    look's level) keep the bootstrap on rounds, which still gives one."""
    from perfkit.analysis.hodges_lehmann import has_interval

    enough = design == "paired" and has_interval(b.size, c.size, confidence)
    step = grid_step(b, c) if enough else None
    if step is None:
        return design, ""
    return "independent", grid_note(step, float(np.median(np.concatenate([b, c]))))


def metric_note(metric: str, note: str, b: np.ndarray, c: np.ndarray) -> str:
    """``note`` with the clock step in ``metric``'s unit (``10 ms`` for ``wall_s``) where it is
    :func:`grid_note`'s, else ``note`` unchanged."""
    step = grid_step(b, c) if note.startswith(NOTE_START) else None
    if step is None:
        return note
    return grid_note(step, float(np.median(np.concatenate([b, c]))),
                     unit=lambda x: fmt.of_metric(metric, x))
