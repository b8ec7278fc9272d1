"""The verdict in words: one paragraph per run, and the short formats every table shares."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.configs import CONTENDED_SCENARIO, KIND_PROCESSES, Comparison, ConfigSummary
from loadtests.analysis.figures.stats import MeanCI
from loadtests.core.wording import format_interval, format_mean_ci, verdict


def refusal_words(configs: Sequence[ConfigSummary], scenario: str) -> str | None:
    """The servers that refused to start on ``scenario``, in words (the only refusal is of the GIL on 3.14t)."""
    refused = sorted({c.server for c in configs if c.scenario == scenario and c.refusals})
    if not refused:
        return None
    return (f"{' and '.join(refused)} refused to start, as {'it does' if len(refused) == 1 else 'they do'} when "
            "the GIL is on in a free-threaded build")


def fmt_ci(m: MeanCI | None, digits: int = 1) -> str:
    return "—" if m is None else format_mean_ci(m, digits)


def fmt_pct(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio - 1:+.0%}"


def fmt_n(c: ConfigSummary) -> str:
    total = c.n_valid + len(c.invalid)
    return f"{c.n_valid}/{total}"


def speed_words(c: Comparison) -> str:
    """``1.84× faster (95% CI 1.76–1.92×)`` or ``1.07× slower (ratio 0.93×, 95% CI 0.89–0.98)``."""
    v = verdict(c.speedup)
    s = c.speedup
    ci = f"{s.confidence:.0%} CI {format_interval(s.low, s.high)}" if s.has_interval else "n=1, no interval"
    if v == "not significant":
        return f"not significantly different (ratio {s.ratio:.2f}×, {ci})"
    if not s.has_interval:
        return v
    return f"{v} ({ci})" if s.ratio >= 1 else f"{v} (ratio {s.ratio:.2f}×, {ci})"


def less_more(ratio: float | None) -> str:
    if ratio is None:
        return "unknown memory"
    d = ratio - 1
    return f"{abs(d):.0%} {'more' if d >= 0 else 'less'} memory"


# --- section 1: verdict ---------------------------------------------------------------


def verdict_paragraph(a: Analysis) -> str:
    """One paragraph: per scenario, faster or not, by how much, at what memory cost."""
    procs = [c for c in a.comparisons if c.kind == KIND_PROCESSES]
    cores = a.run.usable_cores
    parts = []
    for s in a.scenarios:
        mine = [c for c in a.headlines if c.scenario == s]
        incidents = [i for i in a.claims.incidents if i.scenario == s]
        if incidents:
            mods = sorted({m for i in incidents for m in i.modules}) or ["an unreported module"]
            sentence = (f"**{s}**: the GIL came back on in 3.14t (enabled by {', '.join(mods)}), "
                        "so its free-threaded cells are invalid and not compared")
            for incident in (i for i in incidents if i.rps_gil_on is not None):
                beside = ", ".join(f"{label} {rps:.1f}" for label, rps in incident.references)
                sentence += (f"; with the GIL on, {incident.server} served {incident.rps_gil_on:.1f} rps"
                             + (f" (valid cells served the same way: {beside} rps)" if beside else ""))
            refused = refusal_words(a.configs, s)
            if refused:
                sentence += f"; {refused}"
            parts.append(sentence + ".")
            continue
        if not mine and any(search.scenario == s for search in a.run.capacities):
            parts.append(f"**{s}**: a capacity run (open loop), compared at the SLO in the capacity section.")
            continue
        if not mine:
            parts.append(f"**{s}**: no valid 3.14t/3.14 pair to compare.")
            continue
        bits = []
        for c in mine:
            eff = ""
            if c.efficiency is not None and c.candidate.is_cpu_bound:
                eff = f", efficiency {c.efficiency:.2f} on {cores} cores"
            bits.append(f"{speed_words(c)} on {c.server} at {c.users} users{eff}")
        rss = [c.memory_ratio for c in mine if c.memory_ratio is not None]
        sentence = f"**{s}**: 3.14t is " + "; ".join(bits)
        if rss:
            sentence += f", using {less_more(statistics.median(rss))} than 3.14"
        if not mine[0].candidate.is_cpu_bound and "async" in s:
            sentence += " (the `async` reference: CPU work on the event loop scales on no interpreter)"
        if s == CONTENDED_SCENARIO:
            sentence += (" (the `contended` reference: the compute loop reading a module-level object every thread "
                         "shares and that is not immortal, so on 3.14t each read writes its reference count from "
                         "every core; it is what compute becomes when its module is compiled from source)")
        top = [p for p in procs if p.scenario == s and p.users == max(m.users for m in mine)]
        if top:
            p = top[0]
            sentence += (f"; against 3.14 with {p.baseline.workers} processes it is {speed_words(p)}, "
                         f"using {less_more(p.memory_ratio)}")
        parts.append(sentence + ".")
    ceiling = (f"Measured on {cores} usable core(s) of {a.run.machine.cpu_model}: "
               f"no speedup here can exceed {cores}×.")
    n_invalid = len(a.invalid_cells)
    tail = f" {n_invalid} invalid cell(s) are excluded and listed in section 8." if n_invalid else ""
    return " ".join(parts) + " " + ceiling + tail if parts else "This run has no cells to compare." + tail


def fmt_ratio(c: Comparison) -> str:
    """``1.84× (1.76–1.92)``: the ratio and its interval, short enough for a table cell."""
    s = c.speedup
    return f"{s.ratio:.2f}× ({format_interval(s.low, s.high)})" if s.has_interval else f"{s.ratio:.2f}× (n=1)"


def fmt_eff(c: Comparison) -> str:
    """Efficiency against the ideal (cores the candidate could use ÷ cores the baseline used)."""
    if c.efficiency is None or c.ideal is None or not c.candidate.is_cpu_bound:
        return "—"
    return f"{c.efficiency:.2f} (of {c.ideal:.2f}×)"
