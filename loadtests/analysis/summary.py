"""``summary.json``: every comparison of a run as a verdict a machine can read (docs/summary-json.md)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from loadtests.analysis.capacity_ratios import capacity_ratios
from loadtests.analysis.configs import candidate_pairs, instance_groups
from loadtests.analysis.figures.configs import (
    KIND_GIL_TOGGLE,
    KIND_INTERPRETER,
    KIND_PROCESSES,
    Comparison,
    ConfigSummary,
)
from loadtests.analysis.figures.diagnosis import ScenarioDiagnosis
from loadtests.analysis.figures.probe import EndpointScaling
from loadtests.analysis.figures.stats import PairedRatio
from loadtests.analysis.tuning import run_settings, tuned_entries
from loadtests.analysis.variance import nested_mean
from loadtests.results.records import (
    SCHEMA_VERSION,
    CapacitySummary,
    ComparisonKind,
    ComparisonSummary,
    ConfigLabel,
    FindingSummary,
    ProbeSummary,
    ProfileCauseSummary,
    RunRecord,
    SummaryRecord,
    Verdict,
)
from loadtests.results.records.safety import SafetySummary

KINDS: dict[str, ComparisonKind] = {KIND_INTERPRETER: "interpreter", KIND_PROCESSES: "processes",
                                    KIND_GIL_TOGGLE: "gil-toggle"}


def config_label(c: ConfigSummary) -> ConfigLabel:
    return ConfigLabel(label=c.label, config_id=c.config_id, interpreter=c.interpreter, python_gil=c.python_gil_env,
                       server=c.server, parallelism=c.parallelism,  # type: ignore[arg-type]
                       workers=c.workers, threads=c.threads, cpus=c.cpus)


def verdict_of(c: Comparison) -> Verdict:
    if c.speedup.significant is False or c.speedup.significant is None:
        return "not significant"
    return "faster" if c.speedup.ratio > 1 else "slower"


def _stopping(run: RunRecord, comparison_id: str | None, paired: bool) -> tuple[str, float | None]:
    """Why the alternation ended, and the precision it aimed for."""
    if not paired:
        return "unpaired: cells measured one at a time (a run recorded before pairing)", None
    done = next((c for c in run.comparisons if c.comparison_id == comparison_id), None)
    target = run.settings.plan.precision
    if done is None:
        return "unfinished: the run was interrupted during this comparison", target
    if done.stopping == "fixed pairs":
        return "fixed number of pairs (no precision target)", done.precision_target
    return f"adaptive: {done.stopping}", done.precision_target


def _components(run: RunRecord, config_id: str) -> tuple[float | None, float | None]:
    """A configuration's log-throughput spread between windows of one instance, and between instances."""
    groups = [[math.log(v) for v in g] for g in instance_groups(run.cells, config_id)]
    if not groups:
        return None, None
    m = nested_mean(groups)
    return _rounded(m.within_sd, 4), _rounded(m.between_sd, 4)


def _entry(run: RunRecord, c: Comparison) -> ComparisonSummary:
    s = c.speedup
    paired = isinstance(s, PairedRatio)
    stopping, target = _stopping(run, c.comparison_id, paired)
    n = s.n_pairs if isinstance(s, PairedRatio) else min(s.n_candidate, s.n_baseline)
    precision = s.precision if isinstance(s, PairedRatio) else (
        (s.high - s.low) / 2 / s.ratio if s.low is not None and s.high is not None and s.ratio > 0 else None)
    pss = (c.candidate.pss_mb.mean if c.candidate.pss_mb else None, c.baseline.pss_mb.mean if c.baseline.pss_mb else None)
    cand, base = _components(run, c.candidate.config_id), _components(run, c.baseline.config_id)
    return ComparisonSummary(
        comparison_id=c.comparison_id, kind=KINDS[c.kind], scenario=c.scenario, server=c.server, users=c.users,
        candidate=config_label(c.candidate), baseline=config_label(c.baseline), ratio=round(s.ratio, 4),
        ci_low=None if s.low is None else round(s.low, 4), ci_high=None if s.high is None else round(s.high, 4),
        paired=paired, n_pairs=n, precision_reached=None if precision is None else round(precision, 4),
        precision_target=target, stopping=stopping, verdict=verdict_of(c), invalid_reason=None,
        efficiency=None if c.efficiency is None else round(c.efficiency, 4),
        ideal=None if c.ideal is None else round(c.ideal, 4),
        candidate_cv=None if c.candidate.cv is None else round(c.candidate.cv, 4),
        baseline_cv=None if c.baseline.cv is None else round(c.baseline.cv, 4),
        candidate_pss_mb=None if pss[0] is None else round(pss[0], 1),
        baseline_pss_mb=None if pss[1] is None else round(pss[1], 1),
        instances=s.instances if isinstance(s, PairedRatio) else 1,
        df=_rounded(s.degrees_of_freedom, 4) if isinstance(s, PairedRatio) else None,
        log_sd_pairs=_rounded(s.within_sd if s.within_sd is not None else s.log_sd, 4) if isinstance(s, PairedRatio)
        else None,
        log_sd_instances=_rounded(s.between_sd, 4) if isinstance(s, PairedRatio) else None,
        candidate_log_sd_windows=cand[0], candidate_log_sd_instances=cand[1],
        baseline_log_sd_windows=base[0], baseline_log_sd_instances=base[1],
        noisy_windows=sum(1 for cell in run.cells if cell.comparison_id == c.comparison_id and cell.noisy
                          and cell.config_id in (c.candidate.config_id, c.baseline.config_id))
        if c.comparison_id else 0)


def _invalid_entries(run: RunRecord, configs: Sequence[ConfigSummary],
                     found: Sequence[Comparison]) -> list[ComparisonSummary]:
    """Pairs the run planned that have no valid ratio, of every kind: listed as invalid, with the reason."""
    compared = {(c.kind, c.candidate.config_id, c.baseline.config_id) for c in found}
    out = []
    for kind, cand, base in candidate_pairs(configs):
        if (kind, cand.config_id, base.config_id) in compared:
            continue
        sides = [cand, base] if cand.rps_values and base.rps_values else [cand if not cand.rps_values else base]
        reason = "; ".join(f"{side.label}: " + ("; ".join(sorted({r for _, r in side.invalid})) or "no valid window")
                           for side in sides if side.invalid or not side.rps_values)
        if len(sides) == 2:  # both sides have valid windows, but never both in the same block
            reason = "no block in which both sides had only valid windows" + (f" ({reason})" if reason else "")
        out.append(ComparisonSummary(
            comparison_id=None, kind=KINDS[kind], scenario=cand.scenario, server=cand.server, users=cand.users,
            candidate=config_label(cand), baseline=config_label(base), ratio=None, ci_low=None, ci_high=None,
            paired=False, n_pairs=0, precision_reached=None, precision_target=run.settings.plan.precision,
            stopping="no valid pair", verdict="invalid", invalid_reason=reason,
            efficiency=None, ideal=None, candidate_cv=None, baseline_cv=None, candidate_pss_mb=None,
            baseline_pss_mb=None))
    return out


def capacity_entries(run: RunRecord) -> list[CapacitySummary]:
    """Each capacity search as summary.json lists it: the capacity and its interval, its bracket, per core and GB."""
    out = []
    for search in run.capacities:
        top = search.max_rps_at_slo
        cores, pss = search.server_cpu_cores_at_max, search.pss_mb_at_max
        out.append(CapacitySummary(
            scenario=search.scenario, server=search.server, interpreter=search.interpreter,
            configuration=search.label, config_id=search.config_id, slo_ms=search.slo_ms, max_rps_at_slo=top,
            bracket_low=search.bracket_low, bracket_high=search.bracket_high, p95_ms_at_max=search.p95_ms_at_max,
            p95_ci_at_max=search.p95_ci_at_max,
            rps_per_core=round(top / cores, 3) if top and cores else None,
            rps_per_gb=round(top / (pss / 1024), 2) if top and pss else None, limited_by=search.limited_by,
            ci_low=search.ci_low, ci_high=search.ci_high, method=search.method, arrivals=search.arrivals,
            steps=sum(1 for step in search.steps if step.valid), stopping=search.stopping, phase=search.phase))
    return out


def finding_entries(diagnoses: Sequence[ScenarioDiagnosis]) -> list[FindingSummary]:
    return [FindingSummary(scenario=d.scenario, server=d.server, code=f.code, title=f.title, detail=f.detail,
                           change=f.change, evidence=dict(f.evidence)) for d in diagnoses for f in d.findings]


def _rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)


def probe_entries(endpoints: Sequence[EndpointScaling]) -> list[ProbeSummary]:
    out = []
    for e in endpoints:
        for r in e.rows:
            g, eff, cpu = r.cpu_growth, r.efficiency, r.cpu_per_call
            out.append(ProbeSummary(
                scenario=e.scenario, endpoint=e.endpoint, interpreter=r.interpreter, threads=r.threads,
                cpu_per_call=round(cpu.mean, 6), cpu_per_call_low=_rounded(cpu.low), cpu_per_call_high=_rounded(cpu.high),
                calls_per_s=round(r.throughput.mean, 3), busy_cores=round(r.busy_cores, 3),
                cpu_growth=None if g is None else round(g.ratio, 4),
                cpu_growth_low=None if g is None else _rounded(g.low, 4),
                cpu_growth_high=None if g is None else _rounded(g.high, 4),
                efficiency=None if eff is None else round(eff.ratio, 4),
                efficiency_low=None if eff is None else _rounded(eff.low, 4),
                efficiency_high=None if eff is None else _rounded(eff.high, 4), verdict=e.verdict))
    return out


def profile_cause_entries(run: RunRecord) -> list[ProfileCauseSummary]:
    return [ProfileCauseSummary(scenario=p.scenario, server=p.server, interpreter=p.interpreter, cause=c.cause,
                                share=c.share, cpu_ms_per_request=c.cpu_ms_per_request)
            for p in run.profiles if p.error is None for c in p.causes]


def summary_record(run: RunRecord, configs: Sequence[ConfigSummary], found: Sequence[Comparison],
                   diagnoses: Sequence[ScenarioDiagnosis] = (), probe: Sequence[EndpointScaling] = (),
                   safety: SafetySummary | None = None) -> SummaryRecord:
    """summary.json of ``run``, from its configurations, the comparisons found between them, its diagnosis, the
    probe's table and its safety object."""
    entries = [_entry(run, c) for c in found] + _invalid_entries(run, configs, found)
    return SummaryRecord(schema_version=SCHEMA_VERSION, run_id=run.run_id, preset=run.preset,
                         created_at=run.created_at, usable_cores=run.usable_cores, comparisons=tuple(entries),
                         capacity=tuple(capacity_entries(run)), tuned=tuple(tuned_entries(run_settings(run))),
                         diagnosis=tuple(finding_entries(diagnoses)), probe=tuple(probe_entries(probe)),
                         profile_causes=tuple(profile_cause_entries(run)), safety=safety,
                         capacity_ratios=tuple(capacity_ratios(run)))
