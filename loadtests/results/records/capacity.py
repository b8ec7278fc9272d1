"""Capacity at an SLO: each tested rate, and what a configuration's search found."""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.results.record import Record, doc


@dataclass(frozen=True)
class CapacityStep(Record):
    """One tested arrival rate of a capacity search."""

    rate: float = doc("Offered arrivals per second.")
    cell_id: str = doc("The window that measured it.")
    passed: bool = doc("Corrected p95 under the SLO, and failed + dropped under the loss limit.")
    p95_corrected_ms: float | None = doc("p95 latency from the intended send.")
    p95_ms: float | None = doc("p95 latency from the actual send.")
    loss: float | None = doc("(failed + dropped) ÷ scheduled: requests the server failed or could not take.")
    reason: str | None = doc("Why it failed (or was invalid).")
    valid: bool = doc("Whether the window counts. An invalid window (the load generator fell behind, the server "
                      "crashed) decides nothing: the search stops there and reports what it had.", default=True)


class CapacityBounds:
    """What a capacity's bracket says about it, shared by the search (run.json) and its summary."""

    max_rps_at_slo: float | None
    bracket_high: float | None
    limited_by: str | None

    @property
    def is_lower_bound(self) -> bool:
        """The capacity is only "at least": no rate above it failed (the search ran out of time, or an
        invalid window stopped it). An invalid window inside a known bracket leaves the bracket standing."""
        return self.bracket_high is None and (self.max_rps_at_slo is not None or self.limited_by is not None)


@dataclass(frozen=True)
class CapacitySearch(Record, CapacityBounds):
    """The highest arrival rate one configuration sustains at the SLO: a bracket, then bisection."""

    config_id: str = doc("The configuration, without the load model and rate.")
    label: str = doc("Its label (docs/summary-json.md).")
    scenario: str = doc("Its scenario.")
    server: str = doc("Its server.")
    interpreter: str = doc("3.14 or 3.14t.")
    slo_ms: float = doc("The p95 objective, ms.")
    max_loss: float = doc("The largest share of failed and dropped requests a passing rate may have.")
    steps: tuple[CapacityStep, ...] = doc("Every rate tested, in order.")
    max_rps_at_slo: float | None = doc("The highest passing rate (null: none passed).")
    bracket_low: float | None = doc("The highest passing rate: the capacity is at least this.")
    bracket_high: float | None = doc("The lowest failing rate above it: the capacity is below this (null: never "
                                     "failed within the search).")
    resolution: float = doc("The search stopped once the bracket was this narrow, relative to its top.")
    stopping: str = doc("resolution reached, time budget, or invalid window (see limited_by).")
    p95_ms_at_max: float | None = doc("Corrected p95 at the highest passing rate.")
    p95_ci_at_max: tuple[float, float] | None = doc("Bootstrap 95% interval of that p95: the statistical "
                                                    "uncertainty, apart from the search resolution.")
    server_cpu_cores_at_max: float | None = doc("Busy server cores at that rate.")
    pss_mb_at_max: float | None = doc("Peak PSS of the server tree at that rate, MB.")
    limited_by: str | None = doc("Why the search stopped before its resolution with no failing rate above the "
                                 "capacity, e.g. the load generator could not offer more: the capacity is then "
                                 "a lower bound.", default=None)
