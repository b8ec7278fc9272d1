"""The decision a team takes for one scenario, with the evidence each part of it rests on.

``analysis/decision.py`` makes these records (docs/report.md states the rule); the
card's first line and the terminal's verdict are their ``sentence``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Verdict = Literal["move", "stay", "not yet"]
#: How a piece of evidence counted: for moving, against it, blocking it, or neither; unknown when not measured.
Weight = Literal["for", "against", "blocks", "neutral", "unknown"]


@dataclass(frozen=True)
class Evidence:
    """One thing the decision weighed, in one line with its figures."""

    topic: str  # speed, memory, GIL, races, crashes, hangs, memory growth
    text: str
    weight: Weight


@dataclass(frozen=True)
class ScenarioDecision:
    """Move to 3.14t, stay where you are, or not yet: for one scenario, and why."""

    scenario: str
    verdict: Verdict
    headline: str  # the decision: "Move to 3.14t on granian", "Stay on 3.14 × 2 processes on uvicorn", "Not yet"
    because: str  # the figure it rests on, or what blocks it, as one clause
    evidence: tuple[Evidence, ...]
    would_change: tuple[str, ...]  # what would change the answer
    candidate: str | None = None  # the 3.14t configuration weighed, when there was one
    alternative: str | None = None  # what the team would otherwise run: 3.14, or 3.14 × N processes

    @property
    def sentence(self) -> str:
        """``Stay on 3.14 × 2 processes on uvicorn: it served 1.31× as much as 3.14t ...``."""
        return f"{self.headline}: {self.because}."

    @property
    def blockers(self) -> tuple[Evidence, ...]:
        return tuple(e for e in self.evidence if e.weight == "blocks")
