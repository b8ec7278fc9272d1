"""A diagnosis per scenario and server, and the thresholds its rules use (the report prints them).

The rules are :mod:`loadtests.analysis.diagnosis`.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Finding:
    """One reason, its measured evidence, and what the team can change."""

    code: str  # stable name: gil-reenabled, event-loop, already-parallel, per-core-cost, load-generator, ...
    title: str
    evidence: str
    change: str


@dataclass(frozen=True)
class ScenarioDiagnosis:
    scenario: str
    server: str
    findings: tuple[Finding, ...]
