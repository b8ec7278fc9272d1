"""A server that crashed or hung under load: what it was serving, and where its threads were.

Every server the lab starts writes, through the lab's layer, faulthandler's output and its
requests in flight into files the lab owns (``servers/<config>/faults/``). A window whose
server died carries a :class:`CrashReport`; a window at whose end a request had been in
flight far longer than the window's latency carries a :class:`HangReport`, with every
thread's stack dumped while the server kept running. Both make the window invalid, and
summary.json's ``safety`` object lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.results.record import Record, doc


@dataclass(frozen=True)
class InFlightRequest(Record):
    """One request the server had started and not finished."""

    endpoint: str = doc("`METHOD /route/{param}` from the app's route table where the lab has it, else "
                        "`METHOD /path` as requested.")
    seconds: float = doc("How long it had been in flight: when the server died (the time faulthandler wrote its "
                         "traceback), or when the stacks of a hang were dumped.")
    pid: int = doc("The server process serving it.")


@dataclass(frozen=True)
class CrashReport(Record):
    """A server process that died under load, and what it left."""

    pid: int = doc("The process that died (a worker, when the server has several).")
    exit_status: int | None = doc("The server's exit status (negative: killed by that signal), or null when a "
                                  "worker died and its server went on.")
    fatal: str = doc("faulthandler's first line, e.g. `Fatal Python error: Segmentation fault`; or what the lab "
                     "knows when faulthandler wrote nothing (killed by SIGKILL, out of memory).")
    traceback: str = doc("faulthandler's output: every thread's Python stack at the crash (empty when it wrote "
                         "nothing).")
    in_flight: tuple[InFlightRequest, ...] = doc("The requests in flight when it died, oldest first.")


@dataclass(frozen=True)
class HangReport(Record):
    """Requests in flight far longer than the window's latency, and every thread's stack at that moment."""

    pids: tuple[int, ...] = doc("The server processes whose stacks were dumped (those serving the requests).")
    bound_s: float = doc("The bound the requests passed, seconds.")
    bound_rule: str = doc("How the bound was derived from the window, in words.")
    in_flight: tuple[InFlightRequest, ...] = doc("The requests over the bound, oldest first.")
    stacks: tuple[str, ...] = doc("Each thread's stack, as faulthandler dumped it while the process went on "
                                  "(`Thread 0x... [name] (most recent call first):` and its frames).")
