"""The lab's preflight, loaded into Locust beside a team's Locust file (and the recorder) before any window.

It adds one route to Locust's web UI, ``GET /lab/preflight?host=URL``: every user
class of the loaded file is instantiated against ``host`` (as Locust's runner does,
the lab sets the host), its ``on_start`` runs, then each of its tasks once (a task
that is a TaskSet: each of that set's tasks once), then ``on_stop``. The team's code
runs unmodified, with Locust's own HTTP clients, so every request goes through
Locust's request event. This module listens to that event and answers, per task, the
requests it sent with their status codes:

    {"tasks": [{"user_class": "Browser", "task": "search", "error": null,
                "requests": [{"method": "GET", "path": "/search", "name": "/search",
                              "status": 200, "error": null, "query": "q=lab",
                              "body_base64": null, "content_type": null}]}]}

The query string and the body (base64, up to :data:`MAX_BODY` bytes; larger ones are left
out) let the lab's per-endpoint probe send the same requests in process.

Nothing waits on ``wait_time``: a task's think time is irrelevant to whether it fits
the app. Each task is bounded by :data:`TASK_TIMEOUT_S`.
"""

from __future__ import annotations

import base64
import urllib.parse
from typing import Any

import gevent
from locust import TaskSet, events
from locust.exception import InterruptTaskSet, RescheduleTask, RescheduleTaskImmediately, StopUser

TASK_TIMEOUT_S = 30.0
MAX_BODY = 1 << 20
MAX_DEPTH = 4  # TaskSets nested deeper than this are not walked
#: Locust's control flow, not a failure of the task.
CONTROL_FLOW = (InterruptTaskSet, RescheduleTask, RescheduleTaskImmediately, StopUser)
_recording: list[list[dict[str, Any]]] = []  # the requests of the task being run, when one is


@events.request.add_listener
def _on_request(request_type: str, name: str, response: Any = None, exception: Any = None, url: str | None = None,
                **_: Any) -> None:
    if not _recording:
        return
    status = getattr(response, "status_code", None)
    parts = urllib.parse.urlsplit(url or "")
    body, content_type = _sent_body(response)
    _recording[-1].append({
        "method": str(request_type), "path": parts.path or str(name), "name": str(name),
        "status": int(status) if status else None, "error": None if exception is None else str(exception)[:300],
        "query": parts.query, "body_base64": body, "content_type": content_type,
    })


def _sent_body(response: Any) -> tuple[str | None, str | None]:
    """The request's body (base64) and Content-Type, from the request object Locust's clients keep."""
    request = getattr(response, "request", None)
    body = getattr(request, "body", None)
    headers = getattr(request, "headers", None) or {}
    try:
        content_type = next((str(v) for k, v in dict(headers).items() if str(k).lower() == "content-type"), None)
    except (TypeError, ValueError):
        content_type = None
    if isinstance(body, str):
        body = body.encode()
    if not isinstance(body, bytes) or not body or len(body) > MAX_BODY:
        return None, content_type
    return base64.b64encode(body).decode(), content_type


def _run(user_class: str, task: str, call: Any) -> dict[str, Any]:
    """Call ``call()`` once, recording what it sent and any exception that is not Locust's control flow."""
    sent: list[dict[str, Any]] = []
    _recording.append(sent)
    error = None
    try:
        with gevent.Timeout(TASK_TIMEOUT_S):
            call()
    except CONTROL_FLOW:
        pass
    except gevent.Timeout:
        error = f"did not finish within {TASK_TIMEOUT_S:g}s"
    except Exception as exc:  # the team's code: report it, never stop the walk
        error = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        _recording.pop()
    return {"user_class": user_class, "task": task, "requests": sent, "error": error}


def _tasks(owner: Any, tasks: list[Any], user_class: str, prefix: str, depth: int) -> list[dict[str, Any]]:
    out = []
    for task in dict.fromkeys(tasks):  # Locust repeats a task once per unit of weight
        name = prefix + getattr(task, "__name__", repr(task))
        if isinstance(task, type) and issubclass(task, TaskSet):
            if depth >= MAX_DEPTH:
                continue
            taskset = task(owner)
            out.append(_run(user_class, f"{name}.on_start", taskset.on_start))
            out += _tasks(taskset, list(task.tasks), user_class, f"{name}.", depth + 1)
        else:
            out.append(_run(user_class, name, lambda t=task: t(owner)))
    return out


def _start(user_class: Any, environment: Any, started: list[Any]) -> None:
    user = user_class(environment)
    started.append(user)
    user.on_start()


def walk(environment: Any, host: str) -> list[dict[str, Any]]:
    """Every task of every user class, once, against ``host``."""
    results = []
    for user_class in environment.user_classes:
        name = user_class.__name__
        user_class.host = host  # what Locust's runner does with the host it is given
        started: list[Any] = []
        start = _run(name, "on_start", lambda cls=user_class, into=started: _start(cls, environment, into))
        if not started:
            results.append(start)  # the class could not even be instantiated
            continue
        user = started[0]
        found = [start, *_tasks(user, list(user_class.tasks), name, "", 0), _run(name, "on_stop", user.on_stop)]
        # on_start and on_stop are listed only when they did something
        results += [r for r in found if r["task"] not in ("on_start", "on_stop") or r["requests"] or r["error"]]
    return [r for r in results if not r["task"].endswith(".on_start") or r["requests"] or r["error"]]


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    web_ui = getattr(environment, "web_ui", None)
    if web_ui is None:
        return
    from flask import jsonify, request

    @web_ui.app.route("/lab/preflight")
    def lab_preflight() -> Any:
        return jsonify({"tasks": walk(environment, request.args.get("host", ""))})
