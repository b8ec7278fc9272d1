"""``python -m gil_lab_layer.probe REQUEST.json OUT.json``: each endpoint called in process, from 1 to N threads.

The per-endpoint scaling probe. It imports the app as a server does (``LAB_APP``,
``LAB_APP_DIR``, ``LAB_THREADS``; the same layer around it), starts one thread per
count asked, each running its own asyncio event loop (as granian runs one loop per
worker thread on 3.14t), and on each loop runs the app's lifespan. Then, for each
endpoint and each thread count, every active loop calls the endpoint back to back
through the ASGI interface (no HTTP, no sockets, no load generator) for ``step_s``
seconds. A step records the calls that finished, the wall time until the last
thread finished, and the process's CPU time over the step (``time.process_time``:
the loops, anyio's worker threads running sync endpoints, and anything the app
does; the probe process runs nothing else). Thread counts alternate within each
repeat (1, 2, … N, then again), so drift touches every count alike.

The request (JSON)::

    {"endpoints": [{"key": "GET /compute/pure", "method": "GET", "path": "/compute/pure",
                    "query": "n=500000", "headers": [["accept", "*/*"]], "body_base64": null}],
     "loads_module": null,            # or a drop-in module name ("" = all): add the app's load specs
     "thread_counts": [1, 2], "repeats": 3, "step_s": 0.5, "warmup_s": 0.3}

It writes, per endpoint: the route that served it and its endpoint function, the first
response's status, each step's figures, and the module globals the endpoint reads with
whether each is immortal in this process (:mod:`.hotglobals`). Also the interpreter
and its GIL state after the import, and a *control*: the most threads spinning a loop on
local variables only (nothing shared), once after each repeat of an endpoint's counts
(and at every count before and after all endpoints). It tells what parallelism the
machine gave the probe at that moment: an endpoint whose threads stay on fewer cores
than the control's waited for something in the app; when the control itself stayed on
one core, the machine (or the GIL) did not let threads overlap at all. Exit status 0 when it ran (an endpoint that failed
is reported in the output), 1 when the app could not be served, 2 for bad arguments.
"""

from __future__ import annotations

import asyncio
import base64
import json
import platform
import sys
import threading
import time
import traceback
from collections.abc import Awaitable
from concurrent.futures import Future
from typing import Any
from urllib.parse import urlencode

from . import gilwatch, hotglobals, runtime
from .errors import LayerError
from .factory import build
from .settings import LayerSettings
from .wrapper import ASGIApp, Message

LIFESPAN_TIMEOUT_S = 60.0
#: A step lasts at least this many single-thread calls, so one slow call is not a whole step.
MIN_CALLS_PER_STEP = 3
CALL_TIMEOUT_S = 120.0
ASGI = {"version": "3.0", "spec_version": "2.3"}

App = ASGIApp


class ProbeFailure(Exception):
    """An endpoint (or the app's lifespan) could not be called: the message says why."""


class Lifespan:
    """The ASGI lifespan of the app on one loop: started before the calls, shut down after."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self.supported = True
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": ASGI, "state": self.state}
        try:
            await self.app(scope, self._inbox.get, self._outbox.put)
        except BaseException as error:  # an app without lifespan support raises here (servers carry on)
            await self._outbox.put({"type": "raised", "message": f"{type(error).__name__}: {error}"})

    async def startup(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        await self._inbox.put({"type": "lifespan.startup"})
        answer = await asyncio.wait_for(self._outbox.get(), LIFESPAN_TIMEOUT_S)
        if answer["type"] == "lifespan.startup.failed":
            raise ProbeFailure(f"the app's lifespan startup failed: {answer.get('message', '')}")
        self.supported = answer["type"] == "lifespan.startup.complete"

    async def shutdown(self) -> None:
        if self._task is None or not self.supported:
            return
        await self._inbox.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(self._outbox.get(), LIFESPAN_TIMEOUT_S)
        except TimeoutError:
            self._task.cancel()


class LoopThread:
    """A thread running its own event loop, with the app's lifespan started on it."""

    def __init__(self, index: int, app: App) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.lifespan: Lifespan | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, name=f"gil-lab-probe-{index}", daemon=True)
        self.thread.start()
        self.run(self._start())

    async def _start(self) -> None:
        self.lifespan = Lifespan(self.app)
        await self.lifespan.startup()

    def submit(self, coroutine: Awaitable[Any]) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)  # type: ignore[arg-type]

    def run(self, coroutine: Awaitable[Any]) -> Any:
        return self.submit(coroutine).result(timeout=CALL_TIMEOUT_S + LIFESPAN_TIMEOUT_S)

    def stop(self) -> None:
        if self.lifespan is not None:
            self.run(self.lifespan.shutdown())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def scope_of(request: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    path = request["path"]
    return {"type": "http", "asgi": ASGI, "http_version": "1.1", "method": request["method"], "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": (request.get("query") or "").encode(),
            "root_path": "", "headers": [(k.lower().encode("latin-1"), v.encode("latin-1"))
                                         for k, v in request.get("headers") or []],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000), "state": dict(state)}


async def call(app: App, request: dict[str, Any], body: bytes, state: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One request through ASGI: the response status, and the scope as the app left it (its route)."""
    scope = scope_of(request, state)
    answered = asyncio.Event()
    sent_body = False
    status = 0

    async def receive() -> Message:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            answered.set()

    await asyncio.wait_for(app(scope, receive, send), CALL_TIMEOUT_S)
    return status, scope


async def calls_until(app: App, request: dict[str, Any], body: bytes, state: dict[str, Any],
                      deadline: float) -> tuple[int, float]:
    """Call back to back until ``deadline`` (at least once): (calls, when the last one ended)."""
    done = 0
    while True:
        status, _ = await call(app, request, body, state)
        if not 200 <= status < 400:
            raise ProbeFailure(f"answered {status} during the probe")
        done += 1
        if time.perf_counter() >= deadline:
            return done, time.perf_counter()


def step(loops: list[LoopThread], request: dict[str, Any], body: bytes, seconds: float) -> dict[str, Any]:
    """Every loop calls the endpoint for ``seconds``: calls, wall time and the process's CPU time."""
    cpu = time.process_time()
    start = time.perf_counter()
    futures = [lp.submit(calls_until(lp.app, request, body, lp.lifespan.state if lp.lifespan else {},
                                     start + seconds)) for lp in loops]
    results = [f.result(timeout=CALL_TIMEOUT_S + seconds) for f in futures]
    cpu = time.process_time() - cpu
    wall = max(end for _, end in results) - start
    return {"threads": len(loops), "calls": sum(n for n, _ in results), "wall_s": round(wall, 6),
            "cpu_s": round(cpu, 6)}


def _spin(deadline: float, into: list[tuple[int, float]]) -> None:
    """Arithmetic on local variables until ``deadline``: work no other thread can touch."""
    rounds, acc = 0, 0
    while time.perf_counter() < deadline:
        for i in range(2000):
            acc = (acc * 31 + i) & 0xFFFF
        rounds += 1
    into.append((rounds, time.perf_counter()))


def control(counts: list[int], seconds: float) -> list[dict[str, Any]]:
    """The control steps: plain threads spinning on local variables, one step per count."""
    out = []
    for count in counts:
        results: list[tuple[int, float]] = []
        cpu, start = time.process_time(), time.perf_counter()
        threads = [threading.Thread(target=_spin, args=(start + seconds, results)) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        out.append({"threads": count, "calls": sum(n for n, _ in results),
                    "wall_s": round(max(end for _, end in results) - start, 6),
                    "cpu_s": round(time.process_time() - cpu, 6)})
    return out


def from_load_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A ``/lab/loads`` entry (see app/loadspec.py) as a probe request."""
    query = {k: ("true" if v else "false") if isinstance(v, bool) else str(v) for k, v in (spec.get("query") or {}).items()}
    body = None
    if spec.get("json") is not None:
        body = base64.b64encode(json.dumps(spec["json"]).encode()).decode()
    elif spec.get("body") is not None:
        body = base64.b64encode(str(spec["body"]).encode()).decode()
    elif spec.get("body_base64") is not None:
        body = spec["body_base64"]
    headers = [[k, v] for k, v in (spec.get("headers") or {}).items()]
    if spec.get("content_type"):
        headers.append(["content-type", spec["content_type"]])
    return {"key": spec.get("name") or f"{spec['method']} {spec['path']}", "method": spec["method"],
            "path": spec["path"], "query": urlencode(query), "headers": headers, "body_base64": body}


def endpoint_facts(scope: dict[str, Any], app_dir: str) -> dict[str, Any]:
    """The route and endpoint the framework matched (Starlette and FastAPI leave them in the scope)."""
    endpoint = scope.get("endpoint")
    route = getattr(scope.get("route"), "path", None)
    target = hotglobals.unwrap(endpoint) if endpoint is not None else None
    name = f"{target.__module__}.{target.__qualname__}" if target is not None else None
    return {"route": route, "endpoint": name, "globals": hotglobals.global_reads(endpoint, app_dir) if endpoint else []}


def probe_endpoint(loops: list[LoopThread], request: dict[str, Any], plan: dict[str, Any],
                   app_dir: str) -> dict[str, Any]:
    body = base64.b64decode(request["body_base64"]) if request.get("body_base64") else b""
    out: dict[str, Any] = {**{k: request.get(k) for k in ("key", "method", "path", "query")}, "status": None,
                           "route": None, "endpoint": None, "globals": [], "steps": [], "control": [], "error": None}
    first = loops[0]
    try:
        started = time.perf_counter()
        status, scope = first.run(call(first.app, request, body, first.lifespan.state if first.lifespan else {}))
        single = time.perf_counter() - started
        out["status"] = status
        out.update(endpoint_facts(scope, app_dir))
        if not 200 <= status < 400:
            raise ProbeFailure(f"answered {status}: the probe measures endpoints that succeed")
        seconds = max(plan["step_s"], MIN_CALLS_PER_STEP * single)
        out["step_s"] = round(seconds, 3)
        counts = plan["thread_counts"]
        step(loops[: max(counts)], request, body, max(plan["warmup_s"], single))  # specialise, start anyio's threads
        for _ in range(plan["repeats"]):
            for count in counts:
                out["steps"].append(step(loops[: count], request, body, seconds))
            out["control"] += control([max(counts)], seconds)  # what the machine allowed, right beside it
    except Exception as error:  # the app's failure is a result: report it and probe the next endpoint
        out["error"] = f"{type(error).__name__}: {error}"[:500]
    return out


def run(plan: dict[str, Any]) -> dict[str, Any]:
    gilwatch.install()
    settings = LayerSettings.from_env()
    layer = build(settings)
    requests = list(plan.get("endpoints") or [])
    module = plan.get("loads_module")
    if module is not None:
        requests += [from_load_spec(s) for s in layer.loads() if not module or s.get("module") == module]
    report: dict[str, Any] = {
        "python": {"version": platform.python_version(), "executable": sys.executable,
                   "free_threaded": runtime.free_threaded(), "gil_enabled": runtime.gil_enabled(),
                   "gil_enabled_by": gilwatch.enabled_by()},
        "thread_counts": plan["thread_counts"], "repeats": plan["repeats"], "endpoints": [], "error": None,
        "control": control(plan["thread_counts"], plan["step_s"]),
    }
    loops: list[LoopThread] = []
    try:
        loops = [LoopThread(i, layer) for i in range(max(plan["thread_counts"]))]
        for request in requests:
            report["endpoints"].append(probe_endpoint(loops, request, plan, str(settings.app_dir)))
    except ProbeFailure as error:
        report["error"] = str(error)
    finally:
        for lp in loops:
            lp.stop()
    report["control"] += control(plan["thread_counts"], plan["step_s"])
    report["python"]["gil_enabled"] = runtime.gil_enabled()  # an endpoint's import may have turned it on
    report["python"]["gil_enabled_by"] = gilwatch.enabled_by()
    return report


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m gil_lab_layer.probe REQUEST.json OUT.json", file=sys.stderr)
        return 2
    with open(args[0]) as handle:
        plan = json.load(handle)
    try:
        report = run(plan)
    except LayerError as error:
        report = {"error": str(error), "endpoints": []}
        status = 1
    except Exception as error:
        report = {"error": f"{type(error).__name__}: {error}\n{traceback.format_exc()[-2000:]}", "endpoints": []}
        status = 1
    else:
        status = 0
    with open(args[1], "w") as handle:
        json.dump(report, handle)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
