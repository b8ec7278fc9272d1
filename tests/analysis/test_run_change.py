"""Run against run: estimates with their between-run error, their change, and the regression rule."""

from __future__ import annotations

import math
import statistics

import pytest

from loadtests.analysis.run_change import compare, estimate_from_groups, estimate_from_interval, regressed
from loadtests.analysis.variance import nested_mean


def test_one_instance_makes_its_windows_the_units() -> None:
    values = [10.0, 11.0, 12.0, 11.5]
    e = estimate_from_groups("k", "k", "throughput", "rps", [values])
    logs = [math.log(v) for v in values]
    assert e.log_value == pytest.approx(statistics.fmean(logs)) and e.units == 4 and e.df == 3
    assert e.log_se == pytest.approx(statistics.stdev(logs) / 2)


def test_instances_that_agree_are_pooled_and_instances_that_differ_are_the_units() -> None:
    agree = nested_mean([[1.0, 1.1, 0.9], [1.05, 0.95, 1.0]])
    assert agree.pooled and agree.df == 5 and agree.groups == 2
    apart = nested_mean([[1.0, 1.01, 0.99, 1.0], [2.0, 2.01, 1.99, 2.0], [3.0, 3.01, 2.99, 3.0]])
    assert not apart.pooled and apart.df == pytest.approx(2, abs=0.01)
    # balanced: the mean's variance is the instance mean square over all values, i.e. var(instance means) / k
    assert apart.se == pytest.approx(statistics.stdev([1.0, 2.0, 3.0]) / math.sqrt(3), rel=1e-6)
    assert apart.between_sd == pytest.approx(1.0, rel=0.01) and apart.within_sd == pytest.approx(0.0082, rel=0.01)


def test_a_figure_known_by_its_interval_keeps_that_interval() -> None:
    e = estimate_from_interval("cap", "cap", "capacity", "rps", 40.0, 36.0, 44.0, 6, 4)
    twice = compare(e, e)
    assert twice.change == pytest.approx(1.0)
    # the change of two independent estimates is √2 wider on the log scale than each (same df: Welch's df doubles)
    assert math.log(twice.high) == pytest.approx(
        math.sqrt(2) * e.log_se * 2.178813, rel=1e-4)  # t(0.975, 12)
    assert estimate_from_interval("x", "x", "capacity", "rps", 40.0, None, None, None, 1).log_se is None


def test_a_regression_is_worse_with_significance_and_beyond_the_threshold_in_the_figures_direction() -> None:
    a = estimate_from_interval("k", "k", "throughput", "rps", 100.0, 95.0, 105.0, 10, 11)
    slower = estimate_from_interval("k", "k", "throughput", "rps", 80.0, 76.0, 84.0, 10, 11)
    assert regressed(compare(a, slower), 10) and not regressed(compare(a, slower), 25)
    assert not regressed(compare(slower, a), 0)  # faster never fails
    lat_a = estimate_from_interval("p95", "p95", "latency", "ms", 100.0, 95.0, 105.0, 10, 11, higher_is_better=False)
    lat_b = estimate_from_interval("p95", "p95", "latency", "ms", 130.0, 124.0, 136.0, 10, 11, higher_is_better=False)
    change = compare(lat_a, lat_b)
    assert change.worse_pct == pytest.approx(30.0) and regressed(change, 10) and not regressed(compare(lat_b, lat_a), 0)
    without = compare(a, estimate_from_interval("k", "k", "throughput", "rps", 50.0, None, None, None, 1))
    assert without.low is None and not regressed(without, 0)  # no interval: nothing shown with significance
