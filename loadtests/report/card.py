"""The decision in one screen: one card per scenario, shown before the numbered sections.

A card answers "should this scenario move to 3.14t?" with what the run measured:

- the decision first: move, stay or not yet, with every piece of evidence it weighed
  (speed against 3.14 in one process and against 3.14 × N processes, memory, the GIL,
  races, crashes, hangs, growth) and what would change it (``decision_text.py``); a
  scenario without a decision (a capacity run) opens with the verdict in words: 3.14t
  against 3.14 on each server, and against 3.14 with N worker processes;
- a forest plot of those ratios (``forest.py``);
- capacity at the p95 SLO (``summary.json``'s ``capacity`` entries of the analysis);
- the peak memory (PSS) of each server compared;
- why it scales or not (the analysis's diagnosis).

Where capacity or a diagnosis is missing for a scenario, the card says so rather than
leaving a gap.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure

from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.configs import KIND_PROCESSES, Comparison, ConfigSummary
from loadtests.report.charts import soak_chart
from loadtests.report.decision_text import decision_blocks, tone
from loadtests.report.diagnosis_evidence import evidence_text
from loadtests.report.document import Bullets, Card, CardBlock, Chart, Paragraph, Section, slug
from loadtests.report.faults_text import fault_blocks, soak_blocks
from loadtests.report.forest import ForestRow, fluid_svg, forest_chart
from loadtests.report.safety_text import race_lines, safe_to_move, safety_tables
from loadtests.report.verdict import fmt_pct, refusal_words, speed_words
from loadtests.results.records import CapacityRatio, CapacitySummary

CAPACITY_COMMAND = "gil-lab capacity"

#: Makes a Chart (SVG for the page, PNG for Markdown) from a figure: (figure, file stem, caption).
ChartMaker = Callable[[Figure | None, str, str], Chart | None]


@dataclass(frozen=True)
class ScenarioComparisons:
    """What one card compares: the headline 3.14t/3.14 pair per server, and the same 3.14t
    configuration against 3.14 with N worker processes."""

    scenario: str
    heads: tuple[Comparison, ...]
    against_processes: tuple[Comparison, ...]

    @property
    def all(self) -> tuple[Comparison, ...]:
        return self.heads + self.against_processes

    def processes_for(self, head: Comparison) -> list[Comparison]:
        return [p for p in self.against_processes if p.candidate.config_id == head.candidate.config_id]


def scenario_comparisons(a: Analysis, scenario: str) -> ScenarioComparisons:
    heads = tuple(c for c in a.headlines if c.scenario == scenario)
    ft = {h.candidate.config_id for h in heads}
    procs = tuple(c for c in a.comparisons if c.kind == KIND_PROCESSES and c.candidate.config_id in ft)
    return ScenarioComparisons(scenario, heads, procs)


# --- the verdict ----------------------------------------------------------------------------

LEADS = {
    "faster": "3.14t is faster than 3.14",
    "slower": "3.14t is slower than 3.14",
    "not-significant": "No measurable difference between 3.14t and 3.14",
    "unknown": "Too few repeats to tell 3.14t from 3.14",
    "mixed": "It depends on the server",
}


def _kind(c: Comparison) -> str:
    return slug(c.speedup.direction)


def _gil_verdict(a: Analysis, scenario: str) -> Paragraph | None:
    incidents = [i for i in a.claims.incidents if i.scenario == scenario]
    if not incidents:
        return None
    mods = sorted({m for i in incidents for m in i.modules}) or ["a module the server did not report"]
    text = (f"**The GIL came back on in 3.14t** (enabled by {', '.join(mods)}): those cells are invalid, so "
            f"3.14t is not compared here.")
    gil_on = [i for i in incidents if i.rps_gil_on is not None]
    if gil_on:
        text += " With the GIL on, " + "; ".join(f"{i.server} served {i.rps_gil_on:.1f} rps" for i in gil_on) + "."
    refused = refusal_words(a.configs, scenario)
    if refused:
        text += f" {refused}."
    return Paragraph(text)


def verdict_block(a: Analysis, sc: ScenarioComparisons) -> tuple[Paragraph, str]:
    """The card's first paragraph and its tone (a CSS class)."""
    gil = _gil_verdict(a, sc.scenario)
    if gil is not None:
        return gil, "not-compared"
    if not sc.heads and any(search.scenario == sc.scenario for search in a.run.capacities):
        return (Paragraph("**A capacity run**: it measured the highest arrival rate each configuration sustains "
                          "at the SLO (open loop, below), not closed-loop throughput ratios."), "not-compared")
    if not sc.heads:
        return (Paragraph("**No valid 3.14t/3.14 pair to compare** in this scenario; the invalid cells and their "
                          "reasons are listed under Method and environment."), "not-compared")
    kinds = {_kind(c) for c in sc.heads}
    tone = kinds.pop() if len(kinds) == 1 else "mixed"
    sentences = [f"**{LEADS[tone]}.**"]
    for h in sc.heads:
        eff = ""
        if h.efficiency is not None and h.ideal is not None and h.candidate.is_cpu_bound:
            eff = f", efficiency {h.efficiency:.2f} of the {h.ideal:.2f}× ideal"
        procs = "".join(f"; against 3.14 × {p.baseline.workers} processes, {speed_words(p)}"
                        for p in sc.processes_for(h))
        sentences.append(f"On {h.server} at {h.users} users: {speed_words(h)}{eff}{procs}.")
    return Paragraph(" ".join(sentences)), tone


# --- the forest plot ------------------------------------------------------------------------


def forest_rows(sc: ScenarioComparisons) -> list[ForestRow]:
    rows = []
    for h in sc.heads:
        for c in (h, *sc.processes_for(h)):
            procs = c.kind == KIND_PROCESSES
            against = f"3.14 × {c.baseline.workers} processes" if procs else "3.14"
            s = c.speedup
            rows.append(ForestRow(f"{c.server} vs {against}", s.ratio, s.low, s.high, c.cores_ratio, procs))
    return rows


def forest_block(a: Analysis, sc: ScenarioComparisons, chart: ChartMaker) -> Chart | None:
    cores = a.run.usable_cores
    users = sorted({c.users for c in sc.all})
    made = chart(forest_chart(forest_rows(sc), cores), f"forest-{slug(sc.scenario)}",
                 f"{sc.scenario}: 3.14t ÷ baseline throughput at {'/'.join(map(str, users))} users, with 95% "
                 f"intervals. The red tick is each pair's ideal (the cores 3.14t could use ÷ the cores the "
                 f"baseline used); the dotted line marks the {cores} usable core(s), the ideal over a baseline "
                 f"that kept one core busy.")
    return None if made is None else dataclasses.replace(made, svg=fluid_svg(made.svg, "forest"))


# --- capacity, memory, diagnosis ------------------------------------------------------------


def _rps(v: float) -> str:
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def _capacity_line(e: CapacitySummary) -> str:
    if e.max_rps_at_slo is None:
        lowest = f" (the lowest rate tried was {_rps(e.bracket_high)} rps)" if e.bracket_high is not None else ""
        return f"{e.configuration}: no rate tried kept p95 under the SLO{lowest}"
    if e.bracket_high is None:
        why = "an invalid window stopped the search" if e.limited_by is not None else "no rate tried failed"
        line = f"{e.configuration}: **at least {_rps(e.max_rps_at_slo)} rps** ({why})"
    elif e.method == "fit":
        interval = (f"95% CI {_rps(e.ci_low)}–{_rps(e.ci_high)}" if e.ci_low is not None and e.ci_high is not None
                    else "no bounded interval")
        tested = (f"; rates tested {_rps(e.bracket_low)} and {_rps(e.bracket_high)}" if e.bracket_low is not None
                  else "")
        line = f"{e.configuration}: **about {_rps(e.max_rps_at_slo)} rps** ({interval}{tested})"
    else:
        stopped = "; an invalid window stopped the search" if e.limited_by is not None else ""
        line = f"{e.configuration}: **{_rps(e.max_rps_at_slo)} rps**"
        if e.bracket_low is not None:
            line += f" (between {_rps(e.bracket_low)} and {_rps(e.bracket_high)}{stopped})"
    extras = [f"p95 {e.p95_ms_at_max:.0f} ms near it" if e.p95_ms_at_max is not None else "",
              f"{_rps(e.rps_per_core)} rps per core" if e.rps_per_core is not None else "",
              f"{_rps(e.rps_per_gb)} rps per GB of PSS" if e.rps_per_gb is not None else ""]
    return ", ".join([line, *(x for x in extras if x)])


def _ratio_line(r: CapacityRatio) -> str:
    if r.ratio is None:
        return f"{r.candidate.label} ÷ {r.baseline.label}: {r.invalid_reason or 'no ratio'}"
    bound = "" if r.bound in (None, "measured") else f"{r.bound} "
    interval = (f" (95% CI {r.ci_low:.2f}–{r.ci_high:.2f})" if r.ci_low is not None and r.ci_high is not None
                else " (no bounded interval)")
    return f"{r.candidate.label} ÷ {r.baseline.label}: **{bound}{r.ratio:.2f}×**{interval}"


def capacity_blocks(entries: Sequence[CapacitySummary], scenario: str, slo_ms: float,
                    ratios: Sequence[CapacityRatio] = ()) -> list[CardBlock]:
    mine = [e for e in entries if e.scenario == scenario and e.phase != "screen"]
    head = f"**Capacity at p95 < {slo_ms:g} ms**"
    if not mine:
        return [Paragraph(f"{head}: not measured in this run (run `{CAPACITY_COMMAND}`).")]
    fitted = any(e.method == "fit" for e in mine)
    words = ("the arrival rate at which 5% of the arrivals went without a good answer within the SLO, estimated "
             "from every step of each search: the 95% CI is its statistical uncertainty, the rates tested are the "
             "search's resolution." if fitted else
             "the highest arrival rate whose p95 stayed under the SLO; the two rates in brackets are the search's "
             "resolution.")
    shown = [r for r in ratios if r.scenario == scenario and r.phase != "screen"]
    return [Paragraph(f"{head}: {words}"), Bullets(tuple(_capacity_line(e) for e in mine)),
            *([Bullets(tuple(_ratio_line(r) for r in shown))] if shown else [])]


def _server_in_words(c: ConfigSummary) -> str:
    """``one 3.14t process`` or ``3.14 × 2 processes``; the label where words would hide a setting."""
    if c.parallelism == "processes":
        return f"{c.interpreter} × {c.workers} processes"
    return f"one {c.interpreter} process" if c.workers == 1 and c.python_gil_env is None else c.label


def _memory_line(h: Comparison, procs: Sequence[Comparison]) -> str:
    """One server's memory: the 3.14t configuration, then each baseline with 3.14t's difference to it."""
    def mb(c: ConfigSummary) -> str:
        return f"{c.memory_mb.mean:.0f} MB" if c.memory_mb else "not sampled"

    parts = [f"{_server_in_words(h.candidate)} {mb(h.candidate)}"]
    for c in (h, *procs):
        diff = f" (3.14t {fmt_pct(c.memory_ratio)})" if c.memory_ratio is not None else ""
        parts.append(f"{_server_in_words(c.baseline)} {mb(c.baseline)}{diff}")
    return f"{h.server}: " + ", ".join(parts)


def memory_blocks(sc: ScenarioComparisons) -> list[CardBlock]:
    if not sc.heads:
        return []
    measure = "PSS" if any(c.candidate.pss_mb for c in sc.all) else "RSS"
    why = ("PSS splits shared pages between the processes that share them" if measure == "PSS"
           else "this run did not sample PSS")
    return [Paragraph(f"**Memory**: peak {measure} of each server, all its processes together ({why})."),
            Bullets(tuple(_memory_line(h, sc.processes_for(h)) for h in sc.heads))]


def diagnosis_blocks(lines: Sequence[str] | None) -> list[CardBlock]:
    head = "**Why it scales or not**"
    if not lines:
        return [Paragraph(f"{head}: not diagnosed in this run.")]
    return [Paragraph(f"{head}:"), Bullets(tuple(lines))]


def safety_blocks(a: Analysis, scenario: str) -> list[CardBlock]:
    """The "safe to move?" line, and each race with what to change (a team's scenarios, or a run that checked)."""
    line = safe_to_move(a.run.safety, team_service=scenario in a.run.settings.team_scenarios, growths=a.memory)
    if line is None:
        return []
    question, _, answer = line.partition("? ")
    races = race_lines(a.run.safety) if a.run.safety is not None else []
    return [Paragraph(f"**{question}?** {answer}"), *([Bullets(tuple(races))] if races else [])]


# --- assembly -------------------------------------------------------------------------------


def scenario_card(a: Analysis, scenario: str, chart: ChartMaker, diagnosis: Sequence[str]) -> Card:
    sc = scenario_comparisons(a, scenario)
    decision = a.decision(scenario)
    if decision is not None:
        gil = _gil_verdict(a, scenario)
        opening: list[CardBlock] = [*decision_blocks(decision), *([gil] if gil is not None else [])]
        colour = tone(decision)
    else:
        verdict, colour = verdict_block(a, sc)
        opening = [verdict]
    forest = forest_block(a, sc, chart)
    blocks: list[CardBlock] = [*opening, *safety_blocks(a, scenario), *([forest] if forest else []),
                               *capacity_blocks(a.summary.capacity, scenario, a.slo_ms, a.summary.capacity_ratios),
                               *memory_blocks(sc),
                               *diagnosis_blocks(diagnosis)]
    return Card(f"card-{slug(scenario)}", scenario, tuple(blocks), colour)


def card_diagnosis(a: Analysis, scenario: str) -> list[str]:
    """Each finding of the scenario in one line (server, title, evidence): what its card shows."""
    return [f"{d.server}: {f.title}. {f.detail}" + (f" (evidence: {evidence_text(f.evidence)})" if f.evidence else "")
            for d in a.diagnoses if d.scenario == scenario
            for f in d.findings]


def summary_section(a: Analysis, chart: ChartMaker) -> Section:
    """The unnumbered section the report opens with: an introduction and one card per scenario."""
    cores = a.run.usable_cores
    intro = Paragraph(f"One card per scenario: the decision (move, stay or not yet) with the evidence it weighed "
                      f"and what would change it, the throughput ratios with their 95% intervals against what "
                      f"{cores} usable core(s) allow, capacity at the p95 SLO, memory, and why it scales or not. "
                      f"Measured on {cores} usable core(s) of {a.run.machine.cpu_model}; the numbered sections "
                      f"below hold every figure and how it was measured.")
    cards = tuple(scenario_card(a, s, chart, card_diagnosis(a, s)) for s in a.scenarios)
    safety = safety_tables(a.run.safety, with_answer=not cards, growths=a.memory) if a.run.safety is not None else []
    soak = soak_blocks(a, chart(soak_chart(a.memory), "soak-memory",
                                "Memory of each interpreter's server under the soak's steady load, side by side"))
    return Section("summary", "The decision, per scenario", (intro, *cards, *fault_blocks(a), *soak, *safety))
