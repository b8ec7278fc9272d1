"""Two runs compared: per configuration, per paired ratio, and the gate CI applies to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loadtests.analysis.figures.configs import ConfigSummary
from loadtests.analysis.figures.run_change import FigureChange
from loadtests.analysis.figures.stats import PairedRatio, RatioInterval
from loadtests.core.exit_status import ExitStatus
from loadtests.core.wording import verdict
from loadtests.results.records import RunRecord


@dataclass(frozen=True)
class ConfigDiff:
    """One configuration present in both runs."""

    config_id: str
    a: ConfigSummary
    b: ConfigSummary
    rps: FigureChange | None  # b / a of the throughput estimates; None when a side has no valid window
    p95_ratio: float | None  # b / a of mean p95 latency
    note: str | None  # why there is no ratio

    @property
    def verdict(self) -> str:
        return verdict(self.rps) if self.rps is not None else (self.note or "no comparison")

    def to_json(self) -> dict[str, Any]:
        s = self.rps
        return {
            "config_id": self.config_id,
            "rps_a": self.a.rps.mean if self.a.rps else None, "n_a": self.a.n_valid,
            "rps_b": self.b.rps.mean if self.b.rps else None, "n_b": self.b.n_valid,
            "ratio": s.ratio if s else None, "low": s.low if s else None, "high": s.high if s else None,
            "units_a": s.a.units if s else None, "units_b": s.b.units if s else None,
            "significant": s.significant if s else None, "verdict": self.verdict,
            "p95_ratio": self.p95_ratio, "note": self.note,
        }


@dataclass(frozen=True)
class RatioDiff(RatioInterval):
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

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "scenario": self.scenario, "server": self.server, "users": self.users,
                "candidate": self.candidate, "baseline": self.baseline,
                "ratio_a": round(self.a.ratio, 4), "ratio_b": round(self.b.ratio, 4), "change": round(self.change, 4),
                "low": None if self.low is None else round(self.low, 4),
                "high": None if self.high is None else round(self.high, 4), "significant": self.significant}


@dataclass(frozen=True)
class RunDiff:
    a: RunRecord
    b: RunRecord
    configs: tuple[ConfigDiff, ...]
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    warnings: tuple[str, ...]
    ratios: tuple[RatioDiff, ...] = ()  # the paired ratios both runs hold: shown beside, never gated
    changes: tuple[FigureChange, ...] = ()  # every gated figure both runs estimate (throughput, capacity, ...)
    unlike: tuple[str, ...] = ()  # controlled conditions that differ: the runs cannot be gated against each other

    def to_json(self) -> dict[str, Any]:
        return {"run_a": self.a.run_id, "run_b": self.b.run_id, "warnings": list(self.warnings),
                "unlike_conditions": list(self.unlike),
                "configs": [c.to_json() for c in self.configs], "only_in_a": list(self.only_a),
                "only_in_b": list(self.only_b), "paired_ratios": [r.to_json() for r in self.ratios],
                "figures": [c.to_json() for c in self.changes]}


@dataclass(frozen=True)
class InvalidConfig:
    """A compared configuration with invalid windows in one run or both."""

    config_id: str
    reasons: tuple[str, ...]  # "run A: <cell id>: <reason>"


@dataclass(frozen=True)
class DiffGate:
    fail_above_pct: float
    compared: int  # figures present in both runs
    regressions: tuple[FigureChange, ...]
    invalid: tuple[InvalidConfig, ...]

    @property
    def status(self) -> ExitStatus:
        if self.regressions:
            return ExitStatus.FAILED
        return ExitStatus.INVALID if self.invalid else ExitStatus.PASS

    def to_json(self) -> dict[str, Any]:
        return {"fail_above_pct": self.fail_above_pct, "exit_status": int(self.status), "compared": self.compared,
                "regressions": [c.to_json() for c in self.regressions],
                "invalid": [{"config_id": i.config_id, "reasons": list(i.reasons)} for i in self.invalid]}
