"""Simulated queues for the capacity search's statistics: M/M/c (exact stationary p95) and M/D/c.

A step of the search is simulated as the lab measures it: the queue starts empty (the
server drained between steps), arrivals are Poisson at the rate, the first
``transition_s`` are thrown away, the window holds the arrivals due in it, and the
load runs on for the SLO after it, so an arrival not answered by then counts as over
the SLO. Service is first come, first served on ``servers`` servers.
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass

from loadtests.measure.arrivals import block_counts
from loadtests.measure.capacity_search import Search, SearchPolicy
from loadtests.results.records import MISS_TARGET, CapacityStep

TRANSITION_S = 2.0
OVERHEAD_S = 1.5  # the drain between steps and the lab's own pauses, for the time a search takes


@dataclass
class QueueModel:
    """``servers`` servers with mean service ``service_s``: exponential, or fixed (``deterministic``)."""

    service_s: float
    servers: int = 1
    deterministic: bool = False

    def step_misses(self, rng: random.Random, rate: float, arrivals: int, slo_s: float) -> list[bool]:
        """Over-the-SLO flags of the arrivals due in one window, in order."""
        start = TRANSITION_S
        end = start + arrivals / rate
        free = [0.0] * self.servers
        t, flags = 0.0, []
        while True:
            t += rng.expovariate(rate)
            if t >= end:
                return flags
            service = self.service_s if self.deterministic else rng.expovariate(1.0 / self.service_s)
            done = max(t, heapq.heappop(free)) + service
            heapq.heappush(free, done)
            if t >= start:
                flags.append(done - t >= slo_s)  # an answer after the cutoff (end + SLO) is later than the SLO too

    def miss_probability(self, rate: float, slo_s: float) -> float:
        """Stationary P(response time >= SLO) for M/M/c (exponential service only)."""
        mu, c = 1.0 / self.service_s, self.servers
        a = rate / mu
        if a >= c:
            return 1.0
        last = a**c / math.factorial(c) / (1 - a / c)
        waits = last / (sum(a**k / math.factorial(k) for k in range(c)) + last)  # Erlang C
        theta = c * mu - rate
        if abs(theta - mu) < 1e-9:
            after_wait = math.exp(-mu * slo_s) * (1 + mu * slo_s)
        else:
            after_wait = (theta * math.exp(-mu * slo_s) - mu * math.exp(-theta * slo_s)) / (theta - mu)
        return (1 - waits) * math.exp(-mu * slo_s) + waits * after_wait

    def capacity(self, slo_s: float) -> float:
        """The rate at which the stationary p95 equals the SLO (M/M/c), by bisection."""
        low, high = 1e-9, self.servers / self.service_s * (1 - 1e-12)
        for _ in range(200):
            mid = (low + high) / 2
            low, high = (low, mid) if self.miss_probability(mid, slo_s) > MISS_TARGET else (mid, high)
        return (low + high) / 2


@dataclass(frozen=True)
class SimulatedSearch:
    search: Search
    seconds: float  # what the search would take on a real server


def simulate_search(model: QueueModel, rng: random.Random, start: float, policy: SearchPolicy, slo_ms: float = 500.0,
                    budget_s: float | None = None) -> SimulatedSearch:
    """One search run to its end against the queue (or until the time budget is spent)."""
    search = Search(start=start, policy=policy)
    seconds = 0.0
    while (wanted := search.next_step()) is not None:
        if budget_s is not None and seconds >= budget_s:
            break
        rate, arrivals, phase = wanted
        flags = model.step_misses(rng, rate, arrivals, slo_ms / 1000.0)
        seconds += TRANSITION_S + arrivals / rate + slo_ms / 1000.0 + OVERHEAD_S
        misses = sum(flags)
        search.record(CapacityStep(rate=round(rate, 3), cell_id=f"sim/{len(search.steps)}",
                                   passed=misses < MISS_TARGET * len(flags), p95_corrected_ms=None, p95_ms=None,
                                   loss=0.0, reason=None, arrivals=len(flags), misses=misses,
                                   miss_blocks=block_counts(flags), phase=phase))
    return SimulatedSearch(search, seconds)
