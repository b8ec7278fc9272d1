"""Preflight: does the team's Locust file fit the app? Every task once, per interpreter, before any window.

For each interpreter that has an environment, one server of the team's app starts
(the default server, as in the matrix), and one Locust session with the team's file, the
recorder and ``scenarios/lab_preflight.py`` runs each task of each user class once
against it through ``GET /lab/preflight`` (real Locust, real HTTP, the team's code
unmodified). Each request is tied to the route of the app's table that serves its
path, which the diagnosis uses to name an ``async def`` endpoint the load reaches.

:func:`judge` stops the run when every request was answered 404 (a Locust file for
another service, or the wrong ``--app``) or no task sent anything; other surprises
(5xx, a task that raised) are returned as notes and stored with the run.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.core.direct_http import open_direct
from loadtests.core.errors import LoadGeneratorError, PreflightError
from loadtests.measure.load_session import SessionSettings, load_session
from loadtests.measure.servers import ServerSettings, running_server
from loadtests.plan.scenarios import SCENARIOS_DIR
from loadtests.results.records import Preflight, PreflightRequest, PreflightTask, RouteInfo

PREFLIGHT_MODULE = SCENARIOS_DIR / "lab_preflight.py"
#: The walk runs each task once; a slow service with many tasks still fits in this.
WALK_TIMEOUT_S = 300.0
LOADS_PATH = "/lab/loads"
_PARAMETER = re.compile(r"\{([^}:]+)(?::([^}]+))?\}")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class PreflightTarget:
    """One interpreter's server to run the preflight against."""

    label: str
    settings: ServerSettings


def route_pattern(template: str) -> re.Pattern[str]:
    """``/books/{book_id}/similar`` -> a regex matching the paths it serves (``{x:path}`` spans slashes)."""
    parts, last = [], 0
    for match in _PARAMETER.finditer(template):
        parts.append(re.escape(template[last:match.start()]))
        parts.append(".+" if match.group(2) == "path" else "[^/]+")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("".join(parts) + "$")


def match_route(method: str, path: str, routes: Iterable[RouteInfo] | None) -> str | None:
    """The template of the first route that serves ``method path`` (as Starlette tries them: in order)."""
    for route in routes or ():
        if route.kind == "websocket":
            continue
        allowed = route.methods is None or method in route.methods or (method == "HEAD" and "GET" in route.methods)
        if allowed and (route_pattern(route.path).match(path) or
                        (route.kind == "mount" and path.startswith(route.path.rstrip("/") + "/"))):
            return route.path
    return None


def _get_json(url: str, timeout: float) -> Any:
    try:
        with open_direct(url, timeout) as response:  # loopback: never through a proxy
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
        raise LoadGeneratorError(f"the preflight could not read {url}: {exc}") from None


def _record(label: str, server: str, answer: Mapping[str, Any], routes: Sequence[RouteInfo] | None,
            seconds: float) -> Preflight:
    tasks = tuple(
        PreflightTask(user_class=t["user_class"], task=t["task"], error=t["error"], requests=tuple(
            PreflightRequest(method=r["method"], path=r["path"], name=r["name"], status=r["status"], error=r["error"],
                             route=match_route(r["method"], r["path"], routes), query=r.get("query") or "",
                             body_base64=r.get("body_base64"), content_type=r.get("content_type"))
            for r in t["requests"]))
        for t in answer.get("tasks", []))
    return Preflight(interpreter=label, server=server, tasks=tasks, seconds=round(seconds, 2))


def run_preflight(locustfile: Path, targets: Sequence[PreflightTarget], log_dir: Path,
                  routes: Mapping[str, Sequence[RouteInfo] | None], progress: Progress,
                  extra_env: Mapping[str, str] | None = None) -> tuple[Preflight, ...]:
    """Run every task of ``locustfile`` once against each target's server; nothing is judged here."""
    session_settings = SessionSettings((PREFLIGHT_MODULE, locustfile), log_dir / "locust.log",
                                       extra_env=tuple(sorted((extra_env or {}).items())))
    results = []
    with load_session(session_settings) as session:
        for target in targets:
            started = time.monotonic()
            with running_server(target.settings, log_dir / f"server-{target.label}.log") as server:
                query = urllib.parse.urlencode({"host": server.base_url})
                answer = _get_json(f"{session.web_url}/lab/preflight?{query}", WALK_TIMEOUT_S)
            result = _record(target.label, target.settings.server, answer, routes.get(target.label),
                             time.monotonic() - started)
            progress(f"    preflight on {target.label}: {summary(result)}")
            results.append(result)
    return tuple(results)


def check_loads(targets: Sequence[PreflightTarget], log_dir: Path, app: str) -> None:
    """Without a Locust file, the app must serve load specs at /lab/loads for the generic scenario."""
    for target in targets:
        with running_server(target.settings, log_dir / f"server-{target.label}.log") as server:
            loads = _get_json(server.base_url + LOADS_PATH, 30.0)
        if not loads:
            raise PreflightError(
                f"--app {app} gives the lab nothing to send: no --locustfile, and {LOADS_PATH} on {target.label} "
                "answers []. Add --locustfile FILE (the Locust file your team runs against this service: HttpUser "
                "classes with @task methods), or keep LoadRequest specs on the app's `state.loads`.")


def summary(result: Preflight) -> str:
    """``4 tasks, 4 requests: 200 ×4``."""
    statuses: dict[str, int] = {}
    for request in (r for t in result.tasks for r in t.requests):
        key = str(request.status) if request.status else "no response"
        statuses[key] = statuses.get(key, 0) + 1
    requests = sum(statuses.values())
    counts = ", ".join(f"{status} ×{n}" for status, n in sorted(statuses.items()))
    errors = sum(1 for t in result.tasks if t.error)
    return (f"{len(result.tasks)} tasks, {requests} requests" + (f": {counts}" if counts else "")
            + (f"; {errors} task(s) raised" if errors else ""))


def judge(results: Sequence[Preflight], app: str, locustfile: Path) -> list[str]:
    """Raise :class:`PreflightError` when the file and the app do not fit; return notes on lesser problems."""
    notes = []
    for result in results:
        requests = [(t, r) for t in result.tasks for r in t.requests]
        raised = [f"{t.user_class}.{t.task}: {t.error}" for t in result.tasks if t.error]
        if not requests:
            raise PreflightError(
                f"the tasks of {locustfile} sent no request to {app} on {result.interpreter}"
                + (": " + "; ".join(raised) if raised else "")
                + ". Each task should send requests with self.client; check the file runs with "
                  "`locust -f FILE --host URL` against your service.")
        if all(r.status == 404 for _, r in requests):
            paths = sorted({f"{r.method} {r.path}" for _, r in requests})
            raise PreflightError(
                f"every request of {locustfile} was answered 404 by {app} on {result.interpreter} "
                f"({', '.join(paths[:8])}{' ...' if len(paths) > 8 else ''}). The file is written for another "
                "service, or --app names the wrong app: give the --app (and --app-dir) of the service this file "
                "loads, or fix the paths in the file.")
        failing = sorted({f"{t.user_class}.{t.task}: {r.method} {r.path} -> {r.status or r.error}"
                          for t, r in requests if not r.status or r.status >= 400})
        notes += [f"preflight on {result.interpreter}: {line}" for line in failing + raised]
    return notes
