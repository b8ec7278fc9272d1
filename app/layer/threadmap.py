"""Which OS thread of the server is what: told from inside the process, never guessed from a name.

A thread's OS name is a poor witness. The kernel keeps 15 characters, so an app's
``ThreadPoolExecutor-0_3`` and a library's ``ThreadPoolExecutor-1_0`` both read
``ThreadPoolExecu``; uvicorn's event loop runs on the main thread, named after the
program. The layer knows better:

- **event-loop**: a thread on which an ASGI call reached the layer. Every request passes
  through :class:`~.wrapper.LabLayer` on the loop that serves it, so the set is exact
  after the first request on each loop (granian on 3.14t has one per worker thread);
- **anyio-worker**: an instance of anyio's worker thread class: where FastAPI and
  Starlette run sync ``def`` endpoints;
- **executor**: a thread of a ``concurrent.futures.ThreadPoolExecutor`` (the app's own
  pool, or a library's): its target is that module's worker function;
- **python**: any other thread the interpreter knows (``threading.enumerate()``);
- **native**: a thread of the process Python does not know (a server's I/O threads
  written in Rust or C: granian's runtime, libuv), found in ``/proc/self/task``.
"""

from __future__ import annotations

import os
import threading
from typing import Any

KINDS = ("event-loop", "anyio-worker", "executor", "python", "native")
_TASKS = "/proc/self/task"


class LoopThreads:
    """The native ids of the threads that ran an ASGI call: the event loops."""

    def __init__(self) -> None:
        self._ids: set[int] = set()
        self._lock = threading.Lock()
        self._mine = threading.local()  # per thread: already recorded (no shared object touched per request)

    def seen(self) -> None:
        """Called on every ASGI call; only a loop's first call touches the shared set, under the lock."""
        if getattr(self._mine, "seen", False):
            return
        with self._lock:
            self._ids.add(threading.get_native_id())
        self._mine.seen = True

    def ids(self) -> frozenset[int]:
        with self._lock:
            return frozenset(self._ids)


def kind_of(thread: threading.Thread, loops: frozenset[int]) -> str:
    """What a Python thread is, by what it runs (its class and target), never by its name."""
    if thread.native_id in loops:
        return "event-loop"
    klass = type(thread)
    if klass.__module__.startswith("anyio.") and klass.__name__ == "WorkerThread":
        return "anyio-worker"
    target = getattr(thread, "_target", None)
    if getattr(target, "__module__", None) == "concurrent.futures.thread":
        return "executor"
    return "python"


def _comm(tid: int) -> str:
    try:
        with open(f"{_TASKS}/{tid}/comm") as handle:
            return handle.read().strip()
    except OSError:
        return "?"


def describe(loops: frozenset[int]) -> list[dict[str, Any]]:
    """Every thread of this process: ``{"tid", "name" (the kernel's), "python_name", "kind"}``."""
    known = {t.native_id: t for t in threading.enumerate() if t.native_id is not None}
    try:
        tids = sorted(int(name) for name in os.listdir(_TASKS))
    except OSError:  # not Linux: only the threads Python knows
        tids = sorted(known)
    out = []
    for tid in tids:
        thread = known.get(tid)
        kind = kind_of(thread, loops) if thread is not None else ("event-loop" if tid in loops else "native")
        out.append({"tid": tid, "name": _comm(tid), "python_name": None if thread is None else thread.name,
                    "kind": kind})
    return out


def snapshot(loops: frozenset[int]) -> dict[str, Any]:
    """The ``/lab/threads`` body."""
    return {"pid": os.getpid(), "threads": describe(loops)}
