"""Shared plumbing for the lab's Locust scenarios.

Locust's own CSV and HTML files cover the whole run, warm-up included, and its
percentiles are bucketed. The lab needs exact figures for the *measured window*
only, so every request is also recorded raw: (completion time, latency, ok, name).
Each scenario imports this module, which registers the recorder on Locust's events.

- Single process: requests are recorded where they happen.
- Master/worker (``--master`` / ``--worker``, on one machine or several): workers
  ship their samples to the master with every stats report, so the master's file is
  complete and results are identical in form whatever the topology.

The file is written to ``$LAB_RAW_OUT`` when Locust quits.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from locust import FastHttpUser, between, constant, events
from locust.runners import MasterRunner, WorkerRunner

RAW_OUT_ENV = "LAB_RAW_OUT"
CONNECTION_CLOSE_ENV = "LAB_CONNECTION_CLOSE"
_lock = threading.Lock()
_samples: list[list[Any]] = []
_state: dict[str, Any] = {"test_start": None, "role": "local", "workers": set()}


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        _state["role"] = "master"
    elif isinstance(runner, WorkerRunner):
        _state["role"] = "worker"


@events.test_start.add_listener
def _on_test_start(**_: Any) -> None:
    if _state["test_start"] is None:
        _state["test_start"] = time.time()


@events.request.add_listener
def _on_request(request_type: str, name: str, response_time: float, exception: Any = None, **_: Any) -> None:
    with _lock:
        _samples.append([time.time(), float(response_time), exception is None, f"{request_type} {name}"])


@events.report_to_master.add_listener
def _on_report_to_master(client_id: str, data: dict, **_: Any) -> None:
    with _lock:
        data["lab_samples"] = list(_samples)
        _samples.clear()


@events.worker_report.add_listener
def _on_worker_report(client_id: str, data: dict, **_: Any) -> None:
    with _lock:
        _samples.extend(data.get("lab_samples", []))
        _state["workers"].add(client_id)


@events.quitting.add_listener
def _on_quitting(**_: Any) -> None:
    path = os.environ.get(RAW_OUT_ENV)
    if not path or _state["role"] == "worker":
        return
    with _lock:
        payload = {
            "test_start": _state["test_start"],
            "role": _state["role"],
            "workers": len(_state["workers"]),
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
    # N-process cells: a new connection per request, so the kernel spreads requests over
    # the worker processes as many clients or a balancer would. With keep-alive, a few
    # users' connections can all land on one worker (the lab marks such a cell invalid).
    # On loopback a connection costs well under a millisecond against ~80 ms requests.
    default_headers = {"Connection": "close"} if os.environ.get(CONNECTION_CLOSE_ENV) == "1" else None
    # Generous: a saturated 1-core server with many users queues requests for seconds.
    network_timeout = 120.0
    connection_timeout = 10.0

    def get(self, path: str, name: str | None = None, **kwargs: Any) -> None:
        with self.client.get(path, name=name or path, catch_response=True, **kwargs) as response:
            check(response)

    def post(self, path: str, data: bytes, content_type: str, name: str | None = None, **kwargs: Any) -> None:
        headers = {"Content-Type": content_type}
        with self.client.post(path, data=data, headers=headers, name=name or path, catch_response=True,
                              **kwargs) as response:
            check(response)


__all__ = ["LabUser", "between", "constant", "check"]
