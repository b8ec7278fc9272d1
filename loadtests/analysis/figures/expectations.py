"""``--expect`` judged: each expectation's status on each server it selects, and the exit status of all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from loadtests.core.exit_status import ExitStatus, combined
from loadtests.results.expectation import Expectation
from loadtests.results.records import CapacityRatio, ComparisonSummary

Status = Literal["pass", "fail", "invalid", "missing"]
EXIT: dict[Status, ExitStatus] = {"pass": ExitStatus.PASS, "fail": ExitStatus.FAILED, "invalid": ExitStatus.INVALID,
                                  "missing": ExitStatus.LAB_ERROR}


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation on one server: its status and the sentence that explains it."""

    expectation: Expectation
    status: Status
    reason: str
    comparison: ComparisonSummary | CapacityRatio | None  # the comparison (or ratio of capacities) it selected

    def to_json(self) -> dict[str, Any]:
        c = self.comparison
        return {"expect": self.expectation.text, "status": self.status, "reason": self.reason,
                "scenario": self.expectation.scenario, "server": c.server if c else self.expectation.server,
                "users": c.users if c else self.expectation.users, "kind": self.expectation.kind,
                "measure": "capacity" if isinstance(c, CapacityRatio) else "throughput",
                "candidate": c.candidate.label if c else None, "baseline": c.baseline.label if c else None,
                "ratio": c.ratio if c else None, "ci_low": c.ci_low if c else None,
                "ci_high": c.ci_high if c else None, "operator": self.expectation.operator,
                "bound": self.expectation.bound}


@dataclass(frozen=True)
class ExpectationReport:
    run_id: str
    results: tuple[ExpectationResult, ...]

    @property
    def status(self) -> ExitStatus:
        return combined(EXIT[r.status] for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "exit_status": int(self.status), "results": [r.to_json() for r in self.results]}
