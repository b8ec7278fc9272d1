"""Sample CPU time, memory and threads of process trees while a cell runs.

A background thread reads the servers' and the load generator's process trees
(the leader plus all descendants, so worker processes count, and so does a server
that answers only from a child of the process the lab started) every
``interval`` seconds. CPU is cumulative user+system time, so the busy cores over
any window are the CPU-time delta divided by the wall-time delta.

Memory is read three ways: RSS (every resident page, shared ones once per process),
PSS (a page shared by N processes counts 1/N in each: the honest sum over a tree of
workers) and USS (pages no other process shares). PSS and USS come from
``/proc/PID/smaps_rollup`` through psutil's ``memory_full_info``. Detailed trees also
read the anonymous resident memory (``RssAnon`` of ``/proc/PID/status``: the heap and
the threads' stacks), which no other process can move: USS and PSS change when another
process that maps the same libraries starts or exits. A server tree is
also read per thread, so a report can tell the event-loop thread's work from the
worker threads' (Python 3.14 names its threads at the OS level).
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from loadtests.core.machine import cpu_times, usable_cpus
from loadtests.results.records import Sample, ThreadCores

#: The kind of a thread the server's layer did not list (it started or ended around the question).
UNKNOWN_KIND = "unknown"


@dataclass(frozen=True)
class TreeSample:
    t: float  # time.time()
    cpu_seconds: float  # cumulative, summed over the tree
    rss_bytes: int
    threads: int
    processes: int
    per_process_cpu: tuple[tuple[int, float], ...] = ()  # (pid, cumulative CPU): client saturation is per process
    pss_bytes: int | None = None  # None when smaps_rollup could not be read
    uss_bytes: int | None = None
    thread_cpu: tuple[tuple[int, str, float], ...] = ()  # (tid, OS thread name, cumulative CPU), detailed trees only
    anon_bytes: int | None = None  # RssAnon summed over the tree, detailed trees only


def _thread_cpu(proc: psutil.Process) -> list[tuple[int, str, float]]:
    out = []
    for thread in proc.threads():
        try:
            name = Path(f"/proc/{proc.pid}/task/{thread.id}/comm").read_text().strip()
        except OSError:
            name = "?"
        out.append((thread.id, name, thread.user_time + thread.system_time))
    return out


def anon_bytes(pid: int) -> int | None:
    """``RssAnon`` of ``/proc/PID/status`` in bytes; None where the kernel does not report it."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def sample_tree(pids: list[int], detailed: bool = False) -> TreeSample | None:
    """One reading of the trees rooted at ``pids``; None when every process is gone.

    ``detailed`` adds PSS/USS and per-thread CPU (servers; the client needs neither).
    """
    seen: dict[int, psutil.Process] = {}
    for pid in pids:
        try:
            root = psutil.Process(pid)
            seen[root.pid] = root
            for child in root.children(recursive=True):
                seen[child.pid] = child
        except psutil.NoSuchProcess:
            continue
    cpu = 0.0
    rss = threads = alive = 0
    pss: int | None = 0 if detailed else None
    uss: int | None = 0 if detailed else None
    anon: int | None = 0 if detailed else None
    per_process = []
    per_thread: list[tuple[int, str, float]] = []
    for proc in seen.values():
        try:
            with proc.oneshot():
                times = proc.cpu_times()
                own = times.user + times.system
                rss_here = proc.memory_info().rss
                threads_here = proc.num_threads()
                if detailed:
                    full = proc.memory_full_info()
                    pss = None if pss is None else pss + int(full.pss)
                    uss = None if uss is None else uss + int(full.uss)
                    own_anon = anon_bytes(proc.pid)
                    anon = None if anon is None or own_anon is None else anon + own_anon
                    per_thread += _thread_cpu(proc)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        except psutil.AccessDenied:
            pss = uss = None  # smaps_rollup needs the same user: the tree's PSS is unknown, not smaller
            continue
        cpu += own
        per_process.append((proc.pid, own))
        rss += rss_here
        threads += threads_here
        alive += 1
    if not alive:
        return None
    return TreeSample(time.time(), cpu, rss, threads, alive, tuple(per_process), pss, uss, tuple(per_thread), anon)


@dataclass(frozen=True)
class HostSample:
    """The machine beside the trees: its usable CPUs' cumulative times and the lab's own CPU."""

    t: float
    busy: float  # user + nice + system seconds of the usable CPUs
    steal: float
    total: float
    lab_cpu: float  # this process (the lab, its sampler included), user + system seconds


def sample_host(cpus: list[int]) -> HostSample | None:
    times = cpu_times(cpus)
    if times is None:
        return None
    own = os.times()
    return HostSample(time.time(), times.busy, times.steal, times.total, own.user + own.system)


@dataclass(frozen=True)
class HostUsage:
    """What the machine did over a window besides the measured trees."""

    steal: float  # share of the CPU time stolen, 0-1
    busy_cores: float  # cores busy with any process
    lab_cores: float  # cores of the lab's own process


def host_in_window(samples: list[HostSample], start: float, end: float) -> HostUsage | None:
    """The host's usage between the readings nearest ``start`` and ``end`` (None with fewer than two)."""
    inside = [s for s in samples if start - 0.25 <= s.t <= end + 0.25]
    if len(inside) < 2 or inside[-1].t <= inside[0].t:
        return None
    first, last = inside[0], inside[-1]
    wall, total = last.t - first.t, last.total - first.total
    return HostUsage(steal=round((last.steal - first.steal) / total, 4) if total > 0 else 0.0,
                     busy_cores=max(0.0, (last.busy - first.busy) / wall),
                     lab_cores=max(0.0, (last.lab_cpu - first.lab_cpu) / wall))


@dataclass
class Sampler:
    """Samples named process trees in a background thread until stopped."""

    trees: dict[str, list[int]]  # name -> root pids, e.g. {"server": [pid], "client": [pid, ...]}
    interval: float = 0.5
    series: dict[str, list[TreeSample]] = field(default_factory=dict)
    detailed: set[str] = field(default_factory=set)  # trees read with PSS/USS and per thread (servers)
    host: list[HostSample] = field(default_factory=list)
    _cpus: list[int] = field(default_factory=usable_cpus)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_tree(self, name: str, pids: list[int], detailed: bool = False) -> None:
        with self._lock:
            self.trees[name] = list(pids)
            if detailed:
                self.detailed.add(name)

    def remove_tree(self, name: str) -> None:
        with self._lock:
            self.trees.pop(name, None)

    def readings(self, name: str) -> list[TreeSample]:
        with self._lock:
            return list(self.series.get(name, []))

    def host_readings(self) -> list[HostSample]:
        with self._lock:
            return list(self.host)

    def _loop(self) -> None:
        while True:
            with self._lock:
                trees = list(self.trees.items())
            for name, pids in trees:
                reading = sample_tree(pids, detailed=name in self.detailed)
                if reading is not None:
                    with self._lock:
                        self.series.setdefault(name, []).append(reading)
            host = sample_host(self._cpus)
            if host is not None:
                with self._lock:
                    self.host.append(host)
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._loop, name="gil-lab-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)


@dataclass(frozen=True)
class WindowUsage:
    cpu_cores: float  # average busy cores over the window
    rss_mb_peak: float
    threads_peak: int
    max_process_cores: float  # the busiest single process's average cores
    process_cores: dict[int, float] = field(default_factory=dict)  # pid -> average cores over the window
    pss_mb_peak: float | None = None
    uss_mb_peak: float | None = None
    thread_cores: tuple[ThreadCores, ...] = ()  # by OS thread name, busiest first


def thread_groups(first: TreeSample, last: TreeSample, wall: float,
                  kinds: Mapping[int, str] | None = None) -> tuple[ThreadCores, ...]:
    """Busy cores per thread name and kind between two readings (threads that started in between count from 0).

    ``kinds`` is what the server's layer said each thread is (tid -> kind); without it the kind is not known.
    """
    before = {tid: cpu for tid, _, cpu in first.thread_cpu}
    cores: dict[tuple[str, str | None], float] = defaultdict(float)
    count: dict[tuple[str, str | None], int] = defaultdict(int)
    for tid, name, cpu in last.thread_cpu:
        key = (name, None if kinds is None else kinds.get(tid, UNKNOWN_KIND))
        cores[key] += max(0.0, cpu - before.get(tid, 0.0)) / wall
        count[key] += 1
    ordered = sorted(cores, key=lambda k: cores[k], reverse=True)
    return tuple(ThreadCores(name=n, threads=count[(n, k)], cores=round(cores[(n, k)], 3), kind=k) for n, k in ordered)


def usage_in_window(samples: list[TreeSample], start: float, end: float,
                    kinds: Mapping[int, str] | None = None) -> WindowUsage | None:
    """Average cores, peak RSS and peak threads between ``start`` and ``end``.

    Uses the first sample at or after ``start`` and the last at or before ``end``;
    None when the window holds fewer than two samples. ``kinds`` (tid -> kind) labels the
    per-thread figures.
    """
    inside = [s for s in samples if start - 0.25 <= s.t <= end + 0.25]
    if len(inside) < 2:
        return None
    first, last = inside[0], inside[-1]
    wall = last.t - first.t
    if wall <= 0:
        return None
    before = dict(first.per_process_cpu)
    per_process = {pid: max(0.0, (cpu - before[pid]) / wall) for pid, cpu in last.per_process_cpu if pid in before}
    busiest = max(per_process.values(), default=0.0)
    pss = [s.pss_bytes for s in inside if s.pss_bytes is not None]
    uss = [s.uss_bytes for s in inside if s.uss_bytes is not None]
    return WindowUsage(
        cpu_cores=max(0.0, (last.cpu_seconds - first.cpu_seconds) / wall),
        rss_mb_peak=max(s.rss_bytes for s in inside) / 2**20,
        threads_peak=max(s.threads for s in inside),
        max_process_cores=max(0.0, busiest),
        process_cores=per_process,
        pss_mb_peak=max(pss) / 2**20 if pss else None,
        uss_mb_peak=max(uss) / 2**20 if uss else None,
        thread_cores=thread_groups(first, last, wall, kinds) if last.thread_cpu else (),
    )


def merge_samples(server: list[TreeSample], client: list[TreeSample], origin: float) -> tuple[Sample, ...]:
    """Per-interval server readings with the client's CPU at the same moment, times relative to ``origin``."""
    by_time = {round(s.t, 1): s for s in client}
    out = []
    previous: TreeSample | None = None
    for reading in server:
        cores = None
        if previous is not None and reading.t > previous.t:
            cores = round((reading.cpu_seconds - previous.cpu_seconds) / (reading.t - previous.t), 3)
        match = by_time.get(round(reading.t, 1))
        out.append(Sample(t=round(reading.t - origin, 2), server_rss_mb=round(reading.rss_bytes / 2**20, 1),
                          server_threads=reading.threads, server_cpu_cores=cores,
                          client_cpu_seconds=round(match.cpu_seconds, 3) if match is not None else None,
                          server_pss_mb=None if reading.pss_bytes is None else round(reading.pss_bytes / 2**20, 1),
                          server_uss_mb=None if reading.uss_bytes is None else round(reading.uss_bytes / 2**20, 1)))
        previous = reading
    return tuple(out)
