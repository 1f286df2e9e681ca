"""The BCa bootstrap of ``1 − median(c)/median(b)`` for many metrics at once, as scipy computes it.

:func:`scipy.stats.bootstrap` materialises every resample and sorts each one to take its median:
for a comparison of 20 metrics × 30 runs × 10,000 resamples that is 12 million values sorted in
rows of 30, most of ``perfkit compare``'s time (cProfile, benchmarks/bench_compare_speed.py).
Here the resample *indices* are drawn exactly as scipy draws them (the same generator calls, in
the same order) and turned into counts — how often each run was drawn — once for all metrics.
The j-th smallest value of a resample is then the j-th order statistic read off the running sum of
the counts taken in the sorted order of the sample: ``s[#{p : cumsum(counts[perm])[p] ≤ j}]``,
no sorting of resamples at all. The jackknife acceleration, the bias correction and the quantiles
follow :func:`scipy.stats._resampling._bca_interval` operation by operation, so the interval and
the bootstrap distribution are equal bit for bit to scipy's (tests/analysis/test_fast_bootstrap.py
checks that against scipy on random, tied, zero and paired samples).
"""

from __future__ import annotations

import numpy as np


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    """(R, n) int16: how many times each of ``n`` runs appears in each row of ``idx``."""
    r = idx.shape[0]
    flat = (idx + n * np.arange(r)[:, None]).ravel()
    return np.bincount(flat, minlength=r * n).reshape(r, n).astype(np.int16)


def _resampled_medians(x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """(R, k): the median of every resample (rows of ``counts``) of every row of ``x`` (k, n)."""
    k, n = x.shape
    perm = np.argsort(x, axis=-1, kind="stable")
    s = np.take_along_axis(x, perm, axis=-1)
    cs = np.cumsum(counts[:, perm], axis=-1, dtype=np.int16)  # (R, k, n)
    h = n // 2

    def order_stat(j: int) -> np.ndarray:
        pos = np.count_nonzero(cs <= j, axis=-1)  # (R, k)
        return s[np.arange(k), pos]

    if n % 2:
        return order_stat(h)
    return (order_stat(h - 1) + order_stat(h)) / 2


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
    from scipy import stats
    from scipy.special import ndtr, ndtri

    nb, nc = b.shape[-1], c.shape[-1]
    if paired:
        idx = rng.integers(0, nb, size=(n_resamples, nb), dtype="int64")
        cb = cc = _counts(idx, nb)
    else:
        cb = _counts(rng.integers(0, nb, size=(n_resamples, nb), dtype="int64"), nb)
        cc = _counts(rng.integers(0, nc, size=(n_resamples, nc), dtype="int64"), nc)
    dist = _ratio(_resampled_medians(b, cb), _resampled_medians(c, cc)).T  # (k, R)
    alpha = (1 - confidence) / 2
    if method == "BCa":
        theta = _ratio(_median(b), _median(c))[:, None]
        pct = (np.count_nonzero(dist < theta, axis=-1)
               + np.count_nonzero(dist <= theta, axis=-1)).astype(theta.dtype) / (2 * dist.shape[-1])
        z0 = ndtri(pct)
        mb, mc = _median(b)[:, None], _median(c)[:, None]
        if paired:
            thetas = [_ratio(_median(_jackknife(b)), _median(_jackknife(c)))]
        else:
            thetas = [_ratio(_median(_jackknife(b)), mc), _ratio(mb, _median(_jackknife(c)))]
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
    return ci[..., 0], ci[..., 1], dist
