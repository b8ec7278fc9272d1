"""Memory of 3.14t against 3.14 as paired ratios: at peak under load, and idle after start-up.

Claim C4 (the free-threaded build's memory cost) compares one process against one
process of the same configuration, so it uses what belongs to each process: USS (pages
no other process shares) and RSS (every page it maps). PSS would split the pages of the
3.14 binary and libraries among every 3.14 process alive at the time (the warm 3.14
servers of the comparison, the N-process baseline, Locust), and charge 3.14 less than
it uses. PSS is right for one 3.14t process against N 3.14 processes, where the pages
the N share must be counted once, and is used there only.

*At peak*: each block gives each arm the mean of its windows' peaks, paired like
throughput (``analysis.paired``, instances included); a run recorded before windows were
paired gets a ratio of means with Fieller's interval. *Idle*: each server instance's
memory right after start-up, before any load; instance i of one arm is paired with
instance i of the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from loadtests.analysis.configs import block_instances, block_metric, is_counted
from loadtests.analysis.figures.configs import KIND_INTERPRETER, KIND_PROCESSES, Comparison
from loadtests.analysis.figures.stats import InsufficientData, PairedRatio, Speedup
from loadtests.analysis.paired import paired_ratio
from loadtests.analysis.stats import speedup
from loadtests.results.records import Cell, RunRecord, Warmup


@dataclass(frozen=True)
class MemoryPair:
    """One comparison's memory, candidate ÷ baseline, by measure and moment (None: not measured)."""

    comparison: Comparison
    peak_uss: PairedRatio | Speedup | None
    peak_rss: PairedRatio | Speedup | None
    idle_uss: PairedRatio | None
    idle_rss: PairedRatio | None
    peak_pss: PairedRatio | Speedup | None  # one process against N: PSS counts the pages the N share once


def _unpaired_peak(run: RunRecord, c: Comparison, value: Callable[[Cell], float | None]) -> Speedup | None:
    def values(config_id: str) -> list[float]:
        return [v for cell in run.cells if cell.config_id == config_id and is_counted(cell)
                and (v := value(cell)) is not None]

    try:
        return speedup(values(c.candidate.config_id), values(c.baseline.config_id), what="MB")
    except InsufficientData:
        return None


def _paired_peak(run: RunRecord, c: Comparison, value: Callable[[Cell], float | None]) -> PairedRatio | Speedup | None:
    if c.comparison_id is None:
        return _unpaired_peak(run, c, value)
    a = block_metric(run.cells, c.candidate.config_id, c.comparison_id, value)
    b = block_metric(run.cells, c.baseline.config_id, c.comparison_id, value)
    blocks = sorted(set(a) & set(b))
    instance = block_instances(run.cells, c.comparison_id)
    try:
        return paired_ratio([a[k] for k in blocks], [b[k] for k in blocks], instances=[instance[k] for k in blocks])
    except InsufficientData:
        return None


def _paired_idle(warmups: Sequence[Warmup], c: Comparison, value: Callable[[Warmup], float | None]) -> PairedRatio | None:
    def by_instance(config_id: str) -> dict[int, float]:
        return {w.instance: v for w in warmups if w.config_id == config_id and (v := value(w)) is not None}

    a, b = by_instance(c.candidate.config_id), by_instance(c.baseline.config_id)
    shared = sorted(set(a) & set(b))
    try:
        return paired_ratio([a[i] for i in shared], [b[i] for i in shared])
    except InsufficientData:
        return None


def memory_pairs(run: RunRecord, comps: Sequence[Comparison]) -> list[MemoryPair]:
    """Single-process 3.14t/3.14 pairs of the same configuration, and one 3.14t process against N processes."""
    out = []
    for c in comps:
        single = c.kind == KIND_INTERPRETER and c.candidate.parallelism == c.baseline.parallelism == "threads" \
            and c.candidate.workers == c.baseline.workers == 1
        if single:
            out.append(MemoryPair(c, _paired_peak(run, c, lambda cell: cell.server_uss_mb_peak),
                                  _paired_peak(run, c, lambda cell: cell.server_rss_mb_peak),
                                  _paired_idle(run.warmups, c, lambda w: w.idle_uss_mb),
                                  _paired_idle(run.warmups, c, lambda w: w.idle_rss_mb), None))
        elif c.kind == KIND_PROCESSES:
            out.append(MemoryPair(c, None, None, None, None,
                                  _paired_peak(run, c, lambda cell: cell.server_pss_mb_peak)))
    return out
