"""uvicorn: one process per worker, one event loop each, on both interpreters; --http picks its parser."""

from __future__ import annotations

from loadtests.core.server_launch import Launch
from loadtests.core.server_spec import ServerSpec


def command(launch: Launch) -> list[str]:
    return [str(launch.python), "-m", "uvicorn", launch.target, "--host", launch.host, "--port", str(launch.port),
            "--workers", str(launch.workers), "--http", launch.http, "--loop", launch.loop,
            "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "5"]


SERVER = ServerSpec(
    name="uvicorn",
    description="one process per worker, one event loop each",
    distribution="uvicorn",
    # --http auto uses httptools when it imports; releases before 0.8 turn the GIL back on under 3.14t.
    requirements=("uvicorn>=0.35", "httptools>=0.8"),
    workers_with_gil="processes",
    workers_free_threaded="processes",
    command=command,
)
