"""Seeded simulations of the lab's statistical procedures, with the lab's own functions.

A comparison is simulated as the runner measures it: pairs alternate between server
instances (pair k on instance k mod instances), each pair's log ratio is the true log
ratio plus its instance's effect and the pair's own noise, some pairs are invalid (they
give no pair and are measured again), the pilot's first valid pairs fix the number of
pairs (``analysis.paired.planned_pairs``), the time budget caps the blocks, and the
interval is the one the report prints (``analysis.paired.paired_ratio``). A run's
throughput estimate is simulated the same way for the gate (``analysis.run_change``).
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass

from loadtests.analysis.figures.stats import PILOT_PAIRS, PairedRatio
from loadtests.analysis.paired import paired_ratio, planned_pairs
from loadtests.analysis.run_change import compare, estimate_from_groups, regressed

TRUE_RATIO = 1.6


@dataclass(frozen=True)
class Regime:
    """The spread of one pair's log ratio, and of an instance's effect on it."""

    within_sd: float
    between_sd: float = 0.0
    instances: int = 2
    precision: float = 0.10
    max_blocks: int = 40  # the time budget, in blocks
    invalid_share: float = 0.05


def simulated_ratio(rng: random.Random, regime: Regime, true_ratio: float = TRUE_RATIO) -> PairedRatio:
    """One comparison, start to finish, as the two-stage rule runs it."""
    effects = [rng.gauss(0.0, regime.between_sd) for _ in range(regime.instances)]
    logs: list[float] = []
    instances: list[int] = []
    planned = None
    for block in range(regime.max_blocks):
        if rng.random() < regime.invalid_share:
            continue  # an invalid window: this block gives no pair
        instance = block % regime.instances
        logs.append(math.log(true_ratio) + effects[instance] + rng.gauss(0.0, regime.within_sd))
        instances.append(instance)
        if planned is None and len(logs) == PILOT_PAIRS:
            planned = planned_pairs(statistics.stdev(logs), PILOT_PAIRS, regime.precision)
        if planned is not None and len(logs) >= planned:
            break
    return paired_ratio([math.exp(v) for v in logs], [1.0] * len(logs), instances=instances)


def coverage(regime: Regime, replications: int, seed: int, true_ratio: float = TRUE_RATIO) -> float:
    """The share of simulated comparisons whose 95% interval holds the true ratio."""
    rng = random.Random(seed)
    hits = 0
    for _ in range(replications):
        r = simulated_ratio(rng, regime, true_ratio)
        hits += r.low is not None and r.high is not None and r.low <= true_ratio <= r.high
    return hits / replications


@dataclass(frozen=True)
class RunNoise:
    """One configuration's throughput in a run: log spread between windows, between instances, between runs."""

    window_sd: float
    instance_sd: float
    run_sd: float = 0.0  # what a new run shares across its instances (the machine's day), beyond its instances
    instances: int = 2
    windows_per_instance: int = 10


def simulated_run(rng: random.Random, noise: RunNoise, level: float = 0.0) -> list[list[float]]:
    """One run's windows of a configuration, grouped by instance, in requests per second."""
    run = level + rng.gauss(0.0, noise.run_sd)
    groups = []
    for _ in range(noise.instances):
        instance = run + rng.gauss(0.0, noise.instance_sd)
        groups.append([math.exp(math.log(20.0) + instance + rng.gauss(0.0, noise.window_sd))
                       for _ in range(noise.windows_per_instance)])
    return groups


def gate_pass_rate(noise: RunNoise, fail_above_pct: float, replications: int, seed: int) -> float:
    """The share of pairs of runs of the same code that pass ``diff --fail-above`` on one configuration."""
    rng = random.Random(seed)
    passed = 0
    for _ in range(replications):
        a = estimate_from_groups("k", "k", "throughput", "rps", simulated_run(rng, noise))
        b = estimate_from_groups("k", "k", "throughput", "rps", simulated_run(rng, noise))
        passed += not regressed(compare(a, b), fail_above_pct)
    return passed / replications
