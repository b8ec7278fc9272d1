"""Whether a measured cell counts: the rules, case by case, and the thresholds they use.

A cell that cannot stand for its configuration is kept and marked invalid with the
reason, never dropped or averaged in: the GIL on in a free-threaded cell, PYTHON_GIL=1
not honoured, a server that stopped answering, no completed request, failed requests,
a saturated load generator, or an N-process cell whose load reached fewer workers.
An open-loop window is also invalid when the generator did not keep its schedule; but
slow, failed or missing answers there are the server's response to the rate, which the
capacity search judges, so they do not make it invalid.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from loadtests.core.flavour import Flavour
from loadtests.measure.noise import NOISY_REPEATS, NOISY_REPEATS_PER_COMPARISON, NOISY_STEAL, foreign_bound
from loadtests.results.records import OpenLoopStats, RuntimeSnapshot, ValidityThresholds

#: Locust is one gevent thread per process: about 1 core is its ceiling. The noisy-window bounds
#: (measure/noise.py) are set per machine by :func:`thresholds_for`.
STRAY_LATE = 2  # late sends a window may have whatever its size
THRESHOLDS = ValidityThresholds(client_saturation_cores=0.9, max_failure_ratio=0.01, idle_worker_cores=0.1,
                                max_send_rate_error=0.02, max_late_share=0.01)


def thresholds_for(usable_cores: int) -> ValidityThresholds:
    """The run's limits on this machine: the validity rules, and the bounds that make a window noisy."""
    return replace(THRESHOLDS, noisy_steal=NOISY_STEAL, noisy_foreign_cores=foreign_bound(usable_cores),
                   noisy_repeats=NOISY_REPEATS, noisy_repeats_per_comparison=NOISY_REPEATS_PER_COMPARISON)


@dataclass(frozen=True)
class WindowFacts:
    """What a judgement needs to know about one measured window."""

    flavour: Flavour
    python_gil: str | None
    runtime_before: RuntimeSnapshot | None
    runtime_after: RuntimeSnapshot | None
    requests: int
    failures: int
    busiest_client_cores: float | None  # the busiest Locust process's average cores
    open_loop: bool = False  # arrivals at a set rate: a server that fails them or stops answering fails the rate

    @property
    def gil_enabled(self) -> bool | None:
        """On if the server reported it on before OR after the window; None if it never answered."""
        answers = [r for r in (self.runtime_before, self.runtime_after) if r is not None]
        return any(r.gil_enabled for r in answers) if answers else None

    @property
    def gil_enabled_by(self) -> tuple[str, ...]:
        answers = [r for r in (self.runtime_before, self.runtime_after) if r is not None]
        return tuple(sorted({m for r in answers for m in r.gil_enabled_by}))


def judge(facts: WindowFacts, thresholds: ValidityThresholds = THRESHOLDS) -> str | None:
    """Why a measured window is invalid, or None when it is valid. The first failing rule wins."""
    before, label = facts.runtime_before, facts.flavour.label
    if before is not None and before.free_threaded != facts.flavour.free_threaded:
        return f"the server reported free_threaded={before.free_threaded} on {label}"
    if facts.flavour.free_threaded and facts.gil_enabled and facts.python_gil != "1":
        modules = ", ".join(facts.gil_enabled_by) or "an unidentified module"
        return f"GIL enabled on the free-threaded build by {modules}"
    if facts.python_gil == "1" and not facts.gil_enabled:
        return "PYTHON_GIL=1 was set but the server reported the GIL disabled"
    # Open loop, these are the server's answer to the rate (slow, failed or no answers: misses), not a bad window.
    if before is not None and facts.runtime_after is None and not facts.open_loop:
        return "the server stopped answering /lab/runtime after the window"
    if facts.requests == 0 and not facts.open_loop:
        return "no request completed in the measured window"
    if facts.failures > thresholds.max_failure_ratio * facts.requests and not facts.open_loop:
        return f"{facts.failures} of {facts.requests} requests failed (see the Locust report)"
    busiest = facts.busiest_client_cores
    if busiest is not None and busiest > thresholds.client_saturation_cores:
        return (f"load generator saturated ({busiest:.2f} cores in one Locust process, above "
                f"{thresholds.client_saturation_cores:g}); use --locust-workers or a lighter scenario")
    return None


def saturated_worker(worker_cores: Sequence[tuple[str, float | None]],
                     thresholds: ValidityThresholds = THRESHOLDS) -> str | None:
    """Why a window's load generator was saturated, judged per Locust worker from its own CPU readings, or None.

    A worker on another machine is invisible to the lab's sampler, so each worker ships
    its CPU time with its reports; the busiest one decides.
    """
    measured = [(name, cores) for name, cores in worker_cores if cores is not None]
    if not measured:
        return None
    name, busiest = max(measured, key=lambda item: item[1])
    if busiest <= thresholds.client_saturation_cores:
        return None
    return (f"load generator saturated ({busiest:.2f} cores in Locust worker {name}, above "
            f"{thresholds.client_saturation_cores:g}); add workers (--locust-workers, --expect-workers) or use a "
            "lighter scenario")


def idle_workers(worker_cores: Mapping[int, float], expected: int,
                 thresholds: ValidityThresholds = THRESHOLDS) -> str | None:
    """Why an N-process cell did not measure N processes, or None.

    The kernel decides which worker accepts each of Locust's connections, and it may
    hand them all to one: the cell then measures one process while claiming N.
    """
    if len(worker_cores) < expected:  # workers that are threads share one process
        return None
    busy = sum(1 for cores in worker_cores.values() if cores >= thresholds.idle_worker_cores)
    if busy < expected:
        return (f"the load reached {busy} of {expected} worker processes (each needs at least "
                f"{thresholds.idle_worker_cores:g} cores); this cell does not measure {expected} processes")
    return None


def judge_open_loop(stats: OpenLoopStats, thresholds: ValidityThresholds = THRESHOLDS) -> str | None:
    """Why an open-loop window cannot stand for its rate: the generator did not keep its schedule.

    The load generator shares the cores with the server; if it falls behind, the server
    is offered less than the rate says, and its own lag is counted in the latency from
    the intended send. Either way the window measured the generator, not the server.
    """
    error = stats.send_rate_error
    if error is not None and abs(error) > thresholds.max_send_rate_error:
        return (f"the load generator did not keep its schedule: it sent {stats.sent} of {stats.scheduled} "
                f"scheduled requests ({error:+.1%}, the limit is ±{thresholds.max_send_rate_error:.0%})")
    # a stray late send or two in a short window is noise of the machine, not a generator that fell behind
    if stats.scheduled and stats.late > max(thresholds.max_late_share * stats.scheduled, STRAY_LATE):
        return (f"the load generator sent {stats.late} of {stats.scheduled} requests more than "
                f"{stats.late_threshold_ms:g} ms after their schedule (p99 lag {stats.lag_ms_p99} ms; the limit is "
                f"{thresholds.max_late_share:.0%} late)")
    return None
