"""A window's crash or hang, as records: the traceback or the stacks, and the requests in flight.

**The hang bound.** A request counts as hung when, at the end of a window, it had been in
flight for longer than ``HANG_FACTOR`` times the window's own p99 latency, and at least
``HANG_FLOOR_S`` (a window with no completed request uses the floor alone). Closed-loop
queueing stretches the tail, but not by ten times its p99: a request that old is waiting
for something that will not come (a lock taken in the opposite order, a pool that is
never refilled). The check runs after the window's load has stopped and before the next
window starts, so the dump (faulthandler writing every thread's stack, a few
milliseconds) never falls inside a measured window, and the process goes on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from loadtests.measure.fault_files import FaultWatch, Running, thread_stacks
from loadtests.measure.preflight import match_route
from loadtests.results.records import CrashReport, HangReport, InFlightRequest, Latency, RouteInfo

HANG_FACTOR = 10.0
HANG_FLOOR_S = 1.0


def hang_bound(latency: Latency | None, of: str = "the window") -> tuple[float, str]:
    """The bound for ``of`` (a window, the soak) with this latency, seconds, and how it was derived (module
    docstring)."""
    if latency is None:
        return HANG_FLOOR_S, f"no request completed in {of}, so the floor of {HANG_FLOOR_S:g} s"
    p99 = latency.p99 / 1000.0
    bound = max(HANG_FACTOR * p99, HANG_FLOOR_S)
    return round(bound, 3), f"{HANG_FACTOR:g} × {of}'s p99 ({latency.p99:.0f} ms), at least {HANG_FLOOR_S:g} s"


def endpoint_name(method: str, path: str, routes: Sequence[RouteInfo] | None) -> str:
    """``METHOD /route/{param}`` where the route table knows the path, else ``METHOD /path``."""
    return f"{method} {match_route(method, path, routes) or path}"


def in_flight(requests: Sequence[Running], at: float, routes: Sequence[RouteInfo] | None) -> tuple[InFlightRequest, ...]:
    return tuple(InFlightRequest(endpoint=endpoint_name(r.method, r.path, routes),
                                 seconds=round(max(0.0, at - r.started), 3), pid=r.pid) for r in requests)


def crash_report(watch: FaultWatch, root_pid: int | None, exit_status: int | None,
                 routes: Sequence[RouteInfo] | None) -> CrashReport:
    """What the server that died left: the first fatal error written since the last report, else what is known."""
    deaths = watch.new_deaths()
    fatal = deaths[0] if deaths else (watch.death_of(root_pid) if root_pid else None)
    if fatal is not None:
        table = watch.table_of(fatal.pid)
        return CrashReport(pid=fatal.pid, exit_status=exit_status, fatal=fatal.first_line, traceback=fatal.traceback,
                           in_flight=in_flight(table.running if table else (), fatal.at, routes))
    table = watch.table_of(root_pid) if root_pid else None
    why = "killed by a signal faulthandler cannot catch (SIGKILL, the out-of-memory killer)" if (
        exit_status is not None and exit_status < 0) else "it exited without a fatal error"
    return CrashReport(pid=root_pid or 0, exit_status=exit_status,
                       fatal=f"exit status {exit_status}: faulthandler wrote nothing ({why})", traceback="",
                       in_flight=in_flight(table.running if table else (), time.time(), routes))


def worker_crash(watch: FaultWatch, routes: Sequence[RouteInfo] | None) -> CrashReport | None:
    """A worker that died while its server went on (the server started another), or None."""
    deaths = watch.new_deaths()
    if not deaths:
        return None
    fatal = deaths[0]
    table = watch.table_of(fatal.pid)
    return CrashReport(pid=fatal.pid, exit_status=None, fatal=fatal.first_line, traceback=fatal.traceback,
                       in_flight=in_flight(table.running if table else (), fatal.at, routes))


def hung_requests(watch: FaultWatch, window_end: float, bound_s: float) -> list[Running]:
    """Requests still in flight that had been running for longer than ``bound_s`` at the window's end."""
    return [r for r in watch.running() if window_end - r.started > bound_s]


def hang_report(watch: FaultWatch, tree_root: int | None, hung: Sequence[Running], bound: tuple[float, str],
                routes: Sequence[RouteInfo] | None) -> HangReport:
    """Dump every thread's stack of each process serving a hung request; the processes go on."""
    pids = tuple(dict.fromkeys(r.pid for r in hung))
    stacks: list[str] = []
    for pid in pids:
        dump = watch.dump_stacks(pid, tree_root)
        label = f"[pid {pid}] " if len(pids) > 1 else ""
        if dump is None:
            stacks.append(f"{label}(no stacks: the process did not answer the dump signal)")
        else:
            stacks += [label + stack for stack in thread_stacks(dump)]
    return HangReport(pids=pids, bound_s=bound[0], bound_rule=bound[1], in_flight=in_flight(hung, time.time(), routes),
                      stacks=tuple(stacks))
