"""runner's judgement of a measured cell, without running one."""

from __future__ import annotations

from loadtests.measure.runner import idle_workers


def test_a_process_cell_whose_load_reached_one_worker_is_invalid() -> None:
    reason = idle_workers({101: 0.98, 102: 0.01}, expected=2)
    assert reason is not None and "reached 1 of 2 worker processes" in reason


def test_a_process_cell_with_every_worker_busy_is_valid() -> None:
    assert idle_workers({101: 0.97, 102: 0.95}, expected=2) is None


def test_worker_threads_in_one_process_are_not_judged_as_processes() -> None:
    assert idle_workers({101: 1.9}, expected=2) is None  # granian on 3.14t: threads, one pid
