"""Capacity at the SLO in words and tables: what the terminal and the report both show of a capacity run.

:func:`capacity_tables` builds the tables and headlines once from the analysis; the
terminal prints them as text, the report puts them in its capacity section.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loadtests.analysis.figures.analysis import Analysis
from loadtests.report.document import Table
from loadtests.results.records import CapacityRatio, CapacitySearch, CapacitySummary, RatioBound, TunedSummary

#: What each figure of a capacity is, in the words every renderer uses.
RESOLUTION_AND_UNCERTAINTY = (
    "Two figures, two meanings. The 95% CI after a capacity is its statistical uncertainty: the capacity is "
    "where a curve fitted to every step of the search near the SLO has 5% of the arrivals over it, and the "
    "interval is that fit's. The rates tested around it are the search's resolution: the nearest rates it "
    "tried on either side, which passed and failed. A capacity is an estimate from one run's searches, not a "
    "constant of the configuration: another run on another day lands elsewhere within (about) its interval.")


def capacity_headlines(summary: Sequence[CapacitySummary], ratios: Sequence[CapacityRatio] = ()) -> list[str]:
    """Per scenario and server: "at p95 < 500 ms, one 3.14t process sustains about X rps (95% CI ...), against Y on
    3.14 and Z on 3.14 × N processes (3.14t ÷ 3.14 = R× (95% CI ...), ...)"."""
    groups: dict[tuple[str, str], list[CapacitySummary]] = {}
    for entry in summary:
        groups.setdefault((entry.scenario, entry.server), []).append(entry)
    lines = []
    for (scenario, server), entries in groups.items():
        ft = next((e for e in entries if e.interpreter == "3.14t" and "×" not in e.configuration), None)
        if ft is None:
            continue
        against = " and ".join(f"{_entry_rate(e)} on {e.configuration}" for e in entries if e is not ft)
        mine = [r for r in ratios if (r.scenario, r.server) == (scenario, server) and r.phase == "search"]
        quotients = ", ".join(f"{r.candidate.label.split(' ')[0]} ÷ {_short(r)} = "
                              f"{ratio_words(r.ratio, r.bound, r.ci_low, r.ci_high)}" for r in mine)
        lines.append(f"{scenario} on {server}: at p95 < {ft.slo_ms:g} ms, {_one_ft_process(ft.configuration)} "
                     f"sustains {_entry_rate(ft)}" + (f", against {against}" if against else "")
                     + (f" ({quotients})" if quotients else ""))
    return lines


def _short(r: CapacityRatio) -> str:
    """The baseline of a ratio as its sentence names it: ``3.14`` or ``(3.14 × 2 processes)``."""
    b = r.baseline
    if r.kind == "processes":
        return f"({b.interpreter} × {b.workers} processes)"
    return b.interpreter + (f"+PYTHON_GIL={b.python_gil}" if b.python_gil else "")


def _entry_rate(e: CapacitySummary) -> str:
    return _sustains(e.max_rps_at_slo, e.is_lower_bound, e.ci_low, e.ci_high, e.method)


def untuned(capacity: Sequence[CapacitySummary], tuned: Sequence[TunedSummary]) -> list[CapacitySummary]:
    """The searches of scenarios and servers without a tuning: those keep the one-setting headline."""
    done = {(e.scenario, e.server) for e in tuned}
    return [e for e in capacity if (e.scenario, e.server) not in done]


def _one_ft_process(label: str | None) -> str:
    """``one 3.14t process``, naming the configuration when it is not one worker."""
    return "one 3.14t process" if label is None or " w1 " in f" {label} " else f"one 3.14t process ({label})"


def _sustains(rps: float | None, lower_bound: bool | None, low: float | None = None, high: float | None = None,
              method: str = "bracket") -> str:
    """``at least 9.0 rps``, ``about 6.2 rps (95% CI 5.6–6.9)``, or ``6.2 rps`` for a run without intervals."""
    if rps is None:
        return "an unknown rate (the search stopped on an invalid window)" if lower_bound else "nothing"
    if lower_bound:
        return f"at least {rps:.1f} rps"
    if method != "fit":
        return f"{rps:.1f} rps"
    return f"about {rps:.1f} rps ({interval_words(low, high, 1)})"


def interval_words(low: float | None, high: float | None, digits: int = 2) -> str:
    """``95% CI 5.6–6.9``, ``95% CI 5.6–unbounded`` or ``no interval``."""
    if low is None and high is None:
        return "no interval: too few steps near the SLO"
    top = "unbounded" if high is None else f"{high:.{digits}f}"
    return f"95% CI {'?' if low is None else f'{low:.{digits}f}'}–{top}"


def ratio_words(value: float | None, bound: RatioBound | None, low: float | None = None,
                high: float | None = None) -> str:
    """``2.00×``, ``at least 2.00×``, ``at most 2.00×``: a ratio with a lower-bound capacity on a side is a bound;
    with its 95% interval when it has one."""
    if value is None:
        return "no ratio (a side has no capacity to divide by)"
    if bound == "unbounded":
        return f"{value:.2f}× (both sides lower bounds: no bound either way)"
    interval = f" ({interval_words(low, high)})" if low is not None or high is not None else ""
    return f"{'' if bound in (None, 'measured') else bound + ' '}{value:.2f}×{interval}"


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
                         f"{_one_ft_process(ft.equal_configuration)} sustains {_equal_rate(ft)}"
                         + _against([(e, _equal_rate(e), ratio_words(e.ft_ratio_equal, e.ft_ratio_equal_bound,
                                                                      e.ft_ratio_equal_ci_low,
                                                                      e.ft_ratio_equal_ci_high)) for e in equal]))
        settings = ", ".join(f"{e.side} at {_threads_words(e)}" for e in group)
        again = " re-measured side by side" if all(e.confirmed for e in group) else ""
        lines.append(f"{where}, best against best ({settings}{again}): {slo}, "
                     f"{_one_ft_process(ft.best_configuration)} sustains {_best_rate(ft)}"
                     + _against([(e, _best_rate(e), ratio_words(e.ft_ratio_best, e.ft_ratio_best_bound,
                                                               e.ft_ratio_best_ci_low, e.ft_ratio_best_ci_high))
                                 for e in others]))
    return lines


def _best_rate(e: TunedSummary) -> str:
    return _sustains(e.max_rps_at_slo, e.lower_bound, e.ci_low, e.ci_high, _method(e.ci_low, e.ci_high))


def _equal_rate(e: TunedSummary) -> str:
    return _sustains(e.rps_at_equal, e.equal_lower_bound, e.equal_ci_low, e.equal_ci_high,
                     _method(e.equal_ci_low, e.equal_ci_high))


def _method(low: float | None, high: float | None) -> str:
    """Figures of a run without intervals read as before; with one end known they read as estimates."""
    return "fit" if low is not None or high is not None else "bracket"


def _against(sides: Sequence[tuple[TunedSummary, str, str]]) -> str:
    """``, against 11.0 rps on 3.14 and ... (3.14t ÷ 3.14 = 2.00×, ...)``: which ratio is which, by name."""
    if not sides:
        return ""
    rates = " and ".join(f"{rate} on {e.side}" for e, rate, _ in sides)
    ratios = ", ".join(f"3.14t ÷ {f'({e.side})' if ' ' in e.side else e.side} = {words}" for e, _, words in sides)
    return f", against {rates} ({ratios})"


TUNED_COLUMNS = ("scenario", "server", "side", "best setting", "max rps at p95 < SLO", "thread limits tried",
                 "at equal settings", "3.14t ÷ side, equal settings", "3.14t ÷ side, best against best", "note")


def tuned_row(entry: TunedSummary) -> tuple[str, ...]:
    """One side's best setting as the terminal and the report tabulate it (TUNED_COLUMNS)."""
    equal = equal_ratio = "—"
    if entry.equal_threads is not None:
        equal = f"{_equal_rate(entry)} at {entry.equal_threads} threads"
        equal_ratio = ratio_words(entry.ft_ratio_equal, entry.ft_ratio_equal_bound, entry.ft_ratio_equal_ci_low,
                                  entry.ft_ratio_equal_ci_high)
    best_ratio = ratio_words(entry.ft_ratio_best, entry.ft_ratio_best_bound, entry.ft_ratio_best_ci_low,
                             entry.ft_ratio_best_ci_high)
    if entry.side == "3.14t":
        equal_ratio = best_ratio = "(3.14t: the numerator)"
    notes = (["its best is a lower bound (an invalid window stopped the search)"] if entry.lower_bound else []) + (
        [f"unsettled, only lower bounds: {', '.join(entry.unsettled)}"] if entry.unsettled else []) + (
        [f"re-measured: picked on {entry.screened_rps_at_slo:.1f} rps"] if entry.confirmed
        and entry.screened_rps_at_slo is not None else [])
    return (entry.scenario, entry.server, entry.side, entry.best_configuration, _best_rate(entry),
            ", ".join(map(str, entry.threads_tried)), equal, equal_ratio, best_ratio, "; ".join(notes) or "—")


def columns_at(columns: Sequence[str], slo_ms: float) -> tuple[str, ...]:
    """A capacity table's header with its SLO written in (``max rps at p95 < 500 ms``)."""
    return tuple(c.replace("SLO", f"{slo_ms:g} ms") for c in columns)


CAPACITY_COLUMNS = ("scenario", "server", "configuration", "capacity at p95 < SLO, rps (95% CI)",
                    "rates tested around it (resolution)", "p95 near it, ms (95% CI)", "rps per busy core",
                    "rps per GB (PSS)")


def capacity_row(entry: CapacitySummary) -> tuple[str, ...]:
    """One capacity search as the terminal and the report tabulate it (CAPACITY_COLUMNS)."""
    ci = f" ({p95_interval_text(entry.p95_ci_at_max)})" if entry.p95_ci_at_max else ""
    if entry.max_rps_at_slo is None:
        capacity = "unknown" if entry.limited_by else "none"
    elif entry.is_lower_bound:
        capacity = f"≥ {entry.max_rps_at_slo:.3g}"
    elif entry.method == "fit" and (entry.ci_low is not None or entry.ci_high is not None):
        capacity = f"{entry.max_rps_at_slo:.3g} ({interval_words(entry.ci_low, entry.ci_high, _digits(entry))[7:]})"
    elif entry.method == "fit":
        capacity = f"{entry.max_rps_at_slo:.3g} (no interval)"
    else:
        capacity = f"{entry.max_rps_at_slo:.3g}"
    return (entry.scenario, entry.server, entry.configuration, capacity,
            bracket_text(entry.bracket_low, entry.bracket_high, limited=entry.limited_by is not None),
            "—" if entry.p95_ms_at_max is None else f"{entry.p95_ms_at_max:.0f}{ci}",
            "—" if entry.rps_per_core is None else f"{entry.rps_per_core:.3g}",
            "—" if entry.rps_per_gb is None else f"{entry.rps_per_gb:.3g}")


def _digits(entry: CapacitySummary) -> int:
    return 1 if (entry.max_rps_at_slo or 0) >= 10 else 2


RATIO_COLUMNS = ("scenario", "server", "ratio", "capacity ratio (95% CI)", "searched")


def ratio_row(r: CapacityRatio) -> tuple[str, ...]:
    """One capacity ratio as the terminal and the report tabulate it (RATIO_COLUMNS)."""
    searched = {"search": "side by side", "screen": f"side by side at {r.candidate.threads} threads",
                "confirm": "best settings, re-measured side by side"}[r.phase]
    name = f"{r.candidate.label} ÷ {r.baseline.label}"
    words = ratio_words(r.ratio, r.bound, r.ci_low, r.ci_high) if r.ratio is not None else (r.invalid_reason or "—")
    return (r.scenario, r.server, name, words, searched)


def p95_interval_text(interval: tuple[float, float | None]) -> str:
    """``380–470``, or ``380–?`` when the upper end runs past the slowest arrival."""
    return f"{interval[0]:.0f}–" + ("?" if interval[1] is None else f"{interval[1]:.0f}")


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
    ratios: Table | None  # every ratio of capacities with its interval
    tuned: Table | None  # each side's best setting, when some side tried several
    headlines: tuple[str, ...]  # one sentence per scenario and server without a tuning
    tuned_headlines: tuple[str, ...]  # at equal settings, then best against best, per tuning


def _how_it_went(search: CapacitySearch | None) -> tuple[str, str]:
    """The steps and arrivals a search spent, and why it stopped."""
    if search is None:
        return "—", "—"
    arrivals = f", {search.arrivals} arrivals" if search.arrivals else ""
    return f"{len(search.steps)}{arrivals}", search.limited_by or search.stopping


def capacity_tables(a: Analysis) -> CapacityTables | None:
    """The tables and headlines of the run's capacity searches; None when it made none."""
    entries, tuned = a.summary.capacity, a.summary.tuned
    if not entries:
        return None
    slo = entries[0].slo_ms
    searches = {(search.config_id, search.phase): search for search in a.run.capacities}
    rows = tuple((*capacity_row(e), *_how_it_went(searches.get((e.config_id, e.phase))), e.phase)
                 for e in entries)
    capacity = Table("open-capacity-table", (*columns_at(CAPACITY_COLUMNS, slo), "steps", "stopped", "phase"),
                     rows, f"Highest arrival rate sustained at p95 < {slo:g} ms from the intended send")
    ratios = a.summary.capacity_ratios
    ratio_table = Table("capacity-ratio-table", RATIO_COLUMNS, tuple(map(ratio_row, ratios)),
                        "Ratios of capacities at the SLO, with 95% intervals") if ratios else None
    tuned_table = Table("tuned-table", columns_at(TUNED_COLUMNS, slo), tuple(map(tuned_row, tuned)),
                        "Best setting per side; 3.14t ÷ side at equal settings and best against best") if tuned else None
    return CapacityTables(slo, capacity, ratio_table, tuned_table,
                          tuple(capacity_headlines(untuned(entries, tuned), ratios)), tuple(tuned_headlines(tuned)))
