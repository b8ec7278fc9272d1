"""validity.py: when a measured window counts, rule by rule."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadtests.core.flavour import FT, GIL
from loadtests.measure.validity import THRESHOLDS, WindowFacts, idle_workers, judge, judge_open_loop
from loadtests.results.records import OpenLoopStats, RuntimeSnapshot, Software

RUNTIME = RuntimeSnapshot(python_version="3.14.7", implementation="cpython", executable="python", free_threaded=True,
                          gil_enabled=False, gil_flag=None, gil_enabled_by=(), gilwatch_site_hook=True, thread_limit=8,
                          pid=1, threads=9, server=Software("uvicorn", "0.54"), packages={})
GOOD = WindowFacts(FT, None, RUNTIME, RUNTIME, requests=100, failures=0, busiest_client_cores=0.1)


def test_a_clean_window_is_valid() -> None:
    assert judge(GOOD) is None
    gil_build = replace(RUNTIME, free_threaded=False, gil_enabled=True)
    assert judge(replace(GOOD, flavour=GIL, runtime_before=gil_build, runtime_after=gil_build)) is None


@pytest.mark.parametrize(("changes", "reason"), [
    ({"runtime_before": replace(RUNTIME, free_threaded=False)}, "reported free_threaded=False on 3.14t"),
    ({"runtime_after": replace(RUNTIME, gil_enabled=True, gil_enabled_by=("_yaml",))},
     "GIL enabled on the free-threaded build by _yaml"),
    ({"runtime_after": replace(RUNTIME, gil_enabled=True)}, "by an unidentified module"),
    ({"python_gil": "1"}, "PYTHON_GIL=1 was set but the server reported the GIL disabled"),
    ({"runtime_after": None}, "stopped answering /lab/runtime"),
    ({"requests": 0}, "no request completed"),
    ({"failures": 2}, "2 of 100 requests failed"),
    ({"busiest_client_cores": 0.95}, "load generator saturated (0.95 cores"),
])
def test_each_rule_names_its_reason(changes: dict[str, object], reason: str) -> None:
    assert reason in str(judge(replace(GOOD, **changes)))  # type: ignore[arg-type]


@pytest.mark.parametrize("changes", [{"runtime_after": None}, {"requests": 0}, {"failures": 50}])
def test_open_loop_slow_failed_or_missing_answers_are_the_rates_verdict_not_an_invalid_window(
        changes: dict[str, object]) -> None:
    assert judge(replace(GOOD, open_loop=True, **changes)) is None  # type: ignore[arg-type]
    assert judge(replace(GOOD, open_loop=True, runtime_after=replace(RUNTIME, gil_enabled=True))) is not None


def test_thresholds_are_the_ones_recorded() -> None:
    assert judge(replace(GOOD, failures=1)) is None  # 1% is allowed, more is not
    assert judge(replace(GOOD, busiest_client_cores=THRESHOLDS.client_saturation_cores)) is None
    strict = replace(THRESHOLDS, client_saturation_cores=0.05)
    assert "saturated" in str(judge(GOOD, strict))


def test_python_gil_1_with_the_gil_on_is_the_expected_state() -> None:
    on = replace(RUNTIME, gil_enabled=True)
    assert judge(replace(GOOD, python_gil="1", runtime_before=on, runtime_after=on)) is None


def test_a_process_cell_whose_load_reached_one_worker_is_invalid() -> None:
    reason = idle_workers({101: 0.98, 102: 0.01}, expected=2)
    assert reason is not None and "reached 1 of 2 worker processes" in reason


def test_a_process_cell_with_every_worker_busy_is_valid() -> None:
    assert idle_workers({101: 0.97, 102: 0.95}, expected=2) is None


def test_worker_threads_in_one_process_are_not_judged_as_processes() -> None:
    assert idle_workers({101: 1.9}, expected=2) is None  # granian on 3.14t: threads, one pid


def _open_loop(scheduled: int, sent: int, late: int) -> OpenLoopStats:
    return OpenLoopStats(offered_rps=10.0, scheduled=scheduled, sent=sent, completed=sent, achieved_rps=10.0,
                         dropped=0, late=late, late_threshold_ms=5.0, lag_ms_p50=0.0, lag_ms_p99=1.0, lag_ms_max=9.0,
                         send_rate_error=round(sent / scheduled - 1, 4) if scheduled else None)


def test_an_open_loop_window_on_schedule_is_valid() -> None:
    assert judge_open_loop(_open_loop(1000, 995, 10)) is None
    assert judge_open_loop(_open_loop(0, 0, 0)) is None
    assert judge_open_loop(_open_loop(80, 80, 2)) is None  # two stray late sends in a short window
    assert judge_open_loop(_open_loop(80, 80, 3)) is not None


@pytest.mark.parametrize(("stats", "reason"), [
    (_open_loop(1000, 970, 0), "sent 970 of 1000 scheduled requests (-3.0%"),
    (_open_loop(1000, 1000, 11), "sent 11 of 1000 requests more than 5 ms after their schedule"),
])
def test_an_open_loop_window_off_schedule_is_invalid(stats: OpenLoopStats, reason: str) -> None:
    verdict = judge_open_loop(stats)
    assert verdict is not None and reason in verdict
