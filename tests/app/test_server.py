"""A real uvicorn process serves the app on loopback, as the lab starts it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from app.workloads.compute_work import pure

from .conftest import PROJECT_ROOT, clean_env

READY_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
        return json.loads(response.read())


@pytest.fixture
def uvicorn_url() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=clean_env({"LAB_THREADS": "4"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> dict[str, object]:
    """Poll until the app answers; fail at once with the server's output if it died."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"uvicorn exited with {process.returncode}:\n{output}")
        try:
            runtime = get_json(url + "/lab/runtime")
            assert isinstance(runtime, dict)
            return runtime
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    pytest.fail(f"uvicorn did not answer within {READY_TIMEOUT_S:.0f}s")


def test_uvicorn_serves_the_runtime(uvicorn_url: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, process = uvicorn_url
    runtime = wait_ready(url, process)
    assert runtime["pid"] == process.pid
    assert runtime["thread_limit"] == 4
    assert runtime["server"] == {"name": "uvicorn", "version": runtime["packages"]["uvicorn"]}  # type: ignore[index]
    assert runtime["gil_enabled"] is not runtime["free_threaded"]
    assert runtime["gil_enabled_by"] == []
    assert get_json(url + "/compute/pure?n=1000") == {"n": 1000, "result": pure(1000)}
