"""Before every window: the previous window's server has finished its work and gone idle.

Stopping the load cuts the clients, not the work: a CPU-bound request already in the
server's thread pool runs to its end. Were the next window to start at once, that work
would take cores from the next server and count in the wrong window. So before each
window (and each warm-up), the lab waits until the server that carried the last load
has no request in flight (its layer counts them, ``GET /lab/inflight``) and its process
tree is idle (under :data:`IDLE_CORES`), up to :data:`DRAIN_MAX_S`. The time it took is
recorded with the window (``drain_s``); a server that did not settle in time makes the
window noisy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from loadtests.measure.arm import WindowServer
from loadtests.measure.sampling import sample_tree

DRAIN_MAX_S = 10.0
#: A tree below this many busy cores counts as idle (its event loops and the lab's own probes cost a little).
IDLE_CORES = 0.05
CPU_PROBE_S = 0.2


@dataclass(frozen=True)
class Drained:
    seconds: float
    settled: bool


def tree_cores(pid: int | None, probe_s: float = CPU_PROBE_S) -> float | None:
    """Busy cores of the tree rooted at ``pid`` over ``probe_s``; None when it cannot be read."""
    if not pid:
        return None
    first = sample_tree([pid])
    if first is None:
        return None
    time.sleep(probe_s)
    last = sample_tree([pid])
    if last is None or last.t <= first.t:
        return None
    return max(0.0, (last.cpu_seconds - first.cpu_seconds) / (last.t - first.t))


def drain(server: WindowServer | None, max_s: float = DRAIN_MAX_S) -> Drained:
    """Wait until ``server`` has nothing in flight and an idle tree (what cannot be read does not hold it up)."""
    started = time.monotonic()
    if server is None or server.exit_code() is not None:
        return Drained(0.0, True)
    while True:
        busy = server.fetch_in_flight()
        cores = tree_cores(server.pid)
        elapsed = time.monotonic() - started
        if not busy and (cores is None or cores < IDLE_CORES):
            return Drained(round(elapsed, 3), True)
        if elapsed >= max_s or server.exit_code() is not None:
            return Drained(round(elapsed, 3), server.exit_code() is not None)
        if cores is None:
            time.sleep(CPU_PROBE_S)


@dataclass
class LastLoad:
    """The server that carried the most recent load of a scenario's session: the one to drain next."""

    server: WindowServer | None = None

    def before_load(self) -> Drained:
        return drain(self.server)

    def loaded(self, server: WindowServer) -> None:
        self.server = server

    def forget(self, server: WindowServer) -> None:
        """``server`` hung: it will never drain, and the next window does not wait for it."""
        if self.server is server:
            self.server = None
