"""Capacity from every step of a search: the rate at which the share of arrivals over the SLO reaches 5%.

p95 under the SLO means fewer than 5% of the arrivals go without a good answer within
it. Each step of a search tested one rate and counted its misses (``arrivals.py``). The
share of misses grows with the rate; this module fits that growth and finds where it
crosses 5%: that rate is the capacity, estimated from the steps together rather than
from the last one that passed.

**The curve.** A logistic curve in the rate, ``logit P(miss) = a + b · (rate / scale - 1)``,
fitted by maximum quasi-likelihood to the steps near the crossing (within a factor
:data:`SPAN` of it; far from it the curve's shape matters and the steps say little).
For one server with exponential service the logit is exactly straight in the rate
(``log P = -(μ - λ) · SLO``, and logit ≈ log at 5%); for servers whose service time
varies less it bends upwards near saturation, and a straight line through steps on
either side of the crossing then reaches 5% a little early: the capacity errs low.

**Bursts.** Misses come in bursts (a queue that builds up delays every arrival behind
it), so a step's count varies far more than a binomial count would. How much more, the
*dispersion*, is measured twice: from the steps' scatter around the curve (Pearson's
statistic, degrees of freedom: steps less two) and from the scatter of each step's
blocks of consecutive arrivals around that step's own share (degrees of freedom: blocks
less one per step). The larger one is used, with its degrees of freedom: a burst rare
enough to miss most steps shows in the blocks of the step it hit, a drift of the
machine between steps only between them.

**The interval.** The crossing's standard error comes from the delta method, the
critical value from Student's t at the dispersion's degrees of freedom. On simulated
queues (M/M/c and M/D/c, ``tests/measure/test_capacity_coverage.py``) searches end with
intervals that hold the true capacity 92-97% of the time. When the steps cannot show
that the share rises with the rate (the slope's own interval reaches zero) there is no
interval: the capacity is then not bounded by the data, and a narrow interval would
mislead.

The fit is deterministic and needs only the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from loadtests.results.records.capacity import MISS_TARGET

SPAN = 1.6  # steps within this factor of the crossing take part in the fit
MIN_STEPS = 3  # a line and its scatter need three steps at least, at two rates or more
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
        20: 2.086, 22: 2.074, 24: 2.064, 26: 2.056, 28: 2.048, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}


def t975(df: int) -> float:
    """Student's t quantile 0.975 at ``df`` degrees of freedom (tabulated; between entries, the smaller df's)."""
    if df >= 240:
        return 1.96
    return T975[max(k for k in T975 if k <= df)]


@dataclass(frozen=True)
class StepCount:
    """What one step contributes: its rate, its arrivals and how many of them missed the SLO."""

    rate: float
    arrivals: int
    misses: int
    blocks: tuple[int, ...] = ()  # misses in consecutive blocks of the window's arrivals (the last takes the rest)

    @property
    def share(self) -> float:
        return self.misses / self.arrivals if self.arrivals else 0.0


@dataclass(frozen=True)
class CrossingFit:
    """A logistic curve of the miss share against the rate, and where it crosses the target share."""

    intercept: float  # a
    slope: float  # b, per unit of rate / scale
    scale: float  # the rate the fit is centred on
    dispersion: float  # how many times binomial the steps' variance is (at least 1)
    df: int  # degrees of freedom of the dispersion
    steps_used: int
    arrivals_used: int
    rates: tuple[float, float]  # the lowest and highest rate of the steps used
    estimate: float  # the rate where the fitted share is the target
    low: float | None  # 95% interval; None: the steps do not bound the capacity
    high: float | None

    @property
    def steepness(self) -> float:
        """How fast the logit of the share rises per unit of ln(rate), at the crossing."""
        return self.slope * self.estimate / self.scale

    @property
    def half_width(self) -> float | None:
        """The interval's larger half, relative to the estimate (0.1 = ±10%); None when there is none."""
        if self.low is None or self.high is None or self.estimate <= 0:
            return None
        return max(self.estimate - self.low, self.high - self.estimate) / self.estimate


def logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


def _softplus(z: float) -> float:
    """log(1 + e^z) without overflow."""
    return z + math.log1p(math.exp(-z)) if z > 0 else math.log1p(math.exp(z))


@dataclass(frozen=True)
class _Fitted:
    a: float
    b: float
    cov: tuple[float, float, float]  # var a, cov ab, var b, before the dispersion
    chi2: float  # Pearson's, of the steps around the curve


def _loglik(steps: Sequence[StepCount], a: float, b: float, scale: float) -> float:
    total = 0.0
    for s in steps:
        z = a + b * (s.rate / scale - 1.0)
        total -= s.misses * _softplus(-z) + (s.arrivals - s.misses) * _softplus(z)  # log p and log(1 - p)
    return total


def _information(steps: Sequence[StepCount], a: float, b: float,
                 scale: float) -> tuple[tuple[float, float, float], tuple[float, float]]:
    """The Fisher information (aa, ab, bb) and the score (a, b) at (a, b)."""
    aa = ab = bb = ga = gb = 0.0
    for s in steps:
        x = s.rate / scale - 1.0
        p = logistic(a + b * x)
        w, residual = s.arrivals * p * (1.0 - p), s.misses - s.arrivals * p
        aa, ab, bb, ga, gb = aa + w, ab + w * x, bb + w * x * x, ga + residual, gb + residual * x
    return (aa, ab, bb), (ga, gb)


def _fit(steps: Sequence[StepCount], scale: float) -> _Fitted | None:
    """Maximum quasi-likelihood logistic fit by Newton's method with step halving (the likelihood never
    falls). None when the information is singular or the steps separate completely (no finite curve)."""
    a, b = math.log(MISS_TARGET / (1 - MISS_TARGET)), 0.0
    current = _loglik(steps, a, b, scale)
    for _ in range(100):
        (aa, ab, bb), (ga, gb) = _information(steps, a, b, scale)
        det = aa * bb - ab * ab
        if det <= 1e-12 * max(1.0, aa * bb):
            return None
        da, db = (bb * ga - ab * gb) / det, (aa * gb - ab * ga) / det
        candidate = current
        for _ in range(30):
            candidate = _loglik(steps, a + da, b + db, scale)
            if candidate >= current - 1e-9:
                break
            da, db = da / 2, db / 2
        a, b, current = a + da, b + db, candidate
        if abs(da) + abs(db) < 1e-9:
            break
        if abs(b) > 1e4:
            return None
    (aa, ab, bb), _ = _information(steps, a, b, scale)
    det = aa * bb - ab * ab
    if det <= 0:
        return None
    chi2 = 0.0
    for s in steps:
        p = logistic(a + b * (s.rate / scale - 1.0))
        w = s.arrivals * p * (1.0 - p)
        chi2 += (s.misses - s.arrivals * p) ** 2 / w if w > 0 else 0.0
    return _Fitted(a, b, (bb / det, -ab / det, aa / det), chi2)


def monotone_curve(steps: Sequence[StepCount]) -> list[StepCount]:
    """The steps' shares made non-decreasing in the rate (pool-adjacent-violators, weighted by arrivals): each
    pooled run of steps as one count at its mean rate, in order of rate."""
    blocks: list[tuple[list[float], int, int]] = []
    for s in sorted(steps, key=lambda s: s.rate):
        blocks.append(([s.rate], s.arrivals, s.misses))
        while len(blocks) > 1 and blocks[-2][2] * blocks[-1][1] > blocks[-1][2] * blocks[-2][1]:
            rates, n, k = blocks.pop()
            blocks[-1] = (blocks[-1][0] + rates, blocks[-1][1] + n, blocks[-1][2] + k)
    return [StepCount(sum(r) / len(r), n, k) for r, n, k in blocks if n]


def _around(steps: Sequence[StepCount], target: float) -> tuple[StepCount, StepCount] | None:
    """The points of the monotone curve just under and at or over ``target``."""
    points = monotone_curve(steps)
    return next(((a, b) for a, b in zip(points, points[1:], strict=False) if a.share < target <= b.share), None)


def monotone_crossing(steps: Sequence[StepCount], target: float = MISS_TARGET) -> float | None:
    """Where the monotone curve through the steps' shares reaches ``target`` (linear between its points);
    None when it stays on one side of the target."""
    pair = _around(steps, target)
    if pair is None:
        return None
    a, b = pair
    return a.rate + (b.rate - a.rate) * (target - a.share) / (b.share - a.share)


def monotone_steepness(steps: Sequence[StepCount], target: float = MISS_TARGET) -> float | None:
    """How fast the logit of the share rises per unit of ln(rate) across the crossing of the monotone curve
    (shares taken as (misses + ½) ÷ (arrivals + 1), so a point with no miss has a finite logit)."""
    pair = _around(steps, target)
    if pair is None or pair[1].rate <= pair[0].rate:
        return None

    def logit(c: StepCount) -> float:
        share = (c.misses + 0.5) / (c.arrivals + 1)
        return math.log(share / (1 - share))

    steepness = (logit(pair[1]) - logit(pair[0])) / math.log(pair[1].rate / pair[0].rate)
    return steepness if steepness > 0 else None


def fit_crossing(steps: Sequence[StepCount], target: float = MISS_TARGET) -> CrossingFit | None:
    """The capacity and its 95% interval from the steps near the crossing; None when they cannot give one.

    The steps used are chosen by their rate alone (never by their outcome, which would bias
    the fit): those within :data:`SPAN` of the crossing, found from the monotone curve and
    then from the fit itself.
    """
    steps = [s for s in steps if s.arrivals > 0]
    centre = monotone_crossing(steps, target)
    if centre is None or centre <= 0:
        return None
    level = math.log(target / (1 - target))
    used: list[StepCount] = []
    fitted, scale = None, centre
    for _ in range(5):
        near = [s for s in steps if centre / SPAN <= s.rate <= centre * SPAN]
        if near == used:
            break
        used, scale = near, centre
        if len(used) < MIN_STEPS or len({s.rate for s in used}) < 2:
            return None
        fitted = _fit(used, scale)
        if fitted is None or fitted.b <= 0:
            return None
        centre = scale * (1.0 + (level - fitted.a) / fitted.b)
        if not scale / SPAN <= centre <= scale * SPAN:
            return None
    assert fitted is not None
    x = (level - fitted.a) / fitted.b
    dispersion, df = _dispersion(used, fitted, scale)
    low, high = delta_interval(fitted, x, dispersion, t975(df) if df > 0 else math.inf)
    return CrossingFit(fitted.a, fitted.b, scale, dispersion, df, len(used), sum(s.arrivals for s in used),
                       (min(s.rate for s in used), max(s.rate for s in used)), scale * (1.0 + x), None if low is None else scale * (1.0 + low),
                       None if high is None else scale * (1.0 + high))


def _dispersion(used: Sequence[StepCount], fitted: _Fitted, scale: float) -> tuple[float, int]:
    """How many times binomial the misses vary, and its degrees of freedom: the larger of the measure between
    steps and the one within them (module docstring)."""
    between_df = len(used) - 2
    between = fitted.chi2 / between_df if between_df > 0 else 0.0
    within_sum, within_df = 0.0, 0
    for s in used:
        if len(s.blocks) < 2:
            continue
        p = min(0.99, max(0.01, logistic(fitted.a + fitted.b * (s.rate / scale - 1.0))))  # no tiny variance
        size = s.arrivals // len(s.blocks)
        sizes = [size] * (len(s.blocks) - 1) + [s.arrivals - size * (len(s.blocks) - 1)]
        within_sum += sum((k - n * s.share) ** 2 / (n * p * (1 - p)) for k, n in zip(s.blocks, sizes, strict=True))
        within_df += len(s.blocks) - 1
    within = within_sum / within_df if within_df else 0.0
    if between >= within:
        return max(1.0, between), between_df
    return max(1.0, within), within_df


def delta_interval(fitted: _Fitted, x: float, dispersion: float, q: float) -> tuple[float | None, float | None]:
    """``x ± q·se(x)`` for the crossing ``x = (logit(target) - a) / b``, ``se`` from the delta method.

    None at both ends when the slope is not clearly positive (its own interval reaches zero).
    """
    vaa, vab, vbb = (v * dispersion for v in fitted.cov)
    if not math.isfinite(q) or fitted.b - q * math.sqrt(vbb) <= 0:
        return None, None
    se = math.sqrt(max(0.0, vaa + 2 * x * vab + x * x * vbb)) / fitted.b
    return x - q * se, x + q * se
