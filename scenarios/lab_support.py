"""The lab's recorder, loaded into every Locust process beside the scenario (or a team's own locustfile).

Locust's own statistics are bucketed and cover a whole test. The lab needs exact
figures for each measured window, so every request is also recorded raw:
``[completion time, latency ms, ok, name, intended send time]`` on the clock of the
process that sent it. The intended send time is set by the open-loop driver
(``open_loop.py``) for the request it schedules, and is null for closed-loop users.
The driver also keeps a *schedule log*: every arrival as it falls due,
``[intended send, dispatched at]``, the second null when the driver had to drop it (its
in-flight cap was full), whether or not its request ever completes.

- Standalone: requests are recorded where they happen.
- Master/worker (``--master`` / ``--worker``, on one machine or several): workers ship
  their samples to the master with every stats report, every
  :data:`REPORT_INTERVAL_S` (Locust's default is 3 s, too slow for short windows). The
  master keeps only the samples of workers ``lab_workers.py`` admitted, moved onto its
  own clock by each worker's measured offset, and tagged with the worker's client id.
  Each sample is checked first (numbers where numbers belong, times near now, a name
  cleaned of control characters); a malformed one is dropped and counted.

The lab drives a Locust session through its web API (``POST /swarm`` and ``/stop``)
and reads the recorder through two routes this module adds to Locust's web UI:

- ``GET /lab/status``: the runner's state, users, the workers connected (not missing),
  the time each last reported (the master's clock), and ``admission``: every worker that
  said hello (host, address, versions, clock offset, Locust state) and every refusal;
- ``GET /lab/drain``: every sample recorded since the previous drain, as
  ``[time, ms, ok, name, worker id, intended send]`` (``""`` for a standalone Locust), the
  schedule log since then as ``[intended send, dispatched at, worker id]``, each worker's
  CPU readings ``[time, cpu seconds]``, and per worker how many malformed samples and
  arrivals were dropped (and forgets them).

When Locust quits, the samples still buffered are also written to ``$LAB_RAW_OUT``
(for a headless run started by hand).
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import gevent.local
import lab_workers  # shipped beside this file, and listed before it (see load_session.RECORDER_FILES)
import locust.runners
from locust import FastHttpUser, between, constant, events
from locust.runners import MasterRunner, WorkerRunner

RAW_OUT_ENV = "LAB_RAW_OUT"
CONNECTION_CLOSE_ENV = "LAB_CONNECTION_CLOSE"
# A custom Locust option, so `POST /swarm` can set it per window and the master passes it on to its workers.
CONNECTION_CLOSE_OPTION = "lab_connection_close"
REPORT_INTERVAL_S = 0.5
_lock = threading.Lock()
_samples: list[list[Any]] = []
_arrivals: list[list[Any]] = []  # the open-loop schedule log: [intended send, dispatched at (null: dropped)]
_state: dict[str, Any] = {"test_start": None, "role": "local", "reports": {}, "malformed": {}}
SAMPLE_AGE_S = 3600.0  # a sample older than this (on the master's clock) is not from this session
MAX_LATENCY_MS = 3_600_000.0
_request = gevent.local.local()  # per greenlet: the intended send time of the request it makes


def set_intended(when: float | None) -> None:
    """Mark the requests this greenlet sends from now on as scheduled for ``when`` (open loop)."""
    _request.intended = when


def record_arrival(intended: float, dispatched: float | None) -> None:
    """An arrival fell due: scheduled for ``intended``, dispatched at ``dispatched`` (None: dropped, the in-flight
    cap was full). Logged before its request leaves, so it counts even if no answer ever comes."""
    with _lock:
        _arrivals.append([intended, dispatched])

# Read on every loop of the worker's stats reporter, so setting it here takes effect at once.
locust.runners.WORKER_REPORT_INTERVAL = REPORT_INTERVAL_S


def lab_option(name: str, env: str, default: str, help: str) -> None:
    """A custom Locust option ``--name`` defaulting to ``$env``: set per window by ``POST /swarm``, and passed
    by the master to its workers with every spawn (workers elsewhere do not share its environment)."""

    @events.init_command_line_parser.add_listener
    def _on_parser(parser: Any, **_: Any) -> None:
        parser.add_argument(f"--{name.replace('_', '-')}", type=str, default=os.environ.get(env, default),
                            include_in_web_ui=False, help=help)


def option_value(environment: Any, name: str, env: str, default: str) -> str:
    """The option's value as the master set it, else ``$env``, else ``default``."""
    value = getattr(getattr(environment, "parsed_options", None), name, None)
    return str(value if value is not None else os.environ.get(env, default)).strip()


lab_option(CONNECTION_CLOSE_OPTION, CONNECTION_CLOSE_ENV, "0",
           "1: a new connection per request (the lab sets it for comparisons with N worker processes)")


def connection_close(environment: Any) -> bool:
    """Whether this window asks for a new connection per request (see LabUser)."""
    return option_value(environment, CONNECTION_CLOSE_OPTION, CONNECTION_CLOSE_ENV, "0") == "1"


def lab_headers(environment: Any, headers: dict[str, str] | None = None) -> dict[str, str]:
    """``headers`` plus ``Connection: close`` when the window asks for it."""
    out = dict(headers or {})
    if connection_close(environment):
        out["Connection"] = "close"
    return out


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        _state["role"] = "master"
    elif isinstance(runner, WorkerRunner):
        _state["role"] = "worker"
    web_ui = getattr(environment, "web_ui", None)
    if web_ui is not None:
        _add_routes(web_ui, environment)


def _add_routes(web_ui: Any, environment: Any) -> None:
    from flask import jsonify

    @web_ui.app.route("/lab/status")
    def lab_status() -> Any:
        runner = environment.runner
        clients = getattr(runner, "clients", None)
        with _lock:
            reports = dict(_state["reports"])
        connected = [node.id for node in (clients.ready + clients.spawning + clients.running)] if clients else []
        return jsonify({
            "role": _state["role"], "state": str(getattr(runner, "state", "")),
            "user_count": int(getattr(runner, "user_count", 0) or 0), "now": time.time(),
            "workers": sorted(connected), "reports": reports, "test_start": _state["test_start"],
            "user_classes": sorted(getattr(environment, "available_user_classes", None) or
                                   [c.__name__ for c in environment.user_classes]),
            "admission": lab_workers.describe(runner) if clients is not None else None,
        })

    @web_ui.app.route("/lab/drain")
    def lab_drain() -> Any:
        with _lock:
            drained = list(_samples)
            arrivals = [a if len(a) > 2 else [*a, ""] for a in _arrivals]
            _samples.clear()
            _arrivals.clear()
            reports = dict(_state["reports"])
            cpu = lab_workers.drain_cpu()
            malformed = dict(_state["malformed"])
            _state["malformed"].clear()
        return jsonify({"now": time.time(), "samples": drained, "arrivals": arrivals, "reports": reports, "cpu": cpu,
                        "malformed": malformed})


@events.test_start.add_listener
def _on_test_start(**_: Any) -> None:
    if _state["test_start"] is None:
        _state["test_start"] = time.time()


@events.request.add_listener
def _on_request(request_type: str, name: str, response_time: float, exception: Any = None, **_: Any) -> None:
    intended = getattr(_request, "intended", None)
    with _lock:
        # [completion, latency ms, ok, name, worker ("" here; the master names a worker's), intended send]
        _samples.append([time.time(), float(response_time), exception is None, f"{request_type} {name}", "", intended])


@events.report_to_master.add_listener
def _on_report_to_master(client_id: str, data: dict, **_: Any) -> None:
    with _lock:
        data["lab_samples"], data["lab_schedule"] = list(_samples), list(_arrivals)
        _samples.clear()
        _arrivals.clear()


def _shifted(when: float | None, shift: float) -> float | None:
    return None if when is None else when - shift


def _number(value: Any, low: float, high: float) -> float | None:
    """``value`` as a float inside ``[low, high]``; None for anything else (a string, NaN, a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if low <= number <= high else None


def _checked_sample(sample: Any, shift: float, client_id: str) -> list[Any] | None:
    """A worker's sample on the master's clock, or None when it is not one: even an admitted worker's
    report is data from the network, and a malformed one must not reach the figures."""
    if not isinstance(sample, (list, tuple)) or len(sample) not in (5, 6):
        return None
    now = time.time() + shift
    done, ms = _number(sample[0], now - SAMPLE_AGE_S, now + 60), _number(sample[1], 0, MAX_LATENCY_MS)
    intended = sample[5] if len(sample) > 5 else None
    intended_ok = intended is None or _number(intended, now - SAMPLE_AGE_S, now + 60) is not None
    if done is None or ms is None or not isinstance(sample[2], bool) or not isinstance(sample[3], str) \
            or not intended_ok:
        return None
    return [done - shift, ms, sample[2], lab_workers.printable(sample[3]), client_id, _shifted(intended, shift)]


def _checked_arrival(arrival: Any, shift: float, client_id: str) -> list[Any] | None:
    """A worker's arrival ``[intended send, dispatched at or null]`` on the master's clock, or None when it is not
    one (data from the network, like its samples)."""
    if not isinstance(arrival, (list, tuple)) or len(arrival) != 2:
        return None
    now = time.time() + shift
    intended = _number(arrival[0], now - SAMPLE_AGE_S, now + 60)
    dispatched = arrival[1]
    if intended is None or (dispatched is not None and _number(dispatched, now - SAMPLE_AGE_S, now + 60) is None):
        return None
    return [intended - shift, _shifted(dispatched, shift), client_id]


@events.worker_report.add_listener
def _on_worker_report(client_id: str, data: dict, **_: Any) -> None:
    shift = lab_workers.clock_shift(client_id)
    if shift is None:  # not admitted (yet): its requests do not count
        return
    raw = data.get("lab_samples") if isinstance(data.get("lab_samples"), list) else []
    checked = [_checked_sample(s, shift, client_id) for s in raw]
    schedule = data.get("lab_schedule") if isinstance(data.get("lab_schedule"), list) else []
    arrivals = [_checked_arrival(a, shift, client_id) for a in schedule]
    with _lock:
        # A worker's clock is shifted onto the master's, its intended send times too.
        _samples.extend(s for s in checked if s is not None)
        _arrivals.extend(a for a in arrivals if a is not None)
        bad = sum(1 for s in checked if s is None) + sum(1 for a in arrivals if a is None)
        if bad:
            _state["malformed"][client_id] = _state["malformed"].get(client_id, 0) + bad
        lab_workers.record_cpu(client_id, data.get("lab_cpu"))
        _state["reports"][client_id] = time.time()


@events.quitting.add_listener
def _on_quitting(**_: Any) -> None:
    path = os.environ.get(RAW_OUT_ENV)
    if not path or _state["role"] == "worker":
        return
    with _lock:
        payload = {
            "test_start": _state["test_start"],
            "role": _state["role"],
            "workers": len(_state["reports"]),
            "samples": sorted(_samples),
        }
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        json.dump(payload, fh)
    os.replace(tmp, path)


def check(response: Any) -> None:
    """Count anything but a 2xx as a failure, with the server's reason."""
    if not 200 <= response.status_code < 300:
        response.failure(f"HTTP {response.status_code}: {str(response.text)[:200]}")


class LabUser(FastHttpUser):
    """A closed-loop client: the next request leaves as soon as the last one is answered.

    CPU-bound requests cost tens to hundreds of milliseconds, so a user with no
    think time keeps one request in flight; ``users`` is the concurrency.
    """

    abstract = True
    wait_time = constant(0)
    # Generous: a saturated 1-core server with many users queues requests for seconds.
    network_timeout = 120.0
    connection_timeout = 10.0

    # Comparisons with N worker processes send a new connection per request, on every side,
    # so the kernel spreads requests over the workers as many clients or a balancer would.
    # With keep-alive, a few users' connections can all land on one worker (the lab marks
    # such a window invalid). On loopback a connection costs well under a millisecond.
    def get(self, path: str, name: str | None = None, **kwargs: Any) -> None:
        headers = lab_headers(self.environment, kwargs.pop("headers", None))
        with self.client.get(path, name=name or path, catch_response=True, headers=headers, **kwargs) as response:
            check(response)

    def post(self, path: str, data: bytes, content_type: str, name: str | None = None, **kwargs: Any) -> None:
        headers = lab_headers(self.environment, {"Content-Type": content_type, **kwargs.pop("headers", {})})
        with self.client.post(path, data=data, headers=headers, name=name or path, catch_response=True,
                              **kwargs) as response:
            check(response)


__all__ = ["LabUser", "between", "check", "constant", "lab_headers", "lab_option", "option_value", "record_arrival",
           "set_intended"]
