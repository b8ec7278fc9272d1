"""warmup.py: a server is warm once two 2-second blocks of completions agree within 15%."""

from __future__ import annotations

from loadtests.measure.warmup import per_second, steady


def test_a_climb_is_not_steady_a_plateau_is() -> None:
    assert not steady([2, 5, 8, 11])  # still climbing: 7 against 19
    assert steady([2, 5, 10, 10, 10, 11])  # 20 against 21
    assert not steady([10, 10, 10])  # too short to compare two blocks
    assert not steady([0, 0, 0, 0])  # nothing completes: not warm


def test_completions_are_counted_per_second_from_the_start() -> None:
    assert per_second([100.1, 100.9, 101.5, 103.2, 99.0], start=100.0, seconds=3) == [2, 1, 0]
