"""A configuration's figures, a sweep of configurations, a comparison of two: what ``analysis.configs`` returns.

The rules that make them (docs/run-json.md) live in :mod:`loadtests.analysis.configs`:
an invalid cell is never averaged with valid ones, a configuration's figure is the mean
of its valid repeats with a 95% t interval, and a comparison pairs two configurations
that differ in one thing only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loadtests.analysis.figures.stats import MeanCI, PairedRatio, Speedup
from loadtests.core.flavour import FT, GIL
from loadtests.results.records import config_label

GIL_INTERPRETER = GIL.label
FT_INTERPRETER = FT.label
# Scenarios that are not CPU-bound work in the thread pool: "async" blocks the loop on
# purpose (the reference that does not scale) and "trap" scenarios re-enable the GIL.
NON_SCALING_MARKERS = ("async", "trap")
#: The compute loop over a shared, never-immortal module global: the reference for reference-count contention.
CONTENDED_SCENARIO = "contended"

KIND_INTERPRETER = "3.14t vs 3.14"
KIND_PROCESSES = "3.14t threads vs 3.14 processes"
KIND_GIL_TOGGLE = "3.14t PYTHON_GIL=1 vs 3.14t"

SWEEP_AXES = ("users", "threads", "cpus")
AXIS_UNITS = {"users": "concurrent users (Locust users)", "threads": "anyio threads per event loop (count)",
              "cpus": "CPUs the server is pinned to (count)"}


@dataclass(frozen=True)
class ConfigSummary:
    """One configuration: its valid repeats summarised, its invalid repeats listed."""

    config_id: str
    scenario: str
    server: str
    interpreter: str
    free_threaded: bool
    python_gil_env: str | None
    parallelism: str
    workers: int
    threads: int
    users: int
    cpus: tuple[int, ...] | None
    n_valid: int
    rps_values: tuple[float, ...]
    rps: MeanCI | None
    p50: MeanCI | None
    p95: MeanCI | None
    p99: MeanCI | None
    rss_mb: MeanCI | None
    server_cpu_cores: MeanCI | None
    client_cpu_cores: MeanCI | None
    gil_enabled: bool  # in any repeat, valid or not
    gil_enabled_by: tuple[str, ...]
    invalid: tuple[tuple[str, str], ...]  # (cell id, reason)
    # Throughput measured in invalid repeats (e.g. 3.14t with the GIL back on): shown beside
    # the valid figures in the GIL-incidents section, never averaged into them.
    invalid_rps_values: tuple[float, ...] = ()
    refusals: tuple[str, ...] = ()  # why the server refused to start, per refused repeat
    pss_mb: MeanCI | None = None  # peak PSS of the server tree: shared pages counted once
    uss_mb: MeanCI | None = None
    cv: float | None = None  # coefficient of variation of the valid windows' rps
    server_settings: tuple[Any, ...] = ()  # http, loop, drop-in directories: equal on both sides of a comparison

    @property
    def label(self) -> str:
        """Short human name: ``3.14t uvicorn w1 t8`` or ``3.14 uvicorn ×2 proc t8``."""
        return config_label(self.interpreter, self.python_gil_env, self.server, self.parallelism, self.workers,
                            self.threads, self.cpus)

    @property
    def memory_mb(self) -> MeanCI | None:
        """The memory figure comparisons use: PSS where it was sampled, else RSS (older runs)."""
        return self.pss_mb or self.rss_mb

    @property
    def memory_measure(self) -> str:
        return "PSS" if self.pss_mb else "RSS"

    @property
    def parallel_width(self) -> int:
        """Requests this configuration can run at once before cores are counted."""
        return max(1, min(self.users, self.workers * self.threads, len(self.cpus) if self.cpus else 10**9))

    def cores_in_use(self, usable_cores: int) -> int:
        """The most cores this configuration can keep busy: its width, capped by its CPU set or the machine."""
        return max(1, min(self.parallel_width, len(self.cpus) if self.cpus else usable_cores))

    @property
    def is_cpu_bound(self) -> bool:
        return not any(m in self.scenario for m in NON_SCALING_MARKERS)

    def along(self, axis: str) -> int:
        """Its value on a sweep axis: users, threads, or the size of its CPU set (0 when unpinned)."""
        if axis == "users":
            return self.users
        if axis == "threads":
            return self.threads
        return len(self.cpus) if self.cpus else 0


@dataclass(frozen=True)
class Sweep:
    """Configurations that differ in one dimension only (users, threads or CPU set), in order.

    The ideal speedup over the first point is the ratio of cores each can keep busy,
    so on 2 cores going from 8 to 16 users has an ideal of 1×, not 2×.
    """

    axis: str
    scenario: str
    label: str  # the configuration without the swept dimension
    points: tuple[ConfigSummary, ...]
    usable_cores: int

    @property
    def axis_label(self) -> str:
        return AXIS_UNITS[self.axis]

    def x(self, c: ConfigSummary) -> int:
        return c.along(self.axis)

    def speedup(self, c: ConfigSummary) -> float:
        base = self.points[0]
        assert c.rps is not None and base.rps is not None
        return c.rps.mean / base.rps.mean

    def ideal(self, c: ConfigSummary) -> float:
        return c.cores_in_use(self.usable_cores) / self.points[0].cores_in_use(self.usable_cores)


@dataclass(frozen=True)
class Comparison:
    """candidate / baseline throughput of two configurations that differ in one thing."""

    kind: str
    candidate: ConfigSummary
    baseline: ConfigSummary
    speedup: Speedup | PairedRatio  # paired when both sides alternated in one comparison
    ideal: float | None  # cores the candidate could use ÷ cores the baseline used (interpreter comparisons)
    efficiency: float | None  # speedup ÷ ideal
    memory_ratio: float | None  # candidate ÷ baseline memory (PSS where sampled, else RSS)
    comparison_id: str | None = None  # the alternation both sides took part in, if any
    # The same ratio of cores for every kind (against N processes too): where a forest plot ticks the ideal.
    cores_ratio: float | None = None

    @property
    def scenario(self) -> str:
        return self.candidate.scenario

    @property
    def server(self) -> str:
        return self.candidate.server

    @property
    def users(self) -> int:
        return self.candidate.users

    @property
    def paired(self) -> bool:
        return isinstance(self.speedup, PairedRatio)
