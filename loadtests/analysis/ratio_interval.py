"""The interval of a ratio of two capacities, each estimated with its own 95% interval.

Each capacity comes from its own search (``measure/capacity_fit.py``), and two searches
are independent: their steps were different windows on different servers (or in
different runs). The interval of the ratio is MOVER's ("method of variance estimates
recovery", Zou & Donner 2008) on the log scale: each side's distance from its estimate
to the relevant end of its own interval stands for its uncertainty, and the two combine
as independent errors do,

    low  = ln r - sqrt((ln c - ln c_low)² + (ln b_high - ln b)²)
    high = ln r + sqrt((ln c_high - ln c)² + (ln b - ln b_low)²)

for ``r = c / b``. Asymmetric intervals stay asymmetric, and an end that one side cannot
bound leaves that end of the ratio unbounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from loadtests.results.records import CapacitySearch, RatioBound


@dataclass(frozen=True)
class RatioInterval:
    """``a / b`` with its 95% interval (an end None: unbounded or unknown)."""

    ratio: float
    low: float | None
    high: float | None


def mover_ratio(a: float, a_low: float | None, a_high: float | None, b: float, b_low: float | None,
                b_high: float | None) -> RatioInterval:
    """``a / b`` of two independent estimates, each with its 95% interval, and MOVER's interval of the ratio."""
    if a <= 0 or b <= 0:
        raise ValueError(f"a ratio of capacities needs two positive figures, not {a} and {b}")
    centre = math.log(a / b)

    def spread(x: float | None, estimate: float) -> float | None:
        return None if x is None or x <= 0 else abs(math.log(estimate) - math.log(x))

    down = [spread(a_low, a), spread(b_high, b)]
    up = [spread(a_high, a), spread(b_low, b)]
    low = None if None in down else math.exp(centre - math.hypot(*down))  # type: ignore[arg-type]
    high = None if None in up else math.exp(centre + math.hypot(*up))  # type: ignore[arg-type]
    return RatioInterval(a / b, low, high)


def search_ratio(candidate: CapacitySearch, baseline: CapacitySearch) -> tuple[RatioInterval | None, RatioBound | None]:
    """candidate ÷ baseline capacity with its interval, and whether it is measured or only a bound.

    A capacity that is only a lower bound (no rate above it failed) is at least its figure and may be
    anything above: its own low end is the figure itself, its high end open.
    """
    if not candidate.max_rps_at_slo or not baseline.max_rps_at_slo:
        return None, None
    up, down = candidate.is_lower_bound, baseline.is_lower_bound
    bound: RatioBound = "unbounded" if up and down else "at least" if up else "at most" if down else "measured"

    def ends(s: CapacitySearch) -> tuple[float | None, float | None]:
        return (s.max_rps_at_slo, None) if s.is_lower_bound else (s.ci_low, s.ci_high)

    interval = mover_ratio(candidate.max_rps_at_slo, *ends(candidate), baseline.max_rps_at_slo, *ends(baseline))
    return interval, bound
