"""Capacity at an SLO: each tested rate, the curve fitted through them, and what a configuration's search found."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from loadtests.results.record import Record, doc

#: p95 under the SLO is the same as fewer than 5% of the arrivals over it.
MISS_TARGET = 0.05

StepPhase = Literal["bracket", "refine"]
CapacityMethod = Literal["fit", "bracket"]
SearchPhase = Literal["search", "screen", "confirm"]


@dataclass(frozen=True)
class CapacityStep(Record):
    """One tested arrival rate of a capacity search."""

    rate: float = doc("Offered arrivals per second.")
    cell_id: str = doc("The window that measured it.")
    passed: bool = doc("Under the SLO at this step: fewer than 5% of its arrivals over the SLO (its p95 under it), "
                       "and failed + dropped + unanswered under the loss limit.")
    p95_corrected_ms: float | None = doc("p95 latency from the intended send, over every arrival due in the window "
                                         "(unanswered ones at their lower bound).")
    p95_ms: float | None = doc("p95 latency from the actual send.")
    loss: float | None = doc("(failed + dropped + unanswered) ÷ scheduled: arrivals the server did not answer well.")
    reason: str | None = doc("Why it failed (or was invalid).")
    valid: bool = doc("Whether the window counts. An invalid window (the load generator fell behind, the server "
                      "crashed) decides nothing and takes no part in the fit.", default=True)
    arrivals: int | None = doc("Arrivals due inside the window (the schedule log). Null before schema version 9.",
                               default=None)
    misses: int | None = doc("Of those, arrivals without a good answer within the SLO.", default=None)
    miss_blocks: tuple[int, ...] = doc("misses in 5 blocks of consecutive arrivals (how bursty they were).",
                                       default=())
    p95_ci_ms: tuple[float, float | None] | None = doc("95% interval of the step's p95: order statistics widened "
                                                       "by the design effect of its bursts (upper end null: past "
                                                       "the slowest arrival).", default=None)
    phase: StepPhase | None = doc("bracket (finding rates on both sides of the SLO, short windows) or refine "
                                  "(around the fitted capacity, longer windows).", default=None)

    @property
    def miss_share(self) -> float | None:
        return self.misses / self.arrivals if self.arrivals and self.misses is not None else None


@dataclass(frozen=True)
class CapacityFit(Record):
    """The logistic curve of the share of arrivals over the SLO against the offered rate, fitted to the steps
    near the capacity: ``share(rate) = 1 / (1 + exp(-(intercept + slope · (rate / scale - 1))))``."""

    intercept: float = doc("a of the logistic curve.")
    slope: float = doc("b: how fast the logit of the share rises per unit of rate ÷ scale.")
    scale: float = doc("The rate the fit is centred on, rps.")
    dispersion: float = doc("How many times a binomial count's variance the steps' misses vary (bursts; at least 1), "
                            "from the steps' scatter around the curve.")
    df: int = doc("Degrees of freedom of that scatter: steps used - 2.")
    steps_used: int = doc("Steps within the fit's span of the capacity.")
    arrivals_used: int = doc("Their arrivals.")
    rate_low: float | None = doc("The lowest rate of the steps used, rps.", default=None)
    rate_high: float | None = doc("The highest, rps.", default=None)

    def share_at(self, rate: float) -> float:
        """The fitted share of arrivals over the SLO at ``rate``."""
        z = self.intercept + self.slope * (rate / self.scale - 1.0)
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


def setting_rank(rps: float | None, lower_bound: bool, threads: int, workers: int) -> tuple[float, int, int]:
    """Sorts a side's settings best first: the most capacity at the SLO (an unknown one last), then fewer threads,
    then fewer workers (the cheaper setting). The one rule for a tuning run's best setting: the search that picks
    the settings to re-measure, and the analysis that reports them, both sort by it."""
    value = rps if rps is not None else (-1.0 if lower_bound else 0.0)
    return (-value, threads, workers)


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
    """The highest arrival rate one configuration sustains at the SLO, estimated from every step of its search."""

    config_id: str = doc("The configuration, without the load model and rate.")
    label: str = doc("Its label (docs/summary-json.md).")
    scenario: str = doc("Its scenario.")
    server: str = doc("Its server.")
    interpreter: str = doc("3.14 or 3.14t.")
    slo_ms: float = doc("The p95 objective, ms.")
    max_loss: float = doc("The largest share of failed and dropped requests a passing rate may have.")
    steps: tuple[CapacityStep, ...] = doc("Every rate tested, in order.")
    max_rps_at_slo: float | None = doc("The estimated capacity: the rate where the fitted share of arrivals over "
                                       "the SLO is 5% (method fit), or the highest passing rate (method bracket, "
                                       "or when no curve could be fitted). Null: none passed.")
    bracket_low: float | None = doc("The highest passing rate tested below the capacity: the search's resolution "
                                    "on that side.")
    bracket_high: float | None = doc("The lowest failing rate tested above it (null: no rate failed within the "
                                     "search, so the capacity is a lower bound).")
    resolution: float = doc("The bisection's target width of the bracket, relative to its top (method bracket).")
    stopping: str = doc("Why the search stopped: precision planned (the steps the pilot called for), step limit, "
                        "time budget, invalid window (see limited_by), or resolution reached (method bracket).")
    p95_ms_at_max: float | None = doc("Corrected p95 of the passing step nearest the capacity.")
    p95_ci_at_max: tuple[float, float | None] | None = doc("Its 95% interval (that step's own uncertainty).")
    server_cpu_cores_at_max: float | None = doc("Busy server cores at that step.")
    pss_mb_at_max: float | None = doc("Peak PSS of the server tree at that step, MB.")
    limited_by: str | None = doc("Why the search stopped before it could bound the capacity from above, e.g. the "
                                 "load generator could not offer more: the capacity is then a lower bound.",
                                 default=None)
    method: CapacityMethod = doc("fit: the capacity and its interval come from a curve fitted to every step near "
                                 "it; bracket: a run before schema version 9, whose capacity is its highest passing "
                                 "rate, without an interval.", default="fit")
    ci_low: float | None = doc("Lower end of the 95% interval of the capacity (statistical uncertainty of the fit; "
                               "null when none could be computed).", default=None)
    ci_high: float | None = doc("Upper end (null: unbounded or none computed).", default=None)
    fit: CapacityFit | None = doc("The fitted curve (null when too few steps straddle the SLO).", default=None)
    arrivals: int = doc("Arrivals over every valid step of the search.", default=0)
    precision_target: float | None = doc("The half-width of the interval the search planned its steps for, "
                                         "relative to the capacity (0.1 = ±10%).", default=None)
    phase: SearchPhase = doc("search (a plain capacity run), screen (one of the settings a tuning run tries) or "
                             "confirm (a tuning run's fresh search of each side's best setting).", default="search")

    @property
    def precision_reached(self) -> float | None:
        """The interval's larger half, relative to the capacity (None when unbounded or absent)."""
        if self.ci_low is None or self.ci_high is None or not self.max_rps_at_slo:
            return None
        return max(self.max_rps_at_slo - self.ci_low, self.ci_high - self.max_rps_at_slo) / self.max_rps_at_slo
