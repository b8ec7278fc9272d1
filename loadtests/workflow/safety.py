"""``gil-lab safety``, and the response check ``compare`` runs on a team's app.

Order of work: every flag checked first (the app, its directory, requirements and
Locust file as ``run`` checks them; the tests path; the team's safety file), then the
app's environments and its inspection (``service.py``), a run directory of its own
(``--out`` is the parent), then the response check, then the tests (their own
environments first), then the soak (``--soak``). Each check that fails is recorded as
such and the others still run; run.json is rewritten after each, and summary.json at
the end. ``compare --soak`` runs the same soak after its windows (:func:`soak_for_compare`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from loadtests.analysis.figures.analysis import Analysis
from loadtests.core.clock import utc_now
from loadtests.core.errors import ConfigError, LabError
from loadtests.core.flavour import FLAVOURS
from loadtests.core.paths import results_dir
from loadtests.measure.run_record import RunOptions, interpreter_infos, new_record
from loadtests.plan.presets import load_preset
from loadtests.plan.scenarios import scenario_env, scenario_file
from loadtests.provision import envs
from loadtests.provision.interpreters import Interpreter
from loadtests.provision.provisioning import load_interpreters
from loadtests.provision.test_envs import BaseLock, SuiteEnv, sync_test_env
from loadtests.results.records import Plan, RunRecord, ServiceSettings
from loadtests.results.records.safety import CheckFailure, ResponsesCheck, SafetyRecord, SuiteCheck
from loadtests.results.records.soak import SoakCheck
from loadtests.results.store import new_run_dir, save_run
from loadtests.safety.responses import (
    DEFAULT_CONCURRENCY,
    DEFAULT_REQUESTS,
    DEFAULT_SEED,
    ResponseSettings,
    ServedApp,
    check_responses,
)
from loadtests.safety.soak import SoakSettings, soak
from loadtests.safety.suite import DEFAULT_ITERATIONS, DEFAULT_THREADS, DEFAULT_TIMEOUT_S, SuiteSettings, check_suite
from loadtests.safety.team_config import read_marks
from loadtests.workflow.finish import conclude
from loadtests.workflow.service import (
    BUILTIN_APP,
    CheckedInputs,
    PreparedService,
    ServiceRequest,
    check_environments,
    check_inputs,
    prepare,
)

Progress = Callable[[str], None]
T = TypeVar("T")
PRESET = "safety"
#: What ``compare`` gives the response check on a team's app, unless told otherwise (--safety-budget).
COMPARE_BUDGET_S = 180.0


@dataclass(frozen=True)
class SafetyRequest:
    """What ``gil-lab safety`` was asked, straight from its options."""

    app: str | None = None
    app_dir: str | None = None
    requirements: str | None = None
    locustfile: str | None = None
    tests: str | None = None
    test_requirements: str | None = None
    safety_config: str | None = None
    out_parent: str | None = None
    preset: str = "default"
    scenarios: str | None = None
    users: int = DEFAULT_CONCURRENCY
    requests: int = DEFAULT_REQUESTS
    seed: int = DEFAULT_SEED
    threads: int = 8
    test_threads: int = DEFAULT_THREADS
    iterations: int = DEFAULT_ITERATIONS
    test_timeout: float = DEFAULT_TIMEOUT_S
    responses: bool = True
    budget_s: float | None = None
    soak_s: float | None = None  # --soak: the soak's duration, seconds

    @property
    def service(self) -> ServiceRequest:
        return ServiceRequest(self.app, self.app_dir, self.requirements, self.locustfile)


@dataclass(frozen=True)
class SafetyResult:
    run_dir: Path
    record: RunRecord
    analysis: Analysis  # summary.json and the history entry were written from it


def tests_path(tests: str | None, app_dir: Path) -> Path | None:
    """``--tests`` as a path: relative to the app directory (where pytest runs), else to the current directory."""
    if tests is None:
        return None
    given = Path(tests).expanduser()
    for candidate in (app_dir / given, given):
        if candidate.exists():
            return candidate.resolve()
    raise ConfigError(f"--tests {tests}: no such file or directory (looked in the app directory {app_dir} and in "
                      f"{Path.cwd()}). Give the directory or file of your tests, as you would give it to pytest.")


def safety_plan(description: str) -> Plan:
    """The plan a safety run records: no windows, only the checks."""
    return Plan(name=PRESET, description=description, warmup_s=0.0, duration_s=1.0, repeats=1, configs=(),
                microbench=None)


def _step(work: Callable[[], T], name: str, progress: Progress) -> T | CheckFailure:
    """Run a check; a lab error is recorded as its failure, and the other check still runs."""
    try:
        return work()
    except LabError as error:
        progress(f"    the {name} could not run, recorded in run.json: {error}")
        return CheckFailure(str(error))


def served_app(inputs: CheckedInputs, prepared: PreparedService, threads: int) -> ServedApp:
    service = prepared.settings
    return ServedApp(app=inputs.app, app_dir=None if inputs.builtin else str(inputs.app_dir),
                     pythons={label: Path(env.python) for label, env in service.environments.items() if env.python},
                     routes={label: i.routes for label, i in service.inspections.items()}, threads=threads)


def load_files(inputs: CheckedInputs, preset: str, scenarios: str | None) -> tuple[tuple[Path, ...], str]:
    """The Locust file(s) whose tasks make the requests, and how reports name them."""
    if inputs.locustfile is not None:
        return (inputs.locustfile.path,), str(inputs.locustfile.path)
    if not inputs.builtin:
        raise ConfigError(f"the response check records the requests of your Locust file: add --locustfile FILE (the "
                          f"file your team runs against {inputs.app}), or --no-responses to run only the tests")
    names = [s.strip() for s in scenarios.split(",") if s.strip()] if scenarios else sorted(
        {c.scenario for c in load_preset(preset).configs})
    return tuple(scenario_file(name) for name in names), "the lab's scenarios " + ", ".join(names)


def response_check(inputs: CheckedInputs, prepared: PreparedService, log_dir: Path, progress: Progress, *,
                   users: int, requests: int = DEFAULT_REQUESTS, seed: int = DEFAULT_SEED, threads: int = 8,
                   budget_s: float | None = None, safety_config: str | None = None, preset: str = "default",
                   scenarios: str | None = None) -> ResponsesCheck:
    files, source = load_files(inputs, preset, scenarios)
    marks = read_marks(Path(safety_config) if safety_config else None, None if inputs.builtin else inputs.app_dir)
    settings = ResponseSettings(files, source, log_dir, requests=requests, concurrency=users, seed=seed,
                                budget_s=budget_s, marks=marks)
    return check_responses(served_app(inputs, prepared, threads), settings, progress)


def suite_environments(service: ServiceSettings, interpreters: Mapping[str, Interpreter],
                       test_requirements: Path | None, progress: Progress) -> dict[str, SuiteEnv]:
    """Per interpreter, the tests environment: the servers' lock plus the lab's pinned test tools."""
    progress("==> tests environments: the app's lock plus pytest and pytest-run-parallel, pinned by the lab")
    out = {}
    for flavour in FLAVOURS:
        env = service.environments.get(flavour.label)
        if env is not None and env.own:
            base = BaseLock(Path(env.lock_file) if env.lock_file else None, env.unavailable_package,
                            env.unavailable_reason)
        else:
            base = BaseLock(envs.LOCKS_DIR / f"{flavour.env_name}.txt")
        out[flavour.label] = sync_test_env(flavour.role, interpreters[flavour.role], base, test_requirements)
    return out


def safety(request: SafetyRequest, progress: Progress) -> SafetyResult:
    """Check the app's answers under parallel load and, with --tests, its tests in threads (module docstring)."""
    inputs = check_inputs(request.service, (), progress)
    tests = tests_path(request.tests, inputs.app_dir)
    test_requirements = Path(request.test_requirements).expanduser().resolve() if request.test_requirements else None
    if test_requirements is not None and not test_requirements.is_file():
        raise ConfigError(f"--test-requirements {test_requirements} does not exist")
    if request.responses:
        load_files(inputs, request.preset, request.scenarios)  # a missing Locust file is told before anything starts
        read_marks(Path(request.safety_config) if request.safety_config else None,
                   None if inputs.builtin else inputs.app_dir)
    elif tests is None and request.soak_s is None:
        raise ConfigError("--no-responses leaves nothing to check: give --tests PATH or --soak DURATION too")
    if request.soak_s is not None:
        load_files(inputs, request.preset, request.scenarios)  # the soak's load comes from the same files
    interpreters = load_interpreters()
    check_environments(interpreters)
    prepared = prepare(inputs, interpreters, (), False, progress, with_preflight=False)
    out_parent = Path(request.out_parent) if request.out_parent else results_dir()
    run_dir = new_run_dir(out_parent, PRESET)
    checks = ([f"{inputs.app}'s answers under parallel load"] if request.responses else []) + (
        [f"its tests ({request.tests}) in threads"] if tests else []) + (
        [f"its memory under a {request.soak_s:g}s soak"] if request.soak_s else [])
    description = "gil-lab safety: " + ", ".join(checks)
    record = new_record(RunOptions(safety_plan(description), out_parent, service=None if inputs.builtin else
                                   prepared.settings, own_envs=prepared.own_envs), run_dir.name,
                        interpreter_infos(interpreters, prepared.own_envs))
    safety_record = SafetyRecord(app=inputs.app, responses=None)
    save_run(run_dir, record)
    progress(f"    run directory: {run_dir}")
    if request.responses:
        responses = _step(lambda: response_check(
            inputs, prepared, run_dir / "responses", progress, users=request.users, requests=request.requests,
            seed=request.seed, threads=request.threads, budget_s=request.budget_s,
            safety_config=request.safety_config, preset=request.preset, scenarios=request.scenarios),
            "response check", progress)
        safety_record = replace(safety_record, responses=responses)
        record = replace(record, safety=safety_record)
        save_run(run_dir, record)
    if tests is not None:
        suite = _step(lambda: _suite(prepared, interpreters, tests, inputs.app_dir, test_requirements, run_dir,
                                     request, progress), "tests check", progress)
        safety_record = replace(safety_record, tests=suite)
    if request.soak_s is not None:
        record = replace(record, safety=safety_record)
        save_run(run_dir, record)
        files, source = load_files(inputs, request.preset, request.scenarios)
        soaked = _step(lambda: soak_check(served_app(inputs, prepared, request.threads), files, source,
                                          run_dir / "soak", request.soak_s or 0.0, request.users, progress),
                       "soak", progress)
        safety_record = replace(safety_record, soak=soaked)
    record = replace(record, safety=safety_record, finished_at=utc_now(), complete=True)
    save_run(run_dir, record)
    analysis = conclude(run_dir, record)
    if prepared.preflight_dir is not None:
        shutil.rmtree(prepared.preflight_dir, ignore_errors=True)
    return SafetyResult(run_dir, record, analysis)


def _suite(prepared: PreparedService, interpreters: Mapping[str, Interpreter], tests: Path, app_dir: Path,
           test_requirements: Path | None, run_dir: Path, request: SafetyRequest, progress: Progress) -> SuiteCheck:
    environments = suite_environments(prepared.settings, interpreters, test_requirements, progress)
    settings = SuiteSettings(tests, app_dir, run_dir / "tests", threads=request.test_threads,
                             iterations=request.iterations, timeout_s=request.test_timeout)
    return check_suite(environments, settings, progress)


def soak_check(app: ServedApp, files: tuple[Path, ...], source: str, log_dir: Path, duration_s: float, users: int,
               progress: Progress) -> SoakCheck:
    """Both interpreters' servers under ``files``' load, side by side, for ``duration_s`` (``safety/soak.py``)."""
    return soak(app, SoakSettings(files, source, log_dir, duration_s, users), progress)


def builtin_app(threads: int, routes_dirs: tuple[str, ...] = ()) -> ServedApp:
    """The lab's own app on each interpreter's environment (those that exist)."""
    pythons = {f.label: envs.app_python(f.env_name) for f in FLAVOURS if envs.app_python(f.env_name).exists()}
    return ServedApp(app=BUILTIN_APP, app_dir=None, pythons=pythons, routes_dirs=routes_dirs, threads=threads)


def soak_for_compare(run_dir: Path, plan: Plan, inputs: CheckedInputs | None, prepared: PreparedService | None,
                     duration_s: float, existing: SafetyRecord | None, progress: Progress) -> SafetyRecord:
    """``compare --soak``: the soak after the windows, on the app the run measured, with its load and users."""
    users = max((c.users for c in plan.configs), default=DEFAULT_CONCURRENCY)
    threads = max((c.threads for c in plan.configs), default=8)
    files: tuple[Path, ...]
    if inputs is not None and prepared is not None and inputs.locustfile is not None:
        app, files, source = (served_app(inputs, prepared, threads), (inputs.locustfile.path,),
                              str(inputs.locustfile.path))
    else:
        routes = tuple(sorted({d for c in plan.configs for d in c.routes_dirs}))
        names = sorted({c.scenario for c in plan.configs if not scenario_env(c.scenario, routes)})
        app = served_app(inputs, prepared, threads) if inputs is not None and prepared is not None else \
            builtin_app(threads, routes)
        files, source = tuple(scenario_file(n, routes) for n in names), "the lab's scenarios " + ", ".join(names)
    soaked = _step(lambda: soak_check(app, files, source, run_dir / "soak", duration_s, users, progress), "soak",
                   progress)
    return replace(existing or SafetyRecord(app=app.app, responses=None), soak=soaked)


def check_for_compare(run_dir: Path, inputs: CheckedInputs, prepared: PreparedService, users: int,
                      budget_s: float | None, progress: Progress) -> SafetyRecord:
    """The response check ``compare`` runs after the windows on a team's app, within ``budget_s``."""
    progress(f"==> safe to move? the response check on {inputs.app}, within {budget_s or COMPARE_BUDGET_S:g}s "
             "(--no-safety skips it)")
    responses = _step(lambda: response_check(inputs, prepared, run_dir / "safety", progress, users=users,
                                             budget_s=budget_s or COMPARE_BUDGET_S), "response check", progress)
    return SafetyRecord(app=inputs.app, responses=responses)
