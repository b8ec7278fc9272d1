"""The latency-against-load figures of a capacity run: each step's p95 and share over the SLO, and the fitted curve."""

from __future__ import annotations

import math

from loadtests.analysis.figures.capacity import CapacityCurve, CurveStep
from loadtests.results.records import CapacitySearch, CapacityStep, RunRecord

CURVE_POINTS = 60
Z95 = 1.959964


def _share_interval(step: CapacityStep, dispersion: float) -> tuple[float | None, float | None]:
    """Wilson's 95% interval of a step's share over the SLO, its arrivals counted as ``n / dispersion`` (bursts)."""
    if not step.arrivals or step.misses is None:
        return None, None
    n = step.arrivals / max(1.0, dispersion)
    p = step.misses / step.arrivals
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    # Wilson's interval always holds p; the bounds are clamped to it so that rounding (a low end of 1e-17 at
    # p = 0) never puts the point outside its own interval.
    return min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))


def curve(search: CapacitySearch) -> CapacityCurve:
    fit = search.fit
    dispersion = fit.dispersion if fit is not None else 1.0
    steps = []
    for s in search.steps:
        low, high = _share_interval(s, dispersion)
        bound = s.p95_ci_ms
        steps.append(CurveStep(rate=s.rate, p95_ms=s.p95_corrected_ms, p95_low_ms=bound[0] if bound else None,
                               p95_high_ms=bound[1] if bound else None, share=s.miss_share, share_low=low,
                               share_high=high, passed=s.passed, valid=s.valid))
    fitted: tuple[tuple[float, float], ...] = ()
    if fit is not None:
        rates = [s.rate for s in search.steps if s.valid]
        bottom, top = fit.rate_low or min(rates + [fit.scale]), fit.rate_high or max(rates + [fit.scale])
        grid = [bottom + (top - bottom) * i / (CURVE_POINTS - 1) for i in range(CURVE_POINTS)]
        fitted = tuple((rate, fit.share_at(rate)) for rate in grid)
    return CapacityCurve(search.scenario, search.server, search.label, search.phase, search.slo_ms, tuple(steps),
                         fitted, search.max_rps_at_slo, search.ci_low, search.ci_high)


def capacity_curves(run: RunRecord) -> list[CapacityCurve]:
    """One curve per capacity search with steps, in the run's order."""
    return [curve(search) for search in run.capacities if search.steps]
