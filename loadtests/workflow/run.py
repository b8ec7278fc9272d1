"""``gil-lab run`` and ``gil-lab compare``: check everything, measure the plan, index the run.

Order of work for a new run: resolve the plan and the flags, load the interpreters
and check the environments (all before any server starts, so a bad flag costs
nothing); for a team's own service (``--app``, ``--requirements``, ``--locustfile``,
``service.py``) its environments, the inspection of its app and the preflight of its
Locust file, still before any window; then the plan's once-per-run steps (prepare, GIL
audit, threads microbenchmark), then every cell, then who turned the GIL on in any
window, then the analysis of the record in memory: summary.json, the history and the
``--expect`` verdicts come from it, and nothing is read back. ``compare --soak`` adds the
soak after the windows (and after the response check on a team's app). ``--resume`` continues a
run directory: steps already recorded are not repeated, finished cells are kept.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from loadtests.analysis.expectation_check import evaluate
from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.capacity import DEFAULT_SLO_MS
from loadtests.analysis.figures.expectations import ExpectationReport
from loadtests.core.credentials import keep_url_secrets
from loadtests.core.errors import ConfigError, LabError
from loadtests.core.flavour import FT, by_label
from loadtests.core.paths import control_venv, results_dir
from loadtests.measure.master import DEFAULT_JOIN_TIMEOUT_S
from loadtests.measure.microbench import run_microbench
from loadtests.measure.run_record import RunOptions
from loadtests.measure.runner import Runner
from loadtests.plan.comparisons import comparisons
from loadtests.plan.expectation_scope import check_scope
from loadtests.plan.presets import Overrides, apply_overrides, attach_service, load_preset
from loadtests.provision import env_lock, envs, gil_trap
from loadtests.provision.interpreters import Interpreter
from loadtests.provision.process_env import add_lab_address
from loadtests.provision.provisioning import load_interpreters
from loadtests.report.build import ReportPaths
from loadtests.results.expectation import Expectation
from loadtests.results.records import AuditOutcome, BytecodeMode, CapacityPolicy, Plan, RunRecord, StepFailure
from loadtests.results.run_writer import RunWriter
from loadtests.workflow.audit import (
    audit_app_for_run,
    audit_service_for_run,
    culprits_after_windows,
    culprits_of_audit,
)
from loadtests.workflow.bytecode_step import bytecode_states, restore_bytecode
from loadtests.workflow.distributed import master_for_request, master_for_resume
from loadtests.workflow.finish import conclude
from loadtests.workflow.probing import launcher_for, probe_scenarios
from loadtests.workflow.safety import check_for_compare, soak_for_compare
from loadtests.workflow.service import (
    ServiceRequest,
    check_environments,
    check_inputs,
    keep_preflight_logs,
    prepare,
    require_local,
    scenario_override,
    team_distributions,
    team_scenarios,
)
from loadtests.workflow.service import wanted as service_wanted
from loadtests.workflow.stopping import adaptive

Progress = Callable[[str], None]
T = TypeVar("T")
#: What each preset ``prepare`` step runs: it returns environment variables for every server of the run.
PREPARE: dict[str, Callable[[Mapping[str, Interpreter]], dict[str, str]]] = {"gil_trap": gil_trap.prepare}


def _csv(value: str | None) -> tuple[str, ...] | None:
    if not value:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


@dataclass(frozen=True)
class RunRequest:
    """What `run` and `compare` were asked to do, straight from their options."""

    preset: str = "default"
    scenarios: str | None = None
    servers: str | None = None
    repeats: int | None = None
    duration: float | None = None
    warmup: float | None = None
    users: str | None = None
    locust_workers: int = 0
    out_parent: str | None = None
    routes_dirs: tuple[str, ...] = ()
    skip_microbench: bool = False
    resume_dir: str | None = None
    app_urls: tuple[str, ...] = ()
    http: str | None = None
    loop: str | None = None
    precision: float | None = None
    max_time: float | None = None
    slo_ms: float | None = None  # capacity runs: the p95 objective (also the report's)
    capacity: bool = False  # search capacities even if the preset has no [capacity] table
    cpus: str | None = None
    expect_workers: int = 0
    locust_master_bind: str | None = None
    locust_master_port: int | None = None
    expose_master: bool = False
    workers_timeout: float = DEFAULT_JOIN_TIMEOUT_S
    app: str | None = None
    app_dir: str | None = None
    requirements: str | None = None
    locustfile: str | None = None
    python_gil: str | None = None  # "0": a PYTHON_GIL=0 arm beside every 3.14t arm
    threads: str | None = None
    profile: bool | None = None  # profile windows on the headline servers (None: the preset's)
    probe: bool | None = None  # the per-endpoint probe (None: the preset's; always for a team's service)
    expectations: tuple[Expectation, ...] = ()  # --expect: checked against the plan first, judged at the end
    bytecode: BytecodeMode = "compiled"  # how the servers load the app and its libraries
    instances: int | None = None  # server instances per arm (default: the preset's)
    safety: bool = True  # a team's app with its Locust file: the response check after the windows
    safety_budget: float | None = None  # its time budget, seconds (None: the lab's default)
    soak_s: float | None = None  # compare --soak: both interpreters under a steady load for this long, after the windows

    @property
    def service(self) -> ServiceRequest:
        return ServiceRequest(self.app, self.app_dir, self.requirements, self.locustfile)

    @property
    def resolved_routes_dirs(self) -> tuple[str, ...]:
        return tuple(str(Path(d).resolve()) for d in self.routes_dirs)

    def external_apps(self, labels: set[str]) -> dict[str, str]:
        """``--app-url 3.14=URL --app-url 3.14t=URL`` as a dict, checked against the plan's interpreters."""
        urls = {}
        for item in self.app_urls:
            label, sep, url = item.partition("=")
            if not sep or not url.startswith(("http://", "https://")):
                raise ConfigError(f"--app-url takes LABEL=URL with an http(s) URL, not {item!r}")
            by_label(label)  # a clear error for a label that is neither 3.14 nor 3.14t
            urls[label] = url
            keep_url_secrets(url)  # used to authenticate, never written down
            add_lab_address(urllib.parse.urlsplit(url).hostname or "")  # the load goes there directly, not via a proxy
        if urls and set(urls) != labels:
            raise ConfigError(f"--app-url covers {', '.join(sorted(urls))} but the preset also runs "
                              f"{', '.join(sorted(labels - set(urls)))}: give a URL for every interpreter, or none")
        return urls

    def overrides(self) -> Overrides:
        if self.python_gil not in (None, "0"):
            raise ConfigError(f"--python-gil takes 0 (an extra PYTHON_GIL=0 arm on 3.14t), not {self.python_gil!r}")
        return Overrides(_csv(self.scenarios), _csv(self.servers), self.repeats, self.duration, self.warmup,
                         _counts(self.users, "--users", "comma-separated integers"),
                         self.resolved_routes_dirs, self.skip_microbench, self.http, self.loop, self.precision,
                         self.max_time, slo_ms=self.slo_ms,
                         cpus=_counts(self.cpus, "--cpus", "comma-separated CPU counts"),
                         locustfile_scenario=scenario_override(self.service), python_gil_0=self.python_gil == "0",
                         threads=_counts(self.threads, "--threads", "comma-separated anyio thread limits (integers)"),
                         probe=self.probe, profile=self.profile,
                         instances=self.instances)


def _counts(value: str | None, flag: str, what: str) -> tuple[int, ...] | None:
    """``"1,2,4"`` -> ``(1, 2, 4)``; None when not given; a clear error for anything but integers >= 1."""
    try:
        counts = tuple(int(v) for v in _csv(value) or ()) or None
    except ValueError as exc:
        raise ConfigError(f"{flag} takes {what}, not {value!r}") from exc
    if counts and min(counts) < 1:
        raise ConfigError(f"{flag} must be at least 1, not {min(counts)}")
    return counts


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    record: RunRecord
    analysis: Analysis  # of the record in memory: summary.json and the history entry were written from it
    expectations: ExpectationReport | None = None  # --expect judged on the analysis's summary
    report: ReportPaths | None = None  # report.html and report.md, when the command wrote them


def plan_for(request: RunRequest) -> tuple[Plan, dict[str, str]]:
    """The resolved plan and the external apps, checked before anything starts."""
    plan = apply_overrides(load_preset(request.preset), request.overrides())
    if request.capacity and plan.capacity is None:
        plan = replace(plan, capacity=CapacityPolicy(slo_ms=request.slo_ms or 500.0), precision=None)
    check_capacity_budget(plan)
    app_urls = request.external_apps({c.interpreter for c in plan.configs})
    require_local(app_urls, request.service)
    if app_urls:  # nothing local runs the app: no microbenchmark or audit, and no fresh start of it
        plan = replace(plan, microbench=None, audit=False, instances=1)
    if service_wanted(request.service, request.resolved_routes_dirs):
        # The HTTP-free microbenchmark is about the interpreters, not the service; the service's own audit runs,
        # and so does the per-endpoint probe of what its load sends.
        plan = replace(plan, microbench=None, audit=False, probe=request.probe is not False)
    return plan, app_urls


def check_capacity_budget(plan: Plan) -> None:
    """A capacity search needs time for at least one bracket step per configuration it compares."""
    if plan.capacity is None or plan.max_time_s is None:
        return
    step = plan.transition_s + plan.duration_s + 1.0  # the drain between steps takes about a second
    arms = max(len(c.arms) for c in comparisons(plan.configs))
    if plan.max_time_s < 2 * step * arms:
        raise ConfigError(f"--max-time {plan.max_time_s:g} s is too short for even one bracket step of each of the "
                          f"{arms} configurations compared side by side (about {step:g} s a step, and a bracket needs "
                          f"two): give at least {2 * step * arms:g} s")


def run(request: RunRequest, progress: Progress, slo_ms: float | None = None,
        target_rps: float | None = None) -> RunResult:
    """Measure a preset (or resume a run directory), write summary.json, index it in the history, return it.

    ``slo_ms`` and ``target_rps``: what the analysis judges latency and capacity against
    (by default the run's own SLO, else 500 ms).
    """
    inputs, prepared = None, None
    if request.resume_dir:
        writer = RunWriter.reopen(Path(request.resume_dir))  # run.json, read once for the whole command
        stored = writer.record
        check_scope(request.expectations, stored.settings.plan)
        restore_bytecode(stored, progress)  # the state the run recorded, checked (and compiled again if it went)
        runner = Runner(writer, {} if stored.settings.app_urls else load_interpreters(), progress, adaptive,
                        master_for_resume(stored.settings, request.workers_timeout, progress))
        if request.app_urls:  # run.json keeps the URLs without credentials: given again, they count
            runner.app_urls.update(request.external_apps(set(stored.settings.app_urls)))
    else:
        plan, app_urls = plan_for(request)
        check_scope(request.expectations, plan)  # an expectation the plan cannot answer costs nothing
        for why in (w for c in comparisons(plan.configs) for w in c.uneven_baselines(bool(request.locustfile))):
            progress(f"    note: {why}")
        master = master_for_request(request.locust_master_bind, request.locust_master_port, request.expect_workers,
                                    request.expose_master, request.workers_timeout, bool(app_urls), progress)
        routes = request.resolved_routes_dirs
        inputs = check_inputs(request.service, routes, progress) if service_wanted(request.service, routes) else None
        interpreters: dict[str, Interpreter] = {}
        if not app_urls:
            interpreters = load_interpreters()
            check_environments(interpreters)
        prepared = None if inputs is None else prepare(inputs, interpreters, routes, request.python_gil == "0",
                                                       progress)
        if prepared is not None:
            plan = attach_service(plan, prepared.refs)
        out_parent = Path(request.out_parent) if request.out_parent else results_dir()
        options = RunOptions(plan, out_parent, request.locust_workers, app_urls, master=master,
                             service=None if prepared is None else prepared.settings,
                             team_scenarios=team_scenarios(plan.configs, None if prepared is None
                                                           else prepared.settings),
                             own_envs={} if prepared is None else prepared.own_envs)
        options = replace(options, bytecode=bytecode_states(options, progress, request.bytecode))
        runner = Runner.start(options, interpreters, progress, adaptive)
        if prepared is not None:
            keep_preflight_logs(prepared, runner.run_dir)
    # another lab's set-up waits for this run before it rebuilds an environment the run uses
    with env_lock.using(environments_in_use(runner)):
        try:
            run_steps(runner, progress)
        except KeyboardInterrupt:
            runner.run.save()
            progress(f"\ninterrupted before the cells; complete it with: gil-lab run --resume {runner.run_dir}")
            raise
        run_dir = runner.run_cells()
        attribute_gil(runner, progress)
        if inputs is not None and prepared is not None and inputs.locustfile is not None and request.safety:
            users = max((c.users for c in runner.plan.configs), default=1)
            runner.run.record_step(safety=check_for_compare(run_dir, inputs, prepared, users, request.safety_budget,
                                                            progress))
        if request.soak_s is not None and not request.resume_dir:
            runner.run.record_step(safety=soak_for_compare(run_dir, runner.plan, inputs, prepared, request.soak_s,
                                                           runner.run.record.safety, progress))
    analysis = conclude(run_dir, runner.run.record, slo_ms or request.slo_ms or DEFAULT_SLO_MS, target_rps,
                        warn=progress)
    verdicts = evaluate(request.expectations, analysis.summary) if request.expectations else None
    return RunResult(run_dir, runner.run.record, analysis, verdicts)


def environments_in_use(runner: Runner) -> list[Path]:
    """Every environment the run starts servers, Locust or probes from: the lab's and a team's own."""
    paths = [control_venv()]
    if runner.by_role:  # none when every app is external (--app-url)
        paths += [spec.path for spec in envs.env_specs(dict(runner.by_role))]
    service = runner.run.record.settings.service
    if service is not None:
        paths += [Path(env.python).parent.parent for env in service.environments.values() if env.python]
    return paths


def run_steps(runner: Runner, progress: Progress) -> None:
    """The plan's once-per-run steps, each skipped when the run already holds its result."""
    plan, record, run = runner.plan, runner.run.record, runner.run
    for step in plan.prepare:
        progress(f"==> prepare: {step}")
        runner.server_env.update(PREPARE[step](runner.by_role))
    routes = tuple(sorted({d for c in plan.configs for d in c.routes_dirs}))
    service = record.settings.service
    if service is not None and record.audit is None and FT.role in runner.by_role:
        ft = record.interpreters.get(FT.label)
        team = team_distributions(service, ft.packages if ft else {})
        run.record_step(audit=_step(lambda: audit_service_for_run(service, routes, runner.by_role, team, progress),
                                       progress, "audit"))
    elif plan.audit and record.audit is None and FT.role in runner.by_role:
        run.record_step(audit=_step(lambda: audit_app_for_run(routes, runner.by_role, progress), progress,
                                       "audit"))
    if isinstance(run.record.audit, AuditOutcome) and not run.record.gil_culprits:
        run.record_step(gil_culprits=culprits_of_audit(run.record.audit.report))
    if plan.probe and not record.settings.app_urls:
        probe_scenarios(run, launcher_for(run, runner.server_env), progress)
    if plan.microbench is not None and record.microbench is None:
        progress("==> threads microbenchmark (no HTTP): pure-Python, json and sha256 work on 1..N threads")
        run.record_step(microbench=_step(lambda: run_microbench(runner.by_role, plan.microbench, progress),
                                            progress, "microbenchmark"))


def _step(work: Callable[[], T], progress: Progress, name: str) -> T | StepFailure:
    """Run a step; a lab error is recorded as its failure and the run goes on."""
    try:
        return work()
    except LabError as exc:
        progress(f"    {name} failed, recorded in run.json: {exc}")
        return StepFailure(str(exc))


def attribute_gil(runner: Runner, progress: Progress) -> None:
    """Tie every module a 3.14t window named to its distribution and remedies (run.json's gil_culprits)."""
    record = runner.run.record
    if not any(c.free_threaded and c.gil_enabled_by for c in record.cells):
        return
    service = record.settings.service
    env = service.environments.get(FT.label) if service else None
    python = Path(env.python) if env is not None and env.python else envs.app_python(FT.env_name)
    culprits = _step(lambda: culprits_after_windows(record, python, progress), progress, "GIL attribution")
    if not isinstance(culprits, StepFailure):
        runner.run.record_step(gil_culprits=culprits)
