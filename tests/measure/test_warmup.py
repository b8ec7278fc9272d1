"""warmup.py: a server is warm once it has completed 200 requests and its last two blocks of 100 agree within 10%."""

from __future__ import annotations

from loadtests.measure.warmup import block_rates, per_second, steady


def steady_completions(rates: list[float], per_block: int = 100) -> list[float]:
    """Completion times, ``per_block`` at each rate in turn."""
    out, t = [0.0], 0.0
    for rate in rates:
        for _ in range(per_block):
            t += 1.0 / rate
            out.append(t)
    return out


def test_a_climb_is_not_steady_and_a_plateau_is() -> None:
    assert steady(steady_completions([10.0, 10.5]))  # 5% apart, 201 completions
    assert not steady(steady_completions([8.0, 10.0]))  # still climbing: 20%
    assert steady(steady_completions([6.0, 8.0, 10.0, 10.2]))  # the climb has flattened


def test_fewer_than_two_blocks_is_never_steady_however_flat() -> None:
    assert not steady(steady_completions([10.0, 10.0])[:150])
    assert block_rates(steady_completions([10.0])) is None
    assert block_rates(steady_completions([8.0, 10.0])) == (8.0, 10.0) or all(
        abs(a - b) < 1e-9 for a, b in zip(block_rates(steady_completions([8.0, 10.0])) or (), (8.0, 10.0),
                                          strict=True))


def test_completions_are_counted_per_second_from_the_start() -> None:
    assert per_second([100.1, 100.9, 101.5, 103.2, 99.0], start=100.0, seconds=3) == [2, 1, 0]
