"""``--expect`` evaluated against a run's summary: which comparison each expression selects, and whether it holds.

Selection (docs/ci.md): the comparisons of the expression's kind and scenario, on its
server or else on every server that has one, at its users level or else the highest,
with its thread limit if given. Among what is left the one a team would deploy wins,
as the report's headline does (``analysis.configs.headline``): PYTHON_GIL unset,
not pinned to CPUs, the widest pool; against ``xproc`` the most processes.

The bound applies to the 95% interval: ``>=`` and ``>`` to its lower end, ``<=`` and
``<`` to its upper end. A ratio without an interval (one pair) cannot show the bound
and fails. A selected comparison that is invalid never falls back to another one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from loadtests.analysis.figures.expectations import ExpectationReport, ExpectationResult
from loadtests.core.wording import format_interval
from loadtests.results.expectation import Expectation
from loadtests.results.records import ComparisonSummary, SummaryRecord


def _rank(c: ComparisonSummary) -> tuple[Any, ...]:
    """The headline's preference (analysis.configs.headline), once the users level is fixed."""
    cand, base = c.candidate, c.baseline
    gil_default = (cand.python_gil is None or c.kind == "gil-toggle") and base.python_gil is None
    return (gil_default, cand.cpus is None, base.workers if c.kind == "processes" else 0, cand.workers * cand.threads)


def _candidates(e: Expectation, summary: SummaryRecord) -> list[ComparisonSummary]:
    return [c for c in summary.comparisons
            if c.kind == e.kind and c.scenario == e.scenario and e.server in (None, c.server)
            and e.threads in (None, c.candidate.threads) and e.matches_pair(c.candidate, c.baseline)]


def select(e: Expectation, summary: SummaryRecord) -> list[ComparisonSummary]:
    """The comparison ``e`` names on each server (in the summary's order); empty when the run has none."""
    by_server: dict[str, list[ComparisonSummary]] = {}
    for c in _candidates(e, summary):
        by_server.setdefault(c.server, []).append(c)
    chosen = []
    for found in by_server.values():
        users = e.users if e.users is not None else max(c.users for c in found)
        at_level = [c for c in found if c.users == users]
        if at_level:
            chosen.append(max(at_level, key=_rank))  # max keeps the first of equals, like the headline
    return chosen


def _where(c: ComparisonSummary) -> str:
    return f"{c.scenario} on {c.server}, u{c.users} ({c.candidate.label} / {c.baseline.label})"


def judge(e: Expectation, c: ComparisonSummary) -> ExpectationResult:
    """Whether the selected comparison satisfies ``e``, with the figures that decide it."""
    where = _where(c)
    if c.verdict == "invalid" or c.ratio is None:
        return ExpectationResult(e, "invalid", f"{where}: invalid, {c.invalid_reason or 'no valid pair'}", c)
    if c.ci_low is None or c.ci_high is None:
        return ExpectationResult(e, "fail", f"{where}: {c.ratio:.2f}× from {c.n_pairs} pair has no interval, so "
                                            f"{e.operator} {e.bound:g} cannot be shown; measure 2 pairs or more", c)
    end_name, end = ("lower", c.ci_low) if e.uses_lower_end else ("upper", c.ci_high)
    figures = f"{where}: {c.ratio:.2f}× (95% CI {format_interval(c.ci_low, c.ci_high)})"
    if e.holds(end):
        return ExpectationResult(e, "pass", f"{figures}; its {end_name} end {end:.2f} {e.operator} {e.bound:g}", c)
    note = ""
    if e.holds(c.ratio):
        note = " (the point estimate is, but the bound applies to the interval: measure more pairs to narrow it)"
    return ExpectationResult(e, "fail", f"{figures}; its {end_name} end {end:.2f} is not {e.operator} "
                                        f"{e.bound:g}{note}", c)


def _missing(e: Expectation, summary: SummaryRecord) -> ExpectationResult:
    have = [f"{c.kind} u{c.users} on {c.server}" for c in summary.comparisons if c.scenario == e.scenario]
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

