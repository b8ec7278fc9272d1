"""Statistics over repeats: means with Student-t intervals, speedup ratios, efficiency.

Pure functions on plain numbers, so that every figure in a report can be checked by
hand. No SciPy: the t quantile comes from a numeric inverse of the regularised
incomplete beta function, which is exact to the printed digits for any df.

A speedup is the ratio of two means. Its interval comes from Fieller's theorem
(independent samples, Welch-Satterthwaite degrees of freedom): with three repeats a
bootstrap has only ten distinct resamples per side and understates the spread, while
Fieller's interval stays honest and is deterministic. The figures are records of
:mod:`loadtests.analysis.figures.stats`; their wording is :mod:`loadtests.core.wording`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

from loadtests.analysis.figures.stats import CONFIDENCE, InsufficientData, MeanCI, Speedup

# --- the Student t distribution -------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularised incomplete beta function, for a, b > 0 and 0 <= x <= 1."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must be in [0, 1], got {x}")
    if x in (0.0, 1.0):
        return x
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom (df may be fractional)."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    tail = 0.5 * regularized_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@functools.lru_cache(maxsize=4096)  # a run asks for the same few (p, df) hundreds of times
def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t: ``t_quantile(0.975, 2) == 4.3027...``.

    Bisection on the CDF: monotone, needs no starting guess, and 200 halvings of
    [0, 1e6] are far below float resolution.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if df <= 0:
        raise ValueError(f"degrees of freedom must be > 0, got {df}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
        if hi > 1e12:
            return math.inf
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * max(1.0, hi):
            break
    return (lo + hi) / 2.0


# --- summaries --------------------------------------------------------------------------


def _checked(values: Sequence[float], what: str) -> list[float]:
    data = [float(v) for v in values]
    if not data:
        raise InsufficientData(f"no {what}: at least one valid measurement is needed")
    bad = [v for v in data if not math.isfinite(v)]
    if bad:
        raise InsufficientData(f"{what} contains non-finite values {bad}: the measurement failed")
    return data


def mean_ci(
    values: Sequence[float], confidence: float = CONFIDENCE, what: str = "values", floor: float | None = None
) -> MeanCI:
    """Mean and Student-t confidence interval over repeats.

    With one value there is no interval (``low``/``high`` are None): callers must say so.
    ``floor`` bounds the interval below for quantities that cannot be smaller (throughput,
    latency and memory are never negative, but a t interval of two noisy repeats can be).
    """
    data = _checked(values, what)
    n = len(data)
    mean = math.fsum(data) / n
    if n == 1:
        return MeanCI(mean, None, None, 1, None, confidence)
    var = math.fsum((v - mean) ** 2 for v in data) / (n - 1)
    sd = math.sqrt(var)
    half = t_quantile(0.5 + confidence / 2.0, n - 1) * sd / math.sqrt(n)
    low = mean - half if floor is None else max(mean - half, floor)
    return MeanCI(mean, low, mean + half, n, sd, confidence)


def speedup(
    candidate: Sequence[float], baseline: Sequence[float], confidence: float = CONFIDENCE, what: str = "rps"
) -> Speedup:
    """Ratio of means ``mean(candidate) / mean(baseline)`` with a Fieller interval.

    Raises InsufficientData for empty samples or a non-positive baseline mean: a ratio
    against zero throughput means the baseline measurement failed.
    """
    a = mean_ci(candidate, confidence, f"candidate {what}")
    b = mean_ci(baseline, confidence, f"baseline {what}")
    if b.mean <= 0:
        raise InsufficientData(f"baseline {what} mean is {b.mean:g}: a ratio against zero is meaningless")
    if a.mean < 0:
        raise InsufficientData(f"candidate {what} mean is negative ({a.mean:g})")
    ratio = a.mean / b.mean
    if a.n < 2 or b.n < 2:
        return Speedup(ratio, None, None, a.n, b.n, confidence)
    assert a.stdev is not None and b.stdev is not None
    va = a.stdev**2 / a.n  # variance of each mean
    vb = b.stdev**2 / b.n
    if va == 0.0 and vb == 0.0:
        return Speedup(ratio, ratio, ratio, a.n, b.n, confidence)
    # Welch-Satterthwaite degrees of freedom for a - ratio * b.
    num = (va + ratio**2 * vb) ** 2
    den = (va**2 / (a.n - 1) if va else 0.0) + ((ratio**2 * vb) ** 2 / (b.n - 1) if vb else 0.0)
    df = num / den
    t = t_quantile(0.5 + confidence / 2.0, df)
    low, high = _fieller(a.mean, b.mean, va, vb, t)
    return Speedup(ratio, low, high, a.n, b.n, confidence)


def _fieller(ma: float, mb: float, va: float, vb: float, t: float) -> tuple[float, float]:
    """Roots of (ma - r mb)^2 = t^2 (va + r^2 vb): the Fieller interval for ma / mb."""
    t2 = t * t
    qa = mb * mb - t2 * vb
    if qa <= 0:  # the baseline mean is not significantly above zero: unbounded
        return (0.0, math.inf)
    qb = ma * mb
    qc = ma * ma - t2 * va
    disc = max(qb * qb - qa * qc, 0.0)
    root = math.sqrt(disc)
    # Throughputs are never negative, so neither is their ratio: a negative lower root only
    # says the candidate mean is not significantly above zero.
    return (max((qb - root) / qa, 0.0), (qb + root) / qa)


def efficiency(speedup_ratio: float, threads: int, usable_cores: int) -> float:
    """Parallel efficiency: ``speedup / min(threads, usable_cores)``.

    The ideal speedup of ``threads`` workers is bounded by the cores that can run them,
    so 1.9x on 2 cores is 0.95 however many threads were asked for.
    """
    if threads < 1:
        raise InsufficientData(f"threads must be >= 1, got {threads}")
    if usable_cores < 1:
        raise InsufficientData(f"usable cores must be >= 1, got {usable_cores}")
    if not math.isfinite(speedup_ratio) or speedup_ratio < 0:
        raise InsufficientData(f"speedup must be a finite non-negative number, got {speedup_ratio}")
    return speedup_ratio / min(threads, usable_cores)
