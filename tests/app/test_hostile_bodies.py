"""Hostile bodies against a real server: its memory stays within the bound docs/app.md states.

Before the fix, a 4 MiB ``[0,0,...]`` body made pydantic build two million validation
errors (over 2 GB) before the 422 showed three, and ``/orders/quote`` read any body whole.
"""

from __future__ import annotations

import http.client
import urllib.parse
from pathlib import Path

from app.routes.orders import QUOTE_BODY_MAX
from app.workloads.json_work import MAX_BODY

from .servers import running, wait_ready

MiB = 1024 * 1024
#: The bound docs/app.md states: the most one hostile request adds to the server's peak memory.
HOSTILE_BODY_BOUND_MIB = 160


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def _post(url: str, path: str, body: bytes) -> tuple[int, bytes]:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _filled(item: bytes, size: int) -> bytes:
    """A JSON array of ``item`` as long as fits in ``size`` bytes."""
    return b"[" + b",".join([item] * ((size - 2) // (len(item) + 1))) + b"]"


def test_a_4_mib_hostile_body_leaves_memory_within_the_documented_bound() -> None:
    with running("uvicorn", {"LAB_THREADS": "2"}) as (url, process):
        runtime = wait_ready(url, process)
        pid = int(runtime["pid"])  # type: ignore[call-overload]
        status, _ = _post(url, "/json/parse", _filled(b"0", 1024))  # first request: the route's code is loaded
        assert status == 422
        idle = _kib(pid, "VmRSS")
        for item in (b"0", b"{}"):
            status, body = _post(url, "/json/parse", _filled(item, MAX_BODY))
            assert status == 422, body[:300]
            assert b"stops at the first invalid record" in body
        grown_mib = (_kib(pid, "VmHWM") - idle) / 1024
        print(f"peak memory grew {grown_mib:.0f} MiB for the two 4 MiB bodies (bound {HOSTILE_BODY_BOUND_MIB} MiB)")
        assert grown_mib <= HOSTILE_BODY_BOUND_MIB, f"peak memory grew {grown_mib:.0f} MiB"


def test_orders_quote_refuses_a_body_over_its_cap_before_reading_it_whole() -> None:
    with running("uvicorn", {}) as (url, process):
        wait_ready(url, process)
        status, body = _post(url, "/orders/quote", b'{"lines": [' + b" " * (4 * MiB) + b"]}")
        assert status == 413, body[:300]
        assert str(QUOTE_BODY_MAX).encode() in body
        basket = b'{"country": "DE", "lines": [{"sku": "A", "qty": 2, "unit_cents": 100}]}'
        assert _post(url, "/orders/quote", basket)[0] == 200
