"""paired.py: the geometric mean of per-pair ratios and its t interval on the log scale, by hand."""

from __future__ import annotations

import math

import pytest

from loadtests.analysis.paired import coefficient_of_variation, paired_ratio
from loadtests.analysis.stats import InsufficientData


def test_the_ratio_is_the_geometric_mean_of_the_pairs() -> None:
    r = paired_ratio([20.0, 40.0], [10.0, 10.0])  # ratios 2 and 4
    assert r.ratio == pytest.approx(math.sqrt(8))
    assert r.n_pairs == 2


def test_the_interval_is_a_t_interval_on_the_logs() -> None:
    logs = [math.log(1.9), math.log(2.0), math.log(2.1)]
    r = paired_ratio([19.0, 20.0, 21.0], [10.0, 10.0, 10.0])
    mean = sum(logs) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs) / 2)
    half = 4.302652729911275 * sd / math.sqrt(3)  # t(0.975, 2)
    assert r.low == pytest.approx(math.exp(mean - half)) and r.high == pytest.approx(math.exp(mean + half))
    assert r.precision == pytest.approx((r.high - r.low) / 2 / r.ratio)
    assert r.significant is True and r.reached(0.2) and not r.reached(0.05)


def test_drift_that_hits_both_sides_cancels() -> None:
    drift = [1.0, 0.8, 1.2, 0.9, 1.1]  # the machine's speed in each block
    r = paired_ratio([20.0 * d for d in drift], [10.0 * d for d in drift])
    assert r.ratio == pytest.approx(2.0) and r.precision == pytest.approx(0.0)


def test_one_pair_has_no_interval_and_bad_input_says_why() -> None:
    one = paired_ratio([12.0], [10.0])
    assert one.low is None and one.precision is None and one.significant is None
    with pytest.raises(InsufficientData, match="no complete pair"):
        paired_ratio([], [])
    with pytest.raises(InsufficientData, match="positive throughput"):
        paired_ratio([1.0], [0.0])
    with pytest.raises(InsufficientData, match="against"):
        paired_ratio([1.0, 2.0], [1.0])


def test_coefficient_of_variation() -> None:
    assert coefficient_of_variation([10.0, 12.0]) == pytest.approx(math.sqrt(2) / 11)
    assert coefficient_of_variation([10.0]) is None
