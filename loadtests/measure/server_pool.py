"""The warm servers of one scenario: each started once, warmed up once, and kept until the scenario ends.

A server stands for every configuration that differs from its own only in the load
(users) or the preset group, so the comparisons of one scenario at several users levels
share it. Each configuration runs on the plan's number of *instances*: separate starts of
its server (fresh processes, each with its own ``PYTHONHASHSEED``), kept warm side by
side, so that the intervals can hold what differs between two starts. A configuration
whose server cannot start (refused, failed, no environment, an external app that cannot
stand for it) is recorded once, as a skipped cell with the reason; later comparisons
reuse that verdict instead of trying again.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from loadtests.core.errors import EnvironmentUnavailable, LabError, ServerError, ServerRefused
from loadtests.core.paths import LAB_ROOT
from loadtests.measure.arm import Arm, WindowServer, server_key
from loadtests.measure.cell_draft import CellDraft
from loadtests.measure.run_record import external_mismatch
from loadtests.measure.sampling import sample_tree
from loadtests.measure.servers import LOOPBACK, ExternalServer, ServerSettings, external_server, running_server
from loadtests.measure.warmup import warm_up
from loadtests.measure.window_measurement import WindowBench, last_line
from loadtests.plan.comparisons import ComparisonPlan
from loadtests.provision import envs
from loadtests.provision.bytecode import server_environment
from loadtests.results.records import (
    UNKNOWN_BYTECODE,
    BytecodeState,
    Cell,
    CellConfig,
    InterpreterInfo,
    RunSettings,
    ServiceSettings,
)
from loadtests.results.run_writer import RunWriter
from loadtests.results.store import cell_dir_name

# Set on every server and Locust process of a run: it lets anyone (the tests, a user with
# `ps e`) find what a run started, and prove nothing outlived it.
CELL_DIR_ENV = "LAB_CELL_DIR"


@dataclass(frozen=True)
class Started:
    """A server that answers, and what a window needs to know of it."""

    server: WindowServer
    log_path: Path | None = None  # None: an app the lab did not start
    external_mismatch: str | None = None  # an external app that cannot stand for the configuration: why
    python: Path | None = None  # the interpreter serving the app (None: an app the lab did not start)
    hash_seed: int | None = None  # the PYTHONHASHSEED it was started with; None: not the lab's to set


#: ``start(config, stack, instance) -> Started``; raises ServerRefused, ServerError or another LabError.
StartServer = Callable[[CellConfig, ExitStack, int], Started]


def new_hash_seed() -> int:
    """A random PYTHONHASHSEED (1 .. 2**32 - 1; 0 would turn hash randomisation off)."""
    return secrets.randbelow(2**32 - 1) + 1


@dataclass(frozen=True)
class ServerLauncher:
    """Starts the server a configuration asks for, in the run's directory (or reaches its --app-url app)."""

    run_dir: Path
    settings: RunSettings
    interpreters: Mapping[str, InterpreterInfo]
    host: str = LOOPBACK  # where the server listens: the master's bind address when workers come from elsewhere
    server_env: Mapping[str, str] = field(default_factory=dict)  # from the plan's prepare steps
    bytecode: Mapping[str, BytecodeState] = field(default_factory=dict)  # label -> how its servers load modules
    # label -> --app-url with its credentials, when given (run.json's settings hold it without them)
    app_urls: Mapping[str, str] = field(default_factory=dict)

    def start(self, config: CellConfig, stack: ExitStack, instance: int = 0) -> Started:
        url = self.app_urls.get(config.interpreter) or self.settings.app_urls.get(config.interpreter)
        if url:
            external: ExternalServer = external_server(url)
            reason = external_mismatch(config, external.runtime) if external.runtime else None
            return Started(external, None, reason)
        seed = new_hash_seed()
        settings = self.server_settings(config, instance)
        settings = replace(settings, extra_env=tuple(sorted({**dict(settings.extra_env),
                                                             "PYTHONHASHSEED": str(seed)}.items())))
        info = self.interpreters.get(config.interpreter)
        version = settings.spec.version_in(info.packages) if info else None
        server = stack.enter_context(running_server(settings, self._directory(config, instance) / "server.log",
                                                    version))
        return Started(server, server.log_path, python=Path(settings.python), hash_seed=seed)

    def _directory(self, config: CellConfig, instance: int) -> Path:
        return self.run_dir / "servers" / (cell_dir_name(server_key(config).config_id)
                                           + (f"_i{instance}" if instance else ""))

    def server_settings(self, config: CellConfig, instance: int = 0) -> ServerSettings:
        """How the server of ``config`` is started (the probe imports the app the same way): the bytecode state
        the run prepared for its interpreter included."""
        directory = self._directory(config, instance)
        service = self.settings.service
        python, app, app_dir = envs.app_python(config.flavour.env_name), "app.main:app", None
        if service is not None:
            python, app, app_dir = service_python(service, config.interpreter), service.app, service.app_dir
        return ServerSettings(
            server=config.server, python=python, workers=config.workers, host=self.host,
            threads=config.threads, http=config.http, loop=config.loop, python_gil=config.python_gil,
            app=app, app_dir=None if app_dir == str(LAB_ROOT) else app_dir,
            routes_dirs=config.routes_dirs, cpus=config.cpus,
            extra_env=tuple(sorted({**self.server_env, **self._bytecode_env(config.interpreter),
                                    CELL_DIR_ENV: str(directory)}.items())))

    def _bytecode_env(self, label: str) -> dict[str, str]:
        """The prepared bytecode state's variables; an uncontrolled state still never inherits the lab's own."""
        state = self.bytecode.get(label, UNKNOWN_BYTECODE)
        return server_environment(state.cache_prefix if state.controlled else None)


def service_python(service: ServiceSettings, label: str) -> Path:
    """The interpreter that serves the team's app on ``label``; EnvironmentUnavailable when it has none."""
    env = service.environments.get(label)
    if env is None or not env.available or env.python is None:
        why = env.why_unavailable if env is not None else "none was prepared"
        raise EnvironmentUnavailable(f"no {label} environment for {service.app}: {why}")
    return Path(env.python)


class ServerPool:
    """The warm servers of one scenario, started and warmed up on first use, stopped with the scenario."""

    def __init__(self, start: StartServer, stack: ExitStack, bench: WindowBench, run: RunWriter,
                 say: Callable[[str], None]) -> None:
        self.start, self.stack, self.bench, self.run, self.say = start, stack, bench, run, say
        self.servers: dict[tuple[CellConfig, int], tuple[Started, str]] = {}  # (key, instance) -> server, tree
        self.failed: dict[CellConfig, tuple[Exception | None, str | None]] = {}
        self._trees = 0
        self._skips: dict[tuple[str, str], Cell] = {}  # (comparison, config) -> its one skipped cell

    def arm(self, config: CellConfig, comparison: ComparisonPlan, instance: int = 0) -> Arm:
        """The arm standing for ``config`` in ``comparison`` on ``instance``: a warm server, or a recorded reason
        why none."""
        key = server_key(config)
        if (key, instance) not in self.servers and key not in self.failed:
            self._start(key, config, comparison, instance)
        if key in self.failed:
            recorded = self._skips.get((comparison.comparison_id, config.config_id))
            if recorded is not None:  # once per comparison, however many instances and blocks ask
                return Arm(config, None, skip=recorded)
            error, reason = self.failed[key]
            skip = unstarted_cell(self.bench, config, comparison, error, reason)
            self.run.add_cell(skip)
            self._skips[(comparison.comparison_id, config.config_id)] = skip
            self.say(f"    {config.label}: {skip.invalid_reason}")
            return Arm(config, None, skip=skip)
        started, tree = self.servers[(key, instance)]
        return Arm(config, started.server, tree=tree, log_path=started.log_path, instance=instance,
                   hash_seed=started.hash_seed, python=started.python)

    def arms(self, comparison: ComparisonPlan, instance: int = 0) -> list[Arm]:
        """The arms of a comparison on one instance that have a server (the others are recorded as skipped)."""
        return [arm for arm in (self.arm(config, comparison, instance) for config in comparison.arms)
                if arm.server is not None]

    def _start(self, key: CellConfig, config: CellConfig, comparison: ComparisonPlan, instance: int) -> None:
        began = time.monotonic()
        try:
            started = self.start(config, self.stack, instance)
        except (ServerRefused, ServerError, LabError) as exc:
            self.failed[key] = (exc, None)
            return
        if started.external_mismatch:
            self.failed[key] = (None, f"skipped: {started.external_mismatch}")
            return
        startup = time.monotonic() - began
        tree = f"server{self._trees}"
        self._trees += 1
        self.servers[(key, instance)] = (started, tree)
        pid = started.server.pid
        idle = sample_tree([pid], detailed=True) if pid else None  # memory after start-up, before any load
        if pid:
            self.bench.sampler.add_tree(tree, [pid], detailed=True)
        arm = Arm(config, started.server, tree=tree, instance=instance, hash_seed=started.hash_seed)
        warmup = warm_up(arm, comparison, self.bench.session, self.bench.settings.plan.warmup_s, self.say,
                         self.bench.last_load)
        if warmup is not None:
            self.run.add_warmup(replace(warmup, startup_s=round(startup, 2) if pid else None,
                                        idle_rss_mb=_mb(idle.rss_bytes if idle else None),
                                        idle_uss_mb=_mb(idle.uss_bytes if idle else None),
                                        idle_pss_mb=_mb(idle.pss_bytes if idle else None)))

    def forget(self, arms: Sequence[Arm]) -> None:
        """Servers that died: later comparisons get a fresh start of that instance (a new server, warmed up again)."""
        for arm in arms:
            self.servers.pop((server_key(arm.config), arm.instance), None)


def _mb(value: int | None) -> float | None:
    return None if value is None else round(value / 2**20, 1)


def died(arms: Sequence[Arm]) -> list[Arm]:
    """The arms whose server has exited."""
    return [a for a in arms if a.server is not None and a.server.exit_code() is not None]


def unstarted_cell(bench: WindowBench, config: CellConfig, comparison: ComparisonPlan, exc: Exception | None,
                   reason: str | None = None) -> Cell:
    """The one record of an arm that never ran: refused, failed to start, or skipped."""
    draft = CellDraft.begin(bench.run_dir, bench.settings, config, comparison.comparison_id, None, None)
    draft.external = bool(bench.settings.app_urls.get(config.interpreter))
    if isinstance(exc, EnvironmentUnavailable):
        draft.fail("skipped", f"skipped: {exc}")
    elif isinstance(exc, ServerRefused):
        draft.fail("refused", f"{config.server} refused to start: {last_line(exc)}", refusal=str(exc))
    elif isinstance(exc, ServerError):
        draft.fail("server-error", f"server failed: {last_line(exc)}", error=str(exc))
    elif exc is not None:
        draft.fail("error", str(exc))
    else:
        draft.fail("skipped", reason or "skipped")
    return draft.freeze()
