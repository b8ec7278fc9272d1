"""When a comparison has alternated enough: the adaptive rule, which needs the paired statistics.

The runner asks after every block (``measure.comparison_loop.StopRule``). Without a precision
target the plan's ``repeats`` blocks are measured. With one, the comparison keeps
alternating until the 95% interval of *every* ratio it holds (3.14t vs 3.14, 3.14t vs
3.14 × N processes, ...) is within the target, relative to the ratio, or its time is
up. It never stops before :data:`MIN_ADAPTIVE_PAIRS` pairs (nor before ``repeats``):
stopping as soon as an interval looks narrow biases it, and the report says the
stopping was adaptive.
"""

from __future__ import annotations

from collections.abc import Sequence

from loadtests.analysis.configs import block_throughput
from loadtests.analysis.figures.configs import KIND_GIL_TOGGLE, KIND_INTERPRETER, KIND_PROCESSES
from loadtests.analysis.figures.stats import InsufficientData, PairedRatio
from loadtests.analysis.paired import MIN_ADAPTIVE_PAIRS, paired_ratio
from loadtests.measure.comparison_loop import Decision, complete_blocks, fixed_pairs
from loadtests.plan.comparisons import ComparisonPlan
from loadtests.results.records import Cell, CellConfig, Plan


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
        a = block_throughput(cells, cand.config_id, comparison.comparison_id)
        b = block_throughput(cells, base.config_id, comparison.comparison_id)
        shared = sorted(set(a) & set(b))
        try:
            out.append((kind, cand, base, paired_ratio([a[k] for k in shared], [b[k] for k in shared])))
        except InsufficientData:
            out.append((kind, cand, base, None))
    return out


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


def adaptive(comparison: ComparisonPlan, cells: Sequence[Cell], plan: Plan, elapsed: float) -> Decision:
    """Stop once every ratio is precise enough (after the minimum), or when the time is up."""
    if plan.precision is None:
        return fixed_pairs(comparison, cells, plan, elapsed)
    found = ratios(comparison, cells)
    note = _note(found) or f"{complete_blocks(cells, comparison)} blocks (a comparison with one arm has no ratio)"
    done = complete_blocks(cells, comparison)
    minimum = max(MIN_ADAPTIVE_PAIRS, plan.repeats)
    if plan.max_time_s is not None and elapsed >= plan.max_time_s:
        precise = found and all(r is not None and r.reached(plan.precision) for *_, r in found)
        return Decision("precision reached" if precise and done >= minimum else "time budget", note)
    if done < minimum:
        return Decision(None, note)
    if not found:  # one arm: nothing to make precise, the minimum is enough
        return Decision("precision reached", note)
    if all(r is not None and r.reached(plan.precision) for *_, r in found):
        return Decision("precision reached", note)
    return Decision(None, note)
