"""The per-endpoint scaling probe, from the lab's side: which requests, run in each app environment, read back.

Which requests: those the load sends. A team's Locust file was walked by the preflight
(every task once against a real server), which kept each request's method, path,
query and body; so was a built-in scenario's file when ``gil-lab diagnose`` walks it.
Drop-in routes (the generic ``routes`` scenario) are probed from the load specs the app
itself holds (``app.state.loads``), read inside the probe's process. One request per
endpoint: the first one the load sent to each route (``GET /books/1`` and
``GET /books/2`` are one endpoint, ``/books/{book_id}``).

How: ``python -m gil_lab_layer.probe`` (``app/layer/probe.py``) in the interpreter of
each app environment, with the environment a server gets (the same app, directory,
thread limit and drop-ins), under the lab's supervisor and a time limit. Everything is
kept: the raw steps go into run.json, and the analysis computes the table from them.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.core.errors import LabError
from loadtests.core.paths import PROJECT_ROOT
from loadtests.measure.servers import ServerSettings, environment
from loadtests.measure.supervised import supervised
from loadtests.results.record import RecordError
from loadtests.results.records import (
    GlobalRead,
    Preflight,
    ProbedEndpoint,
    ProbeRun,
    ProbeStep,
)

MODULE = "gil_lab_layer.probe"
REPEATS = 4
STEP_S = 0.5
WARMUP_S = 0.3
#: The whole probe of one interpreter, start-up included: a slow endpoint still fits, a hung one does not.
TIMEOUT_S = 600.0


class ProbeError(LabError):
    """The probe process could not be run or said nothing (as opposed to an endpoint that failed: a result)."""


@dataclass(frozen=True)
class ProbeRequest:
    """One request the load sends, as the probe sends it through ASGI."""

    key: str  # what the report calls the endpoint: "GET /books/{book_id}"
    method: str
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body_base64: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "method": self.method, "path": self.path, "query": self.query,
                "headers": [list(h) for h in self.headers], "body_base64": self.body_base64}


@dataclass(frozen=True)
class ProbeSettings:
    """Thread counts, repeats and step length of a probe."""

    thread_counts: tuple[int, ...]
    repeats: int = REPEATS
    step_s: float = STEP_S
    warmup_s: float = WARMUP_S
    timeout_s: float = TIMEOUT_S

    def __post_init__(self) -> None:
        if not self.thread_counts or min(self.thread_counts) < 1 or 1 not in self.thread_counts:
            raise ValueError("the probe's thread counts must include 1 (its reference) and be positive")
        if self.repeats < 2:
            raise ValueError("the probe needs at least 2 repeats for an interval")


def thread_counts(usable_cores: int) -> tuple[int, ...]:
    """1, 2, then doubling up to the usable cores (and the cores themselves): at least 1 and 2."""
    top = max(2, usable_cores)
    counts = {1, top}
    n = 2
    while n < top:
        counts.add(n)
        n *= 2
    return tuple(sorted(counts))


def requests_from_preflight(preflights: Iterable[Preflight]) -> list[ProbeRequest]:
    """The first answered request per endpoint (method and route), in the order the load sent them."""
    seen: dict[tuple[str, str], ProbeRequest] = {}
    for preflight in preflights:
        for request in (r for t in preflight.tasks for r in t.requests):
            if request.status is None or not 200 <= request.status < 400:
                continue
            endpoint = request.route or request.path
            key = (request.method, endpoint)
            if key in seen:
                continue
            headers = (("content-type", request.content_type),) if request.content_type else ()
            seen[key] = ProbeRequest(f"{request.method} {endpoint}", request.method, request.path, request.query,
                                     headers, request.body_base64)
        if seen:
            break  # the requests are the same on both interpreters: the first walk that reached any is enough
    return list(seen.values())


def _step(step: dict[str, Any]) -> ProbeStep:
    return ProbeStep(threads=step["threads"], calls=step["calls"], wall_s=step["wall_s"], cpu_s=step["cpu_s"])


def _record(scenario: str, label: str, python: Path, answer: dict[str, Any], seconds: float) -> ProbeRun:
    info = answer.get("python") or {}
    endpoints = tuple(
        ProbedEndpoint(key=e["key"], method=e["method"], path=e["path"], query=e.get("query") or "",
                       route=e.get("route"), endpoint=e.get("endpoint"), status=e.get("status"),
                       step_s=e.get("step_s"),
                       steps=tuple(_step(s) for s in e.get("steps", [])),
                       globals=tuple(GlobalRead(function=g["function"], name=g["name"], type=g["type"],
                                                value=g["value"], immortal=g["immortal"])
                                     for g in e.get("globals", [])),
                       error=e.get("error"), control=tuple(_step(s) for s in e.get("control", [])))
        for e in answer.get("endpoints", []))
    return ProbeRun(scenario=scenario, interpreter=label, python=str(python),
                    free_threaded=bool(info.get("free_threaded", False)),
                    gil_enabled=bool(info.get("gil_enabled", True)),
                    gil_enabled_by=tuple(info.get("gil_enabled_by", ())),
                    thread_counts=tuple(answer.get("thread_counts", ())), repeats=int(answer.get("repeats", 0)),
                    endpoints=endpoints, control=tuple(_step(s) for s in answer.get("control", [])),
                    seconds=round(seconds, 2), error=answer.get("error"))


def run_probe(scenario: str, label: str, server: ServerSettings, requests: Sequence[ProbeRequest],
              loads_module: str | None, settings: ProbeSettings, log: Path) -> ProbeRun:
    """Probe ``requests`` (and the app's load specs of ``loads_module``) in ``server``'s environment."""
    plan = {"endpoints": [r.to_json() for r in requests], "loads_module": loads_module,
            "thread_counts": list(settings.thread_counts), "repeats": settings.repeats, "step_s": settings.step_s,
            "warmup_s": settings.warmup_s}
    started = time.monotonic()
    log.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gil-lab-probe-") as tmp:
        request_file, out = Path(tmp) / "request.json", Path(tmp) / "probe.json"
        request_file.write_text(json.dumps(plan))
        with log.open("ab") as output:
            process = supervised([str(server.python), "-m", MODULE, str(request_file), str(out)],
                                 cwd=server.app_dir or PROJECT_ROOT, env=environment(server), output=output,
                                 grace=5.0)
        try:
            process.wait(timeout=settings.timeout_s)
        except subprocess.TimeoutExpired:
            process.stop(5.0)
            raise ProbeError(f"the probe on {label} did not finish within {settings.timeout_s:.0f}s; see {log}") \
                from None
        process.stop(5.0)
        try:
            answer = json.loads(out.read_text())
        except (OSError, json.JSONDecodeError):
            raise ProbeError(f"the probe on {label} exited with status {process.returncode} without a result; "
                             f"see {log}") from None
    try:
        return _record(scenario, label, server.python, answer, time.monotonic() - started)
    except (KeyError, TypeError, ValueError, RecordError) as exc:
        raise ProbeError(f"the probe on {label} answered an unexpected document: {exc}") from None
