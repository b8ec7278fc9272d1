"""stats.py (and the wording of its figures) against printed tables and hand-computed values."""

from __future__ import annotations

import math

import pytest

from loadtests.analysis.figures.stats import InsufficientData, MeanCI, Speedup
from loadtests.analysis.stats import efficiency, mean_ci, regularized_beta, speedup, t_cdf, t_quantile
from loadtests.core.wording import format_interval, format_mean_ci, format_speedup, verdict

# Two-sided 95% (p = 0.975) and 90% (p = 0.95) critical values, from any printed t table.
T_TABLE = [
    (1, 12.706, 6.314), (2, 4.303, 2.920), (3, 3.182, 2.353), (4, 2.776, 2.132), (5, 2.571, 2.015),
    (6, 2.447, 1.943), (9, 2.262, 1.833), (10, 2.228, 1.812), (20, 2.086, 1.725), (30, 2.042, 1.697),
    (120, 1.980, 1.658),
]


@pytest.mark.parametrize(("df", "t975", "t95"), T_TABLE)
def test_t_quantile_matches_the_table(df: int, t975: float, t95: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(t975, abs=5e-4)
    assert t_quantile(0.95, df) == pytest.approx(t95, abs=5e-4)


def test_t_quantile_is_symmetric_and_tends_to_the_normal() -> None:
    assert t_quantile(0.5, 3) == 0.0
    assert t_quantile(0.025, 7) == pytest.approx(-t_quantile(0.975, 7))
    assert t_quantile(0.975, 1e6) == pytest.approx(1.95996, abs=1e-4)


def test_t_quantile_handles_fractional_df_between_neighbours() -> None:
    # Welch degrees of freedom are fractional: the quantile sits between the integer ones.
    assert t_quantile(0.975, 3) > t_quantile(0.975, 3.5) > t_quantile(0.975, 4)


def test_t_cdf_known_values() -> None:
    # df = 1 is the Cauchy distribution: P(T <= 1) = 0.75 exactly.
    assert t_cdf(1.0, 1) == pytest.approx(0.75, abs=1e-12)
    # df = 2 has a closed form: F(t) = 1/2 + t / (2 sqrt(t^2 + 2)).
    assert t_cdf(1.5, 2) == pytest.approx(0.5 + 1.5 / (2 * math.sqrt(1.5**2 + 2)), abs=1e-12)
    assert regularized_beta(2, 3, 0.0) == 0.0 and regularized_beta(2, 3, 1.0) == 1.0
    # I_x(1, 1) = x
    assert regularized_beta(1, 1, 0.3) == pytest.approx(0.3, abs=1e-12)


@pytest.mark.parametrize(("p", "df"), [(0.0, 3), (1.0, 3), (0.9, 0)])
def test_t_quantile_rejects_bad_arguments(p: float, df: float) -> None:
    with pytest.raises(ValueError):
        t_quantile(p, df)


def test_mean_ci_by_hand() -> None:
    # mean 12, sd 2, n 3: half width = 4.3027 * 2 / sqrt(3) = 4.9683
    m = mean_ci([10, 12, 14])
    assert m.mean == 12 and m.n == 3 and m.stdev == pytest.approx(2.0)
    assert m.low == pytest.approx(12 - 4.968275, abs=1e-5)
    assert m.high == pytest.approx(12 + 4.968275, abs=1e-5)
    assert m.half_width == pytest.approx(4.968275, abs=1e-5)
    assert format_mean_ci(m) == "12.0 ± 5.0"


def test_mean_ci_of_one_value_has_no_interval() -> None:
    m = mean_ci([7.5])
    assert (m.mean, m.low, m.high, m.has_interval) == (7.5, None, None, False)
    assert format_mean_ci(m, unit="rps") == "7.5 rps (n=1)"


@pytest.mark.parametrize("values", [[], [1.0, math.nan], [math.inf]])
def test_mean_ci_refuses_failed_measurements(values: list[float]) -> None:
    with pytest.raises(InsufficientData):
        mean_ci(values)


def test_speedup_fieller_by_hand() -> None:
    # candidate mean 20 (sd 1), baseline mean 10 (sd 0.5), n = 3 each.
    # va = 1/3, vb = 1/12, r = 2: Welch df = (va + 4 vb)^2 / (va^2/2 + (4 vb)^2/2) = 4, t = 2.776445.
    # Fieller: qa = 100 - t^2 vb, qb = 200, qc = 400 - t^2 va, r = (qb ± sqrt(qb^2 - qa qc)) / qa.
    t2 = 2.776445105**2
    qa, qb, qc = 100 - t2 / 12, 200.0, 400 - t2 / 3
    root = math.sqrt(qb * qb - qa * qc)
    s = speedup([20, 21, 19], [10, 10.5, 9.5])
    assert s.ratio == pytest.approx(2.0)
    assert s.low == pytest.approx((qb - root) / qa, rel=1e-6)
    assert s.high == pytest.approx((qb + root) / qa, rel=1e-6)
    assert s.low == pytest.approx(1.78514, abs=1e-4)
    assert s.significant is True
    assert verdict(s) == "2.00× faster"
    assert format_speedup(s) == "2.00× (95% CI 1.79–2.24)"


def test_speedup_slower_and_not_significant() -> None:
    slower = speedup([10.0, 10.2, 9.8], [19.0, 19.2, 18.8])
    assert slower.significant and verdict(slower) == f"{19 / 10:.2f}× slower"
    same = speedup([10, 12, 9], [10, 11, 10])
    assert same.low is not None and same.high is not None and same.low < 1 < same.high
    assert verdict(same) == "not significant"


def test_speedup_without_interval_says_so() -> None:
    s = speedup([20.0], [10.0, 11.0])
    assert s.ratio == pytest.approx(20 / 10.5) and not s.has_interval and s.significant is None
    assert verdict(s) == "1.90× faster (n=1, no interval)"
    assert format_speedup(s) == "1.90× (n=1, no interval)"


def test_speedup_noisy_baseline_is_unbounded() -> None:
    s = speedup([10, 11, 12], [0.1, 5.0, 12.0])  # baseline mean not distinguishable from zero
    assert s.high == math.inf and verdict(s) == "not significant"
    assert format_interval(s.low, s.high) == "0.00–∞"


def test_speedup_lower_bound_never_negative() -> None:
    # The smoke run's shape: a noisy candidate whose mean is not significantly above zero.
    s = speedup([17.6, 27.8], [43.0, 41.0])
    assert s.low == 0.0 and s.high is not None and s.high > 1 and verdict(s) == "not significant"


def test_speedup_refuses_zero_baseline() -> None:
    with pytest.raises(InsufficientData, match="baseline"):
        speedup([1.0, 2.0], [0.0, 0.0])


def test_identical_repeats_give_a_point_interval() -> None:
    s = speedup([4.0, 4.0], [2.0, 2.0])
    assert (s.ratio, s.low, s.high) == (2.0, 2.0, 2.0) and verdict(s) == "2.00× faster"


def test_efficiency_is_bounded_by_cores() -> None:
    assert efficiency(1.9, threads=8, usable_cores=2) == pytest.approx(0.95)
    assert efficiency(1.9, threads=2, usable_cores=8) == pytest.approx(0.95)
    assert efficiency(3.6, threads=4, usable_cores=4) == pytest.approx(0.9)
    assert efficiency(1.0, threads=1, usable_cores=2) == 1.0
    with pytest.raises(InsufficientData):
        efficiency(1.0, threads=0, usable_cores=2)
    with pytest.raises(InsufficientData):
        efficiency(math.nan, threads=2, usable_cores=2)


def test_records_are_frozen() -> None:
    with pytest.raises(AttributeError):
        MeanCI(1.0, None, None, 1, None).mean = 2.0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Speedup(1.0, None, None, 1, 1).ratio = 2.0  # type: ignore[misc]
