"""The change-point rule on constructed series with known steps (and without any)."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from loadtests.analysis.change_points import RunSample, pooled, steps


def run(run_id: str, values: list[float]) -> RunSample:
    """A run whose estimate is the mean of ``values`` (its units: windows pooled, or instances)."""
    return RunSample(run_id, statistics.fmean(values), statistics.stdev(values) / math.sqrt(len(values)),
                     len(values) - 1)


def series(levels: list[float], seed: int = 1, n: int = 6, noise: float = 0.03) -> list[RunSample]:
    """One run per level: ``n`` windows around it with ±``noise`` uniform noise."""
    rng = random.Random(seed)
    return [run(f"r{i}", [level * (1 + rng.uniform(-noise, noise)) for _ in range(n)])
            for i, level in enumerate(levels)]


def found(samples: list[RunSample]) -> list[tuple[str, str, str | None]]:
    return [(s.run.run_id, s.direction, s.confirmed_by) for s in steps(samples)]


def test_pooled_is_the_mean_of_the_runs_with_their_errors_combined() -> None:
    a, b = RunSample("a", 10.0, 0.5, 2), RunSample("b", 14.0, 1.0, 3)
    p = pooled([a, b])
    assert p.mean == pytest.approx(12.0) and p.se == pytest.approx(math.sqrt(0.25 + 1.0) / 2)
    assert p.df == pytest.approx((0.25 + 1.0) ** 2 / (0.25**2 / 2 + 1.0 / 3))  # Welch-Satterthwaite


def test_the_interval_is_students() -> None:
    low, high = run("a", [10.0, 11.0, 12.0]).interval()
    half = 4.302653 * 1.0 / math.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert (low, high) == pytest.approx((11 - half, 11 + half), rel=1e-6)


@pytest.mark.parametrize("seed", range(20))
def test_a_flat_series_has_no_step(seed: int) -> None:
    assert found(series([20.0] * 12, seed=seed)) == []


def test_a_step_down_is_found_at_its_first_run_and_confirmed_by_the_next() -> None:
    assert found(series([20.0] * 5 + [15.0] * 5)) == [("r5", "down", "r6")]


def test_a_step_up_then_back_down_gives_two_steps() -> None:
    assert found(series([10.0] * 4 + [13.0] * 4 + [10.0] * 4)) == [("r4", "up", "r5"), ("r8", "down", "r9")]


def test_one_outlier_is_not_a_step_and_stays_out_of_the_reference() -> None:
    samples = series([20.0] * 4 + [12.0] + [20.0] * 4)
    assert found(samples) == []
    # had the outlier joined the reference, its spread would hide this real step
    assert found(series([20.0] * 4 + [12.0] + [20.0] * 3 + [17.0] * 3)) == [("r8", "down", "r9")]


def test_a_step_at_the_newest_run_is_unconfirmed() -> None:
    assert found(series([20.0] * 5 + [15.0])) == [("r5", "down", None)]


def test_a_step_is_measured_against_the_pooled_runs_before_it() -> None:
    (step,) = steps(series([20.0] * 5 + [15.0] * 3))
    assert step.reference_runs == ("r0", "r1", "r2", "r3", "r4")
    assert step.reference.mean == pytest.approx(20.0, rel=0.02) and step.run.mean == pytest.approx(15.0, rel=0.02)


def test_a_change_inside_the_noise_is_not_a_step() -> None:
    assert found(series([20.0] * 5 + [19.0] * 5, noise=0.15)) == []


def test_runs_without_an_interval_are_left_out() -> None:
    samples = series([20.0] * 4 + [15.0] * 3)
    single = RunSample("one-window", 15.0, math.inf, 0)
    assert found([*samples[:4], single, *samples[4:]]) == [("r4", "down", "r5")]
    assert steps([single]) == [] and steps([]) == []
