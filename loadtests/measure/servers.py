"""Launch the app under a server, as a user would, and tear it down for sure.

A server is a context manager (``running_server``): it starts the real server
command in its own process group on a free loopback port, polls ``/lab/runtime``
until the app answers (never a fixed sleep), captures the output to a log file, can
tell whether the server has crashed, and on exit sends SIGTERM to the whole group,
waits, then SIGKILL. Nothing it started outlives it: not on a normal exit, not on
Ctrl-C, not when the server crashed, and not when the lab itself is killed: the
server runs behind a supervisor (supervisor.py) that stops its group once the lab
is gone.

What to launch comes from the server's declaration (``loadtests/core/servers/``): its
command line, how many processes must answer before it is ready (its worker model on
this interpreter), and how it says that it refuses a free-threaded build with the GIL
on (``ServerRefused``). Nothing here knows a server by name. The app may answer from
a child of the process the lab started (hypercorn, uvicorn with several workers):
readiness counts the processes that answer, and sampling reads the whole tree.

Every server gets a fault directory beside its log (``fault_files.py``): its processes
write faulthandler's output and their requests in flight there, so a crash or a hang
leaves its traceback and what was being served, whatever happens to the server's output.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.core.credentials import without_credentials
from loadtests.core.errors import ConfigError, ServerError, ServerRefused
from loadtests.core.flavour import FT, GIL
from loadtests.core.paths import PROJECT_ROOT
from loadtests.core.server_launch import Launch
from loadtests.core.servers import DEFAULT_SERVER, ServerSpec, server_named
from loadtests.measure import supervisor
from loadtests.measure.fault_files import FAULTS_DIR_ENV, FaultWatch, faults_dir
from loadtests.measure.ports import ATTEMPTS, free_port, lost_the_port
from loadtests.measure.runtime import NOT_ANSWERING, answers_from, fetch_in_flight, fetch_runtime
from loadtests.measure.supervised import Supervised, supervised
from loadtests.provision.process_env import child_env
from loadtests.results.records import EVENT_LOOPS, HTTP_PARSERS, RuntimeSnapshot

LOOPBACK = "127.0.0.1"
READY_TIMEOUT_S = 60.0
STOP_GRACE_S = 10.0


@dataclass(frozen=True)
class ServerSettings:
    """Everything that defines one server launch. Same settings, same server."""

    server: str = DEFAULT_SERVER  # a name from the registry (loadtests/core/servers/)
    python: Path = Path(".envs/app-gil/bin/python")  # the app environment's interpreter
    workers: int = 1
    threads: int = 8  # LAB_THREADS: anyio's thread limit per event loop
    http: str = "auto"  # the HTTP/1 parser where the server lets you choose: auto|h11|httptools
    loop: str = "auto"  # auto|asyncio|uvloop
    python_gil: str | None = None  # PYTHON_GIL for the server only: None, "0" or "1"
    app: str = "app.main:app"  # LAB_APP: what the layer (gil_lab_layer.serve:app) imports and serves
    app_dir: str | None = None  # LAB_APP_DIR for a team's own app; None: the built-in app, from the repository
    host: str = LOOPBACK
    port: int | None = None  # None: pick a free port
    routes_dirs: tuple[str, ...] = ()
    cpus: tuple[int, ...] | None = None  # pin the server to these CPUs (taskset)
    extra_env: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        server_named(self.server)
        if self.workers < 1 or self.threads < 1:
            raise ConfigError("workers and threads must be at least 1")
        if self.http not in HTTP_PARSERS or self.loop not in EVENT_LOOPS:
            raise ConfigError(f"--http takes {', '.join(HTTP_PARSERS)} and --loop {', '.join(EVENT_LOOPS)}")
        if self.python_gil not in (None, "0", "1"):
            raise ConfigError(f"PYTHON_GIL must be unset, 0 or 1, not {self.python_gil!r}")

    @property
    def spec(self) -> ServerSpec:
        """The server's declaration."""
        return server_named(self.server)


# Every server runs the lab's ASGI layer, which imports the app named by LAB_APP and wraps it.
LAYER_TARGET = "gil_lab_layer.serve:app"


def command(settings: ServerSettings, port: int) -> list[str]:
    """The exact command line a user would type to start this server (its declaration's)."""
    args = settings.spec.command(Launch(Path(settings.python), LAYER_TARGET, settings.host, port, settings.workers,
                                        settings.http, settings.loop))
    if settings.cpus:
        args = ["taskset", "-c", ",".join(map(str, settings.cpus)), *args]
    return args


def environment(settings: ServerSettings, server_version: str | None = None,
                faults: Path | None = None) -> dict[str, str]:
    """The server's environment: clean of any PYTHON_GIL, plus the lab's own settings (and its fault directory).

    The built-in app is imported from the repository (PYTHONPATH); a team's app only
    from its own directory, so nothing of the lab's shadows its packages.
    """
    extra = {
        "LAB_THREADS": str(settings.threads),
        "LAB_SERVER": settings.server,
        "LAB_APP": settings.app,
        "LAB_APP_DIR": settings.app_dir or str(PROJECT_ROOT),
        **({} if settings.app_dir else {"PYTHONPATH": str(PROJECT_ROOT)}),
        "PYTHONUNBUFFERED": "1",
        **dict(settings.extra_env),
    }
    if server_version:
        extra["LAB_SERVER_VERSION"] = server_version
    if faults is not None:
        extra[FAULTS_DIR_ENV] = str(faults)
    if settings.routes_dirs:
        extra["LAB_ROUTES_DIR"] = os.pathsep.join(settings.routes_dirs)
    if settings.python_gil is not None:
        extra["PYTHON_GIL"] = settings.python_gil
    return child_env(extra)


@dataclass
class RunningServer:
    """A started server: where it listens and how to check on it."""

    settings: ServerSettings
    process: Supervised  # the server's own pid and exit status, behind its supervisor
    port: int
    log_path: Path
    runtime: RuntimeSnapshot | None = None  # /lab/runtime at readiness
    ready_pids: set[int] = field(default_factory=set)  # the worker processes that answered before load started
    faults: FaultWatch | None = None  # what its processes leave when they crash or hang

    @property
    def base_url(self) -> str:
        # A wildcard bind (--expose 0.0.0.0) is still probed, and loaded, over loopback.
        host = LOOPBACK if self.settings.host in ("0.0.0.0", "::") else self.settings.host
        return f"http://{host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def exit_code(self) -> int | None:
        """None while the server runs; its exit status once it has died."""
        return self.process.poll()

    def fetch_runtime(self, timeout: float = 5.0) -> RuntimeSnapshot:
        return fetch_runtime(self.base_url, timeout)

    def fetch_in_flight(self, timeout: float = 2.0) -> int | None:
        return fetch_in_flight(self.base_url, timeout)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def stop_group(process: subprocess.Popen, grace: float = STOP_GRACE_S) -> None:
    """SIGTERM the process group, wait up to ``grace`` seconds, then SIGKILL what is left.

    For a command started with plain ``Popen(start_new_session=True)``; the lab's own
    servers and Locust run under a supervisor, which does the same.
    """
    supervisor.stop_group(process, grace)


def wait_ready(server: RunningServer, timeout: float = READY_TIMEOUT_S) -> RuntimeSnapshot:
    """Poll /lab/runtime until every worker process answers; fail fast if the server dies first.

    The one place that decides whether a server the lab started is ready: each answer
    names the pid that gave it, and the server counts as ready once as many distinct
    processes have answered as its worker model promises on this interpreter.
    """
    deadline = time.monotonic() + timeout
    delay = 0.05
    last_error: Exception | None = None
    answered = server.ready_pids  # pids of the worker processes seen so far
    spec = server.settings.spec
    while time.monotonic() < deadline:
        code = server.exit_code()
        if code is not None:
            tail = server.log_tail()
            refusal = spec.refusal_in(tail)
            if refusal:
                raise ServerRefused(f"{refusal}: it exited with status {code} before it was ready. "
                                    f"Last lines of {server.log_path}:\n{tail}")
            raise ServerError(f"{spec.name} exited with status {code} before it was ready. "
                              f"Last lines of {server.log_path}:\n{tail}")
        try:
            runtime = server.fetch_runtime(timeout=2.0)
        except NOT_ANSWERING as exc:
            last_error = exc
        else:
            if not answers_from(runtime.pid, server.pid):  # another lab's server on this port: not ours to measure
                last_error = ServerError(f"port {server.port} is answered by pid {runtime.pid}, which this lab did "
                                         "not start")
                time.sleep(delay)
                continue
            answered.add(runtime.pid)
            expected = worker_processes(server.settings, runtime.free_threaded)
            if len(answered) >= expected:
                return runtime
            last_error = ServerError(f"{len(answered)} of {expected} worker processes answered")
            delay = 0.02  # new connections land on whichever worker accepts first: ask again soon
            continue
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
    raise ServerError(f"{spec.name} did not answer /lab/runtime within {timeout:.0f}s "
                      f"({last_error}). Last lines of {server.log_path}:\n{server.log_tail()}")


def worker_processes(settings: ServerSettings, free_threaded: bool) -> int:
    """How many processes must answer before the server counts as ready.

    With several worker processes, load must not start while one of them is still
    importing the app: Locust's keep-alive connections would all land on the first
    worker and the "N processes" cell would measure one. Workers that are threads
    share one pid, so one answer is all there is.
    """
    return settings.spec.answering_processes(FT if free_threaded else GIL, settings.workers)


@contextmanager
def running_server(settings: ServerSettings, log_path: Path, server_version: str | None = None,
                   ready_timeout: float = READY_TIMEOUT_S) -> Iterator[RunningServer]:
    """Start a server, wait until the app answers, yield it, and always tear it down."""
    if not Path(settings.python).exists():
        raise ConfigError(f"app interpreter {settings.python} does not exist. Run `make setup`.")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    watch = FaultWatch(faults_dir(log_path))
    for attempt in range(1, ATTEMPTS + 1):
        port = settings.port or free_port(settings.host)
        args = command(settings, port)
        with log_path.open("ab") as log:
            log.write(f"$ {' '.join(args)}\n".encode())
            log.flush()
            # A team's app starts in its own directory, as it would without the lab (relative paths, config files).
            process = supervised(args, cwd=settings.app_dir or PROJECT_ROOT,
                                 env=environment(settings, server_version, watch.directory), output=log,
                                 grace=STOP_GRACE_S)
        server = RunningServer(settings, process, port, log_path, faults=watch)
        try:
            server.runtime = wait_ready(server, ready_timeout)
            break
        except ServerError:
            process.stop(STOP_GRACE_S)
            # another process took the port between its choice and the bind: a fresh port, unless it was named
            if settings.port or attempt == ATTEMPTS or not lost_the_port(server.log_tail()):
                raise
    try:
        yield server
    finally:
        process.stop(STOP_GRACE_S)


@dataclass
class ExternalServer:
    """An app the lab did not start (a container, another machine), loaded through its URL.

    It has RunningServer's interface, but the lab cannot see its processes: no pid, no
    CPU or RSS samples, and a crash shows only as /lab/runtime no longer answering.
    """

    url: str
    runtime: RuntimeSnapshot | None = None
    pid: None = None
    faults: None = None  # its files, if any, are on its own machine

    @property
    def base_url(self) -> str:
        return self.url.rstrip("/")

    def exit_code(self) -> int | None:
        return None

    def fetch_runtime(self, timeout: float = 5.0) -> RuntimeSnapshot:
        return fetch_runtime(self.base_url, timeout)

    def fetch_in_flight(self, timeout: float = 2.0) -> int | None:
        return fetch_in_flight(self.base_url, timeout)

    def log_tail(self, lines: int = 30) -> str:
        return f"(external app at {without_credentials(self.base_url)}: its log is wherever it runs)"


def external_server(url: str, timeout: float = READY_TIMEOUT_S) -> ExternalServer:
    """Wait until the external app answers /lab/runtime, as for a server the lab starts."""
    server = ExternalServer(url)
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            server.runtime = server.fetch_runtime(timeout=2.0)
            return server
        except NOT_ANSWERING as exc:
            last_error = exc
        time.sleep(0.5)
    raise ServerError(f"the external app at {without_credentials(url)} did not answer /lab/runtime within "
                      f"{timeout:.0f}s ({last_error})")
