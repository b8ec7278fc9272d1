"""Every arrival of an open-loop window accounted for, from the generator's schedule log.

The open-loop driver logs each arrival the moment it falls due: its intended send time
and when it was dispatched (never, when the in-flight cap dropped it). A window holds
the arrivals *due* inside ``[start, end)``; the load runs on until ``cutoff`` (the end
plus the SLO), so the last of them have the same time to be answered as the first.

Each arrival then has a latency from its intended send to its last answer. One that
was dropped, or had no answer by the cutoff, has only a lower bound (``cutoff`` minus its
intended send, at least the SLO): it counts as over the SLO, and as lost. One whose
request failed is lost too. The send-rate and lateness checks read the log, so a server
that stops answering cannot look like a generator that fell behind.

An arrival *misses* when it had no good answer within the SLO: slow, failed, dropped or
unanswered. The share of misses is what the capacity search judges (p95 under the SLO
is a miss share under 5%). Misses come in bursts (a queue that builds up delays every
arrival behind it), so the window also keeps them per block of consecutive arrivals,
from which the search measures how much more they vary than independent arrivals would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from loadtests.measure.load_session import Arrival, Sample
from loadtests.measure.windows import percentile
from loadtests.results.records import Latency, OpenLoopStats

#: Misses are also counted in this many blocks of consecutive arrivals (the step's evidence of bursts).
MISS_BLOCKS = 5
Z95 = 1.959964


@dataclass(frozen=True)
class ArrivalOutcome:
    """What became of one arrival due inside the window."""

    intended: float  # its intended send time (the schedule)
    latency_ms: float  # intended send to last answer; a lower bound when not answered
    answered: bool  # every request of it completed by the cutoff
    ok: bool  # answered, and no request of it failed
    dispatched: bool  # False: dropped at the in-flight cap

    def missed(self, slo_ms: float) -> bool:
        """No good answer within the SLO."""
        return not self.ok or self.latency_ms >= slo_ms


@dataclass(frozen=True)
class OpenLoopWindow:
    stats: OpenLoopStats
    corrected: Latency | None  # latency of every arrival from its intended send (lower bounds included)
    outcomes: tuple[ArrivalOutcome, ...]  # in order of intended send


def outcomes_of(samples: Sequence[Sample], origins: Sequence[str], arrivals: Sequence[Arrival], start: float,
                end: float, cutoff: float) -> list[ArrivalOutcome]:
    """Each arrival due in ``[start, end)``, joined with its requests' samples by load process and intended send."""
    answers: dict[tuple[str, float], list[tuple[float, bool]]] = {}
    for sample, origin in zip(samples, origins, strict=True):
        if sample[4] is not None and start <= sample[4] < end:
            answers.setdefault((origin, sample[4]), []).append((sample[0], sample[2]))
    out = []
    for intended, dispatched, origin in sorted((a for a in arrivals if start <= a[0] < end), key=lambda a: a[0]):
        done = [(t, ok) for t, ok in answers.get((origin, intended), []) if t <= cutoff]
        answered = dispatched is not None and bool(done)
        last = max(t for t, _ in done) if answered else cutoff
        out.append(ArrivalOutcome(intended, (last - intended) * 1000.0, answered,
                                  answered and all(ok for _, ok in done), dispatched is not None))
    return out


def open_loop_window(samples: Sequence[Sample], origins: Sequence[str], arrivals: Sequence[Arrival], start: float,
                     end: float, cutoff: float, rate: float, late_ms: float, slo_ms: float) -> OpenLoopWindow:
    """How well the generator kept its schedule, and what became of every arrival due inside the window."""
    duration = end - start
    due = [a for a in arrivals if start <= a[0] < end]
    sent = sum(1 for _, dispatched, _ in arrivals if dispatched is not None and start <= dispatched < end)
    lags = sorted(max(0.0, (dispatched - intended) * 1000.0) for intended, dispatched, _ in due
                  if dispatched is not None)
    outcomes = outcomes_of(samples, origins, arrivals, start, end, cutoff)
    misses = [o.missed(slo_ms) for o in outcomes]
    stats = OpenLoopStats(
        offered_rps=rate, scheduled=len(due), sent=sent,
        completed=sum(1 for s in samples if start <= s[0] < end),
        achieved_rps=round(sum(1 for s in samples if start <= s[0] < end) / duration, 3) if duration > 0 else 0.0,
        dropped=sum(1 for o in outcomes if not o.dispatched), late=sum(1 for lag in lags if lag > late_ms),
        late_threshold_ms=round(late_ms, 3),
        lag_ms_p50=round(percentile(lags, 50), 3) if lags else None,
        lag_ms_p99=round(percentile(lags, 99), 3) if lags else None,
        lag_ms_max=round(lags[-1], 3) if lags else None,
        send_rate_error=round(sent / len(due) - 1.0, 4) if due else None,
        unanswered=sum(1 for o in outcomes if o.dispatched and not o.answered),
        failed=sum(1 for o in outcomes if o.answered and not o.ok),
        over_slo=sum(misses), over_slo_blocks=block_counts(misses),
        answer_cutoff_s=round(cutoff - end, 3), slo_ms=slo_ms)
    return OpenLoopWindow(stats, arrival_latency([o.latency_ms for o in outcomes]), tuple(outcomes))


def block_counts(flags: Sequence[bool], blocks: int = MISS_BLOCKS) -> tuple[int, ...]:
    """How many flags are set in each of ``blocks`` runs of consecutive items (the remainder goes to the last)."""
    if len(flags) < blocks:
        return ()
    size = len(flags) // blocks
    edges = [i * size for i in range(blocks)] + [len(flags)]
    return tuple(sum(flags[a:b]) for a, b in zip(edges, edges[1:], strict=False))


def arrival_latency(latencies_in_order: Sequence[float]) -> Latency | None:
    """Percentiles of the arrivals' latencies (ms), with a 95% bound of p95 that allows for bursts."""
    ordered = sorted(latencies_in_order)
    if not ordered:
        return None
    return Latency(p50=round(percentile(ordered, 50), 2), p95=round(percentile(ordered, 95), 2),
                   p99=round(percentile(ordered, 99), 2), mean=round(math.fsum(ordered) / len(ordered), 2),
                   max=round(ordered[-1], 2), p90=round(percentile(ordered, 90), 2),
                   p95_ci=p95_bound(latencies_in_order))


def design_effect(flags: Sequence[bool], blocks: int = MISS_BLOCKS) -> float:
    """How many times more the share of set flags varies than it would for independent items (at least 1).

    From the spread of the share over blocks of consecutive items: bursts put many flags
    in one block and none in the others.
    """
    counts = block_counts(flags, blocks)
    n = len(flags)
    share = sum(flags) / n if n else 0.0
    if len(counts) < 2 or share in (0.0, 1.0):
        return 1.0
    size = n / len(counts)
    mean = sum(counts) / len(counts)
    spread = sum((c - mean) ** 2 for c in counts) / (len(counts) - 1)
    return max(1.0, spread / (size * share * (1.0 - share)))


def p95_bound(latencies_in_order: Sequence[float]) -> tuple[float, float | None] | None:
    """A 95% interval of p95 from order statistics, widened for bursts of slow arrivals.

    For independent arrivals the number below the true p95 is binomial(n, 0.95), so the
    order statistics at ranks ``0.95 n ± 1.96 sqrt(0.0475 n)`` bound it. Queued arrivals
    are not independent: one slow stretch delays many in a row. The spread is therefore
    multiplied by the design effect of the flags "over the window's p95" (blocks of
    consecutive arrivals). The upper end is None (unbounded) when the rank runs past the
    last arrival; no interval under 20 arrivals.
    """
    n = len(latencies_in_order)
    if n < 20:
        return None
    ordered = sorted(latencies_in_order)
    p95 = percentile(ordered, 95)
    effect = design_effect([v > p95 for v in latencies_in_order])
    half = Z95 * math.sqrt(n * 0.95 * 0.05 * effect)
    low_rank, high_rank = math.floor(0.95 * n - half), math.ceil(0.95 * n + half)
    low = ordered[max(low_rank, 1) - 1]
    return (round(low, 2), round(ordered[high_rank - 1], 2) if high_rank <= n else None)


def late_threshold_ms(slo_ms: float) -> float:
    """A send is late when it leaves more than 5% of the SLO (at least 5 ms) after its schedule.

    Latency from the intended send includes that lag, so a generator late by more would
    be charging its own delay to the server's p95.
    """
    return max(5.0, 0.05 * slo_ms)
