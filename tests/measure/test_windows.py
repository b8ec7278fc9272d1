"""windows.py: the measured window's statistics, checked against hand-computed values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtests.core.errors import LoadGeneratorError
from loadtests.measure.windows import (
    RawSamples,
    latency_summary,
    percentile,
    read_raw,
    window_stats,
)


def test_percentiles_interpolate_linearly() -> None:
    values = [10.0, 20.0, 30.0, 40.0, 50.0]
    assert percentile(values, 50) == 30.0
    assert percentile(values, 95) == pytest.approx(48.0)  # position 3.8: 40 + 0.8 * 10
    assert percentile(values, 0) == 10.0 and percentile(values, 100) == 50.0
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_latency_summary_by_hand() -> None:
    summary = latency_summary([400.0, 100.0, 300.0, 200.0])
    assert summary is not None
    assert (summary.p50, summary.p95, summary.p99, summary.mean, summary.max) == (250.0, 385.0, 397.0, 250.0, 400.0)
    assert latency_summary([]) is None


def test_only_requests_completed_inside_the_window_count() -> None:
    start = 1000.0
    samples = (
        (1001.9, 50.0, True, "GET /json"),  # warm-up (window starts at 1002)
        (1002.0, 100.0, True, "GET /json"),  # first instant of the window: in
        (1002.5, 200.0, False, "GET /json"),  # failed, still a completed request
        (1003.9, 300.0, True, "GET /json"),
        (1004.0, 999.0, True, "GET /json"),  # the window's end is excluded
    )
    stats = window_stats(RawSamples(start, samples, 0), warmup_s=2, duration_s=2)
    assert (stats.requests, stats.failures, stats.rps) == (3, 1, 1.5)
    assert stats.rps_series == (2, 1)
    assert stats.latency_ms is not None and stats.latency_ms.max == 300.0 and stats.latency_ms.p50 == 200.0


def test_an_empty_window_has_no_latency() -> None:
    stats = window_stats(RawSamples(0.0, (), 2), warmup_s=1, duration_s=3)
    assert (stats.requests, stats.rps, stats.latency_ms, stats.rps_series, stats.workers_reporting) == \
        (0, 0.0, None, (0, 0, 0), 2)


def test_raw_files_that_cannot_be_used_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(LoadGeneratorError, match="Locust wrote no samples"):
        read_raw(tmp_path / "missing.json")
    never = tmp_path / "never.json"
    never.write_text(json.dumps({"test_start": None, "samples": []}))
    with pytest.raises(LoadGeneratorError, match="never started the test"):
        read_raw(never)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"test_start": 5.0, "workers": 2, "samples": [[7.0, 1.5, True, "x"], [6.0, 1, 0, "y"]]}))
    raw = read_raw(good)
    assert raw.test_start == 5.0 and raw.workers == 2 and raw.samples[0] == (6.0, 1.0, False, "y")


