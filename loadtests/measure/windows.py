"""Exact statistics of one measured window, from the raw samples Locust's recorder wrote.

Locust's own percentiles are bucketed and cover the whole run, warm-up included. The
lab's recorder (``scenarios/lab_support.py``) writes every request as
``[completion time, latency ms, ok, name]``; a window keeps the requests that
*completed* inside it, so its rps and percentiles are exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.core.errors import LoadGeneratorError
from loadtests.core.jsonfile import read_json
from loadtests.results.records import Latency


@dataclass(frozen=True)
class RawSamples:
    """What the recorder wrote when Locust quit."""

    test_start: float  # time.time() when Locust started the test (the master's clock)
    samples: tuple[tuple[float, float, bool, str], ...]  # sorted by completion time
    workers: int  # Locust workers that reported (0 in a standalone process)


@dataclass(frozen=True)
class WindowStats:
    requests: int
    failures: int
    rps: float
    latency_ms: Latency | None  # None when no request completed
    rps_series: tuple[int, ...]  # requests completed in each second of the window
    workers_reporting: int


def read_raw(path: Path) -> RawSamples:
    data: Any = read_json(path, LoadGeneratorError, "Locust wrote no samples; see locust.log beside it.")
    if not isinstance(data, dict) or data.get("test_start") is None:
        raise LoadGeneratorError(f"Locust never started the test ({path}); see locust.log beside it.")
    try:
        samples = tuple(sorted((float(s[0]), float(s[1]), bool(s[2]), str(s[3])) for s in data.get("samples", [])))
    except (TypeError, ValueError, IndexError) as exc:
        raise LoadGeneratorError(f"{path} holds malformed samples ({exc}); see locust.log beside it.") from None
    return RawSamples(float(data["test_start"]), samples, int(data.get("workers", 0)))


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of an already sorted list."""
    if not sorted_values:
        raise ValueError("percentile of an empty sample")
    position = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def latency_summary(latencies: Sequence[float]) -> Latency | None:
    """Exact percentiles (ms, rounded to 0.01) of a sample, None when it is empty."""
    ordered = sorted(latencies)
    if not ordered:
        return None
    return Latency(p50=round(percentile(ordered, 50), 2), p95=round(percentile(ordered, 95), 2),
                   p99=round(percentile(ordered, 99), 2), mean=round(math.fsum(ordered) / len(ordered), 2),
                   max=round(ordered[-1], 2), p90=round(percentile(ordered, 90), 2))


def window_stats(raw: RawSamples, warmup_s: float, duration_s: float) -> WindowStats:
    """Statistics over requests that *completed* inside ``[test_start + warmup, + duration)``."""
    return stats_between(raw.samples, raw.test_start + warmup_s, duration_s, raw.workers)


def stats_between(samples: Sequence[tuple[float, float, bool, str] | tuple[float, float, bool, str, float | None]],
                  start: float, duration_s: float, workers: int = 0) -> WindowStats:
    """Statistics over the requests that *completed* inside ``[start, start + duration)``."""
    if duration_s <= 0:
        raise ValueError(f"a window must last more than 0 s, got {duration_s}")
    end = start + duration_s
    inside = [s for s in samples if start <= s[0] < end]
    series = [0] * int(math.ceil(duration_s))
    for sample in inside:
        series[min(int(sample[0] - start), len(series) - 1)] += 1
    return WindowStats(
        requests=len(inside),
        failures=sum(1 for s in inside if not s[2]),
        rps=len(inside) / duration_s,
        latency_ms=latency_summary([s[1] for s in inside]),
        rps_series=tuple(series),
        workers_reporting=workers,
    )
