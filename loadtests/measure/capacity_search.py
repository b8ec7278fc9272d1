"""Searching for the highest arrival rate a configuration sustains at an SLO.

A rate *passes* when its open-loop window is valid, the p95 latency measured from the
intended send (so queueing counts) is under the SLO, and failed and dropped requests
together stay under ``max_loss`` of the scheduled arrivals (late sends are the load
generator's fault, so they make a window invalid instead: measure.validity). The search
brackets the capacity first (up by :data:`GROWTH` from a starting guess until a rate
fails, or down until one passes), then bisects the bracket until it is narrower than
``resolution`` of its top. The bracket is the search's resolution; the bootstrap
interval of p95 at the chosen rate is its statistical uncertainty, reported apart.

An invalid window is neither a pass nor a fail: if the load generator could not keep
its schedule at a rate, the server was not offered that rate, and calling it a fail
would understate the capacity. The search stops there, and the capacity it reports is
a lower bound with the reason (``Search.limited_by``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from loadtests.results.records import CapacityPolicy, CapacitySearch, CapacityStep, Cell, CellConfig

GROWTH = 1.5  # bracketing factor
#: An open-loop window lasts long enough for this many arrivals, so its p95 rests on enough
#: requests to bootstrap (a 5 s window at 3 rps would hold 15) ...
MIN_ARRIVALS = 60
#: ... but never longer than this: a search at very low rates stays bounded in time.
MAX_WINDOW_S = 30.0
FLOOR_RPS = 0.5  # below this a configuration is said to sustain nothing at the SLO
DEFAULT_RESOLUTION = 0.10
DEFAULT_MAX_LOSS = 0.01


def judge_step(cell: Cell, rate: float, slo_ms: float, max_loss: float) -> CapacityStep:
    """Whether one open-loop window passes the SLO, with the figures that decided it."""
    stats, corrected = cell.open_loop, cell.latency_corrected_ms
    p95 = corrected.p95 if corrected else None
    actual = cell.latency_ms.p95 if cell.latency_ms else None
    loss = None
    if stats is not None and stats.scheduled:
        loss = (cell.failures + stats.dropped) / stats.scheduled
    reason = None
    valid = cell.valid
    if not valid:
        reason = f"invalid: {cell.invalid_reason}"
    elif p95 is None:
        reason = "no request completed"
    elif p95 >= slo_ms:
        reason = f"p95 {p95:.0f} ms from the intended send is over the {slo_ms:g} ms SLO"
    elif loss is not None and loss >= max_loss:
        reason = f"{loss:.1%} of the arrivals failed or were dropped (limit {max_loss:.0%})"
    return CapacityStep(rate=round(rate, 3), cell_id=cell.id, passed=reason is None, valid=valid,
                        p95_corrected_ms=p95, p95_ms=actual, loss=None if loss is None else round(loss, 4),
                        reason=reason)


@dataclass
class Search:
    """One configuration's search state: the highest pass, the lowest fail above it, the next rate."""

    start: float
    resolution: float = DEFAULT_RESOLUTION
    steps: list[CapacityStep] = field(default_factory=list)
    passed_at: float | None = None
    failed_at: float | None = None
    limited_by: str | None = None

    @property
    def next_rate(self) -> float | None:
        """The rate to test next, or None when the search is done."""
        if not self.steps:
            return self.start
        if self.limited_by is not None:
            return None
        if self.passed_at is not None and self.failed_at is not None:
            if (self.failed_at - self.passed_at) / self.failed_at <= self.resolution:
                return None
            return (self.passed_at + self.failed_at) / 2
        if self.failed_at is None:
            assert self.passed_at is not None
            return self.passed_at * GROWTH
        lower = self.failed_at / GROWTH
        return None if lower < FLOOR_RPS else lower

    def record(self, step: CapacityStep) -> None:
        self.steps.append(step)
        if not step.valid:
            self.limited_by = f"an invalid window at {step.rate:g}/s ({step.reason})"
        elif step.passed:
            self.passed_at = max(step.rate, self.passed_at or 0.0)
            if self.failed_at is not None and self.failed_at <= step.rate:
                self.failed_at = None  # noise: a higher rate passed after a lower one failed; search above it
        elif (self.failed_at is None or step.rate < self.failed_at) and (
                self.passed_at is None or step.rate > self.passed_at):
            self.failed_at = step.rate

    @property
    def done(self) -> bool:
        return self.next_rate is None

    def best_step(self) -> CapacityStep | None:
        """The passing step at the highest rate."""
        passing = [s for s in self.steps if s.passed]
        return max(passing, key=lambda s: s.rate) if passing else None


def open_window_s(duration_s: float, rate: float) -> float:
    """The measured window at ``rate``: the preset's, stretched to hold :data:`MIN_ARRIVALS` (at most
    :data:`MAX_WINDOW_S`, never shorter than the preset's)."""
    return max(duration_s, min(MAX_WINDOW_S, MIN_ARRIVALS / rate)) if rate > 0 else duration_s


def capacity_record(config: CellConfig, search: Search, policy: CapacityPolicy, cells: Sequence[Cell],
                    stopping: str) -> CapacitySearch:
    """What a finished search found, with the figures of its best window."""
    best = search.best_step()
    cell = next((c for c in cells if best and c.id == best.cell_id), None)
    higher = sorted(s.rate for s in search.steps if s.valid and not s.passed and best and s.rate > best.rate)
    return CapacitySearch(
        config_id=config.config_id, label=config.label, scenario=config.scenario,
        server=config.server, interpreter=config.interpreter, slo_ms=policy.slo_ms, max_loss=policy.max_loss,
        steps=tuple(search.steps), max_rps_at_slo=best.rate if best else None,
        bracket_low=best.rate if best else None, bracket_high=higher[0] if higher else None,
        resolution=policy.resolution, stopping="invalid window" if search.limited_by else stopping,
        limited_by=search.limited_by,
        p95_ms_at_max=best.p95_corrected_ms if best else None,
        p95_ci_at_max=cell.latency_corrected_ms.p95_ci if cell and cell.latency_corrected_ms else None,
        server_cpu_cores_at_max=cell.server_cpu_cores if cell else None,
        pss_mb_at_max=cell.server_pss_mb_peak if cell else None)
