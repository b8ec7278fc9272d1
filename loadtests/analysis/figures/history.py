"""A change point in the run history: a series that stepped at one run, and the run that confirmed it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


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
