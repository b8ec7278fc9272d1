"""One run analysed once: configurations, comparisons, claims and capacity, for every renderer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.analysis.capacity import DEFAULT_SLO_MS, CapacityPlan, capacity_plan
from loadtests.analysis.claims import ClaimsTable, evaluate_claims
from loadtests.analysis.configs import Comparison, ConfigSummary, comparisons, scenarios, summarize_configs
from loadtests.analysis.diagnosis import ScenarioDiagnosis, diagnose
from loadtests.analysis.probe_table import EndpointScaling, endpoint_table
from loadtests.analysis.profile_diff import ProfilePair, profile_pairs
from loadtests.results.records import RunRecord
from loadtests.results.store import as_run


@dataclass(frozen=True)
class Analysis:
    """Everything the renderers need, computed once from a run."""

    run: RunRecord
    configs: tuple[ConfigSummary, ...]
    comparisons: tuple[Comparison, ...]
    claims: ClaimsTable
    capacity: CapacityPlan
    scenarios: tuple[str, ...]
    slo_ms: float
    diagnoses: tuple[ScenarioDiagnosis, ...] = ()  # why each scenario does or does not scale
    probe: tuple[EndpointScaling, ...] = ()  # the per-endpoint scaling probe's table
    profiles: tuple[ProfilePair, ...] = ()  # both native profiles of each headline comparison


def analyse(run: RunRecord | Mapping[str, Any] | Path | str, slo_ms: float = DEFAULT_SLO_MS,
            target_rps: float | None = None) -> Analysis:
    r = as_run(run)
    cfgs = summarize_configs(r)
    cmps = comparisons(r, cfgs)
    probe, pairs = tuple(endpoint_table(r)), tuple(profile_pairs(r))
    return Analysis(r, tuple(cfgs), tuple(cmps), evaluate_claims(r, cfgs, cmps),
                    capacity_plan(r, cfgs, slo_ms, target_rps), tuple(scenarios(r)), slo_ms,
                    tuple(diagnose(r, probe, pairs)), probe, pairs)
