"""One run analysed: every figure the terminal, the reports, summary.json, the gates and the history take.

:func:`loadtests.analysis.analyse` computes it once from the typed run record; every
consumer is handed this value and computes nothing of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.analysis.figures.capacity import CapacityCurve, CapacityPlan
from loadtests.analysis.figures.claims import ClaimsTable
from loadtests.analysis.figures.configs import Comparison, ConfigSummary, Sweep
from loadtests.analysis.figures.decision import ScenarioDecision
from loadtests.analysis.figures.diagnosis import ScenarioDiagnosis
from loadtests.analysis.figures.memory import MemoryGrowth
from loadtests.analysis.figures.microbench import MicrobenchFigures
from loadtests.analysis.figures.probe import EndpointScaling
from loadtests.analysis.figures.profiles import ProfilePair
from loadtests.results.records import RunRecord, SummaryRecord


@dataclass(frozen=True)
class Analysis:
    """Everything computed from one run, at one latency objective (and capacity target)."""

    run: RunRecord
    slo_ms: float  # the p95 objective the latency table and the SLO capacity plan use
    target_rps: float | None  # the throughput the capacity plan counts cores for
    scenarios: tuple[str, ...]  # in first-seen order
    configs: tuple[ConfigSummary, ...]  # closed-loop configurations: valid repeats summarised, invalid listed
    comparisons: tuple[Comparison, ...]  # every pair with a ratio (both sides valid)
    # Per scenario and server, the 3.14t/3.14 comparison a user would deploy at the highest users level.
    headlines: tuple[Comparison, ...]
    sweeps: tuple[Sweep, ...]  # configurations that differ along one axis (users, threads, CPUs)
    claims: ClaimsTable
    capacity: CapacityPlan  # closed loop: the SLO knee per family, projections to more cores
    diagnoses: tuple[ScenarioDiagnosis, ...]  # why each scenario does or does not scale
    # summary.json: every comparison as a verdict, each open-loop capacity at the SLO (``capacity``) and
    # each side's best setting where a capacity run tried several (``tuned``)
    summary: SummaryRecord
    microbench: MicrobenchFigures | None  # None when the run has no microbenchmark (or it failed)
    invalid_cells: tuple[tuple[str, str], ...]  # (cell id, reason), never averaged in
    refusals: tuple[tuple[str, str], ...]  # (config id, why its server refused to start)
    probe: tuple[EndpointScaling, ...] = ()  # the per-endpoint scaling probe's table
    profiles: tuple[ProfilePair, ...] = ()  # both native profiles of each headline comparison
    capacity_curves: tuple[CapacityCurve, ...] = ()  # a capacity run's searches, step by step, with fitted curves
    memory: tuple[MemoryGrowth, ...] = ()  # per soaked interpreter: its memory growth (empty without a soak)
    # Per scenario: move, stay or not yet, with its evidence (a capacity run's scenarios have none)
    decisions: tuple[ScenarioDecision, ...] = ()

    def decision(self, scenario: str) -> ScenarioDecision | None:
        return next((d for d in self.decisions if d.scenario == scenario), None)

