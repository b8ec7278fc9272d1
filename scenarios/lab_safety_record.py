"""The safety check's recorder, loaded into Locust beside the load's own Locust file(s) (and the lab's recorder).

It adds one route to Locust's web UI, ``GET /lab/safety-record?host=URL&count=N&seed=S&max_s=T&out=FILE``:
every user class of the loaded files is instantiated against ``host`` (its
``on_start`` runs), then tasks run one after another, as Locust would pick them but
with no think time: a user class by its weight, then one of its tasks by its task
weight (a TaskSet: one of the set's tasks), until ``count`` requests were sent or
``max_s`` seconds passed. ``random`` is seeded with ``seed`` first, and the lab's own
choices use a generator with the same seed, so the same files and seed send the same
requests.

Every request goes through Locust's own HTTP clients, so Locust's request event sees
it with its response: this module writes one JSON line per request to ``out`` (the
method, the path and query, the headers and body as sent, Locust's name for it, and
the status and body of the answer) and answers a summary:

    {"recorded": 1000, "tasks_run": 640, "seconds": 21.4, "stopped": "count",
     "task_errors": [{"task": "Buyer.quote", "count": 2, "error": "KeyError: 'id'"}]}

The team's code runs unmodified. A task is bounded by :data:`TASK_TIMEOUT_S`.
"""

from __future__ import annotations

import base64
import json
import random
import time
import urllib.parse
from typing import IO, Any

import gevent
from locust import TaskSet, events
from locust.exception import InterruptTaskSet, RescheduleTask, RescheduleTaskImmediately, StopUser

TASK_TIMEOUT_S = 30.0
MAX_DEPTH = 4  # TaskSets nested deeper than this are not entered
#: Tasks in a row that sent nothing before the recording gives up.
IDLE_TASKS = 200
CONTROL_FLOW = (InterruptTaskSet, RescheduleTask, RescheduleTaskImmediately, StopUser)
_sink: list[Any] = []  # [open file, counter dict] while recording


def _bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    return b""  # a streamed body (a generator, a file) cannot be replayed as recorded


def _sent(response: Any) -> Any:
    """The request as first sent: before any redirect the client followed."""
    history = getattr(response, "history", None)
    first = history[0] if history else response
    return getattr(first, "request", None)


@events.request.add_listener
def _on_request(request_type: str, name: str, response: Any = None, exception: Any = None, url: str | None = None,
                **_: Any) -> None:
    if not _sink:
        return
    out, state = _sink
    request = _sent(response)
    full = getattr(request, "url", None) or url or ""
    parts = urllib.parse.urlsplit(str(full))
    headers = getattr(request, "headers", None) or {}
    body = getattr(request, "body", None)
    status = getattr(response, "status_code", None)
    line = {
        "index": state["recorded"], "task": state["task"], "method": str(getattr(request, "method", None) or request_type),
        "target": (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), "name": str(name),
        "headers": [[str(k), str(v)] for k, v in dict(headers.items()).items()],
        "body": base64.b64encode(_bytes(body)).decode(), "streamed": body is not None and not _bytes(body),
        "status": int(status) if status else None,
        "answer": base64.b64encode(_bytes(getattr(response, "content", None))).decode(),
        "error": None if exception is None else f"{type(exception).__name__}: {exception}"[:300],
    }
    out.write(json.dumps(line) + "\n")
    state["recorded"] += 1


def _call(call: Any, name: str, errors: dict[str, dict[str, Any]]) -> None:
    try:
        with gevent.Timeout(TASK_TIMEOUT_S):
            call()
    except CONTROL_FLOW:
        pass
    except gevent.Timeout:
        _error(errors, name, f"did not finish within {TASK_TIMEOUT_S:g}s")
    except Exception as exc:  # the team's code: count it, never stop the recording
        _error(errors, name, f"{type(exc).__name__}: {exc}"[:300])


def _error(errors: dict[str, dict[str, Any]], name: str, text: str) -> None:
    entry = errors.setdefault(name, {"task": name, "count": 0, "error": text})
    entry["count"] += 1


def _pick(owner: Any, tasks: list[Any], rng: random.Random, prefix: str, depth: int) -> tuple[str, Any] | None:
    """One task of ``owner`` by weight (Locust repeats a task once per unit of weight); a TaskSet is entered."""
    if not tasks:
        return None
    task = rng.choice(tasks)
    name = prefix + getattr(task, "__name__", repr(task))
    if isinstance(task, type) and issubclass(task, TaskSet):
        if depth >= MAX_DEPTH:
            return None
        taskset = task(owner)
        inner = _pick(taskset, list(task.tasks), rng, name + ".", depth + 1)
        return inner
    return name, (lambda: task(owner))


def record(environment: Any, host: str, count: int, seed: int, max_s: float, out: IO[str]) -> dict[str, Any]:
    """Run tasks against ``host`` until ``count`` requests were recorded to ``out`` (or ``max_s`` passed)."""
    random.seed(seed)
    rng = random.Random(seed)
    started = time.monotonic()
    state: dict[str, Any] = {"recorded": 0, "task": ""}
    errors: dict[str, dict[str, Any]] = {}
    _sink[:] = [out, state]
    users, weights = [], []
    tasks_run = idle = 0
    stopped = "count"
    try:
        for user_class in environment.user_classes:
            user_class.host = host  # what Locust's runner does with the host it is given
            name = user_class.__name__
            state["task"] = f"{name}.on_start"
            try:
                user = user_class(environment)
            except Exception as exc:
                _error(errors, f"{name}.__init__", f"{type(exc).__name__}: {exc}"[:300])
                continue
            _call(user.on_start, f"{name}.on_start", errors)
            users.append(user)
            weights.append(max(getattr(user_class, "fixed_count", 0) or getattr(user_class, "weight", 1), 1))
        while users and state["recorded"] < count:
            if time.monotonic() - started > max_s:
                stopped = "time"
                break
            user = rng.choices(users, weights)[0]
            picked = _pick(user, list(type(user).tasks), rng, f"{type(user).__name__}.", 0)
            if picked is None:
                stopped = "no tasks"
                break
            before = state["recorded"]
            state["task"] = picked[0]
            _call(picked[1], picked[0], errors)
            tasks_run += 1
            idle = 0 if state["recorded"] > before else idle + 1
            if idle >= IDLE_TASKS:
                stopped = "idle"
                break
        for user in users:
            state["task"] = f"{type(user).__name__}.on_stop"
            _call(user.on_stop, state["task"], errors)
    finally:
        _sink.clear()
        out.flush()
    return {"recorded": state["recorded"], "tasks_run": tasks_run, "seconds": round(time.monotonic() - started, 2),
            "stopped": stopped if users else "no users", "task_errors": list(errors.values())}


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    web_ui = getattr(environment, "web_ui", None)
    if web_ui is None:
        return
    from flask import jsonify, request

    @web_ui.app.route("/lab/safety-record")
    def lab_safety_record() -> Any:
        args = request.args
        with open(args["out"], "w") as out:
            return jsonify(record(environment, args.get("host", ""), int(args.get("count", "1000")),
                                  int(args.get("seed", "0")), float(args.get("max_s", "600")), out))
