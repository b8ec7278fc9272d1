"""Warming a freshly started server up, until its throughput has stopped climbing.

A new server is slower at first: imports finish, caches fill, the specialising
interpreter rewrites its hot bytecode, the thread pool grows. The lab loads every
new server before its first measured window and watches the completions per second;
the server counts as warm once two consecutive blocks of :data:`BLOCK_S` seconds agree
within :data:`TOLERANCE` (relative), or when the warm-up budget runs out (recorded as
not converged, so the report can say so).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from loadtests.core.clock import utc_now
from loadtests.core.errors import LoadGeneratorError
from loadtests.measure.arm import Aborted, Arm, wait_watching
from loadtests.measure.load_session import LoadSession
from loadtests.plan.comparisons import ComparisonPlan
from loadtests.results.records import Warmup

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


def warm_up(arm: Arm, comparison: ComparisonPlan, session: LoadSession, budget_s: float,
            say: Callable[[str], None]) -> Warmup | None:
    """Load a new server until its throughput is stable (or the budget runs out); None with no budget."""
    assert arm.server is not None
    if budget_s <= 0:
        return None
    try:
        session.wait_for_workers()
    except LoadGeneratorError as exc:
        say(f"    warm-up of {arm.config.label} skipped: {exc}")
        return None
    session.start_load(arm.server.base_url, arm.config.users, comparison.needs_connection_close)
    started_at, start = utc_now(), time.time()
    completions: list[float] = []
    converged = False
    try:
        while time.time() - start < budget_s:
            wait_watching(1.0, arm.server, session)
            completions += [s[0] for s in session.drain().samples]
            if steady(per_second(completions, start, int(time.time() - start))):
                converged = True
                break
    except Aborted as exc:
        say(f"    warm-up of {arm.config.label} aborted: {exc}")
    finally:
        session.stop_load()
        session.drain()
    seconds = time.time() - start
    series = per_second(completions, start, int(seconds))
    say(f"    warm-up {arm.config.label}: {seconds:.0f}s, per-second {list(series)}"
        + ("" if converged else " (not stable yet: the warm-up budget ran out)"))
    return Warmup(config_id=arm.config.config_id, comparison_id=comparison.comparison_id, seconds=round(seconds, 2),
                  converged=converged, rps_series=tuple(series), started_at=started_at)
