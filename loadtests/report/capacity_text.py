"""Capacity at the SLO in words and tables: what the terminal and the report both show of a capacity run.

:func:`capacity_tables` builds the tables and headlines once from the analysis; the
terminal prints them as text, the report puts them in its capacity section.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loadtests.analysis.figures.analysis import Analysis
from loadtests.report.document import Table
from loadtests.results.records import CapacitySearch, CapacitySummary, RatioBound, TunedSummary


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


@dataclass(frozen=True)
class CapacityTables:
    """A capacity run's open-loop figures, laid out once."""

    slo_ms: float
    capacity: Table  # one row per search: its capacity, bracket, p95 there, per core and per GB, how it stopped
    tuned: Table | None  # each side's best setting, when some side tried several
    headlines: tuple[str, ...]  # one sentence per scenario and server without a tuning
    tuned_headlines: tuple[str, ...]  # at equal settings, then best against best, per tuning


def _how_it_went(search: CapacitySearch | None) -> tuple[str, str]:
    """The rates a search tested and why it stopped."""
    if search is None:
        return "—", "—"
    return str(len(search.steps)), search.limited_by or search.stopping


def capacity_tables(a: Analysis) -> CapacityTables | None:
    """The tables and headlines of the run's capacity searches; None when it made none."""
    entries, tuned = a.summary.capacity, a.summary.tuned
    if not entries:
        return None
    slo = entries[0].slo_ms
    searches = {search.config_id: search for search in a.run.capacities}
    rows = tuple((*capacity_row(e), *_how_it_went(searches.get(e.config_id))) for e in entries)
    capacity = Table("open-capacity-table", (*columns_at(CAPACITY_COLUMNS, slo), "rates tested", "stopped"), rows,
                     f"Highest arrival rate sustained at p95 < {slo:g} ms from the intended send")
    tuned_table = Table("tuned-table", columns_at(TUNED_COLUMNS, slo), tuple(map(tuned_row, tuned)),
                        "Best setting per side; 3.14t ÷ side at equal settings and best against best") if tuned else None
    return CapacityTables(slo, capacity, tuned_table, tuple(capacity_headlines(untuned(entries, tuned))),
                          tuple(tuned_headlines(tuned)))
