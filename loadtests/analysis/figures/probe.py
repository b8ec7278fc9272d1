"""The per-endpoint scaling probe's table, as the analysis hands it down (computed by ``probe_table.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from loadtests.analysis.figures.stats import MeanCI, PairedRatio, Speedup
from loadtests.results.records import GlobalRead

#: What the probe found apart from any server: a diagnosis's ``server`` for its findings.
PROBE_SERVER = "probe"
FT = "3.14t"
GIL = "3.14"
#: CPU per call at the most threads over 1 thread at or above this, its interval above 1 (or every repeat grew
#: that much, where a few repeats give no useful interval): contending.
CONTENTION_GROWTH = 1.10
#: Threads overlapped when they kept this share of min(threads, cores) busy.
PARALLEL_SHARE = 0.6
#: An endpoint's threads below this share of the control's busy cores wait for each other.
SERIAL_SHARE = 0.75
#: Parallel efficiency at or above this: it scales.
SCALES_EFFICIENCY = 0.8

Verdict = Literal["contending", "unmeasured", "scales", "serialised", "partial", "failed"]


@dataclass(frozen=True)
class ProbeRow:
    """One endpoint on one interpreter at one thread count."""

    scenario: str
    endpoint: str
    interpreter: str
    threads: int
    cpu_per_call: MeanCI  # seconds
    throughput: MeanCI  # calls per second
    busy_cores: float
    efficiency: PairedRatio | None  # the throughput ratio to 1 thread ÷ min(threads, cores); None at 1 thread
    cpu_growth: PairedRatio | None  # CPU per call ÷ at 1 thread; None at 1 thread
    cpu_growth_min: float | None = None  # the smallest growth of any one repeat (pair)


@dataclass(frozen=True)
class EndpointScaling:
    """One endpoint across both interpreters, with its verdict on 3.14t."""

    scenario: str
    endpoint: str
    rows: tuple[ProbeRow, ...]
    single_thread_cost: Speedup | None  # 3.14t CPU per call ÷ 3.14's, at 1 thread
    verdict: Verdict
    why: str
    top_threads: int
    control_cores: float | None  # busy cores of the 3.14t control at the most threads
    non_immortal: tuple[GlobalRead, ...]  # data globals the endpoint reads that are not immortal on 3.14t
    error: str | None = None

    def row(self, interpreter: str, threads: int | None = None) -> ProbeRow | None:
        wanted = self.top_threads if threads is None else threads
        return next((r for r in self.rows if r.interpreter == interpreter and r.threads == wanted), None)

    def efficiency(self, interpreter: str) -> float | None:
        row = self.row(interpreter)
        return None if row is None or row.efficiency is None else row.efficiency.ratio

    @property
    def cpu_growth(self) -> PairedRatio | None:
        row = self.row(FT)
        return None if row is None else row.cpu_growth
