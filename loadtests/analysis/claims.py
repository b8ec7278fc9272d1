"""Check the published claims C1–C6 about free-threaded 3.14t against one run.

Each claim becomes a row: the claim, the published figure, what this run measured,
the cores it was measured on, and a verdict. The speedup claims are bounded by the
cores: on a 2-core machine the best possible is 2×, so a near-ideal result there is
reported as *partly* reproduced, with its parallel efficiency, rather than as a miss.

Thresholds used for verdicts are module constants so the report can print them.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

from loadtests.analysis.configs import comparisons, headline, summarize_configs
from loadtests.analysis.figures.claims import (
    INCONCLUSIVE,
    NOT_MEASURED,
    NOT_REPRODUCED,
    PARTLY,
    REPRODUCED,
    ClaimRow,
    ClaimsTable,
    GilIncident,
)
from loadtests.analysis.figures.configs import (
    FT_INTERPRETER,
    GIL_INTERPRETER,
    KIND_GIL_TOGGLE,
    KIND_INTERPRETER,
    KIND_PROCESSES,
    Comparison,
    ConfigSummary,
)
from loadtests.analysis.figures.microbench import FT_GIL_ON_VARIANT
from loadtests.analysis.figures.stats import InsufficientData, PairedRatio, Speedup
from loadtests.analysis.memory import memory_pairs
from loadtests.analysis.microbench_stats import valid_ops
from loadtests.analysis.stats import speedup
from loadtests.core.wording import format_interval, format_speedup
from loadtests.core.wording import verdict as speedup_verdict
from loadtests.results.records import AuditOutcome, Microbench, RunRecord

EFFICIENCY_SCALES = 0.80  # parallel efficiency at or above which threads "scale"
EFFICIENCY_PARTLY = 0.50
GIL_FLAT = 1.25  # a GIL build "does not scale" when its speedup stays under this
PEP779_CPU_BAR = 0.15
PUBLISHED_COST = (0.05, 0.10)  # the single-thread cost the claim publishes
PEP779_MEMORY_BAR = 0.20
GIL_ONE_VARIANT = FT_GIL_ON_VARIANT

# --- microbench helpers ---------------------------------------------------------------


def _ops(mb: Microbench, variant: str, workload: str, threads: int) -> list[float]:
    return valid_ops(mb.points, workload, variant, threads)


def _mb_speedup(mb: Microbench, variant: str, workload: str, k: int, base_k: int = 1) -> Speedup | None:
    try:
        return speedup(_ops(mb, variant, workload, k), _ops(mb, variant, workload, base_k), what="ops/s")
    except InsufficientData:
        return None


def _mb_workload(mb: Microbench) -> str | None:
    workloads = list(mb.workloads or dict.fromkeys(p.workload for p in mb.points))
    return "pure" if "pure" in workloads else (workloads[0] if workloads else None)


def _mb_threads(mb: Microbench, cores: int) -> int | None:
    counts = sorted({p.threads for p in mb.points} | set(mb.thread_counts))
    if 4 in counts and cores >= 4:
        return 4  # the published figure's thread count
    within = [n for n in counts if 2 <= n <= cores]
    above = [n for n in counts if n >= 2]
    return within[-1] if within else (above[0] if above else None)


def _bounded(status_ok: bool, cores: int, needed: int, eff: float) -> tuple[str, str]:
    if status_ok and cores >= needed:
        return REPRODUCED, REPRODUCED
    if status_ok:
        return PARTLY, f"partly: bounded by {cores} cores — efficiency {eff:.2f}"
    if eff >= EFFICIENCY_PARTLY:
        return PARTLY, f"partly: efficiency {eff:.2f} (scales at ≥ {EFFICIENCY_SCALES:.2f})"
    return NOT_REPRODUCED, f"{NOT_REPRODUCED}: efficiency {eff:.2f}"


# --- the claims -----------------------------------------------------------------------


def _c1(run: RunRecord) -> ClaimRow:
    claim = "CPU-bound Python threads scale on 3.14t"
    published = "4 threads ≈ 3.5–3.6× vs 1 on 4 cores; ≈1× with the GIL"
    cores = run.usable_cores
    mb = run.microbench
    if mb is not None and not isinstance(mb, Microbench):
        return ClaimRow("C1", claim, published, f"microbenchmark failed: {mb.error}", cores,
                        "not measured in this run", NOT_MEASURED)
    if mb is None:
        return ClaimRow("C1", claim, published, "no microbench in this run (run `gil-lab threads`)", cores,
                        "not measured in this run", NOT_MEASURED)
    mb_cores = mb.usable_cores or cores
    workload = _mb_workload(mb)
    k = _mb_threads(mb, mb_cores)
    ft = _mb_speedup(mb, FT_INTERPRETER, workload, k) if workload and k else None
    if ft is None or k is None or workload is None:
        return ClaimRow("C1", claim, published, "microbench lacks 1-thread and multi-thread points", mb_cores,
                        "not measured in this run", NOT_MEASURED)
    gil = _mb_speedup(mb, GIL_INTERPRETER, workload, k)
    ceiling = min(k, mb_cores)
    eff = ft.ratio / ceiling
    measured = f"{workload}, {k} threads: 3.14t {format_speedup(ft)}, efficiency {eff:.2f}"
    if gil is not None:
        measured += f"; 3.14 {gil.ratio:.2f}×"
    gil_flat = gil is None or gil.ratio < GIL_FLAT
    cpu = [p.cpu_cores for p in mb.points
           if (p.workload, p.variant, p.threads) == (workload, FT_INTERPRETER, k) and p.valid and p.cpu_cores is not None]
    cpu = [sum(cpu) / len(cpu)] if cpu else []
    starved = bool(cpu) and cpu[0] < 0.8 * ceiling
    if starved:
        measured += f"; the {k} threads got only {cpu[0]:.2f} CPU cores (other processes held the rest)"
    if ft.significant is False:
        return ClaimRow("C1", claim, published, measured, mb_cores,
                        f"{INCONCLUSIVE}: the 3.14t speedup is not significant"
                        + (" on a machine other processes were using" if starved else ""), INCONCLUSIVE)
    ok = eff >= EFFICIENCY_SCALES and gil_flat
    status, verdict = _bounded(ok, mb_cores, 4, eff)
    if not gil_flat and gil is not None:
        verdict += f"; 3.14 also scaled {gil.ratio:.2f}× (the workload releases the GIL)"
    return ClaimRow("C1", claim, published, measured, mb_cores, verdict, status)


def _c2(run: RunRecord, comps: Sequence[Comparison]) -> ClaimRow:
    claim = "CPU-bound FastAPI endpoints speed up with zero code changes"
    published = "≈4 → ≈32 rps on 8 cores (3.12 vs 3.13t)"
    cores = run.usable_cores
    heads = [c for c in headline(comps).values() if c.candidate.is_cpu_bound]
    if not heads:
        return ClaimRow("C2", claim, published, "no 3.14t/3.14 pair of CPU-bound cells", cores,
                        "not measured in this run", NOT_MEASURED)
    parts, effs, scaling = [], [], 0
    for c in heads:
        eff = c.efficiency if c.efficiency is not None else 0.0
        effs.append(eff)
        good = c.speedup.significant is not False and c.speedup.ratio > 1 and eff >= EFFICIENCY_SCALES
        scaling += good
        assert c.baseline.rps and c.candidate.rps
        parts.append(f"{c.scenario}/{c.server} u{c.users}: {c.baseline.rps.mean:.1f} → {c.candidate.rps.mean:.1f} rps "
                     f"({c.speedup.ratio:.2f}×, {speedup_verdict(c.speedup)}, eff {eff:.2f})")
    med = statistics.median(effs)
    unclear = sum(c.speedup.significant is False for c in heads)
    if scaling == len(heads):
        status, word = _bounded(True, cores, 8, med)
    elif scaling:
        status = PARTLY
        word = f"partly: {scaling} of {len(heads)} scenario/server pairs scale (median efficiency {med:.2f})"
    elif unclear == len(heads):
        status = INCONCLUSIVE
        word = (f"{INCONCLUSIVE}: no pair differs significantly (median efficiency {med:.2f}); "
                "more repeats narrow the interval")
    else:
        status, word = NOT_REPRODUCED, f"{NOT_REPRODUCED}: median efficiency {med:.2f}"
    return ClaimRow("C2", claim, published, "; ".join(parts), cores, word, status)


@dataclass(frozen=True)
class Cost:
    """A single-thread cost of 3.14t (time per request or operation, over 3.14's, minus 1) with its interval."""

    source: str
    cost: float
    low: float | None
    high: float | None

    @property
    def width(self) -> float:
        return math.inf if self.low is None or self.high is None else self.high - self.low

    def text(self) -> str:
        interval = "" if self.low is None or self.high is None else \
            f" (95% CI {format_interval(self.low * 100, self.high * 100, 0)}%)"
        return f"{self.source}: {self.cost:+.1%}{interval}"


def _cost_verdict(c: Cost) -> tuple[str, str]:
    """The claim is a cost: judged on its interval, against the published 5–10% and PEP 779's 15% bar."""
    if c.low is None or c.high is None:
        return INCONCLUSIVE, f"{INCONCLUSIVE}: {c.source} has no interval (one pair); the claim needs one"
    if c.high < 0:
        return NOT_REPRODUCED, (f"{NOT_REPRODUCED}: 3.14t was faster single-threaded here ({-c.cost:.0%} less time, "
                                f"interval {-c.high:.0%} to {-c.low:.0%}): no cost on this machine")
    if c.low > PEP779_CPU_BAR:
        return NOT_REPRODUCED, (f"{NOT_REPRODUCED}: a cost of {c.cost:.0%} (at least {c.low:.0%}) exceeds PEP 779's "
                                f"{PEP779_CPU_BAR:.0%} bar")
    if c.low >= 0 and c.high <= PEP779_CPU_BAR:
        within = c.low <= PUBLISHED_COST[1] and c.high >= PUBLISHED_COST[0]
        return REPRODUCED, (f"{REPRODUCED}: a cost of {c.cost:.0%}, within PEP 779's ≤{PEP779_CPU_BAR:.0%} bar"
                            + ("" if within else f" (outside the published {PUBLISHED_COST[0]:.0%}–"
                                                 f"{PUBLISHED_COST[1]:.0%})"))
    spans = "no cost" if c.low < 0 else f"PEP 779's {PEP779_CPU_BAR:.0%} bar"
    return INCONCLUSIVE, (f"{INCONCLUSIVE}: the interval ({c.low:+.0%} to {c.high:+.0%}) spans {spans}; more "
                          "pairs on a quiet machine narrow it")


def _microbench_cost(run: RunRecord) -> Cost | None:
    mb = run.microbench if isinstance(run.microbench, Microbench) else None
    workload = _mb_workload(mb) if mb else None
    if mb is None or workload is None:
        return None
    try:
        # time per op, 3.14t over 3.14: ratio - 1 is the cost
        s = speedup(_ops(mb, GIL_INTERPRETER, workload, 1), _ops(mb, FT_INTERPRETER, workload, 1), what="ops/s")
    except InsufficientData:
        return None
    return Cost(f"microbench {workload}, 1 thread", s.ratio - 1, None if s.low is None else s.low - 1,
                None if s.high is None else s.high - 1)


def _http_costs(comps: Sequence[Comparison]) -> list[Cost]:
    out = []
    for c in comps:
        if c.kind == KIND_INTERPRETER and c.users == 1 and c.candidate.is_cpu_bound and c.speedup.ratio > 0:
            r = c.speedup
            out.append(Cost(f"HTTP {c.scenario}/{c.server} 1 user", 1 / r.ratio - 1,
                            None if not r.high or math.isinf(r.high) else 1 / r.high - 1,
                            None if not r.low else 1 / r.low - 1))
    return out


def _c3(run: RunRecord, comps: Sequence[Comparison]) -> ClaimRow:
    claim = "single-thread cost of the free-threaded build"
    published = "5–10% slower (PEP 779 bar ≤15%)"
    cores = run.usable_cores
    costs = [c for c in (_microbench_cost(run), *_http_costs(comps)) if c is not None]
    if not costs:
        return ClaimRow("C3", claim, published, "no 1-thread microbench points or 1-user HTTP pairs", cores,
                        "not measured in this run", NOT_MEASURED)
    decisive = min(costs, key=lambda c: c.width)  # the narrowest interval decides; the others are shown
    status, verdict = _cost_verdict(decisive)
    measured = "; ".join(c.text() for c in costs)
    if len(costs) > 1:
        verdict += f" (judged on {decisive.source}, the narrowest interval)"
    return ClaimRow("C3", claim, published, measured, cores, verdict, status)


def _ratio_text(name: str, r: PairedRatio | Speedup | None) -> str | None:
    if r is None:
        return None
    interval = "" if r.low is None or r.high is None else f" ({format_interval((r.low - 1) * 100, (r.high - 1) * 100, 0)}%)"
    return f"{name} {r.ratio - 1:+.0%}{interval}"


def _c4(run: RunRecord, comps: Sequence[Comparison]) -> ClaimRow:
    claim = "memory cost of the free-threaded build"
    published = "15–20% more (PEP 779 bar ≤20%)"
    cores = run.usable_cores
    heads = set(map(id, headline(comps).values()))  # one pair per scenario and server, at the highest users level
    pairs = memory_pairs(run, [c for c in comps if id(c) in heads or c.kind == KIND_PROCESSES])
    single = [m for m in pairs if m.peak_rss is not None or m.peak_uss is not None]
    if not single:
        return ClaimRow("C4", claim, published, "no paired memory for a single-process 3.14t/3.14 pair", cores,
                        "not measured in this run", NOT_MEASURED)
    parts = []
    over = under = 0
    for m in single:
        c = m.comparison
        bits = [t for t in (_ratio_text("peak RSS", m.peak_rss), _ratio_text("peak USS", m.peak_uss),
                            _ratio_text("idle RSS", m.idle_rss), _ratio_text("idle USS", m.idle_uss)) if t]
        parts.append(f"{c.scenario}/{c.server} u{c.users}: " + ", ".join(bits))
        judged = m.peak_rss or m.peak_uss
        assert judged is not None
        if judged.low is not None and judged.low > 1 + PEP779_MEMORY_BAR:
            over += 1
        elif judged.high is not None and judged.high <= 1 + PEP779_MEMORY_BAR:
            under += 1
    procs = [m for m in pairs if m.peak_pss is not None]
    if procs:
        parts.append(f"one 3.14t process vs {procs[0].comparison.baseline.workers} × 3.14 processes (PSS): " + ", ".join(
            f"{m.comparison.scenario}/{m.comparison.server} u{m.comparison.users} {t}" for m in procs
            if (t := _ratio_text("peak", m.peak_pss))))
    n = len(single)
    if under == n:
        status, verdict = REPRODUCED, f"{REPRODUCED}: every pair's peak RSS within PEP 779's ≤{PEP779_MEMORY_BAR:.0%} bar"
    elif over == n:
        status, verdict = NOT_REPRODUCED, f"{NOT_REPRODUCED}: every pair's peak RSS above the {PEP779_MEMORY_BAR:.0%} bar"
    elif over:
        status = PARTLY
        verdict = (f"partly: {over} of {n} pairs above the {PEP779_MEMORY_BAR:.0%} bar with significance, {under} "
                   "within it: the cost depends on the workload")
    else:
        status = INCONCLUSIVE
        verdict = f"{INCONCLUSIVE}: {n - under} of {n} pairs' intervals span the {PEP779_MEMORY_BAR:.0%} bar"
    return ClaimRow("C4", claim, published, "; ".join(parts), cores, verdict, status)


def gil_incidents(configs: Sequence[ConfigSummary]) -> list[GilIncident]:
    """Free-threaded configurations whose GIL came on without PYTHON_GIL=1 asking for it."""
    out = []
    for c in configs:
        if c.free_threaded and c.gil_enabled and c.python_gil_env != "1":
            n = c.n_valid + len(c.invalid)
            rps = statistics.fmean(c.invalid_rps_values) if c.invalid_rps_values else None
            out.append(GilIncident(c.config_id, c.scenario, c.server, c.gil_enabled_by, n, "trap" in c.scenario,
                                   rps, _same_settings(c, configs)))
    return out


def _same_settings(incident: ConfigSummary, configs: Sequence[ConfigSummary]) -> tuple[tuple[str, float], ...]:
    """Valid configurations served the same way (server, workers, threads, users): the yardstick for a collapse.

    Those of the same scenario when there are any; otherwise every scenario served that way
    (the gil-trap preset's trap route does the json scenario's work, on 3.14t only).
    """
    same_way = [
        c for c in configs
        if c.rps is not None and c.config_id != incident.config_id and c.python_gil_env is None
        and (c.server, c.workers, c.parallelism, c.threads, c.users)
        == (incident.server, incident.workers, incident.parallelism, incident.threads, incident.users)
    ]
    same_scenario = [c for c in same_way if c.scenario == incident.scenario]
    return tuple((f"{c.scenario} {c.interpreter}", c.rps.mean) for c in same_scenario or same_way if c.rps)


def refusals(configs: Sequence[ConfigSummary]) -> list[tuple[str, str]]:
    """Configurations whose server refused to start (a free-threaded build with the GIL on), with the reason."""
    return [(c.config_id, c.refusals[0]) for c in configs if c.refusals]


def audit_reports(run: RunRecord) -> list[AuditOutcome]:
    """The GIL audit stored in run.json (a failed audit has no verdict and is left out)."""
    return [run.audit] if isinstance(run.audit, AuditOutcome) else []


def _served_anyway(run: RunRecord, incidents: Sequence[GilIncident]) -> tuple[int, int]:
    """Of the windows whose GIL came back, how many the server still served without a failed request: the
    other half of "silently" (nothing but the warning stopped or told the app)."""
    ids = {i.config_id for i in incidents}
    cells = [c for c in run.cells if c.config_id in ids and c.gil_enabled and c.outcome == "measured"]
    quiet = sum(1 for c in cells if c.requests > 0 and c.failures == 0)
    return quiet, len(cells)


def _c5(run: RunRecord, configs: Sequence[ConfigSummary], incidents: Sequence[GilIncident]) -> ClaimRow:
    claim = "importing an extension without Py_mod_gil re-enables the GIL silently"
    published = "only a RuntimeWarning is emitted"
    cores = run.usable_cores
    parts: list[str] = []
    seen = False
    warned = silent = None
    if incidents:
        mods = sorted({m for i in incidents for m in i.modules}) or ["(module not reported)"]
        cells = sum(i.cells for i in incidents)
        parts.append(f"GIL re-enabled by {', '.join(mods)} in {len(incidents)} config(s), {cells} cell(s), "
                     "all marked invalid")
        seen = True
        # the lab names a module only from the RuntimeWarning the interpreter emitted (its warnings hook)
        warned = all(i.modules for i in incidents)
        quiet, windows = _served_anyway(run, incidents)
        silent = None if windows == 0 else quiet == windows
        parts.append("the module names come from the RuntimeWarning each server emitted" if warned
                     else "a server did not say which module turned the GIL on")
        if windows:
            parts.append(f"the servers went on serving with the GIL on: {quiet} of {windows} window(s) without "
                         "an error or a failed request")
    for report in audit_reports(run):
        if not report.interpreter.free_threaded:
            continue
        label = report.interpreter.label
        if report.gil_enabled:
            by = ", ".join(report.gil_enabled_by) or "an unnamed import"
            parts.append(f"audit ({label}): GIL re-enabled by {by}, and the import went on")
            seen = True
            # the audit names a module only from the RuntimeWarning; the import itself did not fail
            warned = bool(report.gil_enabled_by) and warned is not False
            silent = True if silent is None else silent
        else:
            parts.append(f"audit ({label}): no import re-enables the GIL")
    trap_ran = any(c.free_threaded and "trap" in c.scenario for c in configs)
    refused = [c for c in configs if c.free_threaded and c.refusals]
    if refused:
        parts.append(f"{len(refused)} config(s) refused to start instead (their server checks the GIL: not silent)")
    if seen:
        unexpected = [i for i in incidents if not i.deliberate]
        if warned is False or silent is False:
            status = PARTLY
            word = ("partly: the GIL came back, but " + ("no warning named the module" if warned is False
                                                         else "the app did not go on unaffected: a window failed"))
        elif warned and silent:
            status, word = REPRODUCED, f"{REPRODUCED}: the GIL came back and only a RuntimeWarning said so"
        else:
            status, word = INCONCLUSIVE, f"{INCONCLUSIVE}: the GIL came back, but nothing showed how it was reported"
        if unexpected:
            word += f" — unexpected in {', '.join(i.config_id for i in unexpected)}: those cells are excluded"
        return ClaimRow("C5", claim, published, "; ".join(parts), cores, word, status)
    if trap_ran:
        parts.insert(0, "the trap scenario ran on 3.14t with the GIL off")
        return ClaimRow("C5", claim, published, "; ".join(parts), cores,
                        f"{NOT_REPRODUCED}: no re-enablement observed", NOT_REPRODUCED)
    parts.insert(0, "no GIL re-enablement in any cell of this run")
    return ClaimRow("C5", claim, published, "; ".join(parts) + " (run the gil-trap preset or `gil-lab audit`)",
                    cores, "not measured in this run: nothing here imports such an extension", NOT_MEASURED)


def _c6(run: RunRecord, configs: Sequence[ConfigSummary], comps: Sequence[Comparison]) -> ClaimRow:
    claim = "PYTHON_GIL toggles the GIL at runtime on 3.14t"
    published = "PYTHON_GIL=1 forces the GIL on; PYTHON_GIL=0 keeps it off"
    cores = run.usable_cores
    ones = [c for c in run.cells if c.free_threaded and c.config.python_gil == "1"]
    zeros = [c for c in run.cells if c.free_threaded and c.config.python_gil == "0"]
    mb = run.microbench if isinstance(run.microbench, Microbench) else None
    mb_ones = [p for p in mb.points if p.variant == GIL_ONE_VARIANT] if mb else []
    if not (ones or zeros or mb_ones):
        return ClaimRow("C6", claim, published, "no PYTHON_GIL cells or microbench variant", cores,
                        "not measured in this run", NOT_MEASURED)
    parts, failures = [], []
    if ones:
        on = sum(bool(c.gil_enabled) for c in ones)
        parts.append(f"PYTHON_GIL=1: GIL on in {on}/{len(ones)} cells")
        if on < len(ones):
            failures.append(f"{len(ones) - on} PYTHON_GIL=1 cell(s) ran with the GIL off")
    if zeros:
        # PYTHON_GIL=0 is the promise that the GIL stays off: a module that turned it on anyway breaks it
        off = sum(not c.gil_enabled for c in zeros)
        parts.append(f"PYTHON_GIL=0: GIL off in {off}/{len(zeros)} cells")
        if off < len(zeros):
            by = sorted({m for c in zeros if c.gil_enabled for m in c.gil_enabled_by})
            failures.append(f"{len(zeros) - off} PYTHON_GIL=0 cell(s) had the GIL on"
                            + (f" (turned on by {', '.join(by)})" if by else " (no module named)"))
    if mb and mb_ones:
        on = sum(p.gil_enabled for p in mb_ones)
        part = f"microbench {GIL_ONE_VARIANT}: GIL on in {on}/{len(mb_ones)} points"
        workload, k = _mb_workload(mb), _mb_threads(mb, mb.usable_cores or cores)
        s = _mb_speedup(mb, GIL_ONE_VARIANT, workload, k) if workload and k else None
        if s is not None:
            part += f", {k} threads {s.ratio:.2f}× vs 1"
        parts.append(part)
        if on < len(mb_ones):
            failures.append(f"{len(mb_ones) - on} microbench point(s) had the GIL off")
    toggles = [c for c in comps if c.kind == KIND_GIL_TOGGLE]
    if toggles:
        parts.append("rps with PYTHON_GIL=1 vs default: " + ", ".join(
            f"{c.scenario}/{c.server} u{c.users} {c.speedup.ratio:.2f}×" for c in toggles))
    if failures:
        return ClaimRow("C6", claim, published, "; ".join(parts), cores,
                        f"{NOT_REPRODUCED}: {'; '.join(failures)}", NOT_REPRODUCED)
    return ClaimRow("C6", claim, published, "; ".join(parts), cores, REPRODUCED, REPRODUCED)


def evaluate_claims(
    run: RunRecord, configs: Sequence[ConfigSummary] | None = None, comps: Sequence[Comparison] | None = None
) -> ClaimsTable:
    """The C1–C6 table and the GIL incidents of one run.

    The claims are about the lab's own scenarios: a team's scenarios (``team_scenarios``)
    get a diagnosis instead, and are left out of the rows. Their GIL incidents are still
    listed: they are facts about the run, not verdicts.
    """
    team = set(run.settings.team_scenarios)
    every_incident = gil_incidents(list(configs) if configs is not None else summarize_configs(run))
    if team:
        run = replace(run, cells=tuple(c for c in run.cells if c.config.scenario not in team))
        configs = [c for c in configs if c.scenario not in team] if configs is not None else None
        comps = [c for c in comps if c.scenario not in team] if comps is not None else None
    cfgs = list(configs) if configs is not None else summarize_configs(run)
    cmps = list(comps) if comps is not None else comparisons(run, cfgs)
    incidents = [i for i in every_incident if i.scenario not in team]
    rows = (_c1(run), _c2(run, cmps), _c3(run, cmps), _c4(run, cmps), _c5(run, cfgs, incidents),
            _c6(run, cfgs, cmps))
    return ClaimsTable(rows, tuple(every_incident))
