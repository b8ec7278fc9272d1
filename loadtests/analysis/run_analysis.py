"""One run analysed once: configurations, comparisons, claims, capacity, diagnosis and summary, for every consumer."""

from __future__ import annotations

from loadtests.analysis.capacity import capacity_plan
from loadtests.analysis.capacity_curves import capacity_curves
from loadtests.analysis.claims import evaluate_claims, refusals
from loadtests.analysis.configs import comparisons, headline, invalid_cells, scenarios, summarize_configs, sweeps
from loadtests.analysis.decision import decide
from loadtests.analysis.diagnosis import diagnose
from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.capacity import DEFAULT_SLO_MS
from loadtests.analysis.microbench_stats import microbench_figures
from loadtests.analysis.probe_table import endpoint_table
from loadtests.analysis.profile_diff import profile_pairs
from loadtests.analysis.safety_summary import growths, safety_summary
from loadtests.analysis.summary import summary_record
from loadtests.results.records import Microbench, RunRecord


def analyse(run: RunRecord, slo_ms: float = DEFAULT_SLO_MS, target_rps: float | None = None) -> Analysis:
    """Every figure of ``run``, at the p95 objective ``slo_ms`` (and the capacity target ``target_rps``)."""
    if not isinstance(run, RunRecord):
        raise TypeError(f"analyse takes a RunRecord (loadtests.results.store.load_run reads one), not "
                        f"{type(run).__name__}")
    cfgs = summarize_configs(run)
    cmps = comparisons(run, cfgs)
    memory = growths(run)
    mb = run.microbench
    probe, profiles = tuple(endpoint_table(run)), tuple(profile_pairs(run))
    diagnoses = tuple(diagnose(run, cfgs, cmps, probe, profiles))
    names, heads, claims = tuple(scenarios(run)), tuple(headline(cmps).values()), evaluate_claims(run, cfgs, cmps)
    return Analysis(
        run=run, slo_ms=slo_ms, target_rps=target_rps, scenarios=names, configs=tuple(cfgs),
        comparisons=tuple(cmps), headlines=heads,
        sweeps=tuple(sweeps(cfgs, run.usable_cores)), claims=claims,
        capacity=capacity_plan(run, cfgs, slo_ms, target_rps), diagnoses=diagnoses,
        summary=summary_record(run, cfgs, cmps, diagnoses, probe, safety_summary(run, memory)),
        microbench=microbench_figures(mb, run.usable_cores) if isinstance(mb, Microbench) else None,
        invalid_cells=tuple(invalid_cells(run)), refusals=tuple(refusals(cfgs)), probe=probe, profiles=profiles,
        memory=memory, decisions=decide(run, names, heads, cmps, claims.incidents, memory),
        capacity_curves=tuple(capacity_curves(run)))
