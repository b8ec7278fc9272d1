"""Change points across the run history: each configuration's throughput and each paired ratio, run after run.

A series is one ``config_id`` (its throughput) or one paired comparison (its kind and
the config_ids of both sides), under one set of controlled conditions
(``analysis.pooling``): runs measured under other conditions make a series of their
own, and :func:`condition_changes` says where and why. Each run gives one estimate on
the log scale with its error between runs. The rule is
:mod:`loadtests.analysis.change_points`; this module reads the series out of the
documents the history stores (``history_summary._series``) and gives the steps back in
the units people read: requests/s, or a ratio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from loadtests.analysis.change_points import RunSample, Step, steps
from loadtests.analysis.figures.history import ChangePoint
from loadtests.results.history import HistoryEntry


def _shown(sample: RunSample) -> tuple[float, float, float]:
    low, high = sample.interval()
    return math.exp(sample.mean), math.exp(low), math.exp(high)


def _point(key: str, measure: str, label: str, step: Step) -> ChangePoint:
    scale = math.exp
    low, high = step.reference_interval
    before = (scale(step.reference.mean), scale(low), scale(high))
    return ChangePoint(key, measure, label, step.run.run_id, step.direction, before, len(step.reference_runs),
                       _shown(step.run), step.confirmed_by)


def _conditions(entry: HistoryEntry) -> dict[str, str]:
    return dict(entry.summary.get("conditions") or {})


def _oldest_first(entries: Sequence[HistoryEntry]) -> list[HistoryEntry]:
    return sorted(entries, key=lambda e: (e.created_at, e.run_id))


def change_points(entries: Sequence[HistoryEntry]) -> list[ChangePoint]:
    """Every change point of every series, in the order of the runs (oldest first)."""
    series: dict[tuple[str, str], tuple[str, str, list[RunSample]]] = {}
    for e in _oldest_first(entries):
        fingerprint = repr(sorted(_conditions(e).items()))
        for s in e.summary.get("series") or ():
            if s.get("se") is None or s.get("df") is None:
                continue
            _, _, samples = series.setdefault((s["key"], fingerprint), (s["measure"], s["label"], []))
            samples.append(RunSample(e.run_id, float(s["mean"]), float(s["se"]), float(s["df"])))
    found = [_point(key, measure, label, step) for (key, _), (measure, label, samples) in series.items()
             for step in steps(samples)]
    order = {e.run_id: (e.created_at, e.run_id) for e in entries}
    return sorted(found, key=lambda c: order[c.run_id])


def condition_changes(entries: Sequence[HistoryEntry]) -> list[tuple[str, list[str]]]:
    """Each run (oldest first) measured under other controlled conditions than the run before it, and what
    differs: its figures start series of their own, never pooled with the runs before."""
    out = []
    previous: dict[str, str] | None = None
    for e in _oldest_first(entries):
        now = _conditions(e)
        if previous is not None and now != previous:
            out.append((e.run_id, [f"{k}: {previous.get(k, 'not recorded')} → {now.get(k, 'not recorded')}"
                                   for k in sorted(set(now) | set(previous)) if now.get(k) != previous.get(k)]))
        previous = now
    return out
