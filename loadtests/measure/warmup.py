"""Warming a freshly started server up, until its throughput has stopped climbing.

A new server is slower at first: imports finish, caches fill, the specialising
interpreter rewrites its hot bytecode, the thread pool grows. The lab loads every new
server before its first measured window and times its completions. It counts as warm
once it has completed at least :data:`MIN_COMPLETIONS` requests and the rates of its last
two blocks of :data:`BLOCK_COMPLETIONS` completions agree within :data:`TOLERANCE`: a rate
measured over a hundred completions of a closed loop varies by a few percent, so the
test passes a steady server and catches a climb that a second-by-second count of a few
dozen requests cannot tell from noise. When the warm-up budget runs out first, the
warm-up is recorded as not converged, with the completions it saw.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from loadtests.core.clock import utc_now
from loadtests.core.errors import LoadGeneratorError
from loadtests.measure.arm import Aborted, Arm, wait_watching
from loadtests.measure.drain import LastLoad
from loadtests.measure.load_session import LoadSession
from loadtests.plan.comparisons import ComparisonPlan, connection_close
from loadtests.results.records import Warmup

MIN_COMPLETIONS = 200
BLOCK_COMPLETIONS = 100
TOLERANCE = 0.10  # relative difference between the rates of the two latest blocks


def block_rates(completions: Sequence[float], block: int = BLOCK_COMPLETIONS) -> tuple[float, float] | None:
    """Completions per second of the two latest blocks of ``block`` completions (None with too few)."""
    times = sorted(completions)
    if len(times) < 2 * block + 1:
        return None
    edges = times[-2 * block - 1], times[-block - 1], times[-1]
    spans = edges[1] - edges[0], edges[2] - edges[1]
    if min(spans) <= 0:
        return None
    return block / spans[0], block / spans[1]


def steady(completions: Sequence[float], minimum: int = MIN_COMPLETIONS, block: int = BLOCK_COMPLETIONS,
           tolerance: float = TOLERANCE) -> bool:
    """Whether enough requests completed and the two latest blocks' rates agree (a climb has flattened)."""
    rates = block_rates(completions, block)
    if len(completions) < minimum or rates is None:
        return False
    return abs(rates[1] - rates[0]) <= tolerance * max(rates)


def per_second(completions: Sequence[float], start: float, seconds: int) -> list[int]:
    """Completions in each whole second after ``start``."""
    series = [0] * seconds
    for t in completions:
        index = int(t - start)
        if 0 <= index < seconds:
            series[index] += 1
    return series


def warm_up(arm: Arm, comparison: ComparisonPlan, session: LoadSession, budget_s: float,
            say: Callable[[str], None], last_load: LastLoad | None = None) -> Warmup | None:
    """Load a new server until its throughput is stable (or the budget runs out); None with no budget."""
    assert arm.server is not None
    if budget_s <= 0:
        return None
    try:
        session.wait_for_workers()
    except LoadGeneratorError as exc:
        say(f"    warm-up of {arm.config.label} skipped: {exc}")
        return None
    if last_load is not None:
        last_load.before_load()
    session.start_load(arm.server.base_url, arm.config.users, connection_close(arm.config))
    if last_load is not None:
        last_load.loaded(arm.server)
    started_at, start = utc_now(), time.time()
    completions: list[float] = []
    converged = False
    try:
        while time.time() - start < budget_s:
            wait_watching(0.5, arm.server, session)
            completions += [s[0] for s in session.drain().samples]
            if steady(completions):
                converged = True
                break
    except Aborted as exc:
        say(f"    warm-up of {arm.config.label} aborted: {exc}")
    finally:
        session.stop_load()
        completions += [s[0] for s in session.drain().samples]
    seconds = time.time() - start
    series = per_second(completions, start, int(seconds))
    rates = block_rates(completions)
    say(f"    warm-up {arm.config.label} #{arm.instance + 1}: {seconds:.0f}s, {len(completions)} completions"
        + (f", last blocks {rates[0]:.1f} and {rates[1]:.1f}/s" if rates else "")
        + ("" if converged else " (not steady yet: the warm-up budget ran out)"))
    return Warmup(config_id=arm.config.config_id, comparison_id=comparison.comparison_id, seconds=round(seconds, 2),
                  converged=converged, rps_series=tuple(series), started_at=started_at, instance=arm.instance,
                  hash_seed=arm.hash_seed, completions=len(completions),
                  block_rates=None if rates is None else (round(rates[0], 2), round(rates[1], 2)))
