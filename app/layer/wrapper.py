"""The ASGI wrapper: answers ``/lab/`` itself and passes everything else to the app untouched.

Every http, websocket and lifespan call goes to the wrapped app with the same scope,
``receive`` and ``send``. Before each one the running loop's anyio thread limit is set
(see :mod:`.threads`). Requests under ``/lab/`` never reach the app:

- ``GET /lab/runtime``: interpreter, GIL state, thread limit of *this* loop, server,
  packages (see :mod:`.runtime`);
- ``GET /lab/loads``: the app's drop-in load specs, from ``app.state.loads`` where the
  app keeps them (the lab's built-in app does), else ``[]``;
- ``GET /lab/threads``: every thread of the process and what it is (see :mod:`.threadmap`):
  the event loops are the threads this wrapper was called on;
- ``GET /lab/globals``: per route, the module globals its endpoint reads and whether each
  is immortal in this process (see :mod:`.hotglobals`);
- ``GET /lab/inflight``: how many of the app's requests this process is serving right
  now (``{"in_flight": n, "pid": pid}``): before each window the lab waits for the
  previous window's server to reach 0, so its leftover work does not land in the next;
- anything else under ``/lab/``: 404 (405 for another method on those paths); a
  websocket there is closed before it is accepted.

With an in-flight table (:mod:`.faults`), every http request to the app holds a slot of it
from the call until the app returns, so the lab can tell what was running when a server
crashed or hung. Websockets are not counted: a long connection is not a hang.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from . import hotglobals, runtime, threadmap
from .faults import InFlightTable
from .routes import application, endpoints, framework, is_reserved
from .threads import ThreadLimit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

RUNTIME_PATH = "/lab/runtime"
LOADS_PATH = "/lab/loads"
THREADS_PATH = "/lab/threads"
GLOBALS_PATH = "/lab/globals"
INFLIGHT_PATH = "/lab/inflight"
PATHS = (RUNTIME_PATH, LOADS_PATH, THREADS_PATH, GLOBALS_PATH, INFLIGHT_PATH)


class LabLayer:
    """Wrap ``app``; ``target`` and ``app_dir`` are reported in ``/lab/runtime`` under ``app``."""

    def __init__(self, app: ASGIApp, threads: ThreadLimit, target: str, app_dir: str | None = None,
                 table: InFlightTable | None = None) -> None:
        self.app = app
        self.threads = threads
        self.table = table  # what each request serves, for the lab to read after a crash or during a hang
        self.inner = application(app)  # the object behind any middleware, where state.loads lives
        self.description = {"target": target, "dir": app_dir, "framework": framework(app)}
        self.app_dir = app_dir or "."
        self.loops = threadmap.LoopThreads()
        self.in_flight = 0
        # Several event loops (granian's threads on 3.14t) serve one process: the count needs a lock.
        self._count_lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.loops.seen()
        self.threads.apply()
        if scope["type"] in ("http", "websocket") and is_reserved(scope.get("path", "")):
            await self._lab(scope, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with self._count_lock:
            self.in_flight += 1
        slot = self.table.enter(scope.get("method", "GET"), scope.get("path", "")) if self.table is not None else 0
        try:
            await self.app(scope, receive, send)
        finally:
            if self.table is not None:
                self.table.leave(slot)
            with self._count_lock:
                self.in_flight -= 1

    def loads(self) -> list[Any]:
        """The wrapped app's load specs, or ``[]`` when it keeps none."""
        loads = getattr(getattr(self.inner, "state", None), "loads", None)
        return list(loads) if isinstance(loads, list | tuple) else []

    async def _lab(self, scope: Scope, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "/lab/ is reserved for gil-lab"})
            return
        path, method = scope["path"], scope.get("method", "GET")
        if path not in PATHS:
            await _json(send, method, 404, {"detail": f"{path} is not a gil-lab route; the lab serves "
                                                      f"{', '.join(PATHS)}"})
        elif method not in ("GET", "HEAD"):
            await _json(send, method, 405, {"detail": f"{path} answers GET only"}, ((b"allow", b"GET, HEAD"),))
        elif path == RUNTIME_PATH:
            # Read on the loop that serves the request: the thread limit is per event loop.
            await _json(send, method, 200, runtime.snapshot(self.threads.current(), self.description))
        elif path == THREADS_PATH:
            await _json(send, method, 200, threadmap.snapshot(self.loops.ids()))
        elif path == GLOBALS_PATH:
            await _json(send, method, 200, hotglobals.snapshot(endpoints(self.app), self.app_dir))
        elif path == INFLIGHT_PATH:
            await _json(send, method, 200, {"in_flight": self.in_flight, "pid": os.getpid()})
        else:
            await _json(send, method, 200, self.loads())


async def _json(send: Send, method: str, status: int, body: Any, headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    data = json.dumps(body).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                    *headers],
    })
    await send({"type": "http.response.body", "body": b"" if method == "HEAD" else data})
