"""Ratios of capacities with their 95% intervals: 3.14t against 3.14, against 3.14 × N processes, and more.

Which pairs: the searches that ran side by side (one comparison, or in a tuning run the
searches at one thread limit, and the confirm searches of each side's best setting),
3.14t with PYTHON_GIL unset as the candidate against every other side. Each ratio's
interval combines both capacities' intervals (``ratio_interval.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from loadtests.analysis.ratio_interval import search_ratio
from loadtests.analysis.tuning import Setting, run_settings
from loadtests.results.records import (
    CapacityRatio,
    CellConfig,
    ComparisonKind,
    ConfigLabel,
    RunRecord,
)

CANDIDATE = "3.14t"


def config_label(config: CellConfig) -> ConfigLabel:
    return ConfigLabel(label=config.label, config_id=config.config_id, interpreter=config.interpreter,
                       python_gil=config.python_gil, server=config.server, parallelism=config.parallelism,
                       workers=config.workers, threads=config.threads, cpus=config.cpus)


def _kind(candidate: CellConfig, other: CellConfig) -> tuple[ComparisonKind, CellConfig, CellConfig] | None:
    """(kind, numerator, denominator) of the ratio between 3.14t and another side, or None."""
    if other.interpreter == CANDIDATE and other.python_gil == "1":
        return "gil-toggle", other, candidate
    if other.interpreter != CANDIDATE and other.parallelism == "processes" and other.workers > 1:
        return "processes", candidate, other
    if other.interpreter != CANDIDATE and (other.parallelism, other.workers) == (candidate.parallelism,
                                                                                  candidate.workers):
        return "interpreter", candidate, other
    return None


def _groups(settings: Iterable[Setting]) -> list[list[Setting]]:
    """Searches that ran side by side: one phase of one comparison (in a tuning run's confirm phase, the best
    setting of every side)."""
    groups: dict[tuple[object, ...], list[Setting]] = {}
    for s in settings:
        c = s.config
        threads = None if s.search.phase == "confirm" else c.threads
        key = (s.search.phase, c.scenario, c.server, c.users, c.cpus, c.http, c.loop, c.routes_dirs, threads)
        groups.setdefault(key, []).append(s)
    return list(groups.values())


def capacity_ratios(run: RunRecord) -> list[CapacityRatio]:
    """Every ratio of capacities the run's searches allow, in the order the searches were recorded."""
    out = []
    for group in _groups(run_settings(run)):
        candidate = next((s for s in group if s.config.interpreter == CANDIDATE and s.config.python_gil is None
                          and s.config.parallelism == "threads"), None)
        if candidate is None:
            continue
        for other in group:
            if other is candidate:
                continue
            kind = _kind(candidate.config, other.config)
            if kind is None:
                continue
            name, top, bottom = kind
            num, den = (candidate, other) if top is candidate.config else (other, candidate)
            interval, bound = search_ratio(num.search, den.search)
            reason = None if interval is not None else (
                f"{num.search.label if not num.search.max_rps_at_slo else den.search.label} has no capacity at "
                "this SLO to divide by")
            out.append(CapacityRatio(
                kind=name, scenario=top.scenario, server=top.server, users=top.users, phase=num.search.phase,
                candidate=config_label(top), baseline=config_label(bottom),
                ratio=None if interval is None else round(interval.ratio, 4),
                ci_low=None if interval is None or interval.low is None else round(interval.low, 4),
                ci_high=None if interval is None or interval.high is None else round(interval.high, 4),
                bound=bound, invalid_reason=reason))
    return out
