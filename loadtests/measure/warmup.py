"""When a freshly started server is warm: throughput has stopped climbing.

A new server is slower at first: imports finish, caches fill, the specialising
interpreter rewrites its hot bytecode, the thread pool grows. The lab loads every
new server before its first measured window and watches the completions per second;
the server counts as warm once two consecutive blocks of :data:`BLOCK_S` seconds agree
within :data:`TOLERANCE` (relative), or when the warm-up budget runs out (recorded as
not converged, so the report can say so).
"""

from __future__ import annotations

from collections.abc import Sequence

BLOCK_S = 2  # seconds per block compared
TOLERANCE = 0.15  # relative difference between the two latest blocks


def steady(series: Sequence[int], block_s: int = BLOCK_S, tolerance: float = TOLERANCE) -> bool:
    """Whether the latest two blocks of per-second completions agree (a climb has flattened)."""
    if len(series) < 2 * block_s:
        return False
    latest = sum(series[-block_s:])
    before = sum(series[-2 * block_s:-block_s])
    if latest == 0 and before == 0:
        return False  # nothing completes yet: not warm, just stuck or slow to start
    return abs(latest - before) <= tolerance * max(latest, before)


def per_second(completions: Sequence[float], start: float, seconds: int) -> list[int]:
    """Completions in each whole second after ``start``."""
    series = [0] * seconds
    for t in completions:
        index = int(t - start)
        if 0 <= index < seconds:
            series[index] += 1
    return series
