"""``--expect no-races`` judged: one result per expectation (``analysis/safety_gate.py`` computes them)."""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.analysis.figures.expectations import Status
from loadtests.results.safety_expectation import SafetyExpectation


@dataclass(frozen=True)
class SafetyGateResult:
    expectation: SafetyExpectation
    status: Status
    reason: str
