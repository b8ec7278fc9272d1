"""The Wilson score interval of a mismatch rate."""

from __future__ import annotations

import pytest

from loadtests.safety.intervals import wilson


def test_no_mismatch_in_a_thousand_is_at_most_about_four_in_ten_thousand() -> None:
    low, high = wilson(0, 1000)
    assert low == 0.0 and high == pytest.approx(0.00383, abs=1e-5)


def test_the_interval_holds_the_rate_and_stays_in_zero_one() -> None:
    low, high = wilson(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-4) and high == pytest.approx(0.5962, abs=1e-4)
    assert wilson(100, 100)[1] == 1.0 and wilson(0, 0) == (0.0, 1.0)


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        wilson(5, 4)
