"""durations.py: durations as people type them."""

from __future__ import annotations

import pytest

from loadtests.core.durations import parse_duration


@pytest.mark.parametrize("text, seconds", [("90", 90.0), ("90s", 90.0), ("2m", 120.0), ("1m30s", 90.0),
                                           ("1h", 3600.0), ("1.5m", 90.0), (" 2M ", 120.0)])
def test_a_duration_reads_in_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "two minutes", "2x", "1m30", "-1", "m"])
def test_anything_else_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a duration: give seconds \(120\), or units \(2m, 1m30s, 1h\)"):
        parse_duration(text)
