"""Sample CPU time, memory and threads of process trees while a cell runs.

A background thread reads the server's and the load generator's process trees
(the leader plus all descendants, so uvicorn's worker processes count) every
``interval`` seconds. CPU is cumulative user+system time, so the busy cores over
any window are the CPU-time delta divided by the wall-time delta.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psutil

from loadtests.results.records import Sample


@dataclass(frozen=True)
class TreeSample:
    t: float  # time.time()
    cpu_seconds: float  # cumulative, summed over the tree
    rss_bytes: int
    threads: int
    processes: int
    per_process_cpu: tuple[tuple[int, float], ...] = ()  # (pid, cumulative CPU): client saturation is per process


def sample_tree(pids: list[int]) -> TreeSample | None:
    """One reading of the trees rooted at ``pids``; None when every process is gone."""
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
    per_process = []
    for proc in seen.values():
        try:
            with proc.oneshot():
                times = proc.cpu_times()
                own = times.user + times.system
                cpu += own
                per_process.append((proc.pid, own))
                rss += proc.memory_info().rss
                threads += proc.num_threads()
                alive += 1
        except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
            continue
    if not alive:
        return None
    return TreeSample(time.time(), cpu, rss, threads, alive, tuple(per_process))


@dataclass
class Sampler:
    """Samples named process trees in a background thread until stopped."""

    trees: dict[str, list[int]]  # name -> root pids, e.g. {"server": [pid], "client": [pid, ...]}
    interval: float = 0.5
    series: dict[str, list[TreeSample]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def add_tree(self, name: str, pids: list[int]) -> None:
        self.trees[name] = list(pids)

    def _loop(self) -> None:
        while True:
            for name, pids in list(self.trees.items()):
                reading = sample_tree(pids)
                if reading is not None:
                    self.series.setdefault(name, []).append(reading)
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


def usage_in_window(samples: list[TreeSample], start: float, end: float) -> WindowUsage | None:
    """Average cores, peak RSS and peak threads between ``start`` and ``end``.

    Uses the first sample at or after ``start`` and the last at or before ``end``;
    None when the window holds fewer than two samples.
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
    return WindowUsage(
        cpu_cores=max(0.0, (last.cpu_seconds - first.cpu_seconds) / wall),
        rss_mb_peak=max(s.rss_bytes for s in inside) / 2**20,
        threads_peak=max(s.threads for s in inside),
        max_process_cores=max(0.0, busiest),
        process_cores=per_process,
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
                          client_cpu_seconds=round(match.cpu_seconds, 3) if match is not None else None))
        previous = reading
    return tuple(out)
