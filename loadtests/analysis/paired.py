"""Paired comparisons: the ratio of two configurations from windows measured side by side.

Each *pair* is one block of alternating windows (A B B A, or B A A B) in which both
sides ran on warm servers, one at a time. Inside a block, each side's throughput is
the mean of its two windows; because the block is a palindrome, a linear drift of
the machine adds the same amount to both sides and cancels. The block's ratio is
``candidate / baseline``.

Across blocks the ratio is summarised on the log scale, where a ratio of 2 and one of
0.5 are equally far from 1: the estimate is the geometric mean of the per-pair ratios
and its interval is a Student-t interval on the mean of the log ratios, turned back
into a ratio (so it is never negative and never symmetric around the estimate).

``precision`` is the interval's half-width relative to the ratio,
``(high - low) / 2 / ratio``: 0.05 means "±5%". Adaptive runs stop once every pair
of a comparison reaches the target, so the report says the stopping was adaptive.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from loadtests.analysis.figures.stats import CONFIDENCE, InsufficientData, PairedRatio
from loadtests.analysis.stats import t_quantile

#: Fewer pairs than this never end an adaptive comparison: early stopping on a narrow
#: interval biases it, and a handful of pairs can be narrow by luck.
MIN_ADAPTIVE_PAIRS = 5


def paired_ratio(candidate: Sequence[float], baseline: Sequence[float],
                 confidence: float = CONFIDENCE) -> PairedRatio:
    """The paired ratio of per-block throughputs (``candidate[i]`` and ``baseline[i]`` from block i)."""
    if len(candidate) != len(baseline):
        raise InsufficientData(f"{len(candidate)} candidate blocks against {len(baseline)} baseline blocks")
    if not candidate:
        raise InsufficientData("no complete pair: at least one block with both sides valid is needed")
    logs = []
    for c, b in zip(candidate, baseline, strict=True):
        if not (math.isfinite(c) and math.isfinite(b)) or c <= 0 or b <= 0:
            raise InsufficientData(f"a pair needs positive throughput on both sides, got {c!r} and {b!r}")
        logs.append(math.log(c / b))
    n = len(logs)
    centre = math.fsum(logs) / n
    ratio = math.exp(centre)
    if n == 1:
        return PairedRatio(ratio, None, None, 1, None, confidence)
    sd = statistics.stdev(logs)
    half = t_quantile(0.5 + confidence / 2.0, n - 1) * sd / math.sqrt(n)
    return PairedRatio(ratio, math.exp(centre - half), math.exp(centre + half), n, sd, confidence)


def coefficient_of_variation(values: Sequence[float]) -> float | None:
    """Standard deviation over mean of one configuration's windows; None for fewer than two."""
    if len(values) < 2:
        return None
    mean = statistics.fmean(values)
    return statistics.stdev(values) / mean if mean > 0 else None
