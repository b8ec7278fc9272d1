"""A Locust session the lab drives window by window, through Locust's own web API.

One session runs one scenario's Locust file (with the lab's recorder) for as long as
the comparisons of that scenario last: a standalone Locust process, or a master with
its workers (``--locust-workers N``, on this machine). Locust is started the way a user
starts it with a web UI (bound to 127.0.0.1), and the lab uses that UI's API:

- ``POST /swarm`` with ``user_count``, ``spawn_rate`` and ``host`` starts the users
  against one server (Locust clears its statistics at every start);
- ``POST /stop`` stops them;
- ``GET /lab/status`` and ``GET /lab/drain`` are the recorder's (``scenarios/lab_support.py``).

So switching the load from one warm server to the other costs a request, not a
process start, and every window's raw samples, CSV and HTML come from the same
Locust that a user would run.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtests.core.errors import LoadGeneratorError
from loadtests.measure.servers import LOOPBACK, free_port
from loadtests.measure.supervised import Supervised, supervised
from loadtests.plan.scenarios import SCENARIOS_DIR
from loadtests.provision.interpreters import clean_env

RECORDER = SCENARIOS_DIR / "lab_support.py"
OPEN_LOOP = SCENARIOS_DIR / "open_loop.py"
OPEN_LOOP_USER = "OpenLoopDriver"
READY_TIMEOUT_S = 60.0
HTTP_TIMEOUT_S = 30.0  # /stop waits for the users to end; /stats/report renders a page
# Every user starts at once: a window measures a steady load, not a ramp.
SPAWN_RATE = 1000
Sample = tuple[float, float, bool, str, float | None]  # completion, latency ms, ok, name, intended send (open loop)


@dataclass(frozen=True)
class Drained:
    samples: list[Sample]
    drops: list[float]  # intended send times of arrivals the open-loop driver dropped
    reports: dict[str, float]  # worker -> when it last reported (the master's clock)


def locust_executable() -> str:
    """The Locust of the running control plane (this interpreter's venv)."""
    candidate = Path(sys.executable).parent / "locust"
    if not candidate.exists():
        raise LoadGeneratorError(f"Locust is not installed next to {sys.executable}. Run `make setup`.")
    return str(candidate)


@dataclass(frozen=True)
class SessionSettings:
    locustfiles: tuple[Path, ...]  # the scenario's file(s); the recorder is loaded with them
    log_path: Path
    workers: int = 0  # Locust worker processes on this machine; 0 = one standalone process
    extra_env: tuple[tuple[str, str], ...] = ()
    open_loop: bool = False  # load the open-loop driver too, and pick user classes per window

    def files_argument(self) -> str:
        extra = [OPEN_LOOP] if self.open_loop else []
        files = [RECORDER, *extra, *(f for f in self.locustfiles if f.resolve() not in (RECORDER.resolve(),
                                                                                       OPEN_LOOP.resolve()))]
        return ",".join(str(f) for f in files)

    @property
    def load_processes(self) -> int:
        """The processes that send requests: the workers, or the one standalone Locust."""
        return self.workers or 1


@dataclass(frozen=True)
class OpenLoad:
    """What an open-loop window asks the driver for."""

    rate: float  # arrivals per second for the whole test
    arrivals: str = "poisson"
    inflight_cap: int = 256  # per load process
    late_ms: float = 5.0  # a send this far behind its schedule is late (the generator's fault, not the server's)


def commands(settings: SessionSettings, web_port: int, master_port: int | None) -> list[list[str]]:
    """The commands a user would type: one Locust with its web UI, or a master and its workers."""
    locust = locust_executable()
    lead = [locust, "-f", settings.files_argument(), "--web-host", LOOPBACK, "--web-port", str(web_port),
            "--loglevel", "WARNING", "--exit-code-on-error", "0", "--stop-timeout", "0"]
    if settings.open_loop:
        lead.append("--class-picker")  # each window names its user classes: the driver, or the scenario's
    if not settings.workers:
        return [lead]
    assert master_port is not None
    lead += ["--master", "--master-bind-host", LOOPBACK, "--master-bind-port", str(master_port)]
    worker = [locust, "-f", settings.files_argument(), "--worker", "--master-host", LOOPBACK,
              "--master-port", str(master_port), "--loglevel", "WARNING"]
    return [lead] + [worker] * settings.workers


@dataclass
class LoadSession:
    """A running session: its web API, its processes, and what each window collected."""

    settings: SessionSettings
    web_url: str
    processes: list[Supervised] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    # ---- the web API ----------------------------------------------------------------------
    def _call(self, path: str, form: dict[str, Any] | None = None, timeout: float = HTTP_TIMEOUT_S) -> bytes:
        data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
        request = urllib.request.Request(self.web_url + path, data=data, method="POST" if form is not None else "GET")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
                return bytes(response.read())
        except (urllib.error.URLError, OSError) as exc:
            raise LoadGeneratorError(f"Locust's web API did not answer {path} ({exc}); see "
                                     f"{self.settings.log_path}{self._exit_note()}") from None

    def _json(self, path: str, form: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            answer = json.loads(self._call(path, form))
        except json.JSONDecodeError as exc:
            raise LoadGeneratorError(f"Locust answered {path} with something that is not JSON ({exc})") from None
        if not isinstance(answer, dict):
            raise LoadGeneratorError(f"Locust answered {path} with {type(answer).__name__}, not an object")
        return answer

    def status(self) -> dict[str, Any]:
        return self._json("/lab/status")

    def start_load(self, host: str, users: int, connection_close: bool, open_load: OpenLoad | None = None) -> None:
        """Start the load against ``host`` (the previous window's users must be stopped).

        Closed loop: ``users`` users of the scenario. Open loop: one driver per load process,
        sending ``open_load.rate`` arrivals per second in all.
        """
        form: dict[str, Any] = {"spawn_rate": SPAWN_RATE, "host": host,
                                "lab_connection_close": "1" if connection_close else "0"}
        if open_load is not None:
            if not self.settings.open_loop:
                raise LoadGeneratorError("this Locust session was started without the open-loop driver")
            form.update(user_count=self.settings.load_processes, user_classes=OPEN_LOOP_USER,
                        lab_rate=f"{open_load.rate:g}", lab_arrivals=open_load.arrivals,
                        lab_inflight_cap=str(open_load.inflight_cap),
                        lab_load_processes=str(self.settings.load_processes))
        else:
            form["user_count"] = users
            if self.settings.open_loop:
                form["user_classes"] = self.scenario_classes()
        answer = self._json("/swarm", form)
        if not answer.get("success"):
            raise LoadGeneratorError(f"Locust refused to start the users: {answer.get('message')}")

    def scenario_classes(self) -> list[str]:
        """The scenario's own user classes (everything the session loaded but the open-loop driver)."""
        names = [str(n) for n in self.status().get("user_classes", []) if n != OPEN_LOOP_USER]
        if not names:
            raise LoadGeneratorError("the scenario's Locust file defines no user class")
        return names

    def stop_load(self) -> None:
        self._call("/stop", {})

    def drain(self) -> Drained:
        """Every sample (and open-loop drop) recorded since the last drain, and when each worker last reported."""
        answer = self._json("/lab/drain")
        samples = [(float(s[0]), float(s[1]), bool(s[2]), str(s[3]), None if len(s) < 5 or s[4] is None
                    else float(s[4])) for s in answer.get("samples", [])]
        return Drained(samples, [float(d) for d in answer.get("drops", [])],
                       {str(k): float(v) for k, v in (answer.get("reports") or {}).items()})

    def save_stats(self, directory: Path) -> dict[str, Path]:
        """Locust's CSV and HTML for the window that just ended (saved before the next start clears them)."""
        directory.mkdir(parents=True, exist_ok=True)
        files = {"locust_csv": directory / "locust_stats.csv", "locust_html": directory / "locust.html"}
        files["locust_csv"].write_bytes(self._call("/stats/requests/csv"))
        files["locust_html"].write_bytes(self._call("/stats/report"))
        return files

    # ---- health -----------------------------------------------------------------------------
    def exit_code(self) -> int | None:
        """None while every process of the session runs; the first exit status otherwise."""
        for process in self.processes:
            code = process.poll()
            if code is not None:
                return code
        return None

    def _exit_note(self) -> str:
        code = self.exit_code()
        return "" if code is None else f" (a Locust process exited with status {code})"

    def workers_joined(self) -> list[str]:
        """The workers connected to the master ([] for a standalone Locust); asks the web API either way."""
        return [str(w) for w in self.status().get("workers", [])]

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Until the web API answers and every worker has joined; fail with who joined."""
        deadline = time.monotonic() + timeout
        joined: list[str] = []
        while time.monotonic() < deadline:
            if self.exit_code() is not None:
                raise LoadGeneratorError(f"Locust exited with status {self.exit_code()} while starting; see "
                                         f"{self.settings.log_path}:\n{tail(self.settings.log_path)}")
            try:
                joined = self.workers_joined()
            except LoadGeneratorError:
                time.sleep(0.2)
                continue
            if len(joined) >= self.settings.workers:
                return
            time.sleep(0.2)
        raise LoadGeneratorError(f"Locust was not ready within {timeout:.0f}s: {len(joined)} of "
                                 f"{self.settings.workers} workers joined ({', '.join(joined) or 'none'}); see "
                                 f"{self.settings.log_path}")

    def wait_for_reports(self, after: float, timeout: float = 5.0) -> None:
        """Until every worker has reported since ``after`` (its last samples are then in the master)."""
        if not self.settings.workers:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reports = self.status().get("reports") or {}
            if len(reports) >= self.settings.workers and all(float(t) > after for t in reports.values()):
                return
            time.sleep(0.1)


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def load_session(settings: SessionSettings) -> Iterator[LoadSession]:
    """Start a session, wait until it is ready, yield it, and always stop every process it started."""
    settings.log_path.parent.mkdir(parents=True, exist_ok=True)
    env = clean_env({"PYTHONUNBUFFERED": "1", **dict(settings.extra_env)})
    web_port = free_port()
    session = LoadSession(settings, f"http://{LOOPBACK}:{web_port}")
    with ExitStack() as stack:
        log = stack.enter_context(settings.log_path.open("ab"))
        try:
            for args in commands(settings, web_port, free_port() if settings.workers else None):
                log.write(f"$ {' '.join(args)}\n".encode())
                log.flush()
                # behind a supervisor: if the lab dies, Locust and its workers go with it
                session.processes.append(supervised(args, cwd=SCENARIOS_DIR, env=env, output=log, grace=5.0))
            session.wait_ready()
            yield session
        finally:
            with contextlib.suppress(LoadGeneratorError):
                if session.exit_code() is None:
                    session.stop_load()
            for process in reversed(session.processes):  # the master first would leave its workers waiting
                process.stop(5.0)


def window_samples(samples: Sequence[Sample], start: float, end: float) -> list[Sample]:
    """The samples of requests that completed inside ``[start, end)``."""
    return sorted(s for s in samples if start <= s[0] < end)
