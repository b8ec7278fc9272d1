"""A soak (``--soak DURATION``): each interpreter's server under a steady load, its memory sampled throughout.

The records hold what was measured, point by point; whether memory grows (the slope
after the allocator's plateau, per 1,000 requests, with its interval) is computed by the
analysis from these points (``analysis/memory_growth.py``), so a report can be redrawn
from run.json alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.results.record import Record, doc
from loadtests.results.records.faults import CrashReport, HangReport


@dataclass(frozen=True)
class SoakPoint(Record):
    """One reading of a server's process tree during the soak."""

    t: float = doc("Seconds since the load started.")
    requests: int = doc("Requests completed by then (successful and failed).")
    anon_mb: float | None = doc("Anonymous resident memory of the server's tree (RssAnon: the heap and the "
                                "threads' stacks), MB: what the growth is fitted to, because no other process can "
                                "move it (null when it could not be read).")
    uss_mb: float | None = doc("USS of the tree, MB: the memory no other process shares (null when it could not be "
                               "read). It moves when another process mapping the same libraries starts or exits.")
    pss_mb: float | None = doc("PSS of the tree, MB.")
    rss_mb: float = doc("RSS of the tree, MB.")
    threads: int = doc("Threads in the tree.")


@dataclass(frozen=True)
class SoakSeries(Record):
    """One interpreter's server through the soak."""

    interpreter: str = doc("3.14 or 3.14t.")
    requests: int = doc("Requests completed during the soak.")
    failures: int = doc("Of those, failed ones.")
    seconds: float = doc("How long its load ran (less than the soak when its server died).")
    points: tuple[SoakPoint, ...] = doc("Every reading, in time order.")
    gil_enabled: bool | None = doc("The server's GIL state at the end (/lab/runtime), or null when it no longer "
                                   "answered.", default=None)
    crash: CrashReport | None = doc("The server died during the soak: its traceback and requests in flight.",
                                    default=None)
    hang: HangReport | None = doc("Requests in flight far longer than the soak's latency at its end, with every "
                                  "thread's stack.", default=None)
    error: str | None = doc("Why it could not be soaked at all (no environment, the server did not start).",
                            default=None)


@dataclass(frozen=True)
class SoakCheck(Record):
    """Both interpreters' servers loaded side by side for the same duration, memory sampled throughout."""

    source: str = doc("What generated the load: the team's Locust file, or the lab's scenarios.")
    server: str = doc("The server each interpreter ran on (one process).")
    threads: int = doc("The anyio thread limit of each server (LAB_THREADS).")
    users: int = doc("Locust users on each server, with the think time of the Locust file.")
    duration_s: float = doc("The soak's length, seconds (--soak).")
    interval_s: float = doc("Seconds between two readings.")
    series: tuple[SoakSeries, ...] = doc("One per interpreter.")
    notes: tuple[str, ...] = doc("What else a reader should know.", default=())
