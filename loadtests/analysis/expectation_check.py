"""``--expect`` evaluated against a run's summary: which comparison each expression selects, and whether it holds.

Selection (docs/ci.md): the comparisons of the expression's kind and scenario, on its
server or else on every server that has one, at its users level or else the highest,
with its thread limit if given. Among what is left the one a team would deploy wins,
as the report's headline does (``analysis.configs.headline``): PYTHON_GIL unset,
not pinned to CPUs, the widest pool; against ``xproc`` the most processes.

The bound applies to the 95% interval: ``>=`` and ``>`` to its lower end, ``<=`` and
``<`` to its upper end. A ratio without an interval (one pair) cannot show the bound
and fails. A selected comparison that is invalid never falls back to another one.

A capacity run has no closed-loop comparison: its expressions select among the ratios
of capacities (summary.json's ``capacity_ratios``) of the same kind, scenario and
server: with a thread limit, the searches at that limit; else a tuning run's confirm
searches (the best settings, re-measured side by side), else the plain searches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from loadtests.analysis.figures.expectations import ExpectationReport, ExpectationResult
from loadtests.core.wording import format_interval
from loadtests.results.expectation import Expectation
from loadtests.results.records import CapacityRatio, ComparisonSummary, SummaryRecord

Selected = ComparisonSummary | CapacityRatio
PHASE_ORDER = {"confirm": 0, "search": 1, "screen": 2}  # which capacity ratio stands for a pair, best first


def _rank(c: ComparisonSummary) -> tuple[Any, ...]:
    """The headline's preference (analysis.configs.headline), once the users level is fixed."""
    cand, base = c.candidate, c.baseline
    gil_default = (cand.python_gil is None or c.kind == "gil-toggle") and base.python_gil is None
    return (gil_default, cand.cpus is None, base.workers if c.kind == "processes" else 0, cand.workers * cand.threads)


def _candidates(e: Expectation, summary: SummaryRecord) -> list[ComparisonSummary]:
    return [c for c in summary.comparisons
            if c.kind == e.kind and c.scenario == e.scenario and e.server in (None, c.server)
            and e.threads in (None, c.candidate.threads) and e.matches_pair(c.candidate, c.baseline)]


def select(e: Expectation, summary: SummaryRecord) -> list[Selected]:
    """The comparison ``e`` names on each server (in the summary's order); empty when the run has none.

    A run without such a comparison (a capacity run) is looked at for a ratio of capacities instead.
    """
    by_server: dict[str, list[ComparisonSummary]] = {}
    for c in _candidates(e, summary):
        by_server.setdefault(c.server, []).append(c)
    chosen: list[Selected] = []
    for found in by_server.values():
        users = e.users if e.users is not None else max(c.users for c in found)
        at_level = [c for c in found if c.users == users]
        if at_level:
            chosen.append(max(at_level, key=_rank))  # max keeps the first of equals, like the headline
    return chosen or list(_capacity_ratios(e, summary))


def _capacity_ratios(e: Expectation, summary: SummaryRecord) -> list[CapacityRatio]:
    """Per server, the ratio of capacities ``e`` names: at its thread limit if it gives one (the searches at that
    limit), else a tuning run's re-measured best settings, else the searches side by side."""
    by_server: dict[str, list[CapacityRatio]] = {}
    for r in summary.capacity_ratios:
        if (r.kind == e.kind and r.scenario == e.scenario and e.server in (None, r.server)
                and e.users in (None, r.users) and e.matches_pair(r.candidate, r.baseline)
                and (e.threads is None or (r.phase != "confirm" and r.candidate.threads == e.threads))):
            by_server.setdefault(r.server, []).append(r)
    return [min(found, key=lambda r: (PHASE_ORDER[r.phase], -r.baseline.workers)) for found in by_server.values()]


def _where(c: Selected) -> str:
    if isinstance(c, CapacityRatio):
        searched = {"search": "", "screen": f", at {c.candidate.threads} threads",
                    "confirm": ", best settings re-measured"}[c.phase]
        return (f"{c.scenario} on {c.server}, capacity at p95 < SLO{searched} "
                f"({c.candidate.label} / {c.baseline.label})")
    return f"{c.scenario} on {c.server}, u{c.users} ({c.candidate.label} / {c.baseline.label})"


def judge(e: Expectation, c: Selected) -> ExpectationResult:
    """Whether the selected comparison (or ratio of capacities) satisfies ``e``, with the figures that decide it."""
    where = _where(c)
    if isinstance(c, CapacityRatio):
        if c.ratio is None:
            return ExpectationResult(e, "invalid", f"{where}: {c.invalid_reason or 'no ratio'}", c)
        if c.ci_low is None or c.ci_high is None:
            why = ("a side's capacity is only a lower bound" if c.bound not in (None, "measured")
                   else "a search's steps did not bound its capacity")
            end = c.ci_low if e.uses_lower_end else c.ci_high
            if end is not None and e.holds(end):  # the end that decides is known
                return ExpectationResult(e, "pass", f"{where}: {c.ratio:.2f}×; its {'lower' if e.uses_lower_end else 'upper'}"
                                                    f" end {end:.2f} {e.operator} {e.bound:g}", c)
            return ExpectationResult(e, "fail", f"{where}: {c.ratio:.2f}× has no interval on that side ({why}), so "
                                                f"{e.operator} {e.bound:g} cannot be shown; give the searches more "
                                                "time (--max-time)", c)
    elif c.verdict == "invalid" or c.ratio is None:
        return ExpectationResult(e, "invalid", f"{where}: invalid, {c.invalid_reason or 'no valid pair'}", c)
    elif c.ci_low is None or c.ci_high is None:
        return ExpectationResult(e, "fail", f"{where}: {c.ratio:.2f}× from {c.n_pairs} pair has no interval, so "
                                            f"{e.operator} {e.bound:g} cannot be shown; measure 2 pairs or more", c)
    assert c.ratio is not None and c.ci_low is not None and c.ci_high is not None
    end_name, end = ("lower", c.ci_low) if e.uses_lower_end else ("upper", c.ci_high)
    figures = f"{where}: {c.ratio:.2f}× (95% CI {format_interval(c.ci_low, c.ci_high)})"
    if e.holds(end):
        return ExpectationResult(e, "pass", f"{figures}; its {end_name} end {end:.2f} {e.operator} {e.bound:g}", c)
    note = ""
    if e.holds(c.ratio):
        more = "give the searches more time" if isinstance(c, CapacityRatio) else "measure more pairs"
        note = f" (the point estimate is, but the bound applies to the interval: {more} to narrow it)"
    return ExpectationResult(e, "fail", f"{figures}; its {end_name} end {end:.2f} is not {e.operator} "
                                        f"{e.bound:g}{note}", c)


def _missing(e: Expectation, summary: SummaryRecord) -> ExpectationResult:
    have = [f"{c.kind} u{c.users} on {c.server}" for c in summary.comparisons if c.scenario == e.scenario] + [
        f"{r.kind} capacity ratio on {r.server}" for r in summary.capacity_ratios if r.scenario == e.scenario]
    where = e.scenario + (f" on {e.server}" if e.server else "") + (f", u{e.users}" if e.users else "") + (
        f", t{e.threads}" if e.threads else "")
    listing = f"it has {', '.join(dict.fromkeys(have))}" if have else f"it has no comparison for {e.scenario}"
    return ExpectationResult(e, "missing", f"run {summary.run_id} has no {e.ratio_name} comparison for {where}: "
                                           f"{listing}", None)


def evaluate(expectations: Iterable[Expectation], summary: SummaryRecord) -> ExpectationReport:
    """Every expectation against ``summary``: one result per server it selects, or one saying what is missing."""
    results: list[ExpectationResult] = []
    for e in expectations:
        chosen = select(e, summary)
        results += [judge(e, c) for c in chosen] if chosen else [_missing(e, summary)]
    return ExpectationReport(summary.run_id, tuple(results))

