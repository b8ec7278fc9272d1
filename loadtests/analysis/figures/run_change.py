"""A figure of one run with its between-run uncertainty, and how it changed from run A to run B.

These are what ``diff``, ``diff --fail-above`` and the history compare: every gated figure
of a run is a :class:`RunEstimate` (throughput per configuration; a capacity figure adds
its own the same way), and two runs' estimates of one key make a :class:`FigureChange`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from loadtests.analysis.figures.stats import CONFIDENCE, RatioInterval


@dataclass(frozen=True)
class RunEstimate:
    """One figure of one run on the log scale, with the error a second run of the same code would show.

    ``log_value`` is the log of the figure (a geometric mean over windows, a paired ratio,
    a capacity). ``log_se`` is the standard error of that log *between runs*: built from the
    run's server instances, the unit that separates runs (``analysis.variance``), not from
    windows that shared one server. ``df`` are its degrees of freedom. Both are None when
    the run holds a single unit (no interval). ``key`` is the figure's identity across
    runs (what diff matches), ``measure`` its kind ("throughput", "capacity", ...), and
    ``higher_is_better`` the direction a regression goes.
    """

    key: str
    label: str
    measure: str
    unit: str  # what the value is in: "rps", "×"
    log_value: float
    log_se: float | None
    df: float | None
    units: int  # independent units behind the estimate: instances, or windows when they were pooled
    higher_is_better: bool = True

    @property
    def value(self) -> float:
        return math.exp(self.log_value)

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "measure": self.measure, "value": round(self.value, 4), "unit": self.unit,
                "log_se": None if self.log_se is None else round(self.log_se, 5),
                "df": None if self.df is None else round(self.df, 2), "units": self.units}


@dataclass(frozen=True)
class FigureChange(RatioInterval):
    """Run B's figure over run A's (``change``), with a Welch interval on the difference of their logs."""

    a: RunEstimate
    b: RunEstimate
    change: float
    low: float | None  # None when either run has no interval
    high: float | None
    confidence: float = CONFIDENCE

    @property
    def key(self) -> str:
        return self.a.key

    @property
    def ratio(self) -> float:
        """The change as a ratio (B ÷ A), as every ratio of the lab is worded."""
        return self.change

    @property
    def worse_pct(self) -> float:
        """How much worse B is than A, in percent of A (negative: better), in the figure's own direction."""
        return (1.0 - self.change) * 100.0 if self.a.higher_is_better else (self.change - 1.0) * 100.0

    @property
    def worse_with_significance(self) -> bool:
        """The whole interval lies on the worse side of 1."""
        if self.low is None or self.high is None:
            return False
        return self.high < 1.0 if self.a.higher_is_better else self.low > 1.0

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.a.label, "measure": self.a.measure, "a": self.a.to_json(),
                "b": self.b.to_json(), "change": round(self.change, 4),
                "low": None if self.low is None else round(self.low, 4),
                "high": None if self.high is None else round(self.high, 4), "significant": self.significant}
