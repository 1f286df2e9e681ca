"""BCa bootstraps as scipy computes them, for many metrics at once: the ratio of medians, and the
paired (rounds resampled together) two-sample Hodges–Lehmann change.

:func:`scipy.stats.bootstrap` materialises every resample and sorts it: for 20 metrics × 30 runs ×
10,000 resamples, 12 million values sorted in rows of 30; for the paired Hodges–Lehmann change, the
median of all 900 pairwise log-differences of each of 10,000 resamples per metric (most of
``perfkit compare``'s time, benchmarks/bench_compare_speed.py). Here the resample *indices* are
drawn exactly as scipy draws them (the same generator calls, in the same order, in scipy's
batches) and turned into counts — how often each run was drawn. The j-th smallest value of a
resample is then read off the running sum of the counts taken in the sorted order of the sample
itself: ``s[#{p : C(p) ≤ j}]``, no sorting of resamples at all. For Hodges–Lehmann the sorted
"sample" is the n² pairwise differences and the weight of a pair is the product of its two rounds'
counts. The jackknife acceleration, the bias correction and the quantiles follow
:func:`scipy.stats._resampling._bca_interval` operation by operation, so the interval and the
bootstrap distribution are equal bit for bit to scipy's (tests/analysis/test_paired.py checks that
against scipy on random, tied and paired samples, odd and even sizes, batched draws).
"""

from __future__ import annotations

import numpy as np


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    """(R, n) int16: how many times each of ``n`` runs appears in each row of ``idx``."""
    r = idx.shape[0]
    flat = (idx + n * np.arange(r)[:, None]).ravel()
    return np.bincount(flat, minlength=r * n).reshape(r, n).astype(np.int16)


def _order_positions(weights_by_position, wanted: tuple[int, ...], shape, dtype=np.int16,
                     start: int = 0, before: np.ndarray | int = 0) -> list[np.ndarray]:
    """``#{p : C(p) ≤ j}`` for each ``j`` in ``wanted``, ``C`` the running sum of the weights the
    iterable yields position by position in sorted order (each an int array of ``shape``; their
    total must fit ``dtype``). ``start``, ``before``: the iterable begins at sorted position
    ``start``, and ``before`` (≤ every ``j``) is the weight of the positions before it.

    Summed one sorted position at a time across all resamples at once: whole contiguous rows
    per step, which numpy adds many times faster than ``cumsum`` along short rows."""
    run = np.zeros(shape, dtype=dtype)
    run += before
    below = [np.full(shape, start, dtype=dtype) for _ in wanted]
    flag = np.empty(shape, dtype=bool)
    for w in weights_by_position:
        run += w
        for j, out in zip(wanted, below):
            out += np.less_equal(run, j, out=flag)
    return below


def _resampled_medians(x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(R, k): the median of every resample (rows of ``counts``) of every row of ``x`` (k, n)."""
    k, n = x.shape
    perm = np.argsort(x, axis=-1, kind="stable")
    s = np.take_along_axis(x, perm, axis=-1)
    by_position = np.ascontiguousarray(counts.T)[perm.T]  # (n, k, R)
    h = n // 2
    wanted = (h,) if n % 2 else (h - 1, h)
    stats = [np.take_along_axis(s, pos, axis=-1).T
             for pos in _order_positions(by_position, wanted, (k, counts.shape[0]))]
    return stats[0] if n % 2 else (stats[0] + stats[1]) / 2


def _median(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = np.moveaxis(np.asarray(x), axis, -1)
    n = x.shape[-1]
    h = n // 2
    s = np.sort(x, axis=-1)
    return s[..., h] if n % 2 else (s[..., h - 1] + s[..., h]) / 2


def _ratio(sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1.0 - sy / sx
    return np.where((sx == 0) & (sy == 0), 0.0, out)


def _jackknife(x: np.ndarray) -> np.ndarray:
    """(k, n, n−1): every leave-one-out row of each row of ``x``, as scipy builds them."""
    n = x.shape[-1]
    j = np.ones((n, n), dtype=bool)
    np.fill_diagonal(j, False)
    i = np.broadcast_to(np.arange(n), (n, n))[j].reshape(n, n - 1)
    return x[..., i]


def median_ratio_bca(b: np.ndarray, c: np.ndarray, *, n_resamples: int, confidence: float,
                     rng: np.random.Generator, paired: bool = False, method: str = "BCa"
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(low, high, distribution)`` for each row of ``b`` (k, n_b) and ``c`` (k, n_c): what
    ``scipy.stats.bootstrap((b, c), ratio_of_medians, paired=paired, axis=-1, method=method)``
    returns for the same generator, without materialising the resamples."""
    nb, nc = b.shape[-1], c.shape[-1]
    if paired:
        idx = rng.integers(0, nb, size=(n_resamples, nb), dtype="int64")
        cb = cc = _counts(idx, nb)
    else:
        cb = _counts(rng.integers(0, nb, size=(n_resamples, nb), dtype="int64"), nb)
        cc = _counts(rng.integers(0, nc, size=(n_resamples, nc), dtype="int64"), nc)
    dist = _ratio(_resampled_medians(b, cb), _resampled_medians(c, cc)).T  # (k, R)

    def estimates():
        mb, mc = _median(b)[:, None], _median(c)[:, None]
        if paired:
            return _ratio(mb, mc), [_ratio(_median(_jackknife(b)), _median(_jackknife(c)))]
        return _ratio(mb, mc), [_ratio(_median(_jackknife(b)), mc),
                                _ratio(mb, _median(_jackknife(c)))]

    low, high = _interval(dist, confidence, method, estimates)
    return low, high, dist


def _interval(dist: np.ndarray, confidence: float, method: str, estimates
              ) -> tuple[np.ndarray, np.ndarray]:
    """The bounds of each row of ``dist`` (k, R), as :func:`scipy.stats.bootstrap` computes them
    (``scipy.stats._resampling._bca_interval``, operation by operation). ``estimates()`` gives
    the estimate (k, 1) and, per sample, its jackknife estimates (k, n) — needed for BCa only."""
    from scipy import stats
    from scipy.special import ndtr, ndtri

    alpha = (1 - confidence) / 2
    if method == "BCa":
        theta, thetas = estimates()
        pct = (np.count_nonzero(dist < theta, axis=-1)
               + np.count_nonzero(dist <= theta, axis=-1)).astype(theta.dtype) / (2 * dist.shape[-1])
        z0 = ndtri(pct)
        n_j = [float(t.shape[-1]) for t in thetas]
        dots = [np.mean(t, axis=-1, keepdims=True) for t in thetas]
        u = [(n - 1) * (dot - t) for dot, t, n in zip(dots, thetas, n_j)]
        nums = [np.sum(ui ** 3, axis=-1) / n ** 3 for ui, n in zip(u, n_j)]
        dens = [np.sum(ui ** 2, axis=-1) / n ** 2 for ui, n in zip(u, n_j)]
        with np.errstate(divide="ignore", invalid="ignore"):
            a_hat = 1 / 6 * sum(nums) / sum(dens) ** (3 / 2)
            z_alpha = float(ndtri(alpha))
            num1 = z0 + z_alpha
            a1 = ndtr(z0 + num1 / (1 - a_hat * num1))
            num2 = z0 - z_alpha
            a2 = ndtr(z0 + num2 / (1 - a_hat * num2))
        interval = np.stack((a1, a2), axis=-1)
    else:
        interval = np.broadcast_to(np.asarray([alpha, 1 - alpha]), (dist.shape[0], 2))
    ci = stats.quantile(dist, interval, axis=-1)
    return ci[..., 0], ci[..., 1]


# --------------------------------------------------------------------------------------------
# the paired bootstrap of the two-sample Hodges–Lehmann change, without the n² values a resample


def _resampled_hl(lb: np.ndarray, lc: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(R, k): the median over all pairs of ``lc[a] − lb[i]`` of every resample of rounds.

    A resample that draws round ``a`` ``w_a`` times holds the pair (candidate of ``a``, baseline of
    ``i``) ``w_a · w_i`` times, so its median over its n² pairs is a weighted median of the n²
    differences of the sample itself, sorted once per metric: the j-th smallest value of the
    resample is ``s[#{p : C(p) ≤ j}]``, ``C`` the running sum of the pair weights in sorted order
    (:func:`_order_positions`) — the same order statistics as sorting each resample. Rows of
    ``counts`` that leave one round out (weights 0/1) are the jackknife. Memory: n² + R·n."""
    k, n = lb.shape
    drawn = int(counts[0].sum())  # rounds in a resample: n (bootstrap), n − 1 (jackknife)
    total = drawn * drawn
    diffs = (lc[:, :, None] - lb[:, None, :]).reshape(k, n * n)  # pair p = (a, i) at a·n + i
    perm = np.argsort(diffs, axis=-1, kind="stable")
    s = np.take_along_axis(diffs, perm, axis=-1)
    dtype = np.int16 if n * n <= np.iinfo(np.int16).max else np.int32  # positions up to n²
    by_round = np.ascontiguousarray(counts.T).astype(dtype)  # (n, R)
    weight = np.empty(counts.shape[0], dtype=dtype)
    h = total // 2
    wanted = (h,) if total % 2 else (h - 1, h)
    out = np.empty((counts.shape[0], k))
    for row in range(k):
        start, stop, before = 0, n * n, 0
        if n >= HL_WINDOW_ROUNDS:
            rank = np.empty(n * n, dtype=np.int64)
            rank[perm[row]] = np.arange(n * n)
            start, stop, before = _window(counts, rank.reshape(n, n), wanted[0], wanted[-1])
        part = perm[row, start:stop]
        pairs = zip((part // n).tolist(), (part % n).tolist())
        pos = _order_positions((np.multiply(by_round[a], by_round[i], out=weight)
                                for a, i in pairs), wanted, counts.shape[0], dtype,
                               start, before)
        out[:, row] = s[row, pos[0]] if total % 2 else (s[row, pos[0]] + s[row, pos[1]]) / 2
    return out


#: From this many rounds on, :func:`_resampled_hl` sums only a window of the sorted pairs.
HL_WINDOW_ROUNDS = 60


def _window(counts: np.ndarray, rank: np.ndarray, low: int, high: int
            ) -> tuple[int, int, np.ndarray]:
    """``(start, stop, weight before start)``: sorted positions outside ``[start, stop)`` hold no
    wanted order statistic of any resample — every resample's pairs before ``start`` weigh at
    most ``low``, and those before ``stop`` more than ``high``. The weight of the pairs sorted
    before position q is the quadratic form ``w · A w`` with ``A[a, i] = 1`` where pair (a, i)
    sorts before q: one matrix product for all resamples, exact (integers in float64). The
    window starts at the middle ± n²/16 and doubles until it holds."""
    w = counts.astype(np.float64)
    size = rank.size

    def weight_before(q: int) -> np.ndarray:
        return np.einsum("ri,ri->r", w @ (rank < q).astype(np.float64), w)

    half = max(size // 16, 1)
    while True:
        start = max(size // 2 - half, 0)
        before = weight_before(start) if start else np.zeros(len(w))
        if start == 0 or before.max() <= low:
            break
        half *= 2
    half = max(size // 16, 1)
    while True:
        stop = min(size // 2 + half, size)
        if stop == size or weight_before(stop).min() > high:
            break
        half *= 2
    return start, stop, before.astype(np.int64)


def _hl_change(lb: np.ndarray, lc: np.ndarray) -> np.ndarray:
    d = (lc[..., :, None] - lb[..., None, :]).reshape(*lb.shape[:-1], -1)
    return 1.0 - np.exp(np.median(d, axis=-1))


def paired_hl_bca(b: np.ndarray, c: np.ndarray, *, n_resamples: int, confidence: float,
                  rng: np.random.Generator, method: str = "BCa", batch: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(low, high, distribution)`` for each row of ``b`` and ``c`` (k, n), strictly positive:
    what ``scipy.stats.bootstrap((b, c), hl_change, paired=True, axis=-1, method=method,
    batch=batch)`` returns for the same generator (``hl_change`` = ``1 − exp(median over all pairs
    of log c_a − log b_i)``), at the cost of sorting n² differences once per metric instead of
    taking the median of n² values in every resample."""
    n = b.shape[-1]
    lb, lc = np.log(b), np.log(c)
    step = batch or n_resamples
    idx = np.concatenate([rng.integers(0, n, size=(min(step, n_resamples - k), n), dtype="int64")
                          for k in range(0, n_resamples, step)])
    dist = (1.0 - np.exp(_resampled_hl(lb, lc, _counts(idx, n)))).T  # (k, R)

    def estimates():
        leave_one_out = 1 - np.eye(n, dtype=np.int16)  # (n−1)² pairs each, not n·(n−1)² values
        jackknife = (1.0 - np.exp(_resampled_hl(lb, lc, leave_one_out))).T  # (k, n)
        return _hl_change(lb, lc)[:, None], [jackknife]

    low, high = _interval(dist, confidence, method, estimates)
    return low, high, dist
