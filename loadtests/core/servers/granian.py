"""granian: an HTTP core in Rust. Worker processes on 3.14; worker threads, an event loop each, on 3.14t."""

from __future__ import annotations

from loadtests.core.server_launch import Launch
from loadtests.core.server_spec import GilRefusal, ServerSpec


def command(launch: Launch) -> list[str]:
    return [launch.script("granian"), "--interface", "asgi", "--host", launch.host, "--port", str(launch.port),
            "--workers", str(launch.workers), "--http", "1", "--loop", launch.loop, "--no-ws",
            "--log-level", "warning", "--workers-kill-timeout", "5", "--no-respawn-failed-workers", launch.target]


SERVER = ServerSpec(
    name="granian",
    description="worker processes on 3.14, worker threads with an event loop each on 3.14t",
    distribution="granian",
    requirements=("granian>=2.5",),
    workers_with_gil="processes",
    workers_free_threaded="threads",
    command=command,
    http_parser="its own, in Rust",
    # It checks the GIL after importing the app and exits when it is on (PYTHON_GIL=1 or a GIL-enabling import).
    gil_refusal=GilRefusal(log_line="Cannot run a free-threaded Granian build with GIL enabled",
                           reason="granian refuses to run a free-threaded build with the GIL enabled"),
)
