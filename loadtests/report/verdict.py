"""The verdict in words: one paragraph per run, and the short formats every table shares."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from loadtests.analysis.configs import KIND_PROCESSES, Comparison, ConfigSummary, headline, invalid_cells
from loadtests.analysis.run_analysis import Analysis
from loadtests.analysis.stats import MeanCI, format_interval, format_mean_ci, verdict
from loadtests.results.records import CapacitySummary, RatioBound, TunedSummary


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
    heads = headline(a.comparisons)
    procs = [c for c in a.comparisons if c.kind == KIND_PROCESSES]
    cores = a.run.usable_cores
    parts = []
    for s in a.scenarios:
        mine = [c for (scen, _), c in heads.items() if scen == s]
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
        top = [p for p in procs if p.scenario == s and p.users == max(m.users for m in mine)]
        if top:
            p = top[0]
            sentence += (f"; against 3.14 with {p.baseline.workers} processes it is {speed_words(p)}, "
                         f"using {less_more(p.memory_ratio)}")
        parts.append(sentence + ".")
    ceiling = (f"Measured on {cores} usable core(s) of {a.run.machine.cpu_model}: "
               f"no speedup here can exceed {cores}×.")
    n_invalid = len(invalid_cells(a.run))
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


def capacity_headlines(summary: Sequence[CapacitySummary]) -> list[str]:
    """Per scenario and server: "at p95 < 500 ms, one 3.14t process sustains X rps, against Y on 3.14 and Z on
    3.14 × N processes"."""
    groups: dict[tuple[str, str], list[CapacitySummary]] = {}
    for entry in summary:
        groups.setdefault((entry.scenario, entry.server), []).append(entry)
    lines = []
    for (scenario, server), entries in groups.items():
        ft = next((e for e in entries if e.interpreter == "3.14t" and "×" not in e.configuration), None)
        if ft is None:
            continue
        against = " and ".join(f"{_sustains(e.max_rps_at_slo, e.is_lower_bound)} on {e.configuration}"
                               for e in entries if e is not ft)
        lines.append(f"{scenario} on {server}: at p95 < {ft.slo_ms:g} ms, {_one_ft_process(ft.configuration)} "
                     f"sustains {_sustains(ft.max_rps_at_slo, ft.is_lower_bound)}"
                     + (f", against {against}" if against else ""))
    return lines


def untuned(capacity: Sequence[CapacitySummary], tuned: Sequence[TunedSummary]) -> list[CapacitySummary]:
    """The searches of scenarios and servers without a tuning: those keep the one-setting headline."""
    done = {(e.scenario, e.server) for e in tuned}
    return [e for e in capacity if (e.scenario, e.server) not in done]


def _one_ft_process(label: str | None) -> str:
    """``one 3.14t process``, naming the configuration when it is not one worker."""
    return "one 3.14t process" if label is None or " w1 " in f" {label} " else f"one 3.14t process ({label})"


def _sustains(rps: float | None, lower_bound: bool | None) -> str:
    if rps is None:
        return "an unknown rate (the search stopped on an invalid window)" if lower_bound else "nothing"
    return f"{'at least ' if lower_bound else ''}{rps:.1f} rps"


def ratio_words(value: float | None, bound: RatioBound | None) -> str:
    """``2.00×``, ``at least 2.00×``, ``at most 2.00×``: a ratio with a lower-bound capacity on a side is a bound."""
    if value is None:
        return "no ratio (a side has no capacity to divide by)"
    if bound == "unbounded":
        return f"{value:.2f}× (both sides lower bounds: no bound either way)"
    return f"{'' if bound in (None, 'measured') else bound + ' '}{value:.2f}×"


def _threads_words(entry: TunedSummary) -> str:
    threads = f"{entry.best_threads} thread{'s' * (entry.best_threads != 1)}"
    workers = entry.best_workers if entry.parallelism == "threads" and entry.best_workers > 1 else None
    return threads + (f" × {workers} workers" if workers else "") + (" (lower bound)" if entry.lower_bound else "")


def tuned_headlines(entries: Sequence[TunedSummary]) -> list[str]:
    """Per scenario and server that tried several settings, both comparisons, each labelled:

    "at equal settings (8 threads): at p95 < 500 ms, one 3.14t process sustains X rps, against Y rps on 3.14 ..."
    and "best against best (3.14 at 2 threads, 3.14t at 8 threads): ...".
    """
    groups: dict[str, list[TunedSummary]] = {}
    for entry in entries:
        groups.setdefault(entry.tuning_id, []).append(entry)
    lines = []
    for group in groups.values():
        first = group[0]
        where, slo = f"{first.scenario} on {first.server}", f"at p95 < {first.slo_ms:g} ms"
        ft = next((e for e in group if e.side == "3.14t"), None)
        if ft is None:
            best = ", ".join(f"{e.side} at {_threads_words(e)}" for e in group)
            lines.append(f"{where}: no 3.14t search to compare with; the best settings {slo}: {best}")
            continue
        others = [e for e in group if e is not ft]
        equal = [e for e in others if e.equal_threads is not None]
        if ft.equal_threads is None or not equal:
            lines.append(f"{where}, at equal settings: no thread limit was searched on both 3.14t and another side")
        else:
            lines.append(f"{where}, at equal settings ({ft.equal_threads} threads): {slo}, "
                         f"{_one_ft_process(ft.equal_configuration)} sustains "
                         f"{_sustains(ft.rps_at_equal, ft.equal_lower_bound)}"
                         + _against([(e, e.rps_at_equal, e.equal_lower_bound, e.ft_ratio_equal,
                                      e.ft_ratio_equal_bound) for e in equal]))
        settings = ", ".join(f"{e.side} at {_threads_words(e)}" for e in group)
        lines.append(f"{where}, best against best ({settings}): {slo}, {_one_ft_process(ft.best_configuration)} "
                     f"sustains {_sustains(ft.max_rps_at_slo, ft.lower_bound)}"
                     + _against([(e, e.max_rps_at_slo, e.lower_bound, e.ft_ratio_best, e.ft_ratio_best_bound)
                                 for e in others]))
    return lines


def _against(sides: Sequence[tuple[TunedSummary, float | None, bool | None, float | None, RatioBound | None]]) -> str:
    """``, against 11.0 rps on 3.14 and ... (3.14t ÷ 3.14 = 2.00×, ...)``: which ratio is which, by name."""
    if not sides:
        return ""
    rates = " and ".join(f"{_sustains(rps, bound)} on {e.side}" for e, rps, bound, _, _ in sides)
    ratios = ", ".join(f"3.14t ÷ {f'({e.side})' if ' ' in e.side else e.side} = {ratio_words(value, kind)}"
                       for e, _, _, value, kind in sides)
    return f", against {rates} ({ratios})"


TUNED_COLUMNS = ("scenario", "server", "side", "best setting", "max rps at p95 < SLO", "thread limits tried",
                 "at equal settings", "3.14t ÷ side, equal settings", "3.14t ÷ side, best against best", "note")


def tuned_row(entry: TunedSummary) -> tuple[str, ...]:
    """One side's best setting as the terminal and the report tabulate it (TUNED_COLUMNS)."""
    equal = equal_ratio = "—"
    if entry.equal_threads is not None:
        equal = f"{_sustains(entry.rps_at_equal, entry.equal_lower_bound)} at {entry.equal_threads} threads"
        equal_ratio = ratio_words(entry.ft_ratio_equal, entry.ft_ratio_equal_bound)
    best_ratio = ratio_words(entry.ft_ratio_best, entry.ft_ratio_best_bound)
    if entry.side == "3.14t":
        equal_ratio = best_ratio = "(3.14t: the numerator)"
    notes = (["its best is a lower bound (an invalid window stopped the search)"] if entry.lower_bound else []) + (
        [f"unsettled, only lower bounds: {', '.join(entry.unsettled)}"] if entry.unsettled else [])
    return (entry.scenario, entry.server, entry.side, entry.best_configuration,
            _sustains(entry.max_rps_at_slo, entry.lower_bound), ", ".join(map(str, entry.threads_tried)), equal,
            equal_ratio, best_ratio, "; ".join(notes) or "—")


def columns_at(columns: Sequence[str], slo_ms: float) -> tuple[str, ...]:
    """A capacity table's header with its SLO written in (``max rps at p95 < 500 ms``)."""
    return tuple(c.replace("SLO", f"{slo_ms:g} ms") for c in columns)


CAPACITY_COLUMNS = ("scenario", "server", "configuration", "max rps at p95 < SLO", "bracket (rps)",
                    "p95 at max, ms (95% CI)", "rps per busy core", "rps per GB (PSS)")


def capacity_row(entry: CapacitySummary) -> tuple[str, ...]:
    """One capacity search as the terminal and the report tabulate it (CAPACITY_COLUMNS)."""
    ci = f" ({entry.p95_ci_at_max[0]:.0f}–{entry.p95_ci_at_max[1]:.0f})" if entry.p95_ci_at_max else ""
    return (entry.scenario, entry.server, entry.configuration,
            ("unknown" if entry.limited_by else "none") if entry.max_rps_at_slo is None else f"{entry.max_rps_at_slo:.3g}",
            bracket_text(entry.bracket_low, entry.bracket_high, limited=entry.limited_by is not None),
            "—" if entry.p95_ms_at_max is None else f"{entry.p95_ms_at_max:.0f}{ci}",
            "—" if entry.rps_per_core is None else f"{entry.rps_per_core:.3g}",
            "—" if entry.rps_per_gb is None else f"{entry.rps_per_gb:.3g}")


def bracket_text(low: float | None, high: float | None, limited: bool = False) -> str:
    """``2.1–2.4`` (the capacity lies between), ``≥ 2.1`` (nothing above failed), or ``—``.

    ``limited``: the search stopped on an invalid window, so the top is unknown.
    """
    if low is None:
        return f"< {high:.3g}" if high is not None else "stopped: invalid window" if limited else "—"
    if high is None:
        return f"≥ {low:.3g}" + (" (stopped: invalid window)" if limited else "")
    return f"{low:.3g}–{high:.3g}"
