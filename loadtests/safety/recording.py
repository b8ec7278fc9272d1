"""Record the requests a load sends: its Locust file's tasks, run one after another against a real server.

One Locust session loads the load's file(s) and ``scenarios/lab_safety_record.py``,
which runs the tasks as Locust would pick them (user classes and tasks by weight, a
seeded ``random``, no think time) against a fresh server, and writes every request
with the answer it got. The same file and seed give the same requests.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests.core.direct_http import open_direct
from loadtests.core.errors import LoadGeneratorError, RecordingError
from loadtests.measure.load_session import SessionSettings, load_session
from loadtests.measure.preflight import match_route
from loadtests.measure.servers import RunningServer
from loadtests.plan.scenarios import SCENARIOS_DIR
from loadtests.results.records import RouteInfo
from loadtests.safety.bodies import normalise
from loadtests.safety.exchange import Answer, SentRequest

RECORDER_MODULE = SCENARIOS_DIR / "lab_safety_record.py"
RECORDING_FILE = "recorded-requests.jsonl"


@dataclass(frozen=True)
class Recording:
    """The recorded requests, what the recording server answered, and how the recording went."""

    requests: tuple[SentRequest, ...]
    answers: dict[int, Answer]
    tasks_run: int
    seconds: float
    stopped: str  # count, time, idle, no tasks, no users
    task_errors: tuple[str, ...]


def endpoint_name(method: str, path: str, name: str, routes: Sequence[RouteInfo] | None) -> str:
    """``METHOD /route/{param}`` from the route table; else Locust's name for the request, else its path."""
    template = match_route(method, path, routes)
    if template is not None:
        return f"{method} {template}"
    if name.startswith("/") and name.split("?", 1)[0] != path:
        return f"{method} {name.split('?', 1)[0]}"
    return f"{method} {path}"


def record_load(server: RunningServer, load_files: Sequence[Path], count: int, seed: int, max_s: float,
                routes: Sequence[RouteInfo] | None, log_dir: Path) -> Recording:
    """Run the tasks of ``load_files`` against ``server`` until ``count`` requests (or ``max_s``) are recorded."""
    out = log_dir / RECORDING_FILE
    settings = SessionSettings((RECORDER_MODULE, *load_files), log_dir / "locust-recording.log")
    query = urllib.parse.urlencode({"host": server.base_url, "count": count, "seed": seed, "max_s": max_s,
                                    "out": str(out)})
    with load_session(settings) as session:
        try:
            # Locust's web API on loopback: never through a proxy
            with open_direct(f"{session.web_url}/lab/safety-record?{query}", max_s + 120) as response:
                summary: dict[str, Any] = json.loads(response.read())
        except (urllib.error.URLError, OSError, json.JSONDecodeError) as error:
            raise LoadGeneratorError(f"the recording did not finish ({error}); see {settings.log_path}") from None
    errors = tuple(f"{e['task']}: {e['error']} ({e['count']}×)" for e in summary.get("task_errors", []))
    lines = [json.loads(line) for line in out.read_text().splitlines() if line.strip()] if out.is_file() else []
    if not lines:
        raise RecordingError(
            f"the tasks of {', '.join(f.name for f in load_files)} sent no request that could be recorded "
            f"(ran {summary.get('tasks_run', 0)} tasks; stopped: {summary.get('stopped')})"
            + (": " + "; ".join(errors) if errors else "")
            + ". Each task should send requests with self.client; check that the file runs with "
              "`locust -f FILE --host URL` against the service.")
    requests, answers = [], {}
    for line in lines:
        target = line["target"]
        path = target.split("?", 1)[0]
        method = line["method"].upper()
        request = SentRequest(index=line["index"], method=method, target=target,
                              headers=tuple((k, v) for k, v in line["headers"]), body=base64.b64decode(line["body"]),
                              name=line["name"], endpoint=endpoint_name(method, path, line["name"], routes),
                              task=line["task"], streamed=bool(line["streamed"]))
        requests.append(request)
        answers[request.index] = Answer(line["status"], normalise(base64.b64decode(line["answer"]),
                                                                  [server.base_url]), line["error"])
    if not any(a.answered for a in answers.values()):
        raise RecordingError(f"none of the {len(requests)} recorded requests got an answer from the server "
                             f"(first error: {next(iter(answers.values())).error}); see {server.log_path}")
    return Recording(tuple(requests), answers, int(summary.get("tasks_run", 0)), float(summary.get("seconds", 0)),
                     str(summary.get("stopped")), errors)
