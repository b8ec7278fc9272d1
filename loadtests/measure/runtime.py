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

from loadtests.core.errors import ServerError
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
        return RuntimeSnapshot.from_json({k: v for k, v in body.items() if k in _KNOWN}, path=url)
    except RecordError as exc:
        raise ServerError(f"{url} answered an unexpected document: {exc}") from None


def fetch_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback or the user's URL
        return json.loads(response.read())


def fetch_runtime(base_url: str, timeout: float = 5.0) -> RuntimeSnapshot:
    """``GET /lab/runtime``. Connection problems raise the NOT_ANSWERING errors; a bad answer ServerError."""
    url = base_url.rstrip("/") + RUNTIME_PATH
    return parse_runtime(fetch_json(url, timeout), url)


INFLIGHT_PATH = "/lab/inflight"


def fetch_in_flight(base_url: str, timeout: float = 2.0) -> int | None:
    """How many app requests the answering process serves now; None when the app cannot say (or is gone)."""
    try:
        body = fetch_json(base_url.rstrip("/") + INFLIGHT_PATH, timeout)
    except (*NOT_ANSWERING, urllib.error.HTTPError):
        return None
    value = body.get("in_flight") if isinstance(body, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
