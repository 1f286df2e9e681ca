"""Statistics of a comparison: the change between two variants with its confidence interval.

For a metric where lower is better and a statistic S (median by default)::

    change = 1 − S(candidate) / S(baseline)     0.15 = 15 % better, negative = worse

Its interval comes from :func:`scipy.stats.bootstrap` with the two samples resampled on their own
(``paired=False``), BCa by default. Three cases are handled before or after the bootstrap:

- both samples constant (every run wrote the manifest 3 times): the change is exact, the interval
  has zero width, ``method="exact"``;
- BCa undefined (near-constant data make the jackknife acceleration 0/0, and scipy warns and
  returns NaN): the percentile interval of the same resamples is used, ``method="percentile"``
  and ``note`` says why;
- S(baseline) = 0 with varying data: the ratio has no meaning, ``method="undefined"``.

``statistic="auto"`` is ``hl`` for a metric whose values are all positive (on a coarse clock with
the exact Moses interval, not the bootstrap on rounds: :mod:`perfkit.analysis.clock_grid`) and
``median`` for one that reaches 0 (a counter); :func:`perfkit.compare` uses it for targets and
guardrails and the median for info rows. ``statistic="hl"`` is the Hodges–Lehmann change on a
log scale with its exact Moses interval (no resampling; :mod:`perfkit.analysis.hodges_lehmann`),
``method="moses"``; ``baseline`` and ``candidate`` then report each variant's median.

``design`` says how the runs were collected (:mod:`perfkit.analysis.paired` has the estimands):
``paired`` (rounds of an interleaved collection) gives ``paired-bca``: rounds resampled together,
BCa, of the ratio of medians or (hl) of the two-sample Hodges–Lehmann change; ``autocorrelated`` (runs not interleaved) widens the independent interval for
the lag-1 autocorrelation in execution order (``bca-ar1``, ``moses-ar1``).

The success rate is compared with Wilson score intervals per variant and Newcombe's hybrid score
interval for the difference of two proportions (Newcombe 1998, method 10), both closed form.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from perfkit.analysis.clock_grid import on_grid
from perfkit.errors import UsageError

STATISTICS = ("median", "mean", "hl", "auto")
METHODS = ("BCa", "percentile")
#: How the runs were collected (:mod:`perfkit.analysis.paired`): ``independent`` runs,
#: ``paired`` by round (``baseline[i]`` and ``candidate[i]`` ran in the same round), or
#: ``autocorrelated``: each sample in execution order, not interleaved with the other.
DESIGNS = ("independent", "paired", "autocorrelated")


def _scipy_stats():
    """scipy.stats, imported on first use: it takes about a second, and the CLI's measure/ingest
    commands never need it."""
    from scipy import stats

    return stats


def _median(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """np.median's result, bit for bit, by a full sort of the last axis.

    On 10,000 resamples of 10-1000 runs this is 1.1-20x faster than np.median, which partitions
    with an extra pivot to look for NaN (measured; the samples here never hold NaN).
    """
    x = np.moveaxis(np.asarray(x), axis, -1)
    n = x.shape[-1]
    h = n // 2
    s = np.sort(x, axis=-1)
    return s[..., h] if n % 2 else (s[..., h - 1] + s[..., h]) / 2


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


_STAT_FUNCS = {"median": _median, "mean": _mean}


@dataclass(frozen=True)
class ChangeInterval:
    """The change of one metric between two samples, with its interval.

    ``baseline``/``candidate`` are the statistic of each sample; ``change`` = 1 − c/b;
    ``ci_low``/``ci_high`` bound the change at ``confidence``; ``method`` is ``bca``,
    ``percentile``, ``exact`` or ``undefined``; ``note`` explains a fallback (else empty);
    ``p_value`` is the two-sided Mann–Whitney U test of the two samples (NaN if undefined).
    """

    n_baseline: int
    n_candidate: int
    baseline: float
    candidate: float
    change: float
    ci_low: float
    ci_high: float
    method: str
    note: str
    p_value: float
    confidence: float
    #: the bootstrap replicates behind the interval (None for exact and undefined changes)
    distribution: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2


def _clean_sample(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=float).ravel()
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        raise UsageError(f"`{name}` holds no values")
    return arr


def _exact_change(b: float, c: float) -> float:
    if b == 0:
        return 0.0 if c == 0 else -math.inf
    return 1.0 - c / b


def rank_test(baseline: np.ndarray, candidate: np.ndarray) -> float:
    """Two-sided Mann–Whitney U p-value (NaN when both samples are one and the same constant)."""
    b, c = np.asarray(baseline, float), np.asarray(candidate, float)
    if b.size == 0 or c.size == 0:
        return math.nan
    if np.ptp(np.concatenate([b, c])) == 0:
        return 1.0  # identical constants: no evidence of any difference
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(_scipy_stats().mannwhitneyu(b, c, alternative="two-sided").pvalue)


#: Resampled values held at once by a bootstrap (20 M floats: 160 MB).
_BOOTSTRAP_CELLS = 20_000_000


def change_interval(
    baseline,
    candidate,
    *,
    statistic: str = "median",
    confidence: float = 0.95,
    n_resamples: int = 10_000,
    seed: int | np.random.Generator | None = 0,
    method: str = "BCa",
    exact: bool = True,
    design: str = "independent",
) -> ChangeInterval:
    """Bootstrap interval of ``1 − S(candidate)/S(baseline)``; see the module docstring.

    ``exact=False`` (a timing, not a count) never calls a change exact: samples that are constant
    in both variants then get a zero-width interval with method ``percentile`` and a note.
    """
    job = _prepare(baseline, candidate, statistic=statistic, confidence=confidence,
                   n_resamples=n_resamples, seed=seed, method=method, exact=exact, design=design)
    return job.run() if isinstance(job, _Job) else job


def _prepare(baseline, candidate, *, statistic: str = "median", confidence: float = 0.95,
             n_resamples: int = 10_000, seed: Any = 0, method: str = "BCa", exact: bool = True,
             design: str = "independent") -> ChangeInterval | _Job:
    """Check the arguments and answer what needs no interval; else the :class:`_Job` to run."""
    if statistic not in STATISTICS:
        raise UsageError(f"`statistic` must be one of {', '.join(STATISTICS)}, not {statistic!r}")
    if method not in METHODS:
        raise UsageError(f"`method` must be one of {', '.join(METHODS)}, not {method!r}")
    if not 0 < confidence < 1:
        raise UsageError(f"`confidence` must lie strictly between 0 and 1, not {confidence!r}")
    if int(n_resamples) < 100:
        raise UsageError(f"`n_resamples` must be at least 100, not {n_resamples!r}")
    if design not in DESIGNS:
        raise UsageError(f"`design` must be one of {', '.join(DESIGNS)}, not {design!r}")
    if design == "paired":
        b, c = _clean_pairs(baseline, candidate)
    else:
        b = _clean_sample(baseline, "baseline")
        c = _clean_sample(candidate, "candidate")
    note = ""  # why ``auto`` left the bootstrap on rounds (a coarse clock), else empty
    if statistic == "auto":  # hl where a log scale exists, the median for counts that reach 0
        statistic = "hl" if b.min() > 0 and c.min() > 0 else "median"
        design, note = on_grid(b, c, design, confidence) if statistic == "hl" else (design, note)
    f = _STAT_FUNCS.get(statistic, _median)
    sb, sc = float(f(b)), float(f(c))
    p = rank_test(b, c)
    common = dict(n_baseline=b.size, n_candidate=c.size, baseline=sb, candidate=sc,
                  p_value=p, confidence=confidence)

    if np.ptp(b) == 0 and np.ptp(c) == 0 and min(b.size, c.size) >= 2:
        ch = _exact_change(sb, sc)
        if exact:  # a count that did not vary: no p-value, nothing to resample
            common["p_value"] = math.nan
            return ChangeInterval(change=ch, ci_low=ch, ci_high=ch, method="exact",
                                  note="constant in both variants", **common)
        return ChangeInterval(change=ch, ci_low=ch, ci_high=ch, method="percentile",
                              note="identical values in every run: no spread to resample "
                                   "(a coarse clock?)", **common)
    if min(b.size, c.size) < 2:
        return ChangeInterval(change=_exact_change(sb, sc), ci_low=math.nan, ci_high=math.nan,
                              method="undefined", note="a variant has a single run: no interval",
                              **common)
    if sb == 0:
        return ChangeInterval(change=math.nan, ci_low=math.nan, ci_high=math.nan,
                              method="undefined",
                              note=f"baseline {statistic} is 0: a relative change is undefined",
                              **common)

    if design == "paired" and statistic == "mean":
        design = "independent"
    return _Job(b, c, statistic, confidence, int(n_resamples), seed, method, design, common, note)


@dataclass
class _Job:
    """A change whose interval needs computing (the checks and the early answers are done)."""

    b: np.ndarray
    c: np.ndarray
    statistic: str
    confidence: float
    n_resamples: int
    seed: Any
    method: str
    design: str
    common: dict[str, Any]
    note: str = ""

    def run(self) -> ChangeInterval:
        b, c = self.b, self.c
        if self.design == "paired":
            return self.finish(_paired_interval(b, c, self.statistic, self.confidence,
                                                self.n_resamples, self.seed, self.method,
                                                self.common))
        if self.statistic == "hl":
            res = _hl_interval(b, c, self.confidence, self.common)
        else:
            res = _bootstrap_interval(b, c, self.statistic, self.confidence,
                                      self.n_resamples, self.seed, self.method, self.common)
        return self.finish(res)

    def finish(self, res: ChangeInterval) -> ChangeInterval:
        res = replace(res, note=self.note) if self.note and not res.note else res
        if self.design == "autocorrelated":
            return _widened(res, self.b, self.c)
        if self.design == "paired" and res.method in ("bca", "percentile"):
            from perfkit.analysis.paired import expansion, widen

            lo, hi = widen(res.change, res.ci_low, res.ci_high,
                           expansion(self.b.size, self.confidence))
            return replace(res, ci_low=lo, ci_high=hi, method=f"paired-{res.method}")
        return res


def change_intervals(samples, *, exact, **options) -> list[ChangeInterval]:
    """:func:`change_interval` of many ``(baseline, candidate, design)`` samples, each result
    equal to what a call of its own gives, faster: samples of the same sizes and design share
    one bootstrap call (scipy resamples the rows of a 2-D sample with the same indices, the very
    indices a call of its own would draw from the same integer seed). ``exact`` is one flag per
    sample; ``options`` are :func:`change_interval`'s keywords."""
    out: list[Any] = [
        _prepare(b, c, exact=x, design=d, **options) for (b, c, d), x in zip(samples, exact)
    ]
    groups: dict[tuple, list[int]] = {}
    for i, job in enumerate(out):
        if isinstance(job, _Job) and _batchable(job) and isinstance(job.seed, (int, np.integer)):
            groups.setdefault((job.design == "paired", job.b.size, job.c.size), []).append(i)
    for (paired_rows, nb, nc), idx in groups.items():
        per_row = out[idx[0]].n_resamples * (nb + nc)
        chunk = max(1, _BOOTSTRAP_CELLS // per_row)
        for start in range(0, len(idx), chunk):
            part = idx[start:start + chunk]
            for i, res in zip(part, _bootstrap_rows([out[i] for i in part], paired_rows)):
                out[i] = res
    return [job.run() if isinstance(job, _Job) else job for job in out]


def _batchable(job: _Job) -> bool:
    """Whether ``job`` is one row of a stacked bootstrap (median, mean; paired hl > 0)."""
    if job.statistic == "hl":
        return job.design == "paired" and job.b.min() > 0 and job.c.min() > 0
    return job.statistic in _STAT_FUNCS


def _bootstrap_rows(jobs: list[_Job], paired_rows: bool) -> list[ChangeInterval]:
    """One bootstrap over the stacked samples of ``jobs`` (same sizes, seed, options)."""
    first = jobs[0]
    b = np.stack([j.b for j in jobs])
    c = np.stack([j.c for j in jobs])
    lows, highs, dists, caught = _bootstrap_stack(
        b, c, first.statistic, paired_rows, first.n_resamples, first.confidence, first.method,
        np.random.default_rng(first.seed))
    out = []
    for k, job in enumerate(jobs):
        res = _finish(_Row(_Interval(lows[k], highs[k]), dists[k]), caught, job.method,
                      job.common)
        out.append(job.finish(_hl_estimate(res, job.b, job.c) if job.statistic == "hl" else res))
    return out


@dataclass
class _Interval:
    low: float
    high: float


@dataclass
class _Row:
    """One row of a stacked bootstrap result, shaped like scipy's result for :func:`_finish`."""

    confidence_interval: _Interval
    bootstrap_distribution: np.ndarray




def _widened(res: ChangeInterval, b: np.ndarray, c: np.ndarray) -> ChangeInterval:
    """``res`` widened for autocorrelation in execution order (:func:`paired.ar1_inflation`)."""
    from perfkit.analysis.paired import ar1_inflation, widen

    if res.method not in ("bca", "percentile", "moses") or b.min() <= 0 or c.min() <= 0:
        return res
    factor, rho = ar1_inflation(b, c)
    lo, hi = widen(res.change, res.ci_low, res.ci_high, factor)
    note = f"runs not interleaved: interval widened ×{factor:.2f} for lag-1 autocorrelation " \
           f"{rho:.2f} in run order"
    return replace(res, ci_low=lo, ci_high=hi, method=f"{res.method}-ar1",
                   note="; ".join(x for x in (res.note, note) if x))


def _clean_pairs(baseline, candidate) -> tuple[np.ndarray, np.ndarray]:
    b = np.asarray(baseline, dtype=float).ravel()
    c = np.asarray(candidate, dtype=float).ravel()
    if b.size != c.size:
        raise UsageError(f"`design='paired'` needs as many baseline as candidate values "
                         f"({b.size} vs {c.size})")
    keep = np.isfinite(b) & np.isfinite(c)
    if not keep.any():
        raise UsageError("`baseline` holds no values")
    return b[keep], c[keep]


def _paired_interval(b: np.ndarray, c: np.ndarray, statistic: str, confidence: float,
                     n_resamples: int, seed, method: str, common: dict[str, Any]) -> ChangeInterval:
    """Rounds resampled together: BCa of the ratio of medians, or of the two-sample
    Hodges–Lehmann change (hl) — measured to beat the signed-rank interval of the within-round
    log-ratios on bimodal runs (benchmarks/README.md)."""
    from perfkit.analysis import paired

    if statistic == "hl" and (b.min() <= 0 or c.min() <= 0):
        return _hl_interval(b, c, confidence, common)  # says "undefined" with the reason
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    lows, highs, dists, caught = _bootstrap_stack(b[None, :], c[None, :], statistic, True,
                                                  int(n_resamples), confidence, method, rng)
    out = _finish(_Row(_Interval(lows[0], highs[0]), dists[0]), caught, method, common)
    return _hl_estimate(out, b, c) if statistic == "hl" else out


def _hl_estimate(res: ChangeInterval, b: np.ndarray, c: np.ndarray) -> ChangeInterval:
    """``res`` with its change the Hodges–Lehmann estimate (its interval is of that estimand)."""
    return replace(res, change=float(_hl_ratio_change(b, c)))


def _hl_ratio_change(x, y, axis=-1):
    """1 − exp(two-sample Hodges–Lehmann shift of log values), vectorised like scipy needs."""
    from perfkit.analysis.paired import hl_shift

    return 1.0 - np.exp(hl_shift(x, y, axis=axis))


def _ratio_change(f):
    def ratio_change(x, y, axis=-1):
        sx, sy = f(x, axis=axis), f(y, axis=axis)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = 1.0 - sy / sx
        # a resample where both statistics are 0 (counts that are mostly 0) shows no change;
        # one where only the baseline's is 0 stays -inf (infinitely worse), never dropped
        return np.where((sx == 0) & (sy == 0), 0.0, out)

    return ratio_change


def _bootstrap_interval(b: np.ndarray, c: np.ndarray, statistic: str, confidence: float,
                        n_resamples: int, seed, method: str, common: dict[str, Any]
                        ) -> ChangeInterval:
    """The two-sample bootstrap (each sample resampled on its own) of the ratio of statistics."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    lows, highs, dists, caught = _bootstrap_stack(b[None, :], c[None, :], statistic, False,
                                                  int(n_resamples), confidence, method, rng)
    return _finish(_Row(_Interval(lows[0], highs[0]), dists[0]), caught, method, common)


class _Degenerate:
    """Stands for scipy's DegenerateDataWarning where the fast path computed the interval."""

    category = type("DegenerateDataWarning", (Warning,), {})
    message = "degenerate: the BCa interval cannot be calculated"


def _bootstrap_stack(b: np.ndarray, c: np.ndarray, statistic: str, paired: bool,
                     n_resamples: int, confidence: float, method: str, rng: np.random.Generator):
    """``(lows, highs, distributions, warnings)`` of the change of every row of ``b`` (k, n_b)
    and ``c`` (k, n_c): :mod:`perfkit.analysis.fast_bootstrap` for the median and the paired
    Hodges–Lehmann change (scipy's numbers, bit for bit, 3-15x faster), :func:`scipy.stats.bootstrap`
    otherwise. Resamples cost n_resamples × (n_b + n_c) values a row (n² for hl): past
    :data:`_BOOTSTRAP_CELLS` scipy draws them in batches, and so does the fast path (memory
    bounded; the default never batches, so seeded results stay as they were)."""
    from perfkit.analysis import fast_bootstrap

    per_row = n_resamples * (b.shape[-1] + c.shape[-1])
    if statistic == "hl" or (statistic == "median" and (paired or per_row <= _BOOTSTRAP_CELLS)):
        if statistic == "hl":  # paired (the independent hl is Moses' exact interval)
            pairs = b.shape[-1] * c.shape[-1]
            batch = None if n_resamples * pairs <= _BOOTSTRAP_CELLS else \
                max(1, _BOOTSTRAP_CELLS // pairs)
            lows, highs, dists = fast_bootstrap.paired_hl_bca(
                b, c, n_resamples=n_resamples, confidence=confidence, rng=rng, method=method,
                batch=batch)
        else:
            lows, highs, dists = fast_bootstrap.median_ratio_bca(
                b, c, n_resamples=n_resamples, confidence=confidence, rng=rng, paired=paired,
                method=method)
        bad = bool(np.isnan(lows).any() or np.isnan(highs).any())
        return lows, highs, dists, [_Degenerate()] if bad else []
    batch = None if paired or per_row <= _BOOTSTRAP_CELLS else \
        max(1, _BOOTSTRAP_CELLS // (b.shape[-1] + c.shape[-1]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = _scipy_stats().bootstrap(
            (b, c), _ratio_change(_STAT_FUNCS[statistic]), n_resamples=n_resamples,
            method=method, confidence_level=confidence, vectorized=True, paired=paired, rng=rng,
            batch=batch, axis=-1,
        )
    return (np.atleast_1d(res.confidence_interval.low), np.atleast_1d(res.confidence_interval.high),
            np.atleast_2d(res.bootstrap_distribution), caught)


def _finish(res, caught, method: str, common: dict[str, Any]) -> ChangeInterval:
    """A scipy bootstrap result as a :class:`ChangeInterval`, with the percentile fallback."""
    sb, sc = common["baseline"], common["candidate"]
    confidence = common["confidence"]
    note = ""
    used = method.lower()
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    dist = res.bootstrap_distribution
    if method == "BCa" and (math.isnan(lo) or math.isnan(hi)):
        # BCa is undefined here (scipy warned: DegenerateDataWarning); the percentile interval of
        # the very same resamples needs no jackknife and is still a valid, if less exact, interval.
        used = "percentile"
        degenerate = any("degenerate" in str(w.message).lower() or
                         w.category.__name__ == "DegenerateDataWarning" for w in caught)
        note = "BCa undefined (near-constant data)" if degenerate else "BCa undefined"
        note += "; percentile interval"
        values = dist[~np.isnan(dist)]
        if values.size:
            # order statistics, not interpolation: safe with -inf and never narrower
            alpha = (1 - confidence) / 2
            lo = float(np.quantile(values, alpha, method="lower"))
            hi = float(np.quantile(values, 1 - alpha, method="higher"))
    if math.isnan(lo) or math.isnan(hi):
        return ChangeInterval(change=_exact_change(sb, sc), ci_low=math.nan, ci_high=math.nan,
                              method="undefined", note="no finite interval", **common)
    return ChangeInterval(change=_exact_change(sb, sc), ci_low=lo, ci_high=hi, method=used,
                          note=note, distribution=np.asarray(dist, dtype=float), **common)


def _hl_interval(b: np.ndarray, c: np.ndarray, confidence: float,
                 common: dict[str, Any]) -> ChangeInterval:
    from perfkit.analysis.hodges_lehmann import hl_change
    from perfkit.analysis.spending import level_text

    if b.min() <= 0 or c.min() <= 0:
        return ChangeInterval(change=_exact_change(common["baseline"], common["candidate"]),
                              ci_low=math.nan, ci_high=math.nan, method="undefined",
                              note="a value ≤ 0: no log-scale (hl) change", **common)
    ch, lo, hi = hl_change(b, c, confidence)
    if math.isnan(lo):
        return ChangeInterval(change=ch, ci_low=lo, ci_high=hi, method="undefined",
                              note=f"too few runs for a {level_text(confidence)} rank interval", **common)
    return ChangeInterval(change=ch, ci_low=lo, ci_high=hi, method="moses", note="", **common)


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k/n`` (``(nan, nan)`` for ``n == 0``)."""
    if n == 0:
        return math.nan, math.nan
    z = float(_scipy_stats().norm.ppf(0.5 + confidence / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(
    k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``k2/n2 − k1/n1`` (method 10 of Newcombe 1998)."""
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, confidence)
    l2, u2 = wilson_interval(k2, n2, confidence)
    d = p2 - p1
    low = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return low, high


def runs_needed(
    n_baseline: int, n_candidate: int, half_width: float, distance: float, cap: int = 10_000
) -> int | None:
    """Runs per variant that would shrink the interval's half-width below ``distance``.

    The half-width of a two-sample interval scales as ``sqrt(1/n_b + 1/n_c)``; with ``n`` runs in
    each variant that is ``sqrt(2/n)``. Returns ``None`` when no number would do (the estimate
    sits on the boundary) or more than ``cap`` would be needed.
    """
    # an infinite half-width (a degenerate interval from very few runs) gives no estimate
    if not (0 < half_width < math.inf) or not (distance > 0) or n_baseline < 1 or n_candidate < 1:
        return None
    n = 2.0 / ((1 / n_baseline + 1 / n_candidate) * (distance / half_width) ** 2)
    if not math.isfinite(n) or n > cap:
        return None
    return max(int(math.ceil(n)), 2)


def bootstrap_distribution(
    baseline: Any, candidate: Any, *, statistic: str = "median", n_resamples: int = 10_000,
    seed: int = 0,
) -> np.ndarray:
    """The bootstrap replicates of ``1 − S(candidate)/S(baseline)`` behind :func:`change_interval`'s
    interval (same generator, seed and resampling): the histogram a report draws.

    A change that is exact (constant in both samples) gives that one value; an undefined one
    (a single run, a baseline of 0) none. Only finite replicates are returned (a histogram cannot
    show the ``-inf`` of a resample whose baseline is 0).
    """
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    if b.size == 0 or c.size == 0:
        return np.array([], dtype=float)
    ci = change_interval(b, c, statistic=statistic, n_resamples=n_resamples, seed=seed,
                         method="percentile")
    if ci.method == "exact":
        return np.full(1, ci.change)
    if ci.distribution is None:
        return np.array([], dtype=float)
    return ci.distribution[np.isfinite(ci.distribution)]
