"""``gil-lab serve``: one server for manual exploration, until it is stopped."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loadtests.core.errors import ConfigError, EnvironmentUnavailable, ServerError
from loadtests.core.flavour import by_role
from loadtests.core.paths import results_dir
from loadtests.core.servers import DEFAULT_SERVER
from loadtests.measure.servers import LOOPBACK, RunningServer, ServerSettings, running_server
from loadtests.provision import env_lock, envs
from loadtests.provision.process_env import add_lab_address
from loadtests.provision.provisioning import load_interpreters
from loadtests.workflow.service import BUILTIN_APP, ServiceRequest, check_inputs, environments
from loadtests.workflow.service import wanted as service_wanted


@dataclass(frozen=True)
class ServeRequest:
    interpreter: str = "ft"  # role: gil or ft
    server: str = DEFAULT_SERVER
    workers: int = 1
    threads: int = 8
    port: int | None = 8000  # None: a free port
    python_gil: str | None = None
    routes_dirs: tuple[str, ...] = ()
    expose_host: str | None = None
    http: str = "auto"
    loop: str = "auto"
    service: ServiceRequest = ServiceRequest()  # a team's app, its directory and requirements


def serve(request: ServeRequest, on_ready: Callable[[RunningServer, Path], None],
          progress: Callable[[str], None] = lambda _line: None) -> None:
    """Start the server, call ``on_ready``, and block until it exits (an error) or Ctrl-C (a clean stop)."""
    flavour = by_role(request.interpreter)
    if request.python_gil not in flavour.python_gil_values:
        raise ConfigError("--python-gil applies to the free-threaded interpreter only (PYTHON_GIL=0 is a fatal error "
                          "on a GIL build).")
    routes = tuple(str(Path(d).resolve()) for d in request.routes_dirs)
    python, app, app_dir = envs.app_python(flavour.env_name), BUILTIN_APP, None
    if service_wanted(request.service, routes):
        inputs = check_inputs(request.service, routes, progress)
        env = environments(inputs, load_interpreters(), progress)[0][flavour.label]
        if env.python is None:
            raise EnvironmentUnavailable(f"no {flavour.label} environment for {inputs.app}: {env.why_unavailable}")
        python, app, app_dir = Path(env.python), inputs.app, None if inputs.builtin else str(inputs.app_dir)
    settings = ServerSettings(server=request.server, python=python, workers=request.workers,
                              threads=request.threads, http=request.http, loop=request.loop,
                              python_gil=request.python_gil, port=request.port, host=request.expose_host or LOOPBACK,
                              app=app, app_dir=app_dir, routes_dirs=routes)
    add_lab_address(settings.host)  # a proxy the app is given (--pass-env) never carries requests to itself
    log = results_dir() / "serve" / f"{request.server}-{request.interpreter}.log"
    with env_lock.using([Path(python).parent.parent]), running_server(settings, log) as running:
        on_ready(running, log)
        try:
            while running.exit_code() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            return
        raise ServerError(f"the server exited with status {running.exit_code()}:\n{running.log_tail()}")
