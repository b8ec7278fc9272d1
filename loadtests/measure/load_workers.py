"""The Locust workers that carried a window: who they were, how much each sent, and whether one left."""

from __future__ import annotations

import socket
from collections.abc import Sequence

from loadtests.measure.load_session import Drained, LoadSession, WorkerState
from loadtests.measure.load_session import Sample as LoadSample
from loadtests.results.records import LoadWorker


def worker_label(worker: LoadWorker) -> str:
    return (worker.host or worker.id) + (f" ({worker.address})" if worker.address else "")


def window_workers(session: LoadSession, workers: Sequence[WorkerState], origins: Sequence[str],
                   samples: Sequence[LoadSample], start: float, end: float,
                   late: Sequence[str]) -> tuple[LoadWorker, ...]:
    """Each worker of the window: its requests inside it, its own CPU, and whether it left."""
    connected = set(session.workers_joined())
    requests: dict[str, int] = {}
    for origin, sample in zip(origins, samples, strict=True):
        if start <= sample[0] < end:
            requests[origin] = requests.get(origin, 0) + 1
    local = set(session.pids)
    here = socket.gethostname()
    out = []
    for w in workers:
        cores = session.worker_cores(w.id, start, end)
        out.append(LoadWorker(
            id=w.id, host=w.host, address=w.address, remote=not (w.pid in local and w.host == here),
            locust_version=w.locust, lab_version=w.lab,
            clock_offset_ms=None if w.offset_s is None else round(w.offset_s * 1000, 3),
            clock_rtt_ms=None if w.rtt_s is None else round(w.rtt_s * 1000, 3),
            cpu_cores=None if cores is None else round(cores, 3), requests=requests.get(w.id, 0),
            left=w.id in late or w.id not in connected))
    return tuple(out)


def disturbance(session: LoadSession, drained: Drained, workers: Sequence[WorkerState], end: float) -> str | None:
    """Why workers make a window not comparable beyond leaving it: one connected while the load ran (Locust moves
    users to a newcomer at once, admitted or not), or one sent samples that were not samples (dropped)."""
    if not workers:  # a standalone Locust: no worker to disturb it
        return None
    intruders = session.intruders(session.load_started, end)
    if intruders:
        return ("Locust worker(s) connected while the load ran, and Locust moved users to them: "
                + ", ".join(intruders))
    malformed = {worker: count for worker, count in drained.malformed.items() if count}
    if malformed:
        return "Locust worker(s) sent malformed samples (dropped): " + ", ".join(
            f"{worker} ({count})" for worker, count in sorted(malformed.items()))
    return None

