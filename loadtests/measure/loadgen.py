"""Run Locust headless against a server, and turn its raw samples into window statistics.

Locust always runs in the control-plane venv on the standard interpreter: gevent has
no free-threaded build. With ``workers=0`` it is one process; with ``workers=N`` it
is one ``--master`` plus N ``--worker`` processes on loopback, the same topology a
team would use across machines. Either way the scenario's recorder
(``scenarios/lab_support.py``) writes every request to one raw file, from which
``windows.py`` computes exact statistics for the measured window only.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.core.errors import LoadGeneratorError
from loadtests.measure.servers import LOOPBACK, free_port
from loadtests.measure.supervised import Supervised, supervised
from loadtests.plan.scenarios import SCENARIOS_DIR, scenario_env, scenario_file
from loadtests.provision.interpreters import clean_env


def locust_executable() -> str:
    """The Locust of the running control plane (this interpreter's venv)."""
    candidate = Path(sys.executable).parent / "locust"
    if not candidate.exists():
        raise LoadGeneratorError(f"Locust is not installed next to {sys.executable}. Run `make setup`.")
    return str(candidate)


@dataclass(frozen=True)
class LoadSettings:
    scenario: str
    host: str  # base URL of the server under test
    users: int
    warmup_s: float
    duration_s: float
    out_dir: Path  # where Locust's CSV/HTML and the raw samples go
    workers: int = 0  # Locust worker processes; 0 = one standalone process
    extra_env: tuple[tuple[str, str], ...] = ()
    routes_dirs: tuple[str, ...] = ()  # where drop-in scenarios' modules live

    @property
    def run_time_s(self) -> int:
        # One extra second so the last in-flight requests of the window complete.
        return int(math.ceil(self.warmup_s + self.duration_s)) + 1

    @property
    def raw_path(self) -> Path:
        return self.out_dir / "locust_raw.json"


def locust_commands(settings: LoadSettings, master_port: int | None = None) -> list[list[str]]:
    """The commands a user would type: one standalone Locust, or a master and its workers."""
    locust = locust_executable()
    common = ["-f", str(scenario_file(settings.scenario, settings.routes_dirs)), "--host", settings.host, "--loglevel", "WARNING"]
    lead = [locust, *common, "--headless", "-u", str(settings.users), "-r", str(settings.users),
            "-t", f"{settings.run_time_s}s", "--stop-timeout", "10", "--only-summary",
            "--csv", str(settings.out_dir / "locust"), "--csv-full-history",
            "--html", str(settings.out_dir / "locust.html"), "--exit-code-on-error", "0"]
    if not settings.workers:
        return [lead]
    assert master_port is not None
    lead += ["--master", "--master-bind-host", LOOPBACK, "--master-bind-port", str(master_port),
             "--expect-workers", str(settings.workers), "--expect-workers-max-wait", "60"]
    worker = [locust, *common, "--worker", "--master-host", LOOPBACK, "--master-port", str(master_port)]
    return [lead] + [worker] * settings.workers


@dataclass
class LocustRun:
    settings: LoadSettings
    processes: list[Supervised] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def wait(self, timeout: float, abort: Callable[[], str | None] = lambda: None) -> int:
        """Wait for the lead process; stop early if ``abort()`` returns a reason.

        Returns the lead's exit code. Raises LoadGeneratorError on timeout.
        """
        lead = self.processes[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = lead.poll()
            if code is not None:
                return code
            reason = abort()
            if reason:
                return -1
            time.sleep(0.2)
        raise LoadGeneratorError(
            f"Locust did not finish within {timeout:.0f}s (expected {self.settings.run_time_s}s). "
            f"See {self.settings.out_dir / 'locust.log'}."
        )


@contextmanager
def running_locust(settings: LoadSettings) -> Iterator[LocustRun]:
    """Start Locust (and its workers), yield, and always stop every process it started."""
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    env = clean_env({"LAB_RAW_OUT": str(settings.raw_path), "PYTHONUNBUFFERED": "1",
                     **scenario_env(settings.scenario, settings.routes_dirs), **dict(settings.extra_env)})
    commands = locust_commands(settings, free_port() if settings.workers else None)
    run = LocustRun(settings)
    with ExitStack() as stack:
        log = stack.enter_context((settings.out_dir / "locust.log").open("ab"))
        try:
            for args in commands:
                log.write(f"$ {' '.join(args)}\n".encode())
                log.flush()
                run.processes.append(supervised(args, cwd=SCENARIOS_DIR, env=env, output=log, grace=5.0))
            yield run
        finally:
            # Workers first would make the master wait for them; stop everything at once.
            for process in reversed(run.processes):
                process.stop(grace=5.0)
