"""Real servers on loopback for the app's tests: start one in its own process group, wait, stop it for sure."""

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
from contextlib import contextmanager
from pathlib import Path

import pytest

from loadtests.core.server_launch import Launch
from loadtests.core.servers import server_named

from .conftest import PROJECT_ROOT, clean_env

READY_TIMEOUT_S = 60.0
LAYER = "gil_lab_layer.serve:app"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str) -> tuple[int, bytes]:
    """Status and body of a GET, 4xx/5xx included."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get_json(url: str) -> object:
    status, body = get(url)
    assert status == 200, (url, status, body)
    return json.loads(body)


def server_command(server: str, port: int) -> list[str]:
    """The layer under ``server``, with the command line its declaration gives the lab (loadtests/core/servers/)."""
    launch = Launch(Path(sys.executable), LAYER, "127.0.0.1", port, workers=1, http="auto", loop="auto")
    return server_named(server).command(launch)


@contextmanager
def running(
    server: str, env: dict[str, str], cwd: Path = PROJECT_ROOT, lab_on_path: bool = True
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start ``server`` serving the layer with ``env`` added to a clean environment; yield its URL.

    ``lab_on_path=False`` drops the repository from PYTHONPATH, as the lab does for a team's app.
    """
    port = free_port()
    base = clean_env()
    if not lab_on_path:
        del base["PYTHONPATH"]
    process = subprocess.Popen(server_command(server, port), cwd=cwd, env={**base, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
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
    """Poll /lab/runtime until it answers; fail at once with the server's output if it died."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"the server exited with {process.returncode}:\n{output}")
        try:
            runtime = get_json(url + "/lab/runtime")
            assert isinstance(runtime, dict)
            return runtime
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    pytest.fail(f"the server did not answer within {READY_TIMEOUT_S:.0f}s")
