"""``gil-lab run`` and ``gil-lab compare``: check everything, measure the plan, index the run.

Order of work for a new run: resolve the plan and the flags, load the interpreters
and check the environments (all before any server starts, so a bad flag costs
nothing), then the plan's once-per-run steps (prepare, GIL audit, threads
microbenchmark), then every cell, then the history. ``--resume`` continues a run
directory: steps already recorded are not repeated, finished cells are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from loadtests.analysis.history_summary import run_summary
from loadtests.analysis.summary import summarize_run
from loadtests.core.errors import ConfigError, EnvironmentSetupError, LabError
from loadtests.core.flavour import FT, by_label
from loadtests.core.paths import results_dir, setup_command
from loadtests.measure.microbench import run_microbench
from loadtests.measure.runner import Runner, RunOptions
from loadtests.plan.comparisons import comparisons
from loadtests.plan.presets import Overrides, apply_overrides, load_preset
from loadtests.provision import envs, gil_trap
from loadtests.provision.interpreters import Interpreter
from loadtests.provision.provisioning import load_interpreters
from loadtests.results.history import record_run
from loadtests.results.records import CapacityPolicy, Plan, RunRecord, StepFailure
from loadtests.results.store import load_run, save_summary
from loadtests.workflow.audit import audit_app_for_run
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
    threads: str | None = None

    def external_apps(self, labels: set[str]) -> dict[str, str]:
        """``--app-url 3.14=URL --app-url 3.14t=URL`` as a dict, checked against the plan's interpreters."""
        urls = {}
        for item in self.app_urls:
            label, sep, url = item.partition("=")
            if not sep or not url.startswith(("http://", "https://")):
                raise ConfigError(f"--app-url takes LABEL=URL with an http(s) URL, not {item!r}")
            by_label(label)  # a clear error for a label that is neither 3.14 nor 3.14t
            urls[label] = url
        if urls and set(urls) != labels:
            raise ConfigError(f"--app-url covers {', '.join(sorted(urls))} but the preset also runs "
                              f"{', '.join(sorted(labels - set(urls)))}: give a URL for every interpreter, or none")
        return urls

    def overrides(self) -> Overrides:
        return Overrides(_csv(self.scenarios), _csv(self.servers), self.repeats, self.duration, self.warmup,
                         _counts(self.users, "--users", "comma-separated integers"),
                         tuple(str(Path(d).resolve()) for d in self.routes_dirs), self.skip_microbench,
                         self.http, self.loop, self.precision, self.max_time, self.slo_ms,
                         _counts(self.cpus, "--cpus", "comma-separated CPU counts"),
                         _counts(self.threads, "--threads", "comma-separated anyio thread limits (integers)"))


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


def check_environments(interpreters: Mapping[str, Interpreter]) -> None:
    for spec in envs.env_specs(dict(interpreters)):
        if not spec.python.exists():
            raise EnvironmentSetupError(f"environment {spec.name} is missing ({spec.path}). Run `{setup_command()}`.")


def plan_for(request: RunRequest) -> tuple[Plan, dict[str, str]]:
    """The resolved plan and the external apps, checked before anything starts."""
    plan = apply_overrides(load_preset(request.preset), request.overrides())
    if request.capacity and plan.capacity is None:
        plan = replace(plan, capacity=CapacityPolicy(slo_ms=request.slo_ms or 500.0), precision=None)
    check_capacity_budget(plan)
    app_urls = request.external_apps({c.interpreter for c in plan.configs})
    if app_urls:  # nothing local runs the app: no microbenchmark or audit of a local environment
        plan = replace(plan, microbench=None, audit=False)
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


def run(request: RunRequest, progress: Progress) -> RunResult:
    """Measure a preset (or resume a run directory), index it in the history, return it."""
    if request.resume_dir:
        stored = load_run(Path(request.resume_dir))
        runner = Runner.resume(Path(request.resume_dir), {} if stored.settings.app_urls else load_interpreters(),
                               progress, adaptive)
    else:
        plan, app_urls = plan_for(request)
        interpreters: dict[str, Interpreter] = {}
        if not app_urls:
            interpreters = load_interpreters()
            check_environments(interpreters)
        out_parent = Path(request.out_parent) if request.out_parent else results_dir()
        runner = Runner.start(RunOptions(plan, out_parent, request.locust_workers, app_urls), interpreters, progress,
                              adaptive)
    try:
        run_steps(runner, progress)
    except KeyboardInterrupt:
        runner.save()
        progress(f"\ninterrupted before the cells; complete it with: gil-lab run --resume {runner.run_dir}")
        raise
    run_dir = runner.run_cells()
    save_summary(run_dir, summarize_run(runner.record))
    record_run(run_dir, run_summary)
    return RunResult(run_dir, runner.record)


def run_steps(runner: Runner, progress: Progress) -> None:
    """The plan's once-per-run steps, each skipped when the run already holds its result."""
    plan, record = runner.plan, runner.record
    for step in plan.prepare:
        progress(f"==> prepare: {step}")
        runner.server_env.update(PREPARE[step](runner.by_role))
    if plan.audit and record.audit is None and FT.role in runner.by_role:
        routes = tuple(sorted({d for c in plan.configs for d in c.routes_dirs}))
        runner.record_step(audit=_step(lambda: audit_app_for_run(routes, runner.by_role, progress), progress,
                                       "audit"))
    if plan.microbench is not None and record.microbench is None:
        progress("==> threads microbenchmark (no HTTP): pure-Python, json and sha256 work on 1..N threads")
        runner.record_step(microbench=_step(lambda: run_microbench(runner.by_role, plan.microbench, progress),
                                            progress, "microbenchmark"))


def _step(work: Callable[[], T], progress: Progress, name: str) -> T | StepFailure:
    """Run a step; a lab error is recorded as its failure and the run goes on."""
    try:
        return work()
    except LabError as exc:
        progress(f"    {name} failed, recorded in run.json: {exc}")
        return StepFailure(str(exc))
