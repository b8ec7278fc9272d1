"""Reading ``GET /lab/runtime``: the server's own account of its interpreter and GIL state.

The lab asks before and after every measured window. The answer comes from the
app's process, so it is checked like any outside input: keys the lab does not know
are ignored (a newer app may add some), a missing or mistyped key is a
:class:`~loadtests.core.errors.ServerError` naming it.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from typing import Any

import psutil

from loadtests.core.credentials import split_credentials
from loadtests.core.direct_http import open_direct
from loadtests.core.errors import ServerError
from loadtests.core.untrusted import printable
from loadtests.results.record import RecordError
from loadtests.results.records import RuntimeSnapshot

RUNTIME_PATH = "/lab/runtime"
# What polling /lab/runtime raises while an app is still starting (or gone).
NOT_ANSWERING = (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError, OSError)
_KNOWN = {f.name for f in dataclasses.fields(RuntimeSnapshot)}


def parse_runtime(body: Any, url: str) -> RuntimeSnapshot:
    """The answer as a record; ServerError when it is not the lab's runtime document."""
    if not isinstance(body, dict):
        raise ServerError(f"{url} did not answer a JSON object (got {type(body).__name__}): is the lab's layer "
                          "in front of the app?")
    try:
        return RuntimeSnapshot.from_json({k: _cleaned(v) for k, v in body.items() if k in _KNOWN}, path=url)
    except RecordError as exc:
        raise ServerError(f"{url} answered an unexpected document: {exc}") from None


def _cleaned(value: Any) -> Any:
    """Every string of an answer (module names, versions, paths) with control characters escaped: it reaches the
    terminal, run.json and the reports, and an app the lab did not start (``--app-url``) may say anything."""
    if isinstance(value, str):
        return printable(value, limit=2000)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {printable(k, limit=2000) if isinstance(k, str) else k: _cleaned(v) for k, v in value.items()}
    return value


def fetch_json(url: str, timeout: float = 5.0) -> Any:
    """GET ``url``; a ``user:password@`` in it becomes an Authorization header (urllib would take it for the host)."""
    plain, authorization = split_credentials(url)
    request = urllib.request.Request(plain, headers={"Authorization": authorization} if authorization else {})
    with open_direct(request, timeout) as response:  # the lab's own call: never through a proxy
        return json.loads(response.read())


def fetch_runtime(base_url: str, timeout: float = 5.0) -> RuntimeSnapshot:
    """``GET /lab/runtime``. Connection problems raise the NOT_ANSWERING errors; a bad answer ServerError."""
    url = base_url.rstrip("/") + RUNTIME_PATH
    return parse_runtime(fetch_json(url, timeout), url)


def answers_from(runtime_pid: int, server_pid: int) -> bool:
    """Whether the process that answered ``/lab/runtime`` is the server the lab started or one of its children.

    uvicorn's, granian's and hypercorn's worker processes answer from children of the
    server's process; anything else on the port (another lab's server that took it
    first) is not the server this lab measures.
    """
    if runtime_pid == server_pid:
        return True
    try:
        return any(parent.pid == server_pid for parent in psutil.Process(runtime_pid).parents())
    except psutil.Error:  # gone, or not visible from here
        return False


INFLIGHT_PATH = "/lab/inflight"


def fetch_in_flight(base_url: str, timeout: float = 2.0) -> int | None:
    """How many app requests the answering process serves now; None when the app cannot say (or is gone)."""
    try:
        body = fetch_json(base_url.rstrip("/") + INFLIGHT_PATH, timeout)
    except (*NOT_ANSWERING, urllib.error.HTTPError):
        return None
    value = body.get("in_flight") if isinstance(body, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
