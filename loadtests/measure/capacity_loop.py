"""The capacity loop: each arm's search for its highest rate at the SLO, the arms' steps interleaved.

One open-loop window per arm and step, in turn, so drift of the machine favours no arm;
between steps the server drains the previous step's queue. What each search decides
after a window is ``capacity_search.py``'s; this module only runs the windows, keeps the
time budget, and records every step's window and every search's result in run.json.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from loadtests.measure.arm import Arm
from loadtests.measure.capacity_search import FLOOR_RPS, Search, capacity_record, judge_step
from loadtests.measure.comparison_loop import finish
from loadtests.measure.load_session import OpenLoad
from loadtests.measure.sampling import usage_in_window
from loadtests.measure.server_pool import ServerPool
from loadtests.measure.window_measurement import measure_window
from loadtests.measure.windows import late_threshold_ms
from loadtests.plan.comparisons import ComparisonPlan
from loadtests.results.records import CapacityPolicy
from loadtests.results.run_writer import RunWriter

IDLE_CORES = 0.15  # a server below this has drained its queue
DRAIN_POLL_S = 0.5  # how often the drain between steps looks at the server's CPU
DEFAULT_START_RPS = 5.0  # the first rate when a server has no warm-up to start from


class CapacityComparison:
    """Searches the capacity of every arm of one comparison at the policy's SLO."""

    def __init__(self, run: RunWriter, pool: ServerPool, policy: CapacityPolicy, say: Callable[[str], None]) -> None:
        self.run, self.pool, self.policy, self.say = run, pool, policy, say

    def measure(self, comparison: ComparisonPlan, total: int) -> None:
        policy, run = self.policy, self.run
        started = time.monotonic()
        names = " vs ".join(a.label for a in comparison.arms)
        self.say(f"==> [{len(run.record.comparisons) + 1}/{total}] capacity of {comparison.comparison_id} at p95 < "
                 f"{policy.slo_ms:g} ms: {names}")
        live = self.pool.arms(comparison)
        searches = {arm.config: Search(start=self.starting_rate(arm), resolution=policy.resolution) for arm in live}
        budget = run.plan.max_time_s
        step = run.next_block(comparison.comparison_id)
        out_of_time = False
        while not all(s.done for s in searches.values()):
            for slot, arm in enumerate(live):
                search = searches[arm.config]
                rate = search.next_rate
                if rate is None:
                    continue
                if budget is not None and time.monotonic() - started >= budget:
                    out_of_time = True
                    break
                self.drain(arm)
                repeat = sum(1 for c in run.record.cells if c.config_id.startswith(arm.config.config_id + "/open-"))
                load = OpenLoad(rate, policy.arrivals, policy.inflight_cap, late_threshold_ms(policy.slo_ms))
                cell = measure_window(self.pool.bench, arm, comparison, step, slot, repeat, load)
                run.add_cell(cell)
                result = judge_step(cell, rate, policy.slo_ms, policy.max_loss)
                search.record(result)
                corrected = f"{result.p95_corrected_ms:.0f} ms" if result.p95_corrected_ms is not None else "—"
                verdict = "pass" if result.passed else "fail" if result.valid else "INVALID, search stops"
                self.say(f"    {arm.config.label} at {rate:.1f}/s: {verdict} (p95 {corrected} from the schedule"
                         + (f"; {result.reason}" if result.reason else "") + ")")
            if out_of_time:
                break
            step += 1
        for arm in live:
            search = searches[arm.config]
            stopping = "time budget" if out_of_time and not search.done else "resolution reached"
            run.add_capacity(capacity_record(arm.config, search, policy, run.record.cells, stopping))
            best = search.best_step()
            self.say(f"    capacity {arm.config.label}: " + (f"{best.rate:.1f} rps" if best else "none at this SLO"))
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
