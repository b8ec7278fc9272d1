"""A diagnosis per scenario and server, and the thresholds its rules use (the report prints them).

The rules are :mod:`loadtests.analysis.diagnosis`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: The event loop's thread at or above this many cores is saturated: every request waits for it.
LOOP_SATURATED_CORES = 0.8
#: ... or it did at least this share of the server's work while requests queued (the machine may have
#: given the server less than a core, but only the loop worked).
LOOP_SHARE = 0.8
#: ... and it is the limit when at least this many of the cores the server could use stayed idle.
IDLE_CORES = 0.4
#: Below saturation, a loop thread this busy still caps one process: its ceiling is worth stating.
LOOP_NOTABLE_CORES = 0.2
#: 3.14 at or above this share of the cores it could use left nothing for threads to gain.
ALREADY_PARALLEL_SHARE = 0.85
#: rps per busy core on 3.14t at or below this fraction of 3.14's: each request cost more CPU.
PER_CORE_DROP = 0.85
#: Fewer requests in flight than this share of the usable cores: the load left cores idle.
IN_FLIGHT_SHARE = 0.75
#: A server under this share of the cores it could use, with enough requests in flight, was waiting.
WAITING_SHARE = 0.6
#: A Locust process at or above this many cores is close to saturation (validity marks 0.9 invalid).
CLIENT_NEAR_SATURATION = 0.8
#: An interpreter speedup counts as scaling at this efficiency (speedup ÷ ideal).
SCALES_EFFICIENCY = 0.8


# The rules that read the probe, the native profiles and the audit (loadtests.analysis.evidence_rules):

#: 3.14t's profile spends at least this share of its CPU in shared reference counting: a finding.
REFCOUNT_SHARE = 0.03
#: ... and at least this much more than 3.14's share.
REFCOUNT_EXCESS = 0.02
#: A server this busy in the profile window had its threads running at once (contention could happen).
OVERLAP_CORES = 1.2
#: A Python function with at least this share of the window's Python-level CPU is hot.
HOT_FUNCTION_SHARE = 0.05
#: Locks or garbage collection at or above this share of 3.14t's CPU, and above 3.14's.
LOCKS_SHARE = 0.05
GC_SHARE = 0.05
#: The allocator costing this many times 3.14's CPU per request, at this share of 3.14t's CPU or more.
ALLOCATOR_RATIO = 1.25
ALLOCATOR_SHARE = 0.10
#: An endpoint's single-thread CPU per call at least this many times 3.14's.
SINGLE_THREAD_COST = 1.20

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
