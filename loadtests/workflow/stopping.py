"""When a comparison has alternated enough: the two-stage rule, which needs the paired statistics.

The runner asks after every block (``measure.comparison_loop.StopRule``). Without a precision
target the plan's ``repeats`` blocks are measured. With one, the rule has two stages:

1. the *pilot*: blocks until every ratio the comparison holds (3.14t vs 3.14, 3.14t vs
   3.14 × N processes, ...) has ``max(PILOT_PAIRS, repeats)`` valid pairs (a block with an
   invalid window gives no pair, and does not count);
2. the largest log spread of the pilot's pairs fixes how many valid pairs reach the
   target (``analysis.paired.planned_pairs``); the comparison measures that many, or stops
   when its time is up. It never stops because an interval happened to look narrow: the
   plan depends on the pilot's spread only, not on its ratios or on the intervals on the
   way, which keeps the intervals' coverage at their nominal level.

The rule is a function of the cells so far (the pilot is the first valid pairs in block
order), so a resumed comparison goes on with the same plan.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import replace

from loadtests.analysis.configs import block_throughput, paired_blocks
from loadtests.analysis.figures.configs import KIND_GIL_TOGGLE, KIND_INTERPRETER, KIND_PROCESSES
from loadtests.analysis.figures.stats import PILOT_PAIRS, InsufficientData, PairedRatio
from loadtests.analysis.paired import planned_pairs
from loadtests.measure.comparison_loop import Decision, complete_blocks, fixed_pairs
from loadtests.plan.comparisons import ComparisonPlan
from loadtests.results.records import Cell, CellConfig, Plan, Stopping


def pairs_of(comparison: ComparisonPlan) -> list[tuple[str, CellConfig, CellConfig]]:
    """The (kind, candidate, baseline) pairs a comparison answers, by the report's rules."""
    out = []
    arms = comparison.arms
    for cand in arms:
        if cand.interpreter != "3.14t":
            continue
        for base in arms:
            if base is cand:
                continue
            if base.interpreter == "3.14" and cand.python_gil is None and \
                    (base.parallelism, base.workers) == (cand.parallelism, cand.workers):
                out.append((KIND_INTERPRETER, cand, base))
            elif base.interpreter == "3.14" and base.parallelism == "processes" and cand.parallelism == "threads" \
                    and cand.python_gil is None:
                out.append((KIND_PROCESSES, cand, base))
            elif base.interpreter == "3.14t" and cand.python_gil == "1" and base.python_gil is None and \
                    (base.parallelism, base.workers) == (cand.parallelism, cand.workers):
                out.append((KIND_GIL_TOGGLE, cand, base))
    return out


def ratios(comparison: ComparisonPlan, cells: Sequence[Cell]) -> list[tuple[str, CellConfig, CellConfig,
                                                                          PairedRatio | None]]:
    """Every pair's paired ratio so far (None while it has no valid pair)."""
    out: list[tuple[str, CellConfig, CellConfig, PairedRatio | None]] = []
    for kind, cand, base in pairs_of(comparison):
        try:
            out.append((kind, cand, base, paired_blocks(cells, cand.config_id, base.config_id,
                                                        comparison.comparison_id)))
        except InsufficientData:
            out.append((kind, cand, base, None))
    return out


def pilot_spread(comparison: ComparisonPlan, cells: Sequence[Cell], pilot: int) -> float | None:
    """The largest log standard deviation over the first ``pilot`` valid pairs of each ratio (None: a ratio has
    fewer valid pairs yet)."""
    spreads = []
    for _, cand, base in pairs_of(comparison):
        a = block_throughput(cells, cand.config_id, comparison.comparison_id)
        b = block_throughput(cells, base.config_id, comparison.comparison_id)
        blocks = sorted(set(a) & set(b))[:pilot]
        if len(blocks) < pilot:
            return None
        spreads.append(statistics.stdev(math.log(a[k] / b[k]) for k in blocks))
    return max(spreads) if spreads else 0.0


def _note(found: list[tuple[str, CellConfig, CellConfig, PairedRatio | None]]) -> str:
    parts = []
    for _, cand, base, r in found:
        name = f"{cand.interpreter}{'+PYTHON_GIL=' + cand.python_gil if cand.python_gil else ''}/" + (
            f"{base.interpreter}×{base.workers}" if base.parallelism == "processes" else base.interpreter)
        if r is None:
            parts.append(f"{name} no valid pair yet")
        elif r.precision is None:
            parts.append(f"{name} {r.ratio:.2f}× (1 pair)")
        else:
            parts.append(f"{name} {r.ratio:.2f}× ±{r.precision:.1%} ({r.n_pairs} pairs)")
    return "; ".join(parts)


def _components(found: list[tuple[str, CellConfig, CellConfig, PairedRatio | None]]) -> tuple[float | None,
                                                                                            float | None]:
    """The variance components of the widest ratio (the one with the largest log spread)."""
    known = [r for *_, r in found if r is not None and r.log_sd is not None]
    if not known:
        return None, None
    widest = max(known, key=lambda r: r.log_sd or 0.0)
    return widest.within_sd if widest.within_sd is not None else widest.log_sd, widest.between_sd


def adaptive(comparison: ComparisonPlan, cells: Sequence[Cell], plan: Plan, elapsed: float) -> Decision:
    """The two-stage rule: a pilot fixes the valid pairs; measure them, or stop when the time is up."""
    if plan.precision is None:
        fixed = fixed_pairs(comparison, cells, plan, elapsed)
        within, between = _components(ratios(comparison, cells)) if fixed.stop else (None, None)
        return replace(fixed, log_sd_pairs=within, log_sd_instances=between)
    found = ratios(comparison, cells)
    note = _note(found) or f"{complete_blocks(cells, comparison)} blocks (a comparison with one arm has no ratio)"
    pilot = max(PILOT_PAIRS, plan.repeats)
    valid = min((r.n_pairs if r is not None else 0 for *_, r in found), default=complete_blocks(cells, comparison))
    spread = pilot_spread(comparison, cells, pilot) if found else 0.0
    planned = None if spread is None else planned_pairs(spread, pilot, plan.precision) if found else pilot
    decision = Decision(None, note + (f"; the pilot plans {planned} pairs" if planned is not None and found else ""),
                        pilot if planned is not None else None, spread, planned, *_components(found))
    if plan.max_time_s is not None and elapsed >= plan.max_time_s:
        return _stop(decision, "time budget")
    if planned is None or valid < planned:
        return decision
    precise = all(r is not None and r.reached(plan.precision) for *_, r in found)
    return _stop(decision, "precision reached" if precise else "planned pairs")


def _stop(decision: Decision, stopping: Stopping) -> Decision:
    return replace(decision, stop=stopping)

