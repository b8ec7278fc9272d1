"""memory_growth.py: a soak's readings fitted after the plateau, with an interval honest about autocorrelation."""

from __future__ import annotations

import math
import random

import pytest

from loadtests.analysis.memory_growth import (
    GROWTH_FLOOR_MB,
    block_slope,
    least_squares,
    memory_growth,
    plateau_index,
)
from loadtests.results.records import CrashReport
from loadtests.results.records.soak import SoakPoint, SoakSeries

RATE = 20.0  # requests a second


def series(memory: list[float], *, anon: bool = True, label: str = "3.14t") -> SoakSeries:
    """Readings every half second, ``RATE`` requests a second, with the given memory (MB)."""
    points = tuple(SoakPoint(t=round(0.5 * (i + 1), 2), requests=int(RATE * 0.5 * (i + 1)),
                             anon_mb=mb if anon else None, uss_mb=mb + 3, pss_mb=mb + 4, rss_mb=mb + 20, threads=13)
                   for i, mb in enumerate(memory))
    return SoakSeries(interpreter=label, requests=points[-1].requests if points else 0, failures=0,
                      seconds=0.5 * len(memory), points=points)


def warm_up(i: int) -> float:
    """An allocator's warm-up: a fast rise over the first 20 s, then flat."""
    return 60.0 + 40.0 * (1 - math.exp(-i / 15.0))


def test_a_leak_is_found_with_its_rate_per_thousand_requests() -> None:
    rng = random.Random(1)
    per_request_mb = 0.016  # 16 KB a request: 16 MB per 1,000
    memory = [warm_up(i) + per_request_mb * RATE * 0.5 * i + rng.gauss(0, 0.3) for i in range(240)]
    g = memory_growth(series(memory))
    assert g.grows and g.measure == "RssAnon" and g.slope_mb_per_1000 is not None
    assert g.slope_mb_per_1000 == pytest.approx(16.0, rel=0.05)
    assert g.ci_low is not None and g.ci_high is not None and g.ci_low < 16.0 < g.ci_high
    assert g.plateau_s is not None and g.plateau_s >= 40.0  # never before a third of the soak
    assert len(g.readings) == 240 and len(g.fitted) == 2 and g.fitted[0][0] == g.plateau_s


def test_a_warm_up_that_levels_off_does_not_grow() -> None:
    rng = random.Random(2)
    g = memory_growth(series([warm_up(i) + rng.gauss(0, 0.3) for i in range(240)]))
    assert not g.grows and g.ci_low is not None and g.ci_high is not None and g.ci_low <= 0.0 <= g.ci_high


def test_one_step_after_the_plateau_is_not_growth_though_its_interval_excludes_zero() -> None:
    """Memory moves in steps: one arena taken half-way through the fit is a trend to any regression."""
    memory = [warm_up(i) + (1.0 if i > 180 else 0.0) for i in range(240)]
    g = memory_growth(series(memory))
    assert g.ci_low is not None and g.ci_low > 0  # the block means see a clean rise...
    assert not g.grows  # ...of 1 MB, under the floor
    assert g.ci_low * (g.requests - 80 * RATE * 0.5) / 1000 < GROWTH_FLOOR_MB


def test_the_interval_of_block_means_is_wider_than_ordinary_least_squares_on_autocorrelated_readings() -> None:
    rng = random.Random(3)
    level, memory = 100.0, []
    for _ in range(200):  # a random walk: each reading keeps most of the one before's error
        level += rng.gauss(0, 0.2)
        memory.append(level)
    xs = [i / 100 for i in range(200)]
    fit = block_slope(xs, memory)
    assert fit is not None
    _, slope, sse = least_squares(xs, memory)
    mean_x = sum(xs) / len(xs)
    ols_half = 1.97 * math.sqrt(sse / 198 / sum((x - mean_x) ** 2 for x in xs))
    assert (fit[2] - fit[1]) / 2 > 2 * ols_half


def test_the_knee_of_a_late_rise_moves_the_plateau_past_a_third() -> None:
    ts = [0.5 * (i + 1) for i in range(240)]
    memory = [60.0 + min(t, 60.0) * 0.5 for t in ts]  # rises for 60 s of 120, then flat
    start = plateau_index(ts, memory)
    assert 58.0 <= ts[start] <= 62.0


def test_without_anonymous_memory_the_fit_falls_back_to_uss_and_says_so() -> None:
    g = memory_growth(series([warm_up(i) for i in range(240)], anon=False))
    assert g.measure == "USS" and g.readings[0][1] == pytest.approx(warm_up(0) + 3)


def test_too_few_readings_or_a_dead_server_give_no_verdict() -> None:
    short = memory_growth(series([100.0] * 10))
    assert short.slope_mb_per_1000 is None and not short.grows and "too few" in (short.why_unknown or "")
    dead = SoakSeries(interpreter="3.14t", requests=40, failures=0, seconds=12.0, points=(),
                      crash=CrashReport(pid=1, exit_status=-11, fatal="Fatal Python error: Segmentation fault",
                                        traceback="", in_flight=()))
    assert memory_growth(dead).why_unknown == "the server died after 12s"
