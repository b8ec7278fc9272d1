"""A capacity run's figures as the gates compare them: each capacity and capacity ratio with its interval.

A capacity run's figures are its capacities at the SLO and their ratios (summary.json's
``capacity`` and ``capacity_ratios``), each with its own 95% interval. They enter ``diff``,
``diff --fail-above`` and the history's change points as run estimates
(``analysis.run_change``): the log of the figure with the error its interval gives, from
:func:`~loadtests.analysis.run_change.estimate_from_interval`. Two runs' estimates then
compare like any other gated figure (B ÷ A with Welch's interval on the logs).

A capacity's interval is the uncertainty within its run: the scatter of the search's steps
around the fitted curve (bursts of misses, and the machine drifting during the search).
A capacity that is only a lower bound has no interval, so its change is shown and never
gated. An invalid window inside a search is a step the search did not count, not an
invalid configuration: it never makes a comparison of capacities invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.run_change import RunEstimate
from loadtests.analysis.run_change import estimate_from_interval
from loadtests.results.records import SearchPhase

CAPACITY = "capacity"
CAPACITY_RATIO = "capacity ratio"
NORMAL_DF = 120  # an interval recorded without its degrees of freedom is read as a normal one


@dataclass(frozen=True)
class CapacityFigure:
    """A capacity (or a ratio of capacities) of one run, with its 95% interval.

    ``key`` is its identity across runs: the configuration and the tuning phase, or the kind and
    both configurations of a ratio.
    """

    key: str
    label: str
    measure: str  # CAPACITY (rps) or CAPACITY_RATIO (×)
    unit: str
    value: float
    low: float | None  # None: unbounded or none
    high: float | None
    df: int | None  # degrees of freedom behind the interval (the fit's dispersion; a ratio: its sides' fewer)
    steps: int  # the search steps behind it
    lower_bound: bool  # only "at least" (no rate above it failed), or a ratio with such a side


def capacity_figures(a: Analysis) -> list[CapacityFigure]:
    """Every capacity and capacity ratio of the run that has a value (a tuning run's screen searches left out:
    its confirm searches stand for the best settings)."""
    searches = {(s.config_id, s.phase): s for s in a.run.capacities}

    def fit_of(config_id: str, phase: SearchPhase) -> tuple[int | None, int]:
        search = searches.get((config_id, phase))
        if search is None or search.fit is None:
            return None, 0
        return search.fit.df, search.fit.steps_used

    out = []
    for e in a.summary.capacity:
        if e.max_rps_at_slo is None or e.phase == "screen":
            continue
        df, steps = fit_of(e.config_id, e.phase)
        suffix = "" if e.phase == "search" else f" ({e.phase})"
        out.append(CapacityFigure(f"{e.config_id}@{e.phase}", f"{e.scenario} {e.configuration}{suffix}", CAPACITY,
                                  "rps", e.max_rps_at_slo, e.ci_low, e.ci_high, df, steps, e.is_lower_bound))
    for r in a.summary.capacity_ratios:
        if r.ratio is None or r.phase == "screen":
            continue
        sides = [fit_of(r.candidate.config_id, r.phase), fit_of(r.baseline.config_id, r.phase)]
        dfs = [df for df, _ in sides if df is not None]
        suffix = "" if r.phase == "search" else f" ({r.phase})"
        out.append(CapacityFigure(f"{r.kind}:{r.candidate.config_id}/{r.baseline.config_id}@{r.phase}",
                                  f"{r.scenario} {r.candidate.label} ÷ {r.baseline.label}{suffix}", CAPACITY_RATIO,
                                  "×", r.ratio, r.ci_low, r.ci_high, min(dfs) if len(dfs) == 2 else None,
                                  min(steps for _, steps in sides), r.bound not in (None, "measured")))
    return out


def capacity_estimates(a: Analysis) -> list[RunEstimate]:
    """The capacity run's figures as run estimates (``gated_figures.FIGURE_SOURCES``): a lower bound, or a figure
    without an interval, has no error, so its change is shown and never gated."""
    out = []
    for f in capacity_figures(a):
        low, high = (None, None) if f.lower_bound else (f.low, f.high)
        out.append(estimate_from_interval(f.key, f.label, f.measure, f.unit, f.value, low, high,
                                          f.df if f.df is not None else NORMAL_DF, max(1, f.steps)))
    return out
