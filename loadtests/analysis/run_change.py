"""Run against run: the interface every gate uses to compare a figure with an interval between two runs.

The unit of replication between two runs is the run, and one run says how far a second
would land only through its own replicates at that level: its server instances. So a
figure enters a gate as a :class:`~loadtests.analysis.figures.run_change.RunEstimate`,
the log of the figure with a standard error *between runs* and its degrees of freedom,
and two estimates of one key make a
:class:`~loadtests.analysis.figures.run_change.FigureChange` (B ÷ A with a Welch
interval on the difference of the logs). Nothing here knows what the figure is.

How to plug a figure in (the capacity search does it for its capacity at the SLO):

1. write a source, ``def my_figures(a: Analysis) -> Iterable[RunEstimate]``, that gives
   one estimate per thing to gate, with a ``key`` that is the same in every run that
   measured that thing and a ``measure`` naming the kind;
2. build each estimate with :func:`estimate_from_groups` (log values grouped by server
   instance: the variance components decide the error) or, for a figure that comes with
   its own interval, :func:`estimate_from_interval`;
3. add the source to ``analysis.gated_figures.FIGURE_SOURCES``.

``diff`` then matches the estimates of both runs by (measure, key), shows each change,
and ``--fail-above PCT`` fails a change that is worse with significance (its whole 95%
interval on the worse side of 1) **and** by more than PCT percent (:func:`regressed`).
Runs whose controlled conditions differ are not compared at all
(``analysis.pooling``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from loadtests.analysis.figures.run_change import FigureChange, RunEstimate
from loadtests.analysis.figures.stats import CONFIDENCE, InsufficientData
from loadtests.analysis.stats import t_quantile
from loadtests.analysis.variance import nested_mean


def estimate_from_groups(key: str, label: str, measure: str, unit: str, groups: Sequence[Sequence[float]],
                         higher_is_better: bool = True) -> RunEstimate:
    """An estimate from positive values grouped by server instance (each group: one instance's windows)."""
    logs = []
    for group in groups:
        if any(not (math.isfinite(v) and v > 0) for v in group):
            raise InsufficientData(f"{label}: a figure needs positive values, got {list(group)}")
        logs.append([math.log(v) for v in group])
    m = nested_mean(logs)
    return RunEstimate(key, label, measure, unit, m.mean, m.se, m.df, m.n if m.pooled else m.groups,
                       higher_is_better)


def estimate_from_interval(key: str, label: str, measure: str, unit: str, value: float, low: float | None,
                           high: float | None, df: float | None, units: int, higher_is_better: bool = True,
                           confidence: float = CONFIDENCE) -> RunEstimate:
    """An estimate from a figure and its interval (positive, on any scale): the log interval's half-width ÷ t."""
    if not value > 0:
        raise InsufficientData(f"{label}: a figure needs a positive value, got {value!r}")
    se = None
    if low is not None and high is not None and df is not None and low > 0 and math.isfinite(high):
        se = (math.log(high) - math.log(low)) / 2.0 / t_quantile(0.5 + confidence / 2.0, df)
    return RunEstimate(key, label, measure, unit, math.log(value), se, df if se is not None else None, units,
                       higher_is_better)


def compare(a: RunEstimate, b: RunEstimate, confidence: float = CONFIDENCE) -> FigureChange:
    """B ÷ A with Welch's interval on ``b.log_value - a.log_value`` (the two runs are independent)."""
    centre = b.log_value - a.log_value
    if a.log_se is None or b.log_se is None or a.df is None or b.df is None:
        return FigureChange(a, b, math.exp(centre), None, None, confidence)
    va, vb = a.log_se**2, b.log_se**2
    if va + vb == 0.0:
        return FigureChange(a, b, math.exp(centre), math.exp(centre), math.exp(centre), confidence)
    df = (va + vb) ** 2 / ((va**2 / a.df if va else 0.0) + (vb**2 / b.df if vb else 0.0))
    half = t_quantile(0.5 + confidence / 2.0, df) * math.sqrt(va + vb)
    return FigureChange(a, b, math.exp(centre), math.exp(centre - half), math.exp(centre + half), confidence)


def regressed(change: FigureChange, fail_above_pct: float) -> bool:
    """Worse with significance, and by more than ``fail_above_pct`` percent (asv's rule for ``--factor``)."""
    return change.worse_with_significance and change.worse_pct > fail_above_pct


def changes(a: Sequence[RunEstimate], b: Sequence[RunEstimate]) -> list[FigureChange]:
    """Every figure both runs estimate, matched by (measure, key), in run A's order."""
    in_b = {(e.measure, e.key): e for e in b}
    return [compare(e, in_b[(e.measure, e.key)]) for e in a if (e.measure, e.key) in in_b]
