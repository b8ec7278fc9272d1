"""A tuning run's two phases: screen every setting, then re-measure each side's best setting afresh.

A capacity plan *tunes* a bench (the same scenario, server, load and server flags) when
one of its sides (3.14, 3.14t, 3.14 × N processes) has configurations at several
settings (thread limits, workers). Each thread limit is a comparison of its own: the
**screen**. Picking each side's best setting from those searches and reporting those same
searches would favour whichever side had a lucky search (the maximum of several noisy
figures is biased upwards) and whichever has the flatter curve. So once the screen is
done, the best settings are searched again in a comparison of their own, their steps
interleaved: the **confirm** phase, whose capacities the headline uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from loadtests.plan.comparisons import ComparisonPlan, comparison_id
from loadtests.results.records import CapacitySearch, CellConfig, setting_rank

CONFIRM = "confirm"


def _bench(config: CellConfig) -> tuple[object, ...]:
    """What every side of one tuning shares: the load and everything but the interpreter and its settings."""
    return (config.scenario, config.server, config.users, config.cpus, config.http, config.loop, config.routes_dirs,
            config.service)


def _side(config: CellConfig) -> tuple[object, ...]:
    return (config.parallelism == "processes", config.interpreter, config.python_gil or "")


def tuned_benches(configs: Iterable[CellConfig]) -> list[list[CellConfig]]:
    """The configurations of each bench where some side runs at more than one setting."""
    benches: dict[tuple[object, ...], list[CellConfig]] = {}
    for config in configs:
        benches.setdefault(_bench(config), []).append(config)
    out = []
    for members in benches.values():
        sides: dict[tuple[object, ...], set[CellConfig]] = {}
        for config in members:
            sides.setdefault(_side(config), set()).add(config)
        if any(len(settings) > 1 for settings in sides.values()):
            out.append(members)
    return out


def screens(comparison: ComparisonPlan, configs: Iterable[CellConfig]) -> bool:
    """Whether ``comparison`` is one of a tuning's screening comparisons."""
    tuned = {c for bench in tuned_benches(configs) for c in bench}
    return any(arm in tuned for arm in comparison.arms)


def confirm_comparison(bench: Sequence[CellConfig], searches: Iterable[CapacitySearch]) -> ComparisonPlan | None:
    """Each side's best screened setting, as one comparison to search again; None until every side was screened.

    The best has the most capacity at the SLO; ties go to fewer threads, then fewer workers.
    """
    found = {s.config_id: s for s in searches if s.phase == "screen"}
    by_side: dict[tuple[object, ...], list[CellConfig]] = {}
    for config in bench:
        by_side.setdefault(_side(config), []).append(config)
    best = []
    for settings in by_side.values():
        screened = [(found[c.config_id], c) for c in dict.fromkeys(settings) if c.config_id in found]
        if len(screened) < len(set(settings)):
            return None
        search, config = min(screened, key=lambda sc: setting_rank(sc[0].max_rps_at_slo, sc[0].is_lower_bound,
                                                                   sc[1].threads, sc[1].workers))
        if search.max_rps_at_slo is not None:
            best.append(config)
    if len(best) < 2:
        return None
    arms = tuple(sorted(best, key=lambda c: (c.parallelism == "processes", c.interpreter, c.python_gil or "")))
    base = comparison_id(arms)
    rest = base.split(f"/t{arms[0].threads}", 1)[1]  # what else sets the bench apart (cpus, flags, drop-ins)
    return ComparisonPlan(f"{arms[0].scenario}/{arms[0].server}/u{arms[0].users}/{CONFIRM}{rest}", arms)
