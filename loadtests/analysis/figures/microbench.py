"""The threads microbenchmark summarised: one row per workload, variant and thread count."""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.analysis.figures.stats import Speedup
from loadtests.results.records import Microbench

WORKLOADS = ("pure", "json", "hash")
GIL_VARIANT = "3.14"
FT_VARIANT = "3.14t"
FT_GIL_ON_VARIANT = "3.14t+PYTHON_GIL=1"
VARIANTS = (GIL_VARIANT, FT_VARIANT, FT_GIL_ON_VARIANT)
#: Other processes using more than this share of the usable cores make the figures noisy.
NOISY_SHARE = 0.25


@dataclass(frozen=True)
class MicrobenchRow:
    """One (workload, variant, threads) point summarised over its valid repeats."""

    workload: str
    variant: str
    threads: int
    n: int
    ops_per_s: float | None
    ops_per_s_ci: tuple[float, float] | None
    speedup: float | None  # over 1 thread of the same variant
    speedup_ci: tuple[float, float] | None
    efficiency: float | None  # speedup ÷ min(threads, cores)
    cpu_cores: float | None  # what the threads actually got


@dataclass(frozen=True)
class MicrobenchFigures:
    """A microbenchmark section and what it measured, for the report and ``gil-lab threads``."""

    section: Microbench
    usable_cores: int  # what efficiency is counted against
    rows: tuple[MicrobenchRow, ...]
    single_thread: tuple[tuple[str, Speedup], ...]  # per workload: 3.14t ÷ 3.14 at one thread (C3)
    noisy: bool  # other processes shared the CPUs (the benchmark's own load does not count)
