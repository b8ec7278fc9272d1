"""arrivals.py: every arrival of an open-loop window accounted for, from the schedule log."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.core.flavour import GIL
from loadtests.measure.arrivals import (
    block_counts,
    design_effect,
    late_threshold_ms,
    open_loop_window,
    p95_bound,
)
from loadtests.measure.capacity_search import judge_step
from loadtests.measure.load_session import Arrival, Sample
from loadtests.measure.validity import WindowFacts, judge, judge_open_loop
from loadtests.results.records import Cell
from loadtests.results.store import load_run

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "run-json" / "v3" / "smoke-paired.json"
SLO_MS = 500.0


def schedule(start: float, rate: float, seconds: float, lag_ms: float = 0.0) -> list[Arrival]:
    """Evenly spaced arrivals, each dispatched ``lag_ms`` after its intended send."""
    return [(start + i / rate, start + i / rate + lag_ms / 1000.0, "") for i in range(int(seconds * rate))]


def answers(arrivals: list[Arrival], service_ms: float, ok: bool = True,
            unless: object = lambda intended: False) -> list[Sample]:
    """One request per dispatched arrival, answered ``service_ms`` after it left; none for ``unless(intended)``."""
    out = []
    for intended, dispatched, _ in arrivals:
        if dispatched is None or unless(intended):  # type: ignore[operator]
            continue
        out.append((dispatched + service_ms / 1000.0, service_ms, ok, "GET /json", intended))
    return out


def window(arrivals: list[Arrival], samples: list[Sample], start: float = 100.0, end: float = 130.0,
           rate: float = 10.0):  # type: ignore[no-untyped-def]
    return open_loop_window(samples, [""] * len(samples), arrivals, start, end, end + SLO_MS / 1000.0, rate,
                            late_threshold_ms(SLO_MS), SLO_MS)


def test_a_window_on_schedule_counts_every_arrival_once() -> None:
    arrivals = schedule(98.0, 10.0, 34.0)  # the log also holds arrivals before and after the window
    found = window(arrivals, answers(arrivals, 20.0))
    stats = found.stats
    assert (stats.scheduled, stats.sent, stats.dropped, stats.late, stats.unanswered, stats.failed) == (300, 300, 0, 0,
                                                                                                       0, 0)
    assert stats.over_slo == 0 and stats.over_slo_blocks == (0, 0, 0, 0, 0)
    assert stats.send_rate_error == 0.0 and stats.answer_cutoff_s == 0.5 and stats.slo_ms == SLO_MS
    assert found.corrected is not None and found.corrected.p95 == pytest.approx(20.0)
    assert len(found.outcomes) == 300 and all(o.ok for o in found.outcomes)


def test_a_server_that_stops_answering_in_the_last_seconds_fails_the_step() -> None:
    # 10 arrivals a second for 30 s, answered in 40 ms until the server hangs 3 s before the window ends.
    arrivals = schedule(100.0, 10.0, 31.0)
    samples = answers(arrivals, 40.0, unless=lambda intended: intended >= 127.0)
    found = window(arrivals, samples)
    stats = found.stats
    assert stats.scheduled == 300 and stats.sent == 300  # the schedule log: the generator kept its schedule
    assert stats.completed == 270 and stats.unanswered == 30 and stats.over_slo == 30
    assert stats.over_slo_blocks == (0, 0, 0, 0, 30)  # all of them at the end
    assert judge_open_loop(stats) is None  # not the generator's fault: the window stands
    unanswered = [o for o in found.outcomes if not o.answered]
    assert min(o.latency_ms for o in unanswered) >= SLO_MS  # each at least the cutoff minus its intended send
    assert found.corrected is not None and found.corrected.p95 >= SLO_MS
    # the server's /lab/runtime no longer answers either: open loop, that is the rate's verdict, not a bad window
    facts = WindowFacts(GIL, None, _runtime(), None, requests=270, failures=0, busiest_client_cores=0.2,
                        open_loop=True)
    assert judge(facts) is None
    step = judge_step(_cell(stats, found.corrected), 10.0, max_loss=0.01, phase="refine")
    assert step.valid and not step.passed
    assert step.arrivals == 300 and step.misses == 30 and step.loss == 0.1
    assert "30 of 300 arrivals (10.0%) had no good answer within the 500 ms SLO" in str(step.reason)


def test_dropped_failed_and_late_arrivals() -> None:
    arrivals = schedule(100.0, 10.0, 30.0)
    dropped = [(a[0], None, a[2]) if i % 100 == 0 else a for i, a in enumerate(arrivals)]  # 3 dropped at the cap
    samples = answers(dropped, 20.0)
    failing = {dropped[5][0]}
    samples = [replace_ok(s, s[4] not in failing) for s in samples]
    found = window(dropped, samples)
    assert found.stats.dropped == 3 and found.stats.failed == 1 and found.stats.over_slo == 4
    assert found.stats.sent == 297 and found.stats.send_rate_error == pytest.approx(-0.01)
    late = window(schedule(100.0, 10.0, 30.0, lag_ms=30.0), answers(schedule(100.0, 10.0, 30.0, lag_ms=30.0), 20.0))
    assert late.stats.late == 300 and late.stats.lag_ms_p99 == pytest.approx(30.0)
    assert "more than 25 ms after their schedule" in str(judge_open_loop(late.stats))
    assert late.corrected is not None and late.corrected.p95 == pytest.approx(50.0)  # the lag counts in the latency


def test_an_answer_after_the_cutoff_is_over_the_slo_and_after_the_window_still_counts() -> None:
    arrivals = [(129.9, 129.9, ""), (110.0, 110.0, "")]
    samples: list[Sample] = [(130.2, 300.0, True, "GET /x", 129.9), (111.0, 1000.0, True, "GET /x", 110.0)]
    found = window(arrivals, samples)
    first, second = found.outcomes
    assert first.intended == 110.0 and first.answered and first.latency_ms == pytest.approx(1000.0)
    assert second.answered and second.latency_ms == pytest.approx(300.0)  # answered after the window, in time
    assert found.stats.over_slo == 1 and found.stats.completed == 1


def test_a_task_of_several_requests_is_answered_when_its_last_one_is() -> None:
    arrivals = [(100.0, 100.0, "w1"), (100.0, 100.0, "w2")]  # the same instant on two load processes
    samples: list[Sample] = [(100.1, 100.0, True, "GET /a", 100.0), (100.7, 600.0, True, "GET /b", 100.0),
                             (100.05, 50.0, True, "GET /a", 100.0)]
    found = open_loop_window(samples, ["w1", "w1", "w2"], arrivals, 99.0, 101.0, 101.5, 1.0, 25.0, SLO_MS)
    latencies = sorted(o.latency_ms for o in found.outcomes)
    assert latencies == [pytest.approx(50.0), pytest.approx(700.0)]


def test_the_p95_bound_widens_with_bursts() -> None:
    steady = [100.0 + (i % 20) for i in range(400)]
    bursty = sorted(steady[:380]) + [900.0] * 20  # the slow arrivals all in a row
    calm = p95_bound(steady)
    burst = p95_bound(bursty)
    assert calm is not None and burst is not None
    assert design_effect([v > 118 for v in steady]) == 1.0
    assert design_effect([v > 800 for v in bursty]) > 4.0
    assert burst[1] is None or burst[1] >= 900.0
    assert p95_bound(steady[:10]) is None
    assert block_counts([True, False, True, True, False, False], blocks=3) == (1, 2, 0)


def test_late_threshold_is_five_percent_of_the_slo_and_never_below_5_ms() -> None:
    assert late_threshold_ms(50.0) == 5.0
    assert late_threshold_ms(400.0) == 20.0


def replace_ok(sample: Sample, ok: bool) -> Sample:
    return (sample[0], sample[1], ok, sample[3], sample[4])


def _runtime():  # type: ignore[no-untyped-def]
    cell = next(c for c in load_run(FIXTURE).cells if c.runtime_before is not None and not c.free_threaded)
    return cell.runtime_before


def _cell(stats, corrected) -> Cell:  # type: ignore[no-untyped-def]
    base = next(c for c in load_run(FIXTURE).cells if c.valid)
    return replace(base, open_loop=stats, latency_corrected_ms=corrected)
