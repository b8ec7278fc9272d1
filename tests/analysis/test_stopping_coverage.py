"""The two-stage stopping rule and its intervals: nominal 95% covers at least 94% where the lab measures.

Seeded simulations with the lab's own functions (``tests/analysis/simulation.py``): pairs
on two server instances, some invalid, a pilot of six valid pairs fixing the pairs for
±10%, a time budget of 12 or 40 blocks. The log spread of one pair is 0.05–0.20 (what
the lab's comparisons show), and an instance shifts every pair of its own by a log
spread of up to 0.03 (two runs of one comparison on one machine differed by no more).
"""

from __future__ import annotations

import pytest

from tests.analysis.simulation import Regime, RunNoise, coverage, gate_pass_rate

REGIMES = [Regime(w, b, max_blocks=blocks) for blocks in (12, 40) for w in (0.05, 0.10, 0.15, 0.20)
           for b in (0.0, 0.03)]


@pytest.mark.slow  # 16 regimes × 4 000 simulated comparisons: about 10 s
@pytest.mark.parametrize("regime", REGIMES, ids=lambda r: f"sd{r.within_sd}-inst{r.between_sd}-blocks{r.max_blocks}")
def test_nominal_95_percent_intervals_cover_at_least_94_percent(regime: Regime) -> None:
    assert coverage(regime, replications=4000, seed=7) >= 0.94


#: A configuration's throughput in one run: the spread of a window, of an instance, and of a run beyond its
#: instances, as the lab measured them (docs/methodology.md), on a quiet machine and on a shared one.
GATE_NOISE = [RunNoise(window, instance, run, 2, 8) for window in (0.10, 0.20, 0.28) for instance in (0.05, 0.10)
              for run in (0.0, 0.05)]


@pytest.mark.slow  # 12 regimes × 1 000 pairs of runs: about 5 s
@pytest.mark.parametrize("noise", GATE_NOISE,
                         ids=lambda n: f"window{n.window_sd}-inst{n.instance_sd}-run{n.run_sd}")
def test_two_runs_of_the_same_code_pass_the_gate_at_least_95_percent_of_the_time(noise: RunNoise) -> None:
    assert gate_pass_rate(noise, fail_above_pct=10, replications=1000, seed=3) >= 0.95


def test_a_real_regression_fails_the_gate() -> None:
    """The gate is not passing everything: a 30% drop is found most of the time on a quiet machine."""
    import math
    import random

    from loadtests.analysis.run_change import compare, estimate_from_groups, regressed
    from tests.analysis.simulation import simulated_run

    rng = random.Random(5)
    noise = RunNoise(0.10, 0.05, 0.0, 2, 8)
    found = 0
    for _ in range(200):
        a = estimate_from_groups("k", "k", "throughput", "rps", simulated_run(rng, noise))
        b = estimate_from_groups("k", "k", "throughput", "rps", simulated_run(rng, noise, math.log(0.7)))
        found += regressed(compare(a, b), 10)
    assert found >= 120
