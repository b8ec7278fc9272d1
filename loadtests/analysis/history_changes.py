"""Change points across the run history: each configuration's throughput and each paired ratio, run after run.

A series is one ``config_id`` (throughput over its windows) or one paired comparison
(its kind and the config_ids of both sides: the log ratios of its blocks). The rule is
:mod:`loadtests.analysis.change_points`; this module reads the series out of the
documents the history stores (``history_summary._series``) and gives the steps back in
the units people read: requests/s, or a ratio.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from loadtests.analysis.change_points import RunSample, Step, steps
from loadtests.analysis.figures.history import ChangePoint
from loadtests.results.history import HistoryEntry


def _shown(sample: RunSample, scale: Callable[[float], float]) -> tuple[float, float, float]:
    low, high = sample.interval()
    return scale(sample.mean), scale(low), scale(high)


def _point(key: str, measure: str, label: str, step: Step) -> ChangePoint:
    scale: Callable[[float], float] = math.exp if measure == "paired ratio" else float
    low, high = step.reference_interval
    before = (scale(step.reference.mean), scale(low), scale(high))
    return ChangePoint(key, measure, label, step.run.run_id, step.direction, before, len(step.reference_runs),
                       _shown(step.run, scale), step.confirmed_by)


def change_points(entries: Sequence[HistoryEntry]) -> list[ChangePoint]:
    """Every change point of every series, in the order of the runs (oldest first)."""
    series: dict[str, tuple[str, str, list[RunSample]]] = {}
    for e in sorted(entries, key=lambda e: (e.created_at, e.run_id)):
        for s in e.summary.get("series") or ():
            if s.get("sd") is None or (s.get("n") or 0) < 2:
                continue
            _, _, samples = series.setdefault(s["key"], (s["measure"], s["label"], []))
            samples.append(RunSample(e.run_id, int(s["n"]), float(s["mean"]), float(s["sd"])))
    found = [_point(key, measure, label, step) for key, (measure, label, samples) in series.items()
             for step in steps(samples)]
    order = {e.run_id: (e.created_at, e.run_id) for e in entries}
    return sorted(found, key=lambda c: order[c.run_id])
