"""Searching for the highest arrival rate a configuration sustains at an SLO, with the evidence to say how sure.

A rate's step counts every arrival due in its window (``arrivals.py``) and how many had
no good answer within the SLO. Under the SLO means fewer than 5% missed (p95 under it)
and failed, dropped and unanswered arrivals under ``max_loss``. One step is noisy:
misses come in bursts, so a window's share can land on either side of 5% at the same
rate. The search therefore spends its arrivals where they decide:

1. **Bracket** (short windows of :attr:`SearchPolicy.bracket_arrivals`): from a starting
   guess, up by :data:`GROWTH` until a rate is over the SLO, or down until one is under.
   Far from the capacity a short window is enough to tell which side a rate is on.
2. **Refine** (windows of :attr:`SearchPolicy.refine_arrivals`): a logistic curve of the
   miss share against the rate is fitted to every step near the crossing
   (``capacity_fit.py``), and the next rates sit on either side of its crossing, where
   the fitted logit is one unit below or above the target's (shares of about 2% and 13%):
   close enough to decide, far enough apart to show the slope.
3. **Stop** after a pilot of :attr:`SearchPolicy.pilot_steps` refine steps has shown how
   wide the interval is: it plans the refine steps the target precision needs (the
   interval narrows as one over the square root of the arrivals) and stops when they
   are done, whatever the interval then says. Stopping the moment an interval looks
   narrow enough would pick the intervals that are narrow by chance and lose coverage.
   The time budget, the step limit and invalid windows stop it earlier.

The capacity is the crossing of the curve fitted to all the steps near it, with a 95%
interval (statistical uncertainty); the nearest passing and failing rates tested are
the search's resolution, reported apart.

An invalid window (the generator could not keep its schedule, the server crashed) is
neither under nor over the SLO and takes no part in the fit; the search tries that rate
again, since a busy moment of the machine passes. After :data:`MAX_INVALID` invalid
windows in a row, or two at rates the search still needs, it stops, and its capacity is
a lower bound (``Search.limited_by``): the generator could not offer those rates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from loadtests.measure.capacity_fit import (
    CrossingFit,
    StepCount,
    fit_crossing,
    monotone_crossing,
    monotone_curve,
    monotone_steepness,
)
from loadtests.results.records import (
    MISS_TARGET,
    CapacityFit,
    CapacityPolicy,
    CapacitySearch,
    CapacityStep,
    Cell,
    CellConfig,
    SearchPhase,
    StepPhase,
)

GROWTH = 1.5  # bracketing factor
FLOOR_RPS = 0.5  # below this a configuration is said to sustain nothing at the SLO
MAX_INVALID = 3  # invalid windows in a row that stop a search
SPREAD_LOGIT = 1.0  # refine rates sit where the fitted logit is the target's ± this
MIN_SPREAD, MAX_SPREAD = 0.18, 0.4  # ... but at least e^±0.18 and at most e^±0.4 from it (inside the fit's span)
#: A window lasts long enough for its arrivals, at least the preset's duration and at most this.
MAX_WINDOW_S = 120.0


@dataclass(frozen=True)
class SearchPolicy:
    """How many arrivals a search spends, and where (from the run's capacity policy)."""

    precision: float = 0.12
    bracket_arrivals: int = 80
    refine_arrivals: int = 200
    pilot_steps: int = 4
    min_steps: int = 10  # refine steps of one search, at least: the dispersion of the bursts needs the scatter
    max_steps: int = 40  # ... and at most

    @classmethod
    def of(cls, policy: CapacityPolicy) -> SearchPolicy:
        return cls(policy.precision, policy.bracket_arrivals, policy.refine_arrivals, policy.pilot_steps,
                   policy.min_steps, policy.max_steps)


def judge_step(cell: Cell, rate: float, max_loss: float, phase: StepPhase) -> CapacityStep:
    """Whether one open-loop window is under the SLO, with the counts the fit uses."""
    stats, corrected = cell.open_loop, cell.latency_corrected_ms
    p95 = corrected.p95 if corrected else None
    actual = cell.latency_ms.p95 if cell.latency_ms else None
    arrivals = stats.scheduled if stats is not None else None
    misses = stats.over_slo if stats is not None else None
    loss = None
    if stats is not None and stats.scheduled:
        lost = stats.dropped + (stats.failed or 0) + (stats.unanswered or 0)
        loss = lost / stats.scheduled
    reason = None
    if not cell.valid:
        reason = f"invalid: {cell.invalid_reason}"
    elif not arrivals or misses is None:
        reason = "no arrival was due in the window"
    elif misses / arrivals >= MISS_TARGET:
        reason = (f"{misses} of {arrivals} arrivals ({misses / arrivals:.1%}) had no good answer within the "
                  f"{stats.slo_ms:g} ms SLO (p95 {p95:.0f} ms)" if stats and stats.slo_ms and p95 is not None else
                  f"{misses} of {arrivals} arrivals had no good answer within the SLO")
    elif loss is not None and loss >= max_loss:
        reason = f"{loss:.1%} of the arrivals failed, were dropped or went unanswered (limit {max_loss:.0%})"
    return CapacityStep(rate=round(rate, 3), cell_id=cell.id, passed=reason is None, valid=cell.valid,
                        p95_corrected_ms=p95, p95_ms=actual, loss=None if loss is None else round(loss, 4),
                        reason=reason, arrivals=arrivals, misses=misses,
                        miss_blocks=stats.over_slo_blocks if stats is not None else (),
                        p95_ci_ms=corrected.p95_ci if corrected else None, phase=phase)


@dataclass
class Search:
    """One configuration's search: its steps so far, and the next rate and window it asks for."""

    start: float
    policy: SearchPolicy = field(default_factory=SearchPolicy)
    steps: list[CapacityStep] = field(default_factory=list)
    limited_by: str | None = None
    stopped: str | None = None  # why the search ended (None while it goes on)
    planned: int | None = None  # refine steps the pilot called for
    centre: float = 0.0  # the estimate the current pair of refine steps straddles (0: none yet)
    pilot_spread: float = 0.0  # how far from it, during the pilot ...
    spread: float | None = None  # ... and once the pilot has fixed it

    # ---- what the fit sees -----------------------------------------------------------------
    def counts(self) -> list[StepCount]:
        """The valid steps as the fit counts them."""
        return [StepCount(s.rate, s.arrivals, s.misses, s.miss_blocks) for s in self.steps
                if s.valid and s.arrivals and s.misses is not None]

    def fit(self) -> CrossingFit | None:
        return fit_crossing(self.counts())



    @property
    def refine_steps(self) -> int:
        return sum(1 for s in self.steps if s.valid and s.phase == "refine")

    @property
    def cap(self) -> float | None:
        """The lowest rate with two invalid windows at or above it and no valid one: the generator cannot offer it.

        A valid window at or above a rate shows the generator can offer it: invalid ones there were a busy moment.
        """
        invalid = sorted((s.rate for s in self.steps if not s.valid), reverse=True)
        top_valid = max((s.rate for s in self.steps if s.valid), default=0.0)
        capped = [rate for i, rate in enumerate(invalid) if i >= 1 and rate > top_valid]
        return min(capped) if capped else None

    @property
    def invalid_in_a_row(self) -> int:
        count = 0
        for step in reversed(self.steps):
            if step.valid:
                break
            count += 1
        return count

    # ---- what to measure next --------------------------------------------------------------
    def next_step(self) -> tuple[float, int, StepPhase] | None:
        """(rate, arrivals, phase) of the next window, or None when the search is done."""
        if self.stopped is not None:
            return None
        if not self.steps:
            return self.start, self.policy.bracket_arrivals, "bracket"
        if self.invalid_in_a_row >= MAX_INVALID:
            return self._stop("invalid window", f"{MAX_INVALID} invalid windows in a row ({self._last_invalid()})")
        counts = self.counts()
        crossing = monotone_crossing(counts)
        if crossing is None:
            return self._bracket(counts)
        return self._refine(crossing)

    def _bracket(self, counts: Sequence[StepCount]) -> tuple[float, int, StepPhase] | None:
        """No crossing yet: every rate tested is under the SLO (go up), or every one is over it (go down)."""
        curve = monotone_curve(counts)
        phase: StepPhase = "refine" if self.refine_steps else "bracket"
        arrivals = self.policy.refine_arrivals if phase == "refine" else self.policy.bracket_arrivals
        if not curve or curve[-1].share < MISS_TARGET:
            return self._capped(max((c.rate for c in counts), default=self.start / GROWTH) * GROWTH, arrivals, phase)
        rate = min(c.rate for c in counts) / GROWTH
        if rate < FLOOR_RPS:
            return self._stop("nothing under the SLO")
        return self._capped(rate, arrivals, phase)

    def _refine(self, crossing: float) -> tuple[float, int, StepPhase] | None:
        done, policy = self.refine_steps, self.policy
        if done % 2 == 0 or not self.centre:  # each pair of steps straddles the latest estimate
            centre, spread, half = self._around(crossing)
            self.centre = centre
            if self.spread is None:
                self.pilot_spread = spread
                if done >= policy.pilot_steps and (half is not None or done >= 2 * policy.pilot_steps):
                    # the pilot has shown the curve: fix the spread and the steps the precision needs
                    self.spread = spread
                    needed = policy.max_steps if half is None else math.ceil(done * (half / policy.precision) ** 2)
                    self.planned = min(policy.max_steps, max(done, policy.min_steps, needed))
        if self.planned is not None and done >= self.planned:
            return self._stop("precision planned")
        if done >= policy.max_steps:
            return self._stop("step limit")
        spread = self.spread if self.spread is not None else self.pilot_spread
        side = 1 if done % 2 == 0 else -1  # above, then below the estimate
        return self._capped(self.centre * math.exp(side * spread), policy.refine_arrivals, "refine")

    def _around(self, crossing: float) -> tuple[float, float, float | None]:
        """(centre, spread, half-width of the interval) for the next refine step: at the fitted crossing once
        a curve is fitted, else where the shares themselves cross; the spread from the curve's steepness."""
        fit = self.fit()
        centre, steepness, half = crossing, monotone_steepness(self.counts()), None
        if fit is not None and crossing / 2 <= fit.estimate <= crossing * 2:
            centre, half = fit.estimate, fit.half_width
            if half is not None:
                steepness = fit.steepness
        spread = MAX_SPREAD if not steepness else min(MAX_SPREAD, max(MIN_SPREAD, SPREAD_LOGIT / steepness))
        return centre, spread, half

    def _capped(self, rate: float, arrivals: int, phase: StepPhase) -> tuple[float, int, StepPhase] | None:
        """``rate``, or one under the cap when the generator could not offer it; None (stop) when nothing under
        the cap is left to learn."""
        cap = self.cap
        if cap is None or rate < cap:
            return rate, arrivals, phase
        below = cap / (GROWTH if phase == "bracket" else math.exp(MIN_SPREAD))
        if below <= max((c.rate for c in self.counts()), default=0.0) or below < FLOOR_RPS:
            return self._stop("invalid window", f"invalid windows at {cap:g}/s and above ({self._last_invalid()})")
        return below, arrivals, phase

    def _stop(self, why: str, limited_by: str | None = None) -> tuple[float, int, StepPhase] | None:
        """End the search (why, and what limited it): there is no next step."""
        self.stopped = why
        if limited_by is not None:
            self.limited_by = limited_by
        return None

    def _last_invalid(self) -> str:
        bad = [s for s in self.steps if not s.valid]
        return bad[-1].reason or "invalid" if bad else "invalid"

    def record(self, step: CapacityStep) -> None:
        self.steps.append(step)

    @property
    def done(self) -> bool:
        return self.next_step() is None

    def best_step(self) -> CapacityStep | None:
        """The passing step at the highest rate."""
        passing = [s for s in self.steps if s.passed]
        return max(passing, key=lambda s: s.rate) if passing else None


def window_s(duration_s: float, rate: float, arrivals: int) -> float:
    """The measured window for ``arrivals`` at ``rate``: at least the preset's duration, at most :data:`MAX_WINDOW_S`."""
    return max(duration_s, min(MAX_WINDOW_S, arrivals / rate)) if rate > 0 else duration_s


def capacity_record(config: CellConfig, search: Search, policy: CapacityPolicy, cells: Sequence[Cell],
                    stopping: str, phase: SearchPhase = "search") -> CapacitySearch:
    """What a finished search found: the fitted capacity and its interval, the rates around it, its best window."""
    fit = search.fit()
    valid = [s for s in search.steps if s.valid]
    passing = [s for s in valid if s.passed]
    estimate = fit.estimate if fit is not None else max((s.rate for s in passing), default=None)
    low = max((s.rate for s in passing if estimate is not None and s.rate <= estimate), default=None)
    high = min((s.rate for s in valid if not s.passed and (low is None or s.rate > low)), default=None)
    nearest = max((s for s in passing if estimate is not None and s.rate <= estimate), key=lambda s: s.rate,
                  default=None)
    cell = next((c for c in cells if nearest and c.id == nearest.cell_id), None)
    return CapacitySearch(
        config_id=config.config_id, label=config.label, scenario=config.scenario,
        server=config.server, interpreter=config.interpreter, slo_ms=policy.slo_ms, max_loss=policy.max_loss,
        steps=tuple(search.steps), max_rps_at_slo=None if estimate is None else round(estimate, 3),
        bracket_low=low, bracket_high=high, resolution=policy.resolution,
        stopping="invalid window" if search.limited_by else stopping, limited_by=search.limited_by,
        p95_ms_at_max=nearest.p95_corrected_ms if nearest else None,
        p95_ci_at_max=nearest.p95_ci_ms if nearest else None,
        server_cpu_cores_at_max=cell.server_cpu_cores if cell else None,
        pss_mb_at_max=cell.server_pss_mb_peak if cell else None,
        method="fit", ci_low=None if fit is None or fit.low is None else round(fit.low, 3),
        ci_high=None if fit is None or fit.high is None else round(fit.high, 3),
        fit=None if fit is None else CapacityFit(
            intercept=fit.intercept, slope=fit.slope, scale=fit.scale, dispersion=round(fit.dispersion, 3),
            df=fit.df, steps_used=fit.steps_used, arrivals_used=fit.arrivals_used, rate_low=fit.rates[0],
            rate_high=fit.rates[1]),
        arrivals=sum(s.arrivals or 0 for s in valid), precision_target=search.policy.precision, phase=phase)
