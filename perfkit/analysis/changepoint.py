"""Change points in a series: E-divisive means with a permutation test (pure arrays, no I/O).

The method of Matteson & James (2014, "A nonparametric approach for multiple change point
analysis of multivariate data"), as MongoDB uses it in CI (Daly et al., ICPE 2020) and Apache
Otava after it. For a segment ``Z = z_0 … z_{n−1}`` and a split ``τ`` into ``X = Z[:τ]`` and
``Y = Z[τ:]`` (``m = n − τ``), with ``d(a, b) = |a − b|^α`` (``0 < α < 2``, default 1)::

    Ê(X, Y) = 2/(τ m) Σ_i Σ_j d(x_i, y_j) − 1/C(τ,2) Σ_{i<k} d(x_i, x_k) − 1/C(m,2) Σ_{j<l} d(y_j, y_l)
    Q(τ)    = τ m / n · Ê(X, Y)

``Ê`` is the sample energy distance: zero in expectation when both sides share one distribution,
positive when they differ (in any moment, not only the mean). The candidate is ``τ* = argmax Q``.

**Significance.** ``Q(τ*)`` is compared with ``max_τ Q`` of ``P`` random permutations of the
segment (which destroy any order): ``p = (1 + #{perm ≥ observed}) / (P + 1)``. A candidate with
``p ≤ alpha`` is kept and both sides are searched again (binary segmentation); otherwise the
segment has no change point. The permutations run in batches and stop as soon as the count of
exceedances already rules the candidate out (so a quiet segment costs one batch, not ``P``).
Every permutation comes from one seeded generator: the same series gives the same answer.

**Cost.** One test is ``O(P n²)``, vectorised: the distance matrices of a batch of permutations
are built at once (each pair once), and for every ``τ`` the three sums come from prefix sums — the
row sums give ``Σ_{i<τ} Σ_j d`` and the sums over earlier points give ``Σ_{i<k<τ} d`` — so all
``τ`` cost ``O(n)`` after the distances. A series longer than ``window`` is searched in windows of that
length overlapping by half (as Otava does, so that cost grows linearly with the history); a step
is found in every window that holds it well inside, and duplicates within ``min_size`` commits
are merged (the lowest p-value, then the largest ``Q``, wins).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from perfkit.errors import UsageError

#: Default significance level of the permutation test.
ALPHA = 0.01
#: Default number of permutations per test (p-values are multiples of 1/(P+1)).
PERMUTATIONS = 199
#: Default window: a longer series is searched in windows of this many points, half overlapping.
WINDOW = 200
#: Smallest segment on either side of a change point.
MIN_SIZE = 5
#: Fewest commits :func:`refine` leaves between a step and the history's first or last commit.
EDGE_SIZE = 2
#: Permutations of the first batch (a quiet segment usually stops after it), then of each next one.
_FIRST_BATCH, _BATCH = 16, 64


@dataclass(frozen=True)
class ChangePoint:
    """A change point: ``index`` is the first position after the change; ``p_value`` from the
    permutation test; ``q`` the statistic ``Q(τ*)``."""

    index: int
    p_value: float
    q: float


@functools.lru_cache(maxsize=8)
def _pairs(n: int):
    """Index pairs ``(later, earlier)`` of ``n`` points, grouped by ``later`` (1, 2, … n−1), the
    order that groups them by ``earlier`` instead, and where each group starts."""
    later, earlier = np.tril_indices(n, -1)
    by_earlier = np.argsort(earlier, kind="stable")
    k = np.arange(1, n)
    starts_later = k * (k - 1) // 2
    counts = n - 1 - np.arange(n - 1)
    starts_earlier = np.concatenate([[0], np.cumsum(counts)[:-1]]) if n > 1 else np.zeros(0, int)
    return later, earlier, by_earlier, starts_later, starts_earlier


def energy_q(batch: np.ndarray, min_size: int = MIN_SIZE, exponent: float = 1.0) -> np.ndarray:
    """``Q(τ)`` for every row of ``batch`` (shape ``(B, n)``) and every ``τ``.

    Returns shape ``(B, n + 1)``: ``Q`` at index ``τ``, ``-inf`` where a side would be shorter
    than ``min_size``.
    """
    batch = np.atleast_2d(np.asarray(batch, dtype=float))
    n = batch.shape[1]
    later, earlier, by_earlier, starts_later, starts_earlier = _pairs(n)
    d = np.abs(batch[:, later] - batch[:, earlier])        # each pair once, grouped by `later`
    if exponent != 1.0:
        d **= exponent
    upper = np.zeros((batch.shape[0], n))
    below = np.zeros((batch.shape[0], n))
    if n > 1:
        upper[:, 1:] = np.add.reduceat(d, starts_later, axis=1)           # Σ_{i<k} d(z_i, z_k)
        below[:, :-1] = np.add.reduceat(d[:, by_earlier], starts_earlier, axis=1)  # Σ_{j>k}
    rows = upper + below                                   # Σ_j d(z_k, z_j)
    tau = np.arange(n + 1, dtype=float)
    m = n - tau
    head = np.zeros((batch.shape[0], n + 1))
    head[:, 1:] = np.cumsum(rows, axis=1)                  # Σ_{i<τ} Σ_j d
    within_left = np.zeros_like(head)
    within_left[:, 1:] = np.cumsum(upper, axis=1)          # Σ_{i<k<τ} d
    total = head[:, -1:]
    cross = head - 2 * within_left                         # Σ_{i<τ} Σ_{j≥τ} d
    within_right = (total - 2 * head + 2 * within_left) / 2  # Σ_{τ≤j<l} d
    q = np.full_like(head, -np.inf)
    ok = (tau >= max(min_size, 2)) & (m >= max(min_size, 2))
    t, mm = tau[ok], m[ok]
    e = (2 * cross[:, ok] / (t * mm)
         - within_left[:, ok] / (t * (t - 1) / 2)
         - within_right[:, ok] / (mm * (mm - 1) / 2))
    q[:, ok] = t * mm / n * e
    return q


def _test_segment(z: np.ndarray, *, alpha: float, permutations: int, min_size: int,
                  exponent: float, rng: np.random.Generator) -> ChangePoint | None:
    """The best split of ``z`` and its permutation p-value (None when ``z`` is too short)."""
    if z.size < 2 * max(min_size, 2) or np.ptp(z) == 0:
        return None
    allowed = alpha * (permutations + 1) - 1               # exceedances that still give p ≤ alpha
    exceed, done, observed, tau = 0, 0, None, 0
    while done < permutations:
        size = min(_BATCH if done else _FIRST_BATCH, permutations - done)
        perms = rng.permuted(np.broadcast_to(z, (size, z.size)), axis=1)
        if observed is None:  # the series itself rides with the first batch: one call, not two
            q = energy_q(np.vstack([z[None, :], perms]), min_size, exponent)
            tau = int(np.argmax(q[0]))
            observed, best = q[0, tau], q[1:].max(axis=1)
        else:
            best = energy_q(perms, min_size, exponent).max(axis=1)
        exceed += int(np.count_nonzero(best >= observed * (1 - 1e-12)))
        done += size
        if exceed > allowed:                               # already not significant: stop early
            break
    p = (1 + exceed) / (1 + done)
    return ChangePoint(index=tau, p_value=float(p), q=float(observed))


def _segment_points(z: np.ndarray, offset: int, **opts) -> list[ChangePoint]:
    found: list[ChangePoint] = []
    todo = [(0, z.size)]
    while todo:
        start, stop = todo.pop()
        cp = _test_segment(z[start:stop], **opts)
        if cp is None or cp.p_value > opts["alpha"]:
            continue
        at = start + cp.index
        found.append(ChangePoint(index=offset + at, p_value=cp.p_value, q=cp.q))
        todo += [(start, at), (at, stop)]
    return found


def _merge(points: list[ChangePoint], min_size: int) -> list[ChangePoint]:
    kept: list[ChangePoint] = []
    for cp in sorted(points, key=lambda c: (c.p_value, -c.q)):
        if all(abs(cp.index - k.index) >= min_size for k in kept):
            kept.append(cp)
    return sorted(kept, key=lambda c: c.index)


def e_divisive(series, *, alpha: float = ALPHA, permutations: int = PERMUTATIONS,
               window: int | None = WINDOW, min_size: int = MIN_SIZE, exponent: float = 1.0,
               seed: int | np.random.Generator | None = 0) -> list[ChangePoint]:
    """Change points of ``series`` (1-D, finite), in index order; see the module docstring.

    ``window=None`` searches the whole series at once (``O(n²)`` memory per permutation batch).
    """
    z = np.asarray(series, dtype=float).ravel()
    if not np.isfinite(z).all():
        raise UsageError("`series` must hold finite numbers only")
    if not 0 < alpha < 1:
        raise UsageError(f"`alpha` must lie strictly between 0 and 1, not {alpha!r}")
    if int(permutations) < 1 / alpha - 1:
        raise UsageError(f"`permutations` must be at least 1/alpha − 1 = {1 / alpha - 1:g}")
    if not 0 < exponent < 2:
        raise UsageError(f"`exponent` must lie strictly between 0 and 2, not {exponent!r}")
    if min_size < 2:
        raise UsageError(f"`min_size` must be at least 2, not {min_size!r}")
    if window is not None and window < 4 * min_size:
        raise UsageError(f"`window` must be at least 4 × min_size = {4 * min_size}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    opts = dict(alpha=alpha, permutations=int(permutations), min_size=min_size,
                exponent=exponent, rng=rng)
    if window is None or z.size <= window:
        return _merge(_segment_points(z, 0, **opts), min_size)
    step = window // 2
    starts = list(range(0, z.size - window, step)) + [z.size - window]
    points: list[ChangePoint] = []
    for start in starts:
        points += _segment_points(z[start:start + window], start, **opts)
    return _merge(points, min_size)


def refine(series, indices: list[int], *, min_size: int = MIN_SIZE) -> list[int]:
    """Move each change point to the least-squares split between its neighbours.

    The energy statistic finds *that* a segment changes with power against any difference in
    distribution, but it places a mean shift less sharply than least squares, which is the
    maximum-likelihood split for a shift in level: for each point ``k`` between its neighbours
    ``a < k < b`` this returns ``argmin_τ RSS(z[a:τ]) + RSS(z[τ:b])`` over ``a + min_size ≤ τ ≤
    b − min_size`` (on ``log z`` when every value is positive: a step multiplies the level). At
    the history's own ends the bound is :data:`EDGE_SIZE` commits instead: a step found in the
    first or last ``min_size`` commits (detection needs that many on each side) is placed where
    it is, not ``min_size`` commits in (perfkit's own history had one 4 commits from its start,
    and the rule was drawn a commit late).
    """
    z = np.asarray(series, dtype=float).ravel()
    if (z > 0).all():
        z = np.log(z)
    points = sorted(indices)
    out = []
    for i, k in enumerate(points):
        a = out[-1] if out else 0
        b = points[i + 1] if i + 1 < len(points) else z.size
        seg = z[a:b]
        lo = EDGE_SIZE if a == 0 else min_size
        hi = EDGE_SIZE if b == z.size else min_size
        taus = np.arange(lo, seg.size - hi + 1)
        if taus.size == 0:
            out.append(k)
            continue
        c1, c2 = np.concatenate([[0], np.cumsum(seg)]), np.concatenate([[0], np.cumsum(seg ** 2)])
        left = c2[taus] - c1[taus] ** 2 / taus
        right = (c2[-1] - c2[taus]) - (c1[-1] - c1[taus]) ** 2 / (seg.size - taus)
        out.append(int(a + taus[np.argmin(left + right)]))
    return out
