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
from dataclasses import dataclass
from typing import Any

from loadtests.analysis.change_points import RunSample, Step, steps
from loadtests.results.history import HistoryEntry


@dataclass(frozen=True)
class ChangePoint:
    """A step of one series at one run, with the reference it left and the run that confirmed it."""

    key: str
    measure: str  # "throughput" (rps) or "paired ratio"
    label: str
    run_id: str
    direction: str  # up or down
    before: tuple[float, float, float]  # the reference: mean (geometric for ratios), 95% interval
    before_runs: int
    after: tuple[float, float, float]  # the step's run
    confirmed_by: str | None  # None: the newest run, waiting for the next one

    @property
    def change(self) -> float:
        return self.after[0] / self.before[0] if self.before[0] else math.inf

    def to_json(self) -> dict[str, Any]:
        def shown(v: tuple[float, float, float]) -> dict[str, float]:
            return {"mean": round(v[0], 4), "low": round(v[1], 4), "high": round(v[2], 4)}

        return {"series": self.key, "measure": self.measure, "label": self.label, "run_id": self.run_id,
                "direction": self.direction, "change": round(self.change, 4), "before": shown(self.before),
                "before_runs": self.before_runs, "after": shown(self.after), "confirmed_by": self.confirmed_by,
                "confirmed": self.confirmed_by is not None}


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
