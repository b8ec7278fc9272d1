"""How a paired ratio moved between two runs: 3.14t/3.14 of run B against run A's.

Each run's paired ratio is a geometric mean of per-block ratios with a t interval on
their logs (``analysis.paired``). The two runs are independent, so the change
``ratio_B / ratio_A`` is a difference of two log means: its interval is Welch's, from
each run's log standard deviation and pair count. Such a change shows when one
interpreter moved and the other did not; it is reported beside the throughput diff and
does not gate (docs/ci.md says why).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from loadtests.analysis.configs import Comparison, comparisons
from loadtests.analysis.paired import PairedRatio
from loadtests.analysis.stats import CONFIDENCE, t_quantile
from loadtests.analysis.summary import KINDS
from loadtests.results.records import RunRecord


@dataclass(frozen=True)
class RatioDiff:
    """One paired comparison present in both runs."""

    kind: str  # as summary.json names it: interpreter, processes, gil-toggle
    scenario: str
    server: str
    users: int
    candidate: str  # labels
    baseline: str
    a: PairedRatio
    b: PairedRatio
    change: float  # b.ratio / a.ratio
    low: float | None  # None when a side has a single pair
    high: float | None

    @property
    def significant(self) -> bool | None:
        if self.low is None or self.high is None:
            return None
        return not (self.low <= 1.0 <= self.high)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "scenario": self.scenario, "server": self.server, "users": self.users,
                "candidate": self.candidate, "baseline": self.baseline,
                "ratio_a": round(self.a.ratio, 4), "ratio_b": round(self.b.ratio, 4), "change": round(self.change, 4),
                "low": None if self.low is None else round(self.low, 4),
                "high": None if self.high is None else round(self.high, 4), "significant": self.significant}


def change_interval(a: PairedRatio, b: PairedRatio, confidence: float = CONFIDENCE) -> tuple[float | None, float | None]:
    """The interval of ``b.ratio / a.ratio``: Welch's t on the difference of the log means."""
    if a.log_sd is None or b.log_sd is None:
        return None, None
    va, vb = a.log_sd**2 / a.n_pairs, b.log_sd**2 / b.n_pairs
    centre = math.log(b.ratio / a.ratio)
    if va + vb == 0.0:
        return math.exp(centre), math.exp(centre)
    df = (va + vb) ** 2 / ((va**2 / (a.n_pairs - 1) if va else 0.0) + (vb**2 / (b.n_pairs - 1) if vb else 0.0))
    half = t_quantile(0.5 + confidence / 2.0, df) * math.sqrt(va + vb)
    return math.exp(centre - half), math.exp(centre + half)


def _paired(run: RunRecord) -> dict[tuple[str, str, str], Comparison]:
    return {(c.kind, c.candidate.config_id, c.baseline.config_id): c for c in comparisons(run)
            if isinstance(c.speedup, PairedRatio)}


def ratio_diffs(a: RunRecord, b: RunRecord) -> list[RatioDiff]:
    """Every comparison paired in both runs (same kind and the same two config_ids), in run A's order."""
    in_b = _paired(b)
    out = []
    for key, ca in _paired(a).items():
        cb = in_b.get(key)
        if cb is None:
            continue
        ra, rb = ca.speedup, cb.speedup
        assert isinstance(ra, PairedRatio) and isinstance(rb, PairedRatio)
        low, high = change_interval(ra, rb)
        out.append(RatioDiff(KINDS[ca.kind], ca.scenario, ca.server, ca.users, ca.candidate.label, ca.baseline.label,
                             ra, rb, rb.ratio / ra.ratio, low, high))
    return out
