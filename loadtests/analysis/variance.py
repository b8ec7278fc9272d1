"""A mean over values that come in groups (windows or pairs inside server instances), with its honest error.

Values measured on one server instance share what that instance got at start: its hash
seed, its memory layout, the machine's state while it ran. So values of one instance
agree with each other more than with another instance's, and an interval that treats
them as independent is too narrow: a second run (new instances) lands outside it more
often than it should. The model is the one-way random-effects one,
``value = mean + instance effect + noise``, with two variance components: between
values inside an instance (``within_sd``) and between instances (``between_sd``).

The standard error of the grand mean follows the *sometimes pool* rule (Bancroft's
preliminary test): when the instances' means disagree no more than their values'
spread explains (the F test of the instance mean square against the within one has
p > :data:`POOL_P`), the values are pooled and the mean's error is the ordinary one over
all values; otherwise the instances are the unit: the error comes from the instance
mean square (Satterthwaite's degrees of freedom for unequal instances). Its coverage
in the regimes the lab sees is checked by a seeded simulation
(``tests/analysis/test_variance_coverage.py``); docs/methodology.md gives the figures.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from loadtests.analysis.stats import regularized_beta

#: Pool the instances when the F test of their disagreement has a p-value above this.
POOL_P = 0.5


@dataclass(frozen=True)
class NestedMean:
    """The grand mean of grouped values, its standard error and what the error rests on."""

    mean: float
    se: float | None  # None with a single value
    df: float | None
    n: int  # values
    groups: int  # instances with at least one value
    within_sd: float | None  # spread of values inside an instance (None without a group of two)
    between_sd: float | None  # spread of the instance effect (None with one instance; 0 when they agree)
    pooled: bool  # True: the values were the unit; False: the instances were


def f_sf(f: float, d1: float, d2: float) -> float:
    """P(F > f) for Fisher's F with (d1, d2) degrees of freedom."""
    if f <= 0:
        return 1.0
    return 1.0 - regularized_beta(d1 / 2.0, d2 / 2.0, d1 * f / (d1 * f + d2))


def nested_mean(groups: Sequence[Sequence[float]]) -> NestedMean:
    """The mean of every value of ``groups`` and its error under the sometimes-pool rule."""
    data = [[float(v) for v in g] for g in groups if len(g)]
    values = [v for g in data for v in g]
    n, k = len(values), len(data)
    if n == 0:
        raise ValueError("no values")
    mean = math.fsum(values) / n
    if n == 1:
        return NestedMean(mean, None, None, 1, k, None, None, True)
    plain_sd = statistics.stdev(values)
    ss_within = math.fsum((v - statistics.fmean(g)) ** 2 for g in data for v in g)
    df_within = n - k
    within_sd = math.sqrt(ss_within / df_within) if df_within > 0 else None
    if k == 1:
        return NestedMean(mean, plain_sd / math.sqrt(n), n - 1, n, 1, within_sd, None, True)
    sizes = [len(g) for g in data]
    ms_between = math.fsum(len(g) * (statistics.fmean(g) - mean) ** 2 for g in data) / (k - 1)
    ms_within = ss_within / df_within if df_within > 0 else 0.0
    n0 = (n - math.fsum(s * s for s in sizes) / n) / (k - 1)  # the effective instance size
    between_var = max(0.0, (ms_between - ms_within) / n0) if df_within > 0 else None
    between_sd = None if between_var is None else math.sqrt(between_var)
    if df_within > 0 and (ms_within == 0.0 and ms_between == 0.0 or
                          ms_within > 0 and f_sf(ms_between / ms_within, k - 1, df_within) > POOL_P):
        return NestedMean(mean, plain_sd / math.sqrt(n), n - 1, n, k, within_sd, between_sd, True)
    # The instances are the unit: the mean's variance is within/n plus between × Σ size² / n².
    weight = math.fsum(s * s for s in sizes) / n**2
    w_var = (within_sd or 0.0) ** 2
    b_var = between_var if between_var is not None else statistics.variance(statistics.fmean(g) for g in data)
    var = w_var / n + b_var * weight
    if var <= 0.0:
        return NestedMean(mean, 0.0, n - 1, n, k, within_sd, between_sd, False)
    # Satterthwaite: the variance as a combination of the two mean squares.
    a_b = weight / n0
    a_w = 1.0 / n - weight / n0
    terms = [(a_b * ms_between) ** 2 / (k - 1)] + ([(a_w * ms_within) ** 2 / df_within] if df_within > 0 else [])
    combined = a_b * ms_between + a_w * ms_within
    df = combined**2 / math.fsum(terms) if combined > 0 and math.fsum(terms) > 0 else k - 1
    df = math.floor(max(float(k - 1), min(df, n - 1.0)) * 10) / 10  # to a tenth, down: t quantiles are cached
    return NestedMean(mean, math.sqrt(var), df, n, k, within_sd, between_sd, False)
