"""progress.step: announce, heartbeat, report; nested steps do not talk over each other."""

from __future__ import annotations

import io
import time

import pytest

from loadtests.core.progress import format_seconds, step


def test_nested_steps_beat_only_for_the_innermost() -> None:
    out = io.StringIO()
    with step("outer", stream=out, heartbeat=0.02), step("inner", stream=out, heartbeat=0.02):
        time.sleep(0.2)
    lines = out.getvalue().splitlines()
    inner_done = lines.index("<== inner: done in 0s")
    assert lines[:2] == ["==> outer", "==> inner"]
    assert any(line.startswith("    ... inner") for line in lines[:inner_done])
    assert not any(line.startswith("    ... outer") for line in lines[:inner_done])
    assert lines[-1] == "<== outer: done in 0s"


def test_a_failed_step_says_so_and_re_raises() -> None:
    out = io.StringIO()
    with pytest.raises(RuntimeError), step("build", stream=out):
        raise RuntimeError("boom")
    assert out.getvalue().splitlines()[-1] == "<== build: failed after 0s"


@pytest.mark.parametrize(("seconds", "text"), [(0.4, "0s"), (59.6, "1m00s"), (75.2, "1m15s"), (3600, "60m00s")])
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text
