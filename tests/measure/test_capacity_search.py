"""capacity_search.py and capacity_fit.py: what a step is judged on, where the search goes next, what it reports."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.measure.capacity_fit import StepCount, fit_crossing, monotone_crossing, monotone_curve
from loadtests.measure.capacity_search import (
    FLOOR_RPS,
    GROWTH,
    MAX_INVALID,
    Search,
    SearchPolicy,
    capacity_record,
    judge_step,
    window_s,
)
from loadtests.results.records import CapacityPolicy, CapacityStep, Cell, CellConfig, Latency, OpenLoopStats
from loadtests.results.store import load_run

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "run-json" / "v3" / "smoke-paired.json"
POLICY = SearchPolicy(precision=0.12, bracket_arrivals=80, refine_arrivals=200, pilot_steps=4, min_steps=6,
                      max_steps=30)


def _latency(p95: float) -> Latency:
    return Latency(p50=p95 / 2, p95=p95, p99=p95 * 1.2, mean=p95 / 2, max=p95 * 1.5, p95_ci=(p95 - 40, p95 + 40))


def open_cell(p95: float, *, over: int = 0, scheduled: int = 1000, failed: int = 0, dropped: int = 0,
              unanswered: int = 0, late: int = 0, valid: bool = True, reason: str | None = None) -> Cell:
    """A measured cell of the fixture, turned into one open-loop window with the given figures."""
    base = next(c for c in load_run(FIXTURE).cells if c.valid)
    stats = OpenLoopStats(offered_rps=100.0, scheduled=scheduled, sent=scheduled - dropped, completed=scheduled,
                          achieved_rps=100.0, dropped=dropped, late=late, late_threshold_ms=25.0, lag_ms_p50=0.2,
                          lag_ms_p99=1.0, lag_ms_max=3.0, send_rate_error=0.0, unanswered=unanswered, failed=failed,
                          over_slo=over, over_slo_blocks=(over,), answer_cutoff_s=0.5, slo_ms=500.0)
    return replace(base, failures=failed, open_loop=stats, latency_ms=_latency(p95 * 0.8),
                   latency_corrected_ms=_latency(p95), valid=valid, invalid_reason=reason)


def test_a_step_is_under_the_slo_when_fewer_than_5_percent_of_its_arrivals_missed_it() -> None:
    under = judge_step(open_cell(400.0, over=49), 100.0, max_loss=0.01, phase="refine")
    assert under.passed and under.valid and under.reason is None
    assert (under.arrivals, under.misses, under.miss_share) == (1000, 49, 0.049)
    assert under.p95_corrected_ms == 400.0 and under.p95_ms == 320.0 and under.p95_ci_ms == (360.0, 440.0)
    assert under.phase == "refine" and under.loss == 0.0
    over = judge_step(open_cell(600.0, over=50), 100.0, max_loss=0.01, phase="refine")
    assert not over.passed and over.valid
    assert over.reason == "50 of 1000 arrivals (5.0%) had no good answer within the 500 ms SLO (p95 600 ms)"


def test_failed_dropped_and_unanswered_arrivals_are_lost_but_late_sends_are_not() -> None:
    lossy = judge_step(open_cell(100.0, over=11, failed=5, dropped=3, unanswered=3), 100.0, max_loss=0.01,
                       phase="bracket")
    assert not lossy.passed and lossy.loss == 0.011
    assert "1.1% of the arrivals failed, were dropped or went unanswered" in str(lossy.reason)
    late = judge_step(open_cell(100.0, late=50), 100.0, max_loss=0.01, phase="bracket")
    assert late.passed  # lateness is the generator's: validity judges it, not the SLO


def test_an_invalid_window_is_neither_under_nor_over() -> None:
    result = judge_step(open_cell(100.0, valid=False, reason="the load generator did not keep its schedule"), 100.0,
                        max_loss=0.01, phase="refine")
    assert not result.passed and not result.valid
    assert result.reason == "invalid: the load generator did not keep its schedule"


def step(rate: float, misses: int, arrivals: int = 200, *, valid: bool = True, phase: str = "refine") -> CapacityStep:
    return CapacityStep(rate=rate, cell_id=f"c/{rate}", passed=valid and misses < 0.05 * arrivals,
                        p95_corrected_ms=None, p95_ms=None, loss=0.0, reason=None, valid=valid, arrivals=arrivals,
                        misses=misses, phase=phase)  # type: ignore[arg-type]


def share_at(rate: float) -> float:
    """A made-up server whose share over the SLO is 5% at 20 rps and rises steeply past it."""
    return min(1.0, 0.05 * (rate / 20.0) ** 8)


def test_the_search_brackets_up_then_refines_around_the_capacity_and_plans_its_steps() -> None:
    search = Search(start=8.0, policy=POLICY)
    seen = []
    while (wanted := search.next_step()) is not None:
        rate, arrivals, phase = wanted
        seen.append((round(rate, 3), arrivals, phase))
        search.record(step(rate, round(share_at(rate) * arrivals), arrivals, phase=phase))
        assert len(seen) < 60
    assert seen[:4] == [(8.0, 80, "bracket"), (12.0, 80, "bracket"), (18.0, 80, "bracket"), (27.0, 80, "bracket")]
    assert all(p == "refine" and a == 200 for _, a, p in seen[4:])  # 27 rps was over: the capacity is bracketed
    assert search.stopped == "precision planned" and search.planned is not None
    assert POLICY.min_steps <= search.refine_steps == search.planned <= POLICY.max_steps
    fit = search.fit()
    assert fit is not None and fit.low is not None and fit.high is not None
    assert fit.low <= 20.0 <= fit.high and abs(fit.estimate - 20.0) < 1.0
    refine = [r for r, _, p in seen if p == "refine"]
    assert min(refine) < fit.estimate < max(refine)  # the refine steps straddle it


def test_a_first_step_over_the_slo_walks_down() -> None:
    search = Search(start=40.0, policy=POLICY)
    search.record(step(40.0, 100, 80, phase="bracket"))
    assert search.next_step() == (pytest.approx(40.0 / GROWTH), 80, "bracket")


def test_nothing_under_the_slo_down_to_the_floor_ends_with_no_capacity() -> None:
    search = Search(start=1.0, policy=POLICY)
    while (wanted := search.next_step()) is not None:
        search.record(step(wanted[0], 80, 80, phase="bracket"))
    assert search.stopped == "nothing under the SLO" and search.best_step() is None
    assert min(s.rate for s in search.steps) >= FLOOR_RPS


def test_an_invalid_window_is_tried_again_and_two_at_the_rates_needed_end_the_search_with_a_lower_bound() -> None:
    search = Search(start=10.0, policy=POLICY)
    search.record(step(10.0, 0, 80, phase="bracket"))
    search.record(step(15.0, 0, 80, valid=False, phase="bracket"))  # a busy moment of the machine, perhaps
    assert search.next_step() == (pytest.approx(15.0), 80, "bracket")  # the same rate again
    search.record(step(15.0, 0, 80, valid=False, phase="bracket"))  # no: the generator cannot offer 15/s
    assert search.next_step() is None  # and under 15/s it has tested 10/s already
    assert search.stopped == "invalid window" and search.limited_by is not None
    assert search.limited_by.startswith("invalid windows at 15/s and above")
    found = capacity_record(_config(), search, CapacityPolicy(500.0), [], "precision planned")
    assert found.is_lower_bound and found.max_rps_at_slo == 10.0 and found.stopping == "invalid window"
    assert found.ci_low is None and found.ci_high is None


def test_a_generator_that_cannot_offer_the_first_rate_brackets_from_below_it() -> None:
    search = Search(start=12.0, policy=POLICY)
    for _ in range(2):
        search.record(step(12.0, 0, 80, valid=False, phase="bracket"))
    assert search.next_step() == (pytest.approx(12.0 / GROWTH), 80, "bracket")


def test_invalid_windows_where_a_valid_one_was_measured_are_a_busy_moment_not_a_cap() -> None:
    search = Search(start=10.0, policy=POLICY)
    search.record(step(10.0, 0, 80, phase="bracket"))
    search.record(step(15.0, 20, 80, phase="bracket"))  # over the SLO, and valid: the generator offered 15/s
    search.record(step(12.0, 0, valid=False))
    search.record(step(13.0, 0, valid=False))
    assert search.cap is None and search.next_step() is not None


def test_invalid_windows_in_a_row_stop_the_search() -> None:
    search = Search(start=10.0, policy=POLICY)
    search.record(step(10.0, 0, 80, phase="bracket"))
    search.record(step(20.0, 80, 80, phase="bracket"))
    search.record(step(14.0, 0, valid=False))
    search.record(step(14.0, 5))
    for _ in range(MAX_INVALID - 1):
        search.record(step(14.0, 0, valid=False))
    assert search.next_step() is not None  # not yet: one valid step broke the run of invalid ones
    search.record(step(14.0, 0, valid=False))
    assert search.next_step() is None and search.stopped == "invalid window"


def test_the_record_holds_the_fitted_capacity_its_interval_and_the_rates_around_it() -> None:
    search = Search(start=8.0, policy=POLICY)
    while (wanted := search.next_step()) is not None:
        rate, arrivals, phase = wanted
        search.record(step(rate, round(share_at(rate) * arrivals), arrivals, phase=phase))
    found = capacity_record(_config(), search, CapacityPolicy(500.0), [], "precision planned")
    assert found.method == "fit" and found.fit is not None and found.phase == "search"
    assert found.ci_low is not None and found.ci_high is not None
    assert found.ci_low <= found.max_rps_at_slo <= found.ci_high  # type: ignore[operator]
    assert found.bracket_low is not None and found.bracket_high is not None
    assert found.bracket_low <= found.max_rps_at_slo <= found.bracket_high  # type: ignore[operator]
    assert found.arrivals == sum(s.arrivals or 0 for s in search.steps)
    assert found.fit.share_at(found.max_rps_at_slo) == pytest.approx(0.05, rel=1e-3)  # type: ignore[arg-type]
    assert found.precision_reached is not None and found.precision_target == 0.12


def test_the_monotone_curve_pools_shares_that_run_backwards() -> None:
    counts = [StepCount(10.0, 100, 0), StepCount(12.0, 100, 8), StepCount(14.0, 100, 2), StepCount(16.0, 100, 30)]
    curve = monotone_curve(counts)
    assert [round(c.rate, 3) for c in curve] == [10.0, 13.0, 16.0] and curve[1].share == 0.05
    assert monotone_crossing(counts) == pytest.approx(13.0)
    assert monotone_crossing(counts[:1]) is None


def test_no_fit_from_steps_that_do_not_straddle_the_slo_or_show_no_slope() -> None:
    assert fit_crossing([StepCount(10.0, 200, 0), StepCount(12.0, 200, 1)]) is None
    flat = [StepCount(10.0 + i % 2, 200, 10 + (i % 3) * 3) for i in range(8)]  # noise around 5%, no trend
    fit = fit_crossing(flat)
    assert fit is None or fit.low is None


def test_a_window_holds_its_arrivals_within_bounds() -> None:
    assert window_s(5.0, 40.0, 200) == 5.0  # 200 arrivals in 5 s already
    assert window_s(5.0, 10.0, 200) == pytest.approx(20.0)
    assert window_s(5.0, 0.5, 200) == 120.0  # never past two minutes


def _config() -> CellConfig:
    return CellConfig("json", "uvicorn", 1, "threads", 8, 4, None, None, "3.14")
