"""The HTTP-free microbenchmark (`gil-lab threads`) and a once-per-run step's failure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from loadtests.results.record import Record, doc


@dataclass(frozen=True)
class MicrobenchPoint(Record):
    """One (workload, variant, threads, repeat) measurement of the microbenchmark."""

    workload: str = doc("pure, json or hash.")
    variant: str = doc("3.14, 3.14t or 3.14t+PYTHON_GIL=1.")
    threads: int = doc("Threads running the workload at once.")
    repeat: int = doc("Repeat number; repeats interleave the variants.")
    seconds: float = doc("Measured wall time of the point.")
    ops: int = doc("Workload operations completed.")
    ops_per_s: float = doc("ops / seconds.")
    cpu_cores: float | None = doc("Process CPU time / wall: the cores the threads actually got.")
    gil_enabled: bool = doc("sys._is_gil_enabled() in the worker, before OR after the point.")
    valid: bool = doc("False when the GIL state contradicts the variant.")
    invalid_reason: str | None = doc("Why the point is invalid.")


@dataclass(frozen=True)
class MicrobenchVariant(Record):
    """An interpreter variant of the microbenchmark, as its worker saw itself."""

    path: str = doc("The interpreter.")
    python: str | None = doc("Its version.")
    free_threaded: bool | None = doc("Py_GIL_DISABLED.")
    python_gil_env: str | None = doc("PYTHON_GIL given to the worker (only for 3.14t+PYTHON_GIL=1).")
    gil_flag: int | None = doc("sys.flags.gil.")
    gil_enabled_at_start: bool | None = doc("sys._is_gil_enabled() when the worker started.")


@dataclass(frozen=True)
class LoadAverage(Record):
    """The machine's 1-minute load around the microbenchmark."""

    start: float | None = doc("1-minute load average when the benchmark started.")
    end: float | None = doc("... and when it ended.")


@dataclass(frozen=True)
class Microbench(Record):
    """``gil-lab threads``: stdlib-only work in 1..N threads per interpreter variant, no HTTP."""

    usable_cores: int = doc("Cores the benchmark could use.")
    thread_counts: tuple[int, ...] = doc("Thread counts measured.")
    repeats: int = doc("Repeats per point.")
    workloads: tuple[str, ...] = doc("Workloads measured.")
    variants: tuple[str, ...] = doc("Interpreter variants measured.")
    seconds_per_point: float = doc("Measured wall time per point.")
    started_at: str = doc("ISO 8601 UTC.")
    finished_at: str = doc("ISO 8601 UTC.")
    elapsed_s: float = doc("Wall time of the whole benchmark.")
    load_average: LoadAverage = doc("Other work on the same cores makes figures noisy.")
    interpreters: Mapping[str, MicrobenchVariant] = doc("Per variant, as its worker saw itself.")
    points: tuple[MicrobenchPoint, ...] = doc("One per (workload, variant, threads, repeat).")
    others_cores: float | None = doc("Average cores that other processes used while the benchmark ran: the whole "
                                     "machine's busy time minus the benchmark's own. Above a quarter of the usable "
                                     "cores the figures are noisy.", default=None)


@dataclass(frozen=True)
class StepFailure(Record):
    """A once-per-run step (microbenchmark, audit) that failed: the run goes on without it."""

    error: str = doc("What went wrong.")
