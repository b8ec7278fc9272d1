"""Capacity runs against each other: each capacity and capacity ratio of run B over run A's, with an interval.

A capacity run's figures are its capacities at the SLO and their ratios (summary.json's
``capacity`` and ``capacity_ratios``), each with its own 95% interval. Two runs are
independent, so B ÷ A combines both intervals as a ratio of capacities does
(``ratio_interval.py``): the change is significant when its whole interval lies on one
side of 1. A capacity that is only a lower bound has no interval to compare.

An invalid window inside a search is a step the search did not count, not an invalid
configuration: it does not make the comparison invalid (the search's capacity and its
interval already stand without it).

Each figure is a :class:`~loadtests.analysis.figures.diff.CapacityFigure` (a value, its
interval and the degrees of freedom behind it): what a gate that compares "a figure with
an interval from run A vs run B" takes, whatever its interface.
"""

from __future__ import annotations

from collections.abc import Sequence

from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.diff import CapacityChange, CapacityFigure
from loadtests.analysis.ratio_interval import mover_ratio

CAPACITY = "capacity"
CAPACITY_RATIO = "capacity ratio"


def capacity_figures(a: Analysis) -> list[CapacityFigure]:
    """Every capacity and capacity ratio of the run that has a value (a tuning run's screen searches left out:
    its confirm searches stand for the best settings)."""
    searches = {(s.config_id, s.phase): s for s in a.run.capacities}
    out = []
    for e in a.summary.capacity:
        if e.max_rps_at_slo is None or e.phase == "screen":
            continue
        search = searches.get((e.config_id, e.phase))
        df = search.fit.df if search is not None and search.fit is not None else None
        suffix = "" if e.phase == "search" else f" ({e.phase})"
        out.append(CapacityFigure(f"{e.config_id}@{e.phase}", f"{e.scenario} {e.configuration}{suffix}", CAPACITY,
                                  "rps", e.max_rps_at_slo, e.ci_low, e.ci_high, df, e.is_lower_bound))
    for r in a.summary.capacity_ratios:
        if r.ratio is None or r.phase == "screen":
            continue
        suffix = "" if r.phase == "search" else f" ({r.phase})"
        out.append(CapacityFigure(f"{r.kind}:{r.candidate.config_id}/{r.baseline.config_id}@{r.phase}",
                                  f"{r.scenario} {r.candidate.label} ÷ {r.baseline.label}{suffix}", CAPACITY_RATIO,
                                  "×", r.ratio, r.ci_low, r.ci_high, None, r.bound not in (None, "measured")))
    return out


def capacity_changes(a: Sequence[CapacityFigure], b: Sequence[CapacityFigure]) -> list[CapacityChange]:
    """Every figure both runs hold, matched by (measure, key), in run A's order: B ÷ A with its interval."""
    in_b = {(f.measure, f.key): f for f in b}
    out = []
    for fa in a:
        fb = in_b.get((fa.measure, fa.key))
        if fb is None:
            continue
        if fa.lower_bound or fb.lower_bound:  # "at least" on a side: no interval of the change
            out.append(CapacityChange(fa, fb, fb.value / fa.value, None, None))
            continue
        interval = mover_ratio(fb.value, fb.low, fb.high, fa.value, fa.low, fa.high)
        out.append(CapacityChange(fa, fb, interval.ratio, interval.low, interval.high))
    return out


def capacity_regressed(change: CapacityChange, fail_above_pct: float) -> bool:
    """B's capacity is lower with significance (the whole interval below 1), by more than ``fail_above_pct``%."""
    return change.high is not None and change.high < 1.0 and (1.0 - change.change) * 100.0 > fail_above_pct
