"""What a diagnosis is made of: findings, each with the figures it rests on, per scenario and server."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: A figure of a finding's evidence: a share, a ratio, a count, a name.
EvidenceValue = bool | int | float | str | None


@dataclass(frozen=True)
class Finding:
    """One reason, the sentence that states its figures, what the team can change, and the figures themselves."""

    code: str  # stable name: gil-reenabled, event-loop, refcount-contention, per-core-cost, contending, ...
    title: str
    detail: str
    change: str
    evidence: Mapping[str, EvidenceValue] = field(default_factory=dict)


@dataclass(frozen=True)
class ScenarioDiagnosis:
    scenario: str
    server: str  # "probe" for what the in-process probe found, apart from any server
    findings: tuple[Finding, ...]


PROBE_SERVER = "probe"
