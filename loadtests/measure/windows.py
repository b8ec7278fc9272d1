"""Exact statistics of one measured window, from the raw samples Locust's recorder wrote.

Locust's own percentiles are bucketed and cover the whole run, warm-up included. The
lab's recorder (``scenarios/lab_support.py``) writes every request as
``[completion time, latency ms, ok, name]``; a window keeps the requests that
*completed* inside it, so its rps and percentiles are exact.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.core.errors import LoadGeneratorError
from loadtests.core.jsonfile import read_json
from loadtests.results.records import Latency, OpenLoopStats


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


def latency_summary(latencies: Sequence[float], bootstrap: bool = False) -> Latency | None:
    """Exact percentiles (ms, rounded to 0.01) of a sample, None when it is empty.

    ``bootstrap`` adds a 95% interval of p95 from resampling (open-loop windows, where
    p95 decides a capacity).
    """
    ordered = sorted(latencies)
    if not ordered:
        return None
    return Latency(p50=round(percentile(ordered, 50), 2), p95=round(percentile(ordered, 95), 2),
                   p99=round(percentile(ordered, 99), 2), mean=round(math.fsum(ordered) / len(ordered), 2),
                   max=round(ordered[-1], 2), p90=round(percentile(ordered, 90), 2),
                   p95_ci=p95_interval(ordered) if bootstrap else None)


BOOTSTRAP_RESAMPLES = 1000


def p95_interval(values: Sequence[float], resamples: int = BOOTSTRAP_RESAMPLES,
                 seed: int = 1) -> tuple[float, float] | None:
    """A percentile-bootstrap 95% interval of p95 (deterministic: a fixed seed). None under 20 values."""
    if len(values) < 20:
        return None
    rng = random.Random(seed)
    n = len(values)
    estimates = sorted(percentile(sorted(rng.choices(values, k=n)), 95) for _ in range(resamples))
    return (round(percentile(estimates, 2.5), 2), round(percentile(estimates, 97.5), 2))


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


def open_loop_window(samples: Sequence[Sequence[object]], drops: Sequence[float], start: float, end: float,
                     rate: float, late_ms: float) -> tuple[OpenLoopStats, Latency | None]:
    """How well an open-loop window kept its schedule, and its latency from the intended send.

    A sample is ``[completion, latency ms, ok, name, intended]``. The actual send is the
    completion minus the latency. Arrivals count by their intended time, sends by their
    actual time, completions by their completion time, each inside ``[start, end)``.
    """
    duration = end - start
    timed = [(float(s[0]), float(s[1]), float(s[4])) for s in samples if len(s) > 4 and s[4] is not None]  # type: ignore[arg-type]
    sends = [done - latency / 1000.0 for done, latency, _ in timed]
    scheduled = sum(1 for *_, intended in timed if start <= intended < end) + sum(1 for d in drops if start <= d < end)
    sent = sum(1 for t in sends if start <= t < end)
    completed = [(done, intended) for done, _, intended in timed if start <= done < end]
    lags = sorted(max(0.0, (send - intended) * 1000.0) for send, (_, _, intended) in zip(sends, timed, strict=True)
                  if start <= intended < end)
    threshold = late_ms
    stats = OpenLoopStats(
        offered_rps=rate, scheduled=scheduled, sent=sent, completed=len(completed),
        achieved_rps=round(len(completed) / duration, 3) if duration > 0 else 0.0,
        dropped=sum(1 for d in drops if start <= d < end), late=sum(1 for lag in lags if lag > threshold),
        late_threshold_ms=round(threshold, 3),
        lag_ms_p50=round(percentile(lags, 50), 3) if lags else None,
        lag_ms_p99=round(percentile(lags, 99), 3) if lags else None,
        lag_ms_max=round(lags[-1], 3) if lags else None,
        send_rate_error=round(sent / scheduled - 1.0, 4) if scheduled else None)
    corrected = latency_summary([(done - intended) * 1000.0 for done, intended in completed], bootstrap=True)
    return stats, corrected


def late_threshold_ms(slo_ms: float) -> float:
    """A send is late when it leaves more than 5% of the SLO (at least 5 ms) after its schedule.

    Latency from the intended send includes that lag, so a generator late by more would
    be charging its own delay to the server's p95.
    """
    return max(5.0, 0.05 * slo_ms)
