"""The figures of a run that ``diff`` compares and ``--fail-above`` gates, each with its between-run error.

A *source* turns an analysed run into :class:`~loadtests.analysis.figures.run_change.RunEstimate`
values (``analysis.run_change`` says how to write one). The lab's own source gives each
configuration's throughput: the geometric mean of its valid closed-loop windows, with
the windows grouped by the server instance that measured them. A new kind of figure
gets a source of its own in :data:`FIGURE_SOURCES`: a capacity run's capacities and their ratios,
each with its interval, are ``capacity_diff.capacity_estimates``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from loadtests.analysis.capacity_diff import capacity_estimates
from loadtests.analysis.configs import instance_groups
from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.run_change import RunEstimate
from loadtests.analysis.run_change import estimate_from_groups

THROUGHPUT = "throughput"

FigureSource = Callable[[Analysis], Iterable[RunEstimate]]


def throughput_figures(a: Analysis) -> list[RunEstimate]:
    """Each configuration's throughput (its config_id is the key), from its counted windows by instance."""
    out = []
    for config in a.configs:
        groups = instance_groups(a.run.cells, config.config_id)
        if groups:
            label = f"{config.scenario} {config.label} u{config.users}"
            out.append(estimate_from_groups(config.config_id, label, THROUGHPUT, "rps", groups))
    return out


#: Every source ``diff`` asks, in order: add a new kind of gated figure here.
FIGURE_SOURCES: tuple[FigureSource, ...] = (throughput_figures, capacity_estimates)


def gated_figures(a: Analysis) -> list[RunEstimate]:
    """Every estimate of every source for one analysed run."""
    return [e for source in FIGURE_SOURCES for e in source(a)]
