"""Paired comparisons: the ratio of two configurations from windows measured side by side.

Each *pair* is one block of alternating windows (A B B A, or B A A B) in which both
sides ran on warm servers, one at a time. Inside a block, each side's throughput is
the mean of its two windows; because the block is a palindrome, a linear drift of
the machine adds the same amount to both sides and cancels. The block's ratio is
``candidate / baseline``.

Across blocks the ratio is summarised on the log scale, where a ratio of 2 and one of
0.5 are equally far from 1: the estimate is the geometric mean of the per-pair ratios
and its interval is a Student-t interval on the mean of the log ratios, turned back
into a ratio (so it is never negative and never symmetric around the estimate). Pairs
come from several server instances; the mean's error takes the variance between them
into account (``analysis.variance``: with instances that agree it is the ordinary one).

``precision`` is the interval's half-width relative to the ratio,
``(high - low) / 2 / ratio``: 0.05 means "±5%".

How many pairs a comparison measures for a precision target is fixed in two stages
(Stein's): a pilot of :data:`PILOT_PAIRS` valid pairs gives the pairs' spread, and
:func:`planned_pairs` turns it into the number of pairs that reach the target. The
comparison then measures that many valid pairs (or runs out of time) and never looks at
the interval on the way, so stopping does not pick a lucky narrow interval: the
seeded simulation in ``tests/analysis/test_stopping_coverage.py`` checks that nominal 95%
intervals cover at least 94% of the time in the regimes the lab sees.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from loadtests.analysis.figures.stats import CONFIDENCE, InsufficientData, PairedRatio
from loadtests.analysis.stats import t_quantile
from loadtests.analysis.variance import nested_mean

#: However wide the pilot, a comparison never plans more pairs than this (its time budget stops it sooner).
MAX_PLANNED_PAIRS = 200


def planned_pairs(pilot_log_sd: float, pilot_n: int, precision: float, confidence: float = CONFIDENCE) -> int:
    """The pairs that bring a ratio's interval to ±``precision`` given the pilot's spread (Stein's two-stage rule).

    The half-width on the log scale that gives ±``precision`` around the ratio is
    ``asinh(precision)`` (``(e^h - e^-h) / 2 = precision``); the pilot's t quantile keeps
    the plan honest about how little ``pilot_n`` pairs say of the spread.
    """
    if pilot_n < 2:
        raise ValueError("a pilot needs at least two pairs to tell their spread")
    t = t_quantile(0.5 + confidence / 2.0, pilot_n - 1)
    wanted = math.ceil((t * pilot_log_sd / math.asinh(precision)) ** 2)
    return min(MAX_PLANNED_PAIRS, max(pilot_n, wanted))


def paired_ratio(candidate: Sequence[float], baseline: Sequence[float], confidence: float = CONFIDENCE,
                 instances: Sequence[int] | None = None) -> PairedRatio:
    """The paired ratio of per-block throughputs (``candidate[i]`` and ``baseline[i]`` from block i, measured on
    server instance ``instances[i]``; one instance when None)."""
    if len(candidate) != len(baseline):
        raise InsufficientData(f"{len(candidate)} candidate blocks against {len(baseline)} baseline blocks")
    if not candidate:
        raise InsufficientData("no complete pair: at least one block with both sides valid is needed")
    logs = []
    for c, b in zip(candidate, baseline, strict=True):
        if not (math.isfinite(c) and math.isfinite(b)) or c <= 0 or b <= 0:
            raise InsufficientData(f"a pair needs positive throughput on both sides, got {c!r} and {b!r}")
        logs.append(math.log(c / b))
    groups: dict[int, list[float]] = {}
    for log, instance in zip(logs, instances if instances is not None else [0] * len(logs), strict=True):
        groups.setdefault(instance, []).append(log)
    m = nested_mean(list(groups.values()))
    ratio = math.exp(m.mean)
    if m.se is None or m.df is None:
        return PairedRatio(ratio, None, None, 1, None, confidence, instances=m.groups)
    half = t_quantile(0.5 + confidence / 2.0, m.df) * m.se
    return PairedRatio(ratio, math.exp(m.mean - half), math.exp(m.mean + half), m.n, statistics.stdev(logs),
                       confidence, df=m.df, instances=m.groups, within_sd=m.within_sd, between_sd=m.between_sd)


def coefficient_of_variation(values: Sequence[float]) -> float | None:
    """Standard deviation over mean of one configuration's windows; None for fewer than two."""
    if len(values) < 2:
        return None
    mean = statistics.fmean(values)
    return statistics.stdev(values) / mean if mean > 0 else None
