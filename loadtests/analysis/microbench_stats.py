"""Figures from the threads microbenchmark (``gil-lab threads``): means, speedups, efficiency.

Pure functions over :class:`~loadtests.results.records.MicrobenchPoint` records. Invalid
points (a GIL state that contradicts their variant) are never averaged in.
"""

from __future__ import annotations

from collections.abc import Sequence

from loadtests.analysis.figures.microbench import (
    FT_VARIANT,
    GIL_VARIANT,
    NOISY_SHARE,
    VARIANTS,
    WORKLOADS,
    MicrobenchFigures,
    MicrobenchRow,
)
from loadtests.analysis.figures.stats import InsufficientData, Speedup
from loadtests.analysis.stats import efficiency, mean_ci, speedup
from loadtests.results.records import Microbench, MicrobenchPoint


def _matches(p: MicrobenchPoint, workload: str, variant: str, threads: int) -> bool:
    return (p.workload, p.variant, p.threads) == (workload, variant, threads) and p.valid


def valid_ops(points: Sequence[MicrobenchPoint], workload: str, variant: str, threads: int) -> list[float]:
    """ops/s of the valid repeats of one point."""
    return [p.ops_per_s for p in points if _matches(p, workload, variant, threads)]


def _mean_cpu(points: Sequence[MicrobenchPoint], workload: str, variant: str, threads: int) -> float | None:
    cpu = [p.cpu_cores for p in points if _matches(p, workload, variant, threads) and p.cpu_cores is not None]
    return round(sum(cpu) / len(cpu), 3) if cpu else None


def _order(key: tuple[str, str, int]) -> tuple[int, int, int]:
    w, v, n = key
    return (WORKLOADS.index(w) if w in WORKLOADS else 9, VARIANTS.index(v) if v in VARIANTS else 9, n)


def summarize(points: Sequence[MicrobenchPoint], cores: int) -> list[MicrobenchRow]:
    """Per (workload, variant, threads): mean ops/s with its CI, speedup vs 1 thread with its CI, efficiency."""
    keys = sorted(dict.fromkeys((p.workload, p.variant, p.threads) for p in points), key=_order)
    out = []
    for w, v, n in keys:
        vals = valid_ops(points, w, v, n)
        ops = ops_ci = None
        if vals:
            m = mean_ci(vals, what=f"{w} {v} {n} threads ops/s", floor=0.0)
            ops = round(m.mean, 4)
            ops_ci = (round(m.low, 4), round(m.high, 4)) if m.low is not None and m.high is not None else None
        s = _speedup(vals, valid_ops(points, w, v, 1))
        out.append(MicrobenchRow(
            w, v, n, len(vals), ops, ops_ci,
            round(s.ratio, 4) if s else None,
            (round(s.low, 4), round(s.high, 4)) if s and s.low is not None and s.high is not None else None,
            round(efficiency(s.ratio, n, cores), 4) if s else None,
            _mean_cpu(points, w, v, n)))
    return out


def _speedup(candidate: Sequence[float], baseline: Sequence[float]) -> Speedup | None:
    try:
        return speedup(candidate, baseline, what="ops/s")
    except InsufficientData:
        return None


def single_thread_ratio(points: Sequence[MicrobenchPoint], workload: str) -> Speedup:
    """3.14t ÷ 3.14 ops/s at one thread (C3): below 1 means the free-threaded build is slower."""
    return speedup(valid_ops(points, workload, FT_VARIANT, 1), valid_ops(points, workload, GIL_VARIANT, 1),
                   what="ops/s")


def microbench_figures(section: Microbench, fallback_cores: int | None = None) -> MicrobenchFigures:
    """A microbenchmark section summarised once, for the report, the history and ``gil-lab threads``.

    ``fallback_cores``: the run's usable cores, for a section that did not record its own.
    """
    cores = section.usable_cores or fallback_cores or 1
    single = []
    for workload in section.workloads:
        try:
            single.append((workload, single_thread_ratio(section.points, workload)))
        except InsufficientData:
            continue
    noisy = section.others_cores is not None and section.others_cores > NOISY_SHARE * section.usable_cores
    return MicrobenchFigures(section, cores, tuple(summarize(section.points, cores)), tuple(single), noisy)
