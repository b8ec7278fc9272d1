"""Move, stay, or not yet: the decision of each scenario, weighed from everything the run measured.

The rule (docs/report.md states it for readers):

1. **The candidate and the alternative.** The alternative is what the team would
   otherwise run: the 3.14 configuration with the most throughput in the scenario, one
   process or N worker processes, on whichever server. Each server's headline 3.14t
   configuration is compared with it (paired where they alternated, else through the
   ratio of their means), and the 3.14t configuration with the best ratio is weighed.
2. **Speed.** Against that stronger alternative, 3.14t is *faster* (the 95% interval
   lies above 1), *slower* (below 1), *as fast* (the interval holds 1), or *unknown*
   (no interval: one pair).
3. **The verdict from speed and memory.** Faster: move. Slower: stay on the alternative.
   As fast: move only when the alternative is N processes, 3.14t needs at least 5%
   less memory (one process instead of N) and the interval's low end shows it gives up at
   most 15% of the throughput (:data:`MOVE_LOSS_MARGIN`); with a wider interval, not yet
   (the run cannot tell what the move would cost); otherwise stay, there is nothing to
   gain. Unknown: not yet (measure more pairs).
4. **What blocks a move.** A move becomes *not yet* when the GIL came back on in 3.14t,
   when something goes wrong on 3.14t only: a race (answers wrong only without the GIL,
   a test failing in threads on 3.14t only), a crash, a hang, memory that grows; and,
   for a team's own service, when its answers were not checked under parallel load.
   Problems both interpreters show are listed, not held against 3.14t: they need fixing
   either way.
5. **No comparison.** Without a valid 3.14t/3.14 pair the verdict is *not yet*, with the
   reason (the GIL came back on, a server crashed or hung, every window invalid). A
   capacity run, which measures rates at the SLO rather than ratios, gets no decision.

Each decision lists its evidence (every comparison, memory, the GIL, races, crashes,
hangs, growth) with how it counted, and what would change the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loadtests.analysis.configs import compare_configs
from loadtests.analysis.figures.claims import GilIncident
from loadtests.analysis.figures.configs import KIND_INTERPRETER, KIND_PROCESSES, Comparison
from loadtests.analysis.figures.decision import Evidence, ScenarioDecision, Verdict, Weight
from loadtests.analysis.figures.memory import MemoryGrowth
from loadtests.core.flavour import FT, GIL
from loadtests.core.wording import format_interval, verdict
from loadtests.results.records import Cell, RunRecord
from loadtests.results.records.safety import CheckFailure, ResponsesCheck, SuiteCheck
from loadtests.results.records.soak import SoakCheck

#: Memory that differs by less than this is "the same" (a share, 0.05 = 5%).
MEMORY_MARGIN = 0.05
#: A move for memory alone must show it costs at most this share of the throughput (the interval's low end).
#: Without it, an interval of 0.48-2.07 would read "as fast" and flip the decision from one run to the next.
MOVE_LOSS_MARGIN = 0.15
SAFETY_COMMAND = "gil-lab safety"


def ratio_words(c: Comparison) -> str:
    """``1.77× faster (95% CI 1.69–1.86)``, ``1.14× slower (ratio 0.88×, 95% CI 0.85–0.91)``, or not significant."""
    s = c.speedup
    interval = f"{s.confidence:.0%} CI {format_interval(s.low, s.high)}" if s.has_interval else "n=1, no interval"
    if s.significant is False:
        return f"not significantly different (ratio {s.ratio:.2f}×, {interval})"
    word = verdict(s).split(" (")[0]
    return f"{word} ({interval})" if s.ratio >= 1 else f"{word} (ratio {s.ratio:.2f}×, {interval})"


def baseline_words(c: Comparison) -> str:
    """What the team would otherwise run: ``3.14 × 2 processes on uvicorn`` or ``one 3.14 process on granian``."""
    b = c.baseline
    if c.kind == KIND_PROCESSES or b.parallelism == "processes":
        return f"3.14 × {b.workers} processes on {b.server}"
    return f"one 3.14 process on {b.server}"


def speed_of(c: Comparison) -> str:
    """faster, slower, tie or unknown: 3.14t against this baseline."""
    direction = c.speedup.direction
    return "tie" if direction == "not significant" else direction


def _pct(ratio: float) -> str:
    return f"{abs(ratio - 1):.0%}"


def _memory_weight(ratio: float | None) -> Weight:
    if ratio is None:
        return "unknown"
    if ratio < 1 - MEMORY_MARGIN:
        return "for"
    return "against" if ratio > 1 + MEMORY_MARGIN else "neutral"


@dataclass(frozen=True)
class _Inputs:
    """What every scenario's decision reads: the run, its comparisons, GIL incidents and memory growth."""

    run: RunRecord
    headlines: Sequence[Comparison]
    comparisons: Sequence[Comparison]
    incidents: Sequence[GilIncident]
    memory: Sequence[MemoryGrowth]


def decide(run: RunRecord, scenarios: Sequence[str], headlines: Sequence[Comparison],
           comparisons: Sequence[Comparison], incidents: Sequence[GilIncident],
           memory: Sequence[MemoryGrowth]) -> tuple[ScenarioDecision, ...]:
    """One decision per scenario that has one (a capacity run's scenarios have none)."""
    inputs = _Inputs(run, headlines, comparisons, incidents, memory)
    return tuple(d for d in (_decide(inputs, s) for s in scenarios) if d is not None)


def _decide(x: _Inputs, scenario: str) -> ScenarioDecision | None:
    heads = [c for c in x.headlines if c.scenario == scenario]
    safety = _safety_evidence(x, scenario)
    if not heads:
        return _without_pair(x, scenario, safety)
    ft_ids = {h.candidate.config_id for h in heads}
    procs = [c for c in x.comparisons if c.kind == KIND_PROCESSES and c.candidate.config_id in ft_ids]
    measured = [*heads, *procs]
    best, alt = _weighed(x.run, measured)
    own = [c for c in measured if c.candidate is best.candidate]
    evidence = [*_speed_evidence(measured, alt), *_memory_evidence(best, [*own, *([] if alt in own else [alt])]),
                *_gil_evidence(x, scenario), *safety]
    verdict_, (headline, because), change = _from_speed(best, alt, [c for c in measured
                                                                     if c.candidate is best.candidate])
    blockers = [e for e in evidence if e.weight == "blocks"]
    if verdict_ == "move" and blockers:
        verdict_, headline = "not yet", "Not yet"
        because = (f"3.14t on {best.server} would serve {alt.speedup.ratio:.2f}× as much as {baseline_words(alt)}, "
                   "but " + "; ".join(_short(e) for e in blockers))
        change = [_fix(e) for e in blockers]
    elif verdict_ == "move":
        unchecked = [e.topic for e in evidence if e.weight == "unknown" and e.topic != "memory"]
        if unchecked:
            change.append(f"a problem only 3.14t shows, in what this run did not check: {', '.join(unchecked)}")
    return ScenarioDecision(scenario=scenario, verdict=verdict_, headline=headline, because=because,
                            evidence=tuple(evidence), would_change=tuple(change), candidate=best.candidate.label,
                            alternative=baseline_words(alt))


def _weighed(run: RunRecord, measured: Sequence[Comparison]) -> tuple[Comparison, Comparison]:
    """Rule 1: the best 3.14t candidate, and its comparison with the strongest thing the team would otherwise run.

    The strongest alternative is the 3.14 configuration with the most throughput, whichever server it ran on. A
    candidate that never alternated with it is compared through the ratio of their means (windows measured apart).
    """
    alternatives = {c.baseline.config_id: c.baseline for c in measured}
    strongest = max(alternatives.values(), key=lambda b: b.rps.mean if b.rps else 0.0)
    against: list[Comparison] = []
    for cand in {c.candidate.config_id: c.candidate for c in measured}.values():
        found = next((c for c in measured if c.candidate is cand and c.baseline.config_id == strongest.config_id),
                     None)
        kind = KIND_PROCESSES if strongest.parallelism == "processes" else KIND_INTERPRETER
        found = found or compare_configs(run, kind, cand, strongest)
        if found is not None:
            against.append(found)
    if not against:  # no candidate has windows beside the strongest: weigh each against its own baseline
        against = list(measured)
    best = max(against, key=lambda c: c.speedup.ratio)
    return next(c for c in measured if c.candidate is best.candidate), best


Said = tuple[str, str]  # (headline, because)


def _from_speed(best: Comparison, alt: Comparison, both: Sequence[Comparison]) -> tuple[Verdict, Said, list[str]]:
    """The verdict from speed and memory alone, its headline and what would change it (rule 3)."""
    speed, s, where = speed_of(alt), alt.speedup, baseline_words(alt)
    interval = format_interval(s.low, s.high)
    if speed == "unknown":
        return ("not yet", ("Not yet", f"one pair cannot tell 3.14t on {best.server} from {where} (ratio "
                                       f"{s.ratio:.2f}×, no interval)"), ["more pairs: `--repeats 5`, or `--precision 0.10` to alternate until "
                                             "the interval is that narrow"])
    if speed == "slower":
        change = [f"3.14t serving {1 / s.ratio:.2f}× what it does now: the gap to {where}"]
        if alt.memory_ratio is not None and alt.memory_ratio < 1 - MEMORY_MARGIN:
            change.append(f"memory mattering more than throughput: 3.14t needs {_pct(alt.memory_ratio)} less "
                          f"than {where}")
        return ("stay", (f"Stay on {where}", f"it served {1 / s.ratio:.2f}× as much as 3.14t on {best.server} "
                                             f"(ratio {s.ratio:.2f}×, 95% CI {interval})"), change)
    if speed == "tie":
        saved = alt.memory_ratio if alt.kind == KIND_PROCESSES else None  # one 3.14t process's memory ÷ N processes'
        if saved is not None and saved < 1 - MEMORY_MARGIN:  # one leaner process: a move, if its cost is bounded
            if s.low is not None and s.low < 1 - MOVE_LOSS_MARGIN:
                return ("not yet", ("Not yet", f"3.14t on {best.server} needs {_pct(saved)} less memory than {where}, "
                                               "but the run cannot tell what it would cost in throughput (ratio "
                                               f"{s.ratio:.2f}×, 95% CI {interval}: as low as {s.low:.2f}×)"),
                        [f"an interval whose low end is at least {1 - MOVE_LOSS_MARGIN:.2f}×: more pairs "
                         "(`--precision 0.10`) or server instances (`--instances 3`) narrow it"])
            return ("move", (f"Move to 3.14t on {best.server}", f"as fast as {where} (ratio {s.ratio:.2f}×, 95% CI "
                                                                 f"{interval}) with {_pct(saved)} less memory"),
                    [f"a measurable difference in speed: the interval {interval} holds 1, and its low end is "
                     f"where {where} would be faster"])
        return ("stay", (f"Stay on {where}", f"3.14t on {best.server} is no faster (ratio {s.ratio:.2f}×, 95% CI "
                                             f"{interval})"), [f"a measurable gain: the interval {interval} holds 1; more pairs "
                                          "(`--precision`) narrow it"])
    others = [c for c in both if c is not alt]
    also = "".join(f" and {c.speedup.ratio:.2f}× as much as {baseline_words(c)}" for c in others)
    return ("move", (f"Move to 3.14t on {best.server}", f"it served {s.ratio:.2f}× as much as {where} (95% CI "
                                                        f"{interval}){also}"), [f"a lead that does not hold: against {where} the interval reaches down "
                                            f"to {s.low:.2f}×" if s.low is not None else "a lead that does not hold"])


SPEED_WEIGHTS: dict[str, Weight] = {"faster": "for", "slower": "against", "tie": "neutral", "unknown": "unknown"}


def _speed_evidence(measured: Sequence[Comparison], alt: Comparison) -> list[Evidence]:
    """Every comparison the run measured, and the weighed one where it was not measured side by side."""
    out = []
    for c in [*measured, *([] if alt in measured else [alt])]:
        eff = ""
        if c.kind == KIND_INTERPRETER and c.efficiency is not None and c.ideal is not None \
                and c.candidate.is_cpu_bound and c.candidate.server == c.baseline.server:
            eff = f", efficiency {c.efficiency:.2f} of the {c.ideal:.2f}× ideal"
        apart = "" if c.paired or c in measured else " (never side by side: the ratio of their means)"
        out.append(Evidence("speed", f"3.14t on {c.server} at {c.users} users against {baseline_words(c)}: "
                                     f"{ratio_words(c)}{eff}{apart}", SPEED_WEIGHTS[speed_of(c)]))
    return out


def _memory_evidence(best: Comparison, both: Sequence[Comparison]) -> list[Evidence]:
    mine = best.candidate.memory_mb
    if mine is None:
        return [Evidence("memory", "not sampled in this run", "unknown")]
    measure = best.candidate.memory_measure
    out = []
    for c in both:
        theirs = c.baseline.memory_mb
        if theirs is None or c.memory_ratio is None:
            continue
        more = "more" if c.memory_ratio >= 1 else "less"
        out.append(Evidence("memory", f"3.14t on {c.server} {mine.mean:.0f} MB peak {measure}, {baseline_words(c)} "
                                      f"{theirs.mean:.0f} MB: 3.14t needs {_pct(c.memory_ratio)} {more}",
                            _memory_weight(c.memory_ratio)))
    return out


def _gil_evidence(x: _Inputs, scenario: str) -> list[Evidence]:
    mine = [i for i in x.incidents if i.scenario == scenario]
    if not mine:
        return [Evidence("GIL", "stayed off in every 3.14t window", "for")]
    modules = sorted({m for i in mine for m in i.modules}) or ["a module the server did not name"]
    return [Evidence("GIL", f"came back on in 3.14t, enabled by {', '.join(modules)}", "blocks")]


def _cells(run: RunRecord, scenario: str) -> list[Cell]:
    return [c for c in run.cells if c.config.scenario == scenario]


def _by_side(found: dict[str, list[str]], topic: str, none: str) -> Evidence:
    """Evidence for crashes or hangs found per interpreter: 3.14t only blocks, both is listed."""
    ft, gil = found.get(FT.label, []), found.get(GIL.label, [])
    if not ft and not gil:
        return Evidence(topic, none, "for")
    parts = [f"{label}: {'; '.join(dict.fromkeys(items))}" for label, items in ((FT.label, ft), (GIL.label, gil))
             if items]
    if ft and not gil:
        return Evidence(topic, f"on 3.14t only ({'; '.join(parts)})", "blocks")
    if gil and not ft:
        return Evidence(topic, f"on 3.14 only ({'; '.join(parts)})", "neutral")
    return Evidence(topic, f"on both interpreters ({'; '.join(parts)}): fix it whichever you run", "neutral")


def _soak(run: RunRecord) -> SoakCheck | None:
    soak = run.safety.soak if run.safety is not None else None
    return soak if isinstance(soak, SoakCheck) else None


def _safety_evidence(x: _Inputs, scenario: str) -> list[Evidence]:
    run, cells, soak = x.run, _cells(x.run, scenario), _soak(x.run)
    out = []
    if scenario in run.settings.team_scenarios or (run.safety is not None and run.safety.responses is not None):
        out += _race_evidence(run)
    crashes: dict[str, list[str]] = {}
    hangs: dict[str, list[str]] = {}
    for c in cells:
        if c.crash is not None:
            where = ", ".join(sorted({r.endpoint for r in c.crash.in_flight})) or "nothing"
            crashes.setdefault(c.config.interpreter, []).append(f"{c.crash.fatal} with {where} in flight")
        if c.hang is not None:
            where = ", ".join(sorted({r.endpoint for r in c.hang.in_flight}))
            hangs.setdefault(c.config.interpreter, []).append(f"{where} over {c.hang.bound_s:g} s")
    for s in soak.series if soak is not None else ():
        if s.crash is not None:
            crashes.setdefault(s.interpreter, []).append(f"{s.crash.fatal} during the soak")
        if s.hang is not None:
            hangs.setdefault(s.interpreter, []).append("a request hung during the soak")
    windows = len(cells)
    out.append(_by_side(crashes, "crashes", f"none in {windows} windows" + (" and the soak" if soak else "")))
    out.append(_by_side(hangs, "hangs", f"none in {windows} windows" + (" and the soak" if soak else "")))
    out.append(_growth_evidence(x.memory, soak))
    return out


def _race_evidence(run: RunRecord) -> list[Evidence]:
    safety = run.safety
    responses = safety.responses if safety is not None else None
    tests = safety.tests if safety is not None else None
    out = []
    if isinstance(responses, ResponsesCheck):
        ft_only = [e.endpoint for e in responses.endpoints if e.classification == "wrong-without-gil"]
        both = [e.endpoint for e in responses.endpoints if e.classification == "wrong-under-concurrency"]
        compared = sum(a.requests for e in responses.endpoints for a in e.arms)
        if ft_only:
            out.append(Evidence("races", f"{', '.join(ft_only)} answered wrong only without the GIL", "blocks"))
        if both:
            out.append(Evidence("races", f"{', '.join(both)} answered wrong under concurrency on both interpreters: "
                                         "fix it whichever you run", "neutral"))
        if not ft_only and not both:
            out.append(Evidence("races", f"no wrong answer in {compared} compared under parallel load", "for"))
    elif isinstance(responses, CheckFailure):
        out.append(Evidence("races", f"the response check could not run ({responses.error.splitlines()[0][:120]})",
                            "blocks"))
    else:
        out.append(Evidence("races", f"answers not checked under parallel load in this run (`{SAFETY_COMMAND}`)",
                            "blocks"))
    if isinstance(tests, SuiteCheck):
        ft_tests = [t.nodeid for t in tests.tests if t.is_race and "3.14t" in (t.decided_by or "")
                    and t.classification != "fails-parallel-both"]
        if ft_tests:
            out.append(Evidence("races", f"tests failing in threads on 3.14t only: {', '.join(ft_tests)}", "blocks"))
    return out


def _growth_evidence(memory: Sequence[MemoryGrowth], soak: SoakCheck | None) -> Evidence:
    if soak is None:
        return Evidence("memory growth", "not soaked in this run (`--soak 10m`)", "unknown")
    words = []
    for g in memory:
        if g.slope_mb_per_1000 is None:
            words.append(f"{g.interpreter}: no trend ({g.why_unknown})")
        else:
            state = "grows" if g.grows else "does not grow"
            words.append(f"{g.interpreter} {state}, {g.slope_mb_per_1000:+.2f} MB per 1,000 requests "
                         f"(95% CI {g.ci_low:+.2f} to {g.ci_high:+.2f})")
    grows = {g.interpreter for g in memory if g.grows}
    weight: Weight = "blocks" if FT.label in grows and GIL.label not in grows else (
        "neutral" if grows else ("for" if all(g.known for g in memory) and memory else "unknown"))
    return Evidence("memory growth", f"after the plateau of a {soak.duration_s:g}s soak: " + "; ".join(words),
                    weight)


def _without_pair(x: _Inputs, scenario: str, safety: list[Evidence]) -> ScenarioDecision | None:
    """Rule 5: no valid pair. A capacity run gets no decision."""
    run = x.run
    if any(c.scenario == scenario for c in run.capacities):
        return None
    if not _cells(run, scenario) and not any(i.scenario == scenario for i in x.incidents):
        return None
    gil = _gil_evidence(x, scenario)
    evidence = [*gil, *safety]
    blockers = [e for e in evidence if e.weight == "blocks"]
    if blockers:
        because = "; ".join(_short(e) for e in blockers) + ", so no valid 3.14t/3.14 pair was measured"
        change = [_fix(e) for e in blockers]
    else:
        reasons = sorted({c.invalid_reason or "" for c in _cells(run, scenario) if not c.valid} - {""})
        because = "no valid 3.14t/3.14 pair was measured" + (f" ({reasons[0]})" if reasons else "")
        change = ["valid windows on both sides: the invalid cells and their reasons are listed under Method and "
                  "environment"]
    return ScenarioDecision(scenario=scenario, verdict="not yet", headline="Not yet", because=because,
                            evidence=tuple(evidence), would_change=tuple(change))


def _short(e: Evidence) -> str:
    """A blocker as a clause of the headline."""
    if e.topic == "GIL":
        return f"the GIL {e.text}"
    if e.topic in ("crashes", "hangs"):
        noun = "the server crashed" if e.topic == "crashes" else "requests hung"
        return f"{noun} {e.text}"
    if e.topic == "memory growth":
        return "memory grows on 3.14t only"
    return e.text


def _fix(e: Evidence) -> str:
    """What would lift a blocker."""
    if e.topic == "GIL":
        return ("an extension that keeps the GIL off: upgrade or replace the module that turns it on (the GIL "
                "incidents list it with its remedies)")
    if e.topic == "crashes":
        return "the crash fixed: its traceback, with the endpoints in flight, is in the crashes below"
    if e.topic == "hangs":
        return "the hang fixed: every thread's stack shows where they wait (the hangs below)"
    if e.topic == "memory growth":
        return "memory that stops growing on 3.14t (the memory chart shows where it climbs)"
    if "not checked" in e.text or "could not run" in e.text:
        return f"the answers checked under parallel load: `{SAFETY_COMMAND}` (or compare with --locustfile)"
    return "the race fixed: each race below says what to change"
