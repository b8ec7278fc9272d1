"""hypercorn: pure Python (h11 parses HTTP/1). Its workers are processes, and even one runs in a child.

The process the lab starts binds the port, then spawns the workers and waits on them,
so the app (and /lab/runtime) answers from a child; the lab samples the whole tree.
"""

from __future__ import annotations

from loadtests.core.server_launch import Launch
from loadtests.core.server_spec import ServerSpec


def command(launch: Launch) -> list[str]:
    host = f"[{launch.host}]" if ":" in launch.host else launch.host
    worker_class = "uvloop" if launch.loop == "uvloop" else "asyncio"  # its default, also for --loop auto
    return [launch.script("hypercorn"), "--bind", f"{host}:{launch.port}", "--workers", str(launch.workers),
            "--worker-class", worker_class, "--log-level", "warning", "--graceful-timeout", "5", launch.target]


SERVER = ServerSpec(
    name="hypercorn",
    description="pure Python; one child process per worker, one event loop each",
    distribution="hypercorn",
    requirements=("hypercorn>=0.17",),
    workers_with_gil="processes",
    workers_free_threaded="processes",
    command=command,
    http_parser="h11 (pure Python)",
)
