"""capacity_search.py: what a rate step passes on, and how the search brackets and bisects."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.measure.capacity_search import FLOOR_RPS, GROWTH, Search, judge_step, open_window_s
from loadtests.results.records import CapacityStep, Cell, Latency, OpenLoopStats
from loadtests.results.store import load_run

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "run-json" / "v3" / "smoke-paired.json"


def _latency(p95: float) -> Latency:
    return Latency(p50=p95 / 2, p95=p95, p99=p95 * 1.2, mean=p95 / 2, max=p95 * 1.5)


def open_cell(p95_corrected: float, *, failures: int = 0, dropped: int = 0, late: int = 0,
              scheduled: int = 1000, valid: bool = True, reason: str | None = None) -> Cell:
    """A measured cell of the fixture, turned into one open-loop window with the given figures."""
    base = next(c for c in load_run(FIXTURE).cells if c.valid)
    stats = OpenLoopStats(offered_rps=100.0, scheduled=scheduled, sent=scheduled - dropped, completed=scheduled,
                          achieved_rps=100.0, dropped=dropped, late=late, late_threshold_ms=25.0, lag_ms_p50=0.2,
                          lag_ms_p99=1.0, lag_ms_max=3.0, send_rate_error=0.0)
    return replace(base, failures=failures, open_loop=stats, latency_ms=_latency(p95_corrected * 0.8),
                   latency_corrected_ms=_latency(p95_corrected), valid=valid, invalid_reason=reason)


def step(rate: float, passed: bool, valid: bool = True) -> CapacityStep:
    return CapacityStep(rate=rate, cell_id=f"c/{rate}", passed=passed, p95_corrected_ms=None, p95_ms=None, loss=None,
                        reason=None if passed else "over", valid=valid)


def test_a_step_passes_under_the_slo_and_the_loss_limit() -> None:
    result = judge_step(open_cell(400.0), 100.0, slo_ms=500.0, max_loss=0.01)
    assert result.passed and result.valid and result.reason is None
    assert result.p95_corrected_ms == 400.0 and result.p95_ms == 320.0 and result.loss == 0.0


def test_the_slo_is_judged_on_the_latency_from_the_intended_send() -> None:
    result = judge_step(open_cell(600.0), 100.0, slo_ms=500.0, max_loss=0.01)
    assert not result.passed and result.valid
    assert result.reason == "p95 600 ms from the intended send is over the 500 ms SLO"


def test_failed_and_dropped_requests_count_as_loss_but_late_sends_do_not() -> None:
    lossy = judge_step(open_cell(100.0, failures=6, dropped=5), 100.0, slo_ms=500.0, max_loss=0.01)
    assert not lossy.passed and lossy.loss == 0.011 and "1.1% of the arrivals failed or were dropped" in str(lossy.reason)
    late = judge_step(open_cell(100.0, late=50), 100.0, slo_ms=500.0, max_loss=0.01)
    assert late.passed  # lateness is the generator's: validity judges it, not the SLO


def test_an_invalid_window_is_neither_a_pass_nor_a_fail() -> None:
    result = judge_step(open_cell(100.0, valid=False, reason="the load generator did not keep its schedule"), 100.0,
                        slo_ms=500.0, max_loss=0.01)
    assert not result.passed and not result.valid
    assert result.reason == "invalid: the load generator did not keep its schedule"


def test_the_search_grows_until_a_fail_then_bisects_to_the_resolution() -> None:
    search = Search(start=10.0, resolution=0.10)
    capacity = 27.0
    rates = []
    while (rate := search.next_rate) is not None:
        rates.append(rate)
        search.record(step(rate, rate <= capacity))
        assert len(rates) < 20
    assert rates[:4] == [10.0, 15.0, 22.5, pytest.approx(33.75)]  # growth by GROWTH until 33.75 fails
    assert search.passed_at is not None and search.failed_at is not None
    assert search.passed_at <= capacity < search.failed_at
    assert (search.failed_at - search.passed_at) / search.failed_at <= 0.10
    best = search.best_step()
    assert best is not None and best.rate == search.passed_at


def test_a_first_fail_walks_down_until_a_pass() -> None:
    search = Search(start=40.0)
    search.record(step(40.0, False))
    assert search.next_rate == pytest.approx(40.0 / GROWTH)
    search.record(step(40.0 / GROWTH, True))
    assert search.next_rate == pytest.approx((40.0 / GROWTH + 40.0) / 2)


def test_nothing_passing_down_to_the_floor_ends_with_no_capacity() -> None:
    search = Search(start=1.0)
    while (rate := search.next_rate) is not None:
        search.record(step(rate, False))
    assert search.best_step() is None
    assert min(s.rate for s in search.steps) >= FLOOR_RPS


def test_an_invalid_window_stops_the_search_with_a_lower_bound() -> None:
    search = Search(start=10.0)
    search.record(step(10.0, True))
    search.record(CapacityStep(rate=15.0, cell_id="c/15", passed=False, p95_corrected_ms=None, p95_ms=None, loss=None,
                               reason="invalid: the load generator did not keep its schedule", valid=False))
    assert search.done
    assert search.failed_at is None  # the invalid step is not a fail: the capacity is ≥ 10, not < 15
    assert search.limited_by == ("an invalid window at 15/s (invalid: the load generator did not keep its "
                                 "schedule)")
    best = search.best_step()
    assert best is not None and best.rate == 10.0


def test_an_open_loop_window_holds_enough_arrivals_within_a_bound() -> None:
    assert open_window_s(5.0, 40.0) == 5.0  # 200 arrivals already
    assert open_window_s(5.0, 3.0) == pytest.approx(20.0)  # stretched to 60 arrivals
    assert open_window_s(5.0, 0.5) == 30.0  # but never past 30 s
    assert open_window_s(45.0, 0.5) == 45.0  # and never shorter than the preset's
