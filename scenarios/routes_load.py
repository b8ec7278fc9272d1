"""routes: drive drop-in routes from the load specs the app serves, no locustfile needed.

At test start each Locust process fetches ``GET /lab/loads`` once and keeps the specs
whose ``module`` equals ``--lab-load-module`` (default ``$LAB_LOAD_MODULE``; unset or
empty: every drop-in module). It is a Locust option so that the master passes it on to
workers on other machines, which do not share its environment.
Each user then sends one request after another, picking specs in proportion to their
``weight``. ``gil-lab compare --scenario orders`` runs this file with
``LAB_LOAD_MODULE=orders``.

``GET /lab/loads`` answers a JSON array, one object per ``LoadRequest`` of every
drop-in module (``app/loadspec.py`` builds it)::

    [
      {
        "module": "orders",            # the module's short name: its file stem
        "name": "GET /orders/summary", # Locust's statistics name
        "method": "GET",
        "path": "/orders/summary",     # no query string here
        "query": {"orders": 1500},     # str | int | float | bool values
        "headers": {},
        "json": null,                  # a JSON body, sent as application/json ...
        "body": null,                  # ... or a text body ...
        "body_base64": null,           # ... or a binary body, base64-encoded
        "content_type": null,          # Content-Type of the body, if any
        "weight": 3,                   # integer >= 1
        "expect": 200                  # the status that counts as success
      }
    ]

A response counts as a failure unless its status equals ``expect``. If the app
serves no matching spec, or cannot be reached, Locust logs why and quits with exit
code 1 before sending any load.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import gevent
from lab_support import LabUser, lab_headers, lab_option, option_value
from locust import events, task
from locust.exception import StopUser

LOAD_MODULE_ENV = "LAB_LOAD_MODULE"
LOAD_MODULE_OPTION = "lab_load_module"
LOADS_PATH = "/lab/loads"
FETCH_TIMEOUT_S = 30.0

log = logging.getLogger(__name__)


class NoLoadSpecs(Exception):
    """The app offers nothing this scenario can send; the message says why."""


@dataclass(frozen=True)
class Spec:
    """One request, ready to send: URL with its query, encoded body and headers."""

    name: str
    method: str
    url: str
    body: bytes | None
    headers: dict[str, str]
    weight: int
    expect: int


def _query_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _body(item: dict[str, Any]) -> bytes | None:
    if item.get("json") is not None:
        return json.dumps(item["json"]).encode()
    if item.get("body") is not None:
        return str(item["body"]).encode()
    if item.get("body_base64") is not None:
        return base64.b64decode(item["body_base64"])
    return None


def to_spec(item: dict[str, Any]) -> Spec:
    """A ``/lab/loads`` entry as a request; KeyError/ValueError if it is malformed."""
    query = {key: _query_value(value) for key, value in (item.get("query") or {}).items()}
    url = item["path"] + (f"?{urlencode(query)}" if query else "")
    headers = dict(item.get("headers") or {})
    if item.get("content_type"):
        headers["Content-Type"] = item["content_type"]
    weight = int(item.get("weight", 1))
    if weight < 1:
        raise ValueError(f"weight must be >= 1, got {weight}")
    method = str(item.get("method", "GET")).upper()
    return Spec(item.get("name") or f"{method} {item['path']}", method, url, _body(item), headers, weight,
                int(item.get("expect", 200)))


def select(loads: list[dict[str, Any]], module: str) -> list[Spec]:
    """The specs of ``module`` (all when empty), or NoLoadSpecs naming what is available."""
    chosen = [item for item in loads if not module or item.get("module") == module]
    if not chosen:
        available = sorted({str(item.get("module")) for item in loads})
        wanted = f"drop-in module {module!r}" if module else "any drop-in module"
        raise NoLoadSpecs(f"{LOADS_PATH} has no load spec for {wanted}; modules with specs: "
                          f"{', '.join(available) or 'none'}. Export LOAD = [LoadRequest(...)] from the module.")
    try:
        return [to_spec(item) for item in chosen]
    except (KeyError, TypeError, ValueError) as error:
        raise NoLoadSpecs(f"{LOADS_PATH} served a malformed spec: {type(error).__name__}: {error}") from None


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch(host: str | None) -> list[dict[str, Any]]:
    if not host:
        raise NoLoadSpecs("no host: start Locust with --host http://127.0.0.1:PORT")
    url = host.rstrip("/") + LOADS_PATH
    try:
        # the lab's server: never through a proxy, whatever the environment says
        with _DIRECT.open(url, timeout=FETCH_TIMEOUT_S) as response:
            loads = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise NoLoadSpecs(f"cannot read {url}: {error}") from None
    if not isinstance(loads, list):
        raise NoLoadSpecs(f"{url} did not answer a JSON array")
    return loads


_specs: list[Spec] = []


lab_option(LOAD_MODULE_OPTION, LOAD_MODULE_ENV, "", "The drop-in module whose load specs to send (empty: every module)")


def load_module(environment: Any) -> str:
    """The module to drive: the master's option (workers get it with their spawn message), else the environment."""
    return option_value(environment, LOAD_MODULE_OPTION, LOAD_MODULE_ENV, "")


@events.test_start.add_listener
def _load_specs(environment: Any, **_: Any) -> None:
    """Fetch once per process; on failure say why and stop Locust with exit code 1."""
    module = load_module(environment)
    try:
        _specs[:] = select(fetch(environment.host), module)
    except NoLoadSpecs as error:
        _specs.clear()
        log.error("routes scenario: %s", error)
        environment.process_exit_code = 1
        if environment.runner is not None:
            gevent.spawn(environment.runner.quit)


class RoutesUser(LabUser):
    """Sends the app's own load specs, weighted, back to back."""

    @task
    def send(self) -> None:
        if not _specs:
            raise StopUser()  # quietly: the test_start listener has logged why and is stopping Locust
        spec = random.choices(_specs, weights=[spec.weight for spec in _specs])[0]
        with self.client.request(spec.method, spec.url, name=spec.name, data=spec.body,
                                 headers=lab_headers(self.environment, spec.headers),
                                 catch_response=True) as response:
            if response.status_code != spec.expect:
                response.failure(f"HTTP {response.status_code} (expected {spec.expect}): {str(response.text)[:200]}")
