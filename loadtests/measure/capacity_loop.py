"""The capacity loop: each arm's search for its highest rate at the SLO, the arms' steps interleaved.

One open-loop window per arm and step, in turn, so drift of the machine favours no arm:
the re-tests near each arm's capacity are interleaved with the other arms' steps too.
Between steps the server drains the previous step's queue. What each search decides
after a window is ``capacity_search.py``'s; this module only runs the windows, keeps the
time budget, and records every step's window and every search's result in run.json.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from loadtests.measure.arm import Arm
from loadtests.measure.arrivals import late_threshold_ms
from loadtests.measure.capacity_search import FLOOR_RPS, Search, SearchPolicy, capacity_record, judge_step, window_s
from loadtests.measure.comparison_loop import finish
from loadtests.measure.load_session import OpenLoad
from loadtests.measure.sampling import usage_in_window
from loadtests.measure.server_pool import ServerPool
from loadtests.measure.window_measurement import measure_window
from loadtests.plan.comparisons import ComparisonPlan
from loadtests.results.records import CapacityPolicy, CapacitySearch, CapacityStep, SearchPhase
from loadtests.results.run_writer import RunWriter

IDLE_CORES = 0.15  # a server below this has drained its queue
DRAIN_POLL_S = 0.5  # how often the drain between steps looks at the server's CPU
DEFAULT_START_RPS = 5.0  # the first rate when a server has no warm-up to start from


class CapacityComparison:
    """Searches the capacity of every arm of one comparison at the policy's SLO."""

    def __init__(self, run: RunWriter, pool: ServerPool, policy: CapacityPolicy, say: Callable[[str], None]) -> None:
        self.run, self.pool, self.policy, self.say = run, pool, policy, say

    def measure(self, comparison: ComparisonPlan, total: int, phase: SearchPhase = "search") -> None:
        policy, run = self.policy, self.run
        started = time.monotonic()
        names = " vs ".join(a.label for a in comparison.arms)
        self.say(f"==> [{len(run.record.comparisons) + 1}/{total}] capacity of {comparison.comparison_id} at p95 < "
                 f"{policy.slo_ms:g} ms: {names}")
        live = self.pool.arms(comparison)
        plan = SearchPolicy.of(policy)
        searches = {arm.config: Search(start=self.starting_rate(arm), policy=plan) for arm in live}
        budget = run.plan.max_time_s
        step = run.next_block(comparison.comparison_id)
        out_of_time = False
        while not all(s.done for s in searches.values()):
            for slot, arm in enumerate(live):
                search = searches[arm.config]
                wanted = search.next_step()
                if wanted is None:
                    continue
                if budget is not None and time.monotonic() - started >= budget:
                    out_of_time = True
                    break
                rate, arrivals, step_phase = wanted
                self.drain(arm)
                repeat = sum(1 for c in run.record.cells if c.config_id.startswith(arm.config.config_id + "/open-"))
                load = OpenLoad(rate, policy.arrivals, policy.inflight_cap, late_threshold_ms(policy.slo_ms),
                                policy.slo_ms, window_s(run.plan.duration_s, rate, arrivals))
                cell = measure_window(self.pool.bench, arm, comparison, step, slot, repeat, load)
                run.add_cell(cell)
                result = judge_step(cell, rate, policy.max_loss, step_phase)
                search.record(result)
                self.say(f"    {arm.config.label} at {rate:.1f}/s ({step_phase}): {step_text(result)}")
            if out_of_time:
                break
            step += 1
        for arm in live:
            search = searches[arm.config]
            stopping = search.stopped or ("time budget" if out_of_time else "precision planned")
            found = capacity_record(arm.config, search, policy, run.record.cells, stopping, phase)
            run.add_capacity(found)
            self.say(f"    capacity {arm.config.label}: {capacity_text(found)}")
        finish(run, comparison, "time budget" if out_of_time else "precision reached", started)

    def starting_rate(self, arm: Arm) -> float:
        """Half of what the server completed closed-loop in its warm-up's last seconds (a rate it should pass)."""
        warmups = [w for w in self.run.record.warmups if w.config_id == arm.config.config_id and w.rps_series]
        if not warmups:
            return DEFAULT_START_RPS
        tail = warmups[-1].rps_series[-3:]
        return max(FLOOR_RPS * 2, 0.5 * sum(tail) / len(tail))

    def drain(self, arm: Arm, timeout: float = 10.0) -> None:
        """Between rate steps: wait until the server has finished the previous step's queue (its CPU goes idle)."""
        self.pool.bench.session.drain()
        if arm.server is None or not arm.server.pid:
            time.sleep(1.0)
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(DRAIN_POLL_S)
            now = time.time()
            use = usage_in_window(self.pool.bench.sampler.readings(arm.tree), now - 1.0, now)
            if use is not None and use.cpu_cores < IDLE_CORES:
                return


def step_text(step: CapacityStep) -> str:
    """``9 of 251 arrivals over the SLO (3.6%), p95 412 ms (95% 380–470): under`` for a progress line."""
    if not step.valid:
        return f"INVALID, not counted ({step.reason})"
    share = f"{step.misses} of {step.arrivals} arrivals over the SLO ({step.miss_share:.1%})" \
        if step.arrivals and step.miss_share is not None else "no arrival"
    p95 = "" if step.p95_corrected_ms is None else f", p95 {step.p95_corrected_ms:.0f} ms"
    if step.p95_ci_ms is not None:
        top = "?" if step.p95_ci_ms[1] is None else f"{step.p95_ci_ms[1]:.0f}"
        p95 += f" (95% {step.p95_ci_ms[0]:.0f}–{top})"
    return f"{share}{p95}: " + ("under" if step.passed else "over" if step.misses is not None and step.arrivals and
                                step.misses / step.arrivals >= 0.05 else f"over ({step.reason})")


def capacity_text(search: CapacitySearch) -> str:
    """``6.2 rps (95% CI 5.6–6.9; 3412 arrivals in 14 steps)``, ``at least 9.0 rps``, or ``none``."""
    if search.max_rps_at_slo is None:
        return "none at this SLO" if search.limited_by is None else f"unknown ({search.limited_by})"
    if search.ci_low is not None or search.ci_high is not None:
        low = "?" if search.ci_low is None else f"{search.ci_low:.1f}"
        high = "unbounded" if search.ci_high is None else f"{search.ci_high:.1f}"
        interval = f"95% CI {low}–{high}"
    else:
        interval = "no interval: too few steps near the SLO"
    bound = "at least " if search.is_lower_bound else ""
    return (f"{bound}{search.max_rps_at_slo:.1f} rps ({interval}; {search.arrivals} arrivals in "
            f"{sum(1 for s in search.steps if s.valid)} steps; {search.stopping})")
