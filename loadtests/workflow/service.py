"""A team's own service: check its inputs, build its environments, inspect it and preflight its load.

What ``--app MODULE:ATTR [--app-dir DIR]``, ``--requirements FILE`` (or a
``requirements.txt`` in a ``--routes-dir``) and ``--locustfile FILE`` turn into, in the
order a run needs them, every step before any window is measured:

1. :func:`check_inputs`: the flags themselves (the app's spelling, the directories,
   the files, and the Locust file loaded by Locust: User classes, no LoadTestShape);
2. :func:`prepare`: both environments (``provision/app_envs.py``: the lab's app
   dependencies plus the team's, locked per interpreter; a 3.14t that cannot have
   one is recorded, not fatal), the app's inspection in each (it imports, it is ASGI 3,
   it leaves ``/lab/`` alone; its route table is kept), and the preflight: every task
   of the Locust file once against a real server per interpreter;
3. the result, :class:`PreparedService`, holds the ``ServiceSettings`` record stored in
   run.json and the per-interpreter ``ServiceRef`` that goes into every config_id.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtests.audit.inspection import inspect_app, require_servable
from loadtests.core.errors import (
    AppError,
    ConfigError,
    EnvironmentSetupError,
    EnvironmentUnavailable,
    PreflightError,
)
from loadtests.core.flavour import FLAVOURS, FT, by_label
from loadtests.core.paths import PROJECT_ROOT, envs_dir, setup_command
from loadtests.core.servers import DEFAULT_SERVER
from loadtests.measure import preflight as preflights
from loadtests.measure.locustfile import Locustfile, read_locustfile
from loadtests.measure.server_pool import CELL_DIR_ENV
from loadtests.measure.servers import ServerSettings
from loadtests.plan.scenarios import ROUTES_SCENARIO, is_team_scenario
from loadtests.provision import envs
from loadtests.provision.app_envs import AppEnvs, sync_app_envs
from loadtests.provision.interpreters import Interpreter
from loadtests.results.records import (
    AppInspection,
    CellConfig,
    PackageDifference,
    Preflight,
    RouteInfo,
    ServiceEnvironment,
    ServiceRef,
    ServiceSettings,
    Software,
)

BUILTIN_APP = "app.main:app"
REQUIREMENTS_IN_ROUTES = "requirements.txt"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ServiceRequest:
    """The service flags, as given (``None``: not given)."""

    app: str | None = None
    app_dir: str | None = None
    requirements: str | None = None
    locustfile: str | None = None

    @property
    def app_dir_path(self) -> Path:
        """Where the app is imported from: --app-dir, else here for an --app, else the lab's repository."""
        chosen = Path(self.app_dir or ".") if (self.app or self.app_dir) else PROJECT_ROOT
        return chosen.expanduser().resolve()

    @property
    def team_app(self) -> bool:
        """Whether the app is the team's: another target, or a package of the same name (``app``) elsewhere."""
        return (self.app or BUILTIN_APP) != BUILTIN_APP or self.app_dir_path != PROJECT_ROOT


@dataclass(frozen=True)
class CheckedInputs:
    """The service flags, checked: what to serve, from where, with which requirements and load."""

    app: str
    app_dir: Path
    requirements: Path | None
    locustfile: Locustfile | None

    @property
    def builtin(self) -> bool:
        """The lab's own app, imported from the repository."""
        return self.app == BUILTIN_APP and self.app_dir == PROJECT_ROOT


def check_environments(interpreters: Mapping[str, Interpreter]) -> None:
    for spec in envs.env_specs(dict(interpreters)):
        if not spec.python.exists():
            raise EnvironmentSetupError(f"environment {spec.name} is missing ({spec.path}). Run `{setup_command()}`.")


def requirements_file(request: ServiceRequest, routes_dirs: Sequence[str], progress: Progress) -> Path | None:
    """``--requirements``, else the one ``requirements.txt`` among the ``--routes-dir`` directories."""
    found = [Path(d) / REQUIREMENTS_IN_ROUTES for d in routes_dirs if (Path(d) / REQUIREMENTS_IN_ROUTES).is_file()]
    if request.requirements:
        for other in found:
            progress(f"    note: --requirements {request.requirements} is used; {other} is not")
        return Path(request.requirements).expanduser().resolve()
    if len(found) > 1:
        raise ConfigError("several --routes-dir directories hold a requirements.txt ("
                          + ", ".join(map(str, found)) + "): merge them into one file and give it as --requirements")
    return found[0].resolve() if found else None


def wanted(request: ServiceRequest, routes_dirs: Sequence[str]) -> bool:
    """Whether a run measures a team's service at all (otherwise: the lab's app in the lab's environments)."""
    return bool(request.app or request.app_dir or request.requirements or request.locustfile) or any(
        (Path(d) / REQUIREMENTS_IN_ROUTES).is_file() for d in routes_dirs)


def check_inputs(request: ServiceRequest, routes_dirs: Sequence[str], progress: Progress) -> CheckedInputs:
    """Every service flag checked before anything is installed or started; a clear error for each bad one."""
    app = request.app or BUILTIN_APP
    module, sep, attr = app.partition(":")
    if not sep or not all(part.isidentifier() for part in [*module.split("."), *attr.split(".")]):
        raise ConfigError(f"--app takes MODULE:ATTR, e.g. myservice.main:app, not {app!r}")
    app_dir = request.app_dir_path
    if not app_dir.is_dir():
        raise ConfigError(f"--app-dir {app_dir} is not a directory: give the directory that holds the app's "
                          "top-level package")
    requirements = requirements_file(request, routes_dirs, progress)
    if requirements is not None and not requirements.is_file():
        raise ConfigError(f"the requirements file {requirements} does not exist. Give a requirements.txt, or a "
                          "pyproject.toml whose [project].dependencies list the service's requirements.")
    locustfile = read_locustfile(request.locustfile) if request.locustfile else None
    return CheckedInputs(app, app_dir, requirements, locustfile)


def scenario_override(request: ServiceRequest) -> str | None:
    """The scenario that replaces the preset's: the Locust file's stem, or the generic one for a team's app."""
    if request.locustfile:
        return Path(request.locustfile).stem
    return ROUTES_SCENARIO if request.team_app else None


@dataclass(frozen=True)
class PreparedService:
    """Everything a run of a team's service needs, ready before its first window."""

    settings: ServiceSettings
    refs: Mapping[str, ServiceRef]  # interpreter label -> identity in config_id
    own_envs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # label -> packages, for run.json
    preflight_dir: Path | None = None  # logs of the preflight's servers and Locust
    notes: tuple[str, ...] = ()


def lab_ft_packages() -> dict[str, str]:
    """The packages of the lab's own 3.14t app environment, from its stamp ({} when it has none)."""
    try:
        stamp = json.loads((envs_dir() / FT.env_name / envs.STAMP_NAME).read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return dict(stamp.get("packages", {})) if isinstance(stamp, dict) else {}


def team_distributions(service: ServiceSettings, ft_packages: Mapping[str, str | None]) -> tuple[str, ...] | None:
    """What the team's requirements installed in its 3.14t environment beyond the lab's own (or changed there).

    The run's audit imports each of these in its own process; the lab's own are audited with the lab.
    """
    env = service.environments.get(FT.label)
    if env is None or not env.own or not env.available:
        return None
    lab = lab_ft_packages()
    return tuple(sorted(name for name, version in ft_packages.items() if lab.get(name) != version))


def environments(inputs: CheckedInputs, interpreters: Mapping[str, Interpreter],
                 progress: Progress) -> tuple[dict[str, ServiceEnvironment], AppEnvs | None]:
    """label -> the environment the app runs in: built from the requirements, or the lab's own."""
    if inputs.requirements is None:
        return {f.label: ServiceEnvironment(label=f.label, path=str(envs.app_python(f.env_name).parent.parent),
                                            own=False, python=str(envs.app_python(f.env_name)), lock_file=None,
                                            lock_sha256=None) for f in FLAVOURS}, None
    progress(f"==> environments for {inputs.app} from {inputs.requirements}")
    built = sync_app_envs(inputs.requirements, interpreters)
    out = {}
    for env in (built.gil, built.ft):
        lock = env.lock_file if env.lock_file is not None and env.lock_file.is_file() else None
        out[env.label] = ServiceEnvironment(
            label=env.label, path=str(env.path), own=True, python=str(env.python) if env.available else None,
            lock_file=None if lock is None else str(lock),
            lock_sha256=None if lock is None else hashlib.sha256(lock.read_bytes()).hexdigest(),
            unavailable_package=env.unavailable.package if env.unavailable else None,
            unavailable_reason=env.unavailable.reason if env.unavailable else None)
        if env.unavailable is not None:
            progress(f"    no {env.label} environment: {env.unavailable.package or 'a requirement'} cannot be "
                     f"installed there; its arms will be recorded as skipped")
    return out, built


def inspection_record(label: str, report: Mapping[str, Any]) -> AppInspection:
    framework = report.get("framework")
    routes = report.get("routes")
    return AppInspection(
        label=label, framework=Software(framework["name"], framework["version"]) if framework else None,
        routes=None if routes is None else tuple(
            RouteInfo(path=r["path"], kind=r["kind"], methods=None if r["methods"] is None else tuple(r["methods"]),
                      endpoint=r["endpoint"], async_def=r["async"], body_model=r["body_model"]) for r in routes),
        gil_enabled=bool(report["python"]["gil_enabled"]), gil_enabled_by=tuple(report["python"]["gil_enabled_by"]))


def inspections(inputs: CheckedInputs, environments: Mapping[str, ServiceEnvironment],
                routes_dirs: Sequence[str], progress: Progress) -> dict[str, AppInspection]:
    """The app imported in each available environment; an AppError for one that cannot be served."""
    out = {}
    for label, env in environments.items():
        if env.python is None:
            continue
        report = inspect_app(Path(env.python), inputs.app, inputs.app_dir, routes_dirs,
                             [str(PROJECT_ROOT)] if inputs.builtin else [])
        require_servable(report, label)
        out[label] = inspection_record(label, report)
        framework = out[label].framework
        progress(f"    {inputs.app} on {label}: servable"
                 + (f" ({framework.name} {framework.version})" if framework else "")
                 + (f", {len(out[label].routes or ())} routes" if out[label].routes is not None else "")
                 + (f"; GIL ON after import ({', '.join(out[label].gil_enabled_by)})"
                    if out[label].gil_enabled and by_label(label).free_threaded else ""))
    return out


def server_settings(inputs: CheckedInputs, env: ServiceEnvironment, routes_dirs: Sequence[str],
                    log_dir: Path) -> ServerSettings:
    """How the preflight starts one server: as the matrix does (the default server, one process)."""
    if env.python is None:
        raise EnvironmentUnavailable(f"no {env.label} environment for {inputs.app}")
    return ServerSettings(server=DEFAULT_SERVER, python=Path(env.python), app=inputs.app,
                          app_dir=None if inputs.builtin else str(inputs.app_dir), routes_dirs=tuple(routes_dirs),
                          extra_env=((CELL_DIR_ENV, str(log_dir)),))


def preflight(inputs: CheckedInputs, environments: Mapping[str, ServiceEnvironment],
              found: Mapping[str, AppInspection], routes_dirs: Sequence[str], log_dir: Path,
              progress: Progress) -> tuple[tuple[Preflight, ...], list[str]]:
    """Every task once per interpreter (with a Locust file); the app's load specs (a team's app without one)."""
    targets = [preflights.PreflightTarget(label, server_settings(inputs, env, routes_dirs, log_dir))
               for label, env in environments.items() if env.python is not None]
    if inputs.locustfile is not None:
        progress(f"==> preflight: each task of {inputs.locustfile.path.name} once, against {inputs.app} on "
                 + " and ".join(t.label for t in targets))
        results = preflights.run_preflight(inputs.locustfile.path, targets, log_dir,
                                           {label: i.routes for label, i in found.items()}, progress,
                                           {CELL_DIR_ENV: str(log_dir)})
        return results, preflights.judge(results, inputs.app, inputs.locustfile.path)
    if not inputs.builtin:
        progress(f"==> preflight: {inputs.app} must serve load specs at /lab/loads (no --locustfile)")
        preflights.check_loads(targets, log_dir, inputs.app)
    return (), []


def prepare(inputs: CheckedInputs, interpreters: Mapping[str, Interpreter], routes_dirs: Sequence[str],
            python_gil_0: bool, progress: Progress, with_preflight: bool = True) -> PreparedService:
    """Environments, inspection and preflight: the service, ready to measure (see the module docstring)."""
    found_envs, built = environments(inputs, interpreters, progress)
    if not any(env.available for env in found_envs.values()):
        raise EnvironmentUnavailable(f"no environment could be built for {inputs.app}")
    found = inspections(inputs, found_envs, routes_dirs, progress)
    log_dir = Path(tempfile.mkdtemp(prefix="gil-lab-preflight-")) if with_preflight else None
    try:
        results, notes = preflight(inputs, found_envs, found, routes_dirs, log_dir, progress) if log_dir else ((), [])
    except PreflightError:
        shutil.rmtree(log_dir or "", ignore_errors=True)  # the message says it all; other errors point at the logs
        raise
    for note in notes:
        progress(f"    note: {note}")
    locust = inputs.locustfile
    settings = ServiceSettings(
        app=inputs.app, app_dir=str(inputs.app_dir), requirements=None if inputs.requirements is None else
        str(inputs.requirements), locustfile=None if locust is None else str(locust.path), environments=found_envs,
        differences=tuple(PackageDifference(d.package, d.gil, d.ft) for d in (built.differences if built else ())),
        inspections=found, user_classes=() if locust is None else locust.user_classes, preflight=results,
        python_gil_0=python_gil_0)
    refs = {label: ServiceRef(inputs.app, env.lock_sha256, None if locust is None else locust.sha256)
            for label, env in found_envs.items()}
    own = {} if built is None else {
        env.label: {"packages": dict(env.packages),
                    "unsupported": {} if env.unavailable is None else
                    {env.unavailable.package or "requirements": env.unavailable.reason}}
        for env in (built.gil, built.ft)}
    return PreparedService(settings, refs, own, log_dir, tuple(notes))


def keep_preflight_logs(prepared: PreparedService, run_dir: Path) -> None:
    """The preflight's logs move into the run directory once it exists."""
    if prepared.preflight_dir is not None and prepared.preflight_dir.is_dir():
        shutil.move(str(prepared.preflight_dir), str(run_dir / "preflight"))


def team_scenarios(configs: Sequence[CellConfig], service: ServiceSettings | None) -> tuple[str, ...]:
    """Scenarios that are the team's: driven by its Locust file or its app, or drop-ins from outside the lab."""
    team_app = service is not None and (service.app != BUILTIN_APP or Path(service.app_dir) != PROJECT_ROOT)
    return tuple(sorted({c.scenario for c in configs
                         if (c.service is not None and (c.service.locustfile or team_app))
                         or is_team_scenario(c.scenario, c.routes_dirs)}))


def require_local(app_urls: Mapping[str, str], request: ServiceRequest) -> None:
    if app_urls and (request.app or request.requirements or request.locustfile or request.app_dir):
        raise AppError("--app-url loads apps the lab does not start, so it cannot build, inspect or serve --app, "
                       "--requirements or --locustfile: give one way or the other")
