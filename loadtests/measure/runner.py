"""Measure a plan's cells: for each, start the server, drive it with Locust, sample, judge, store.

One cell:
1. start the server on a free loopback port and wait until ``/lab/runtime`` answers;
2. read the runtime (GIL state, modules that re-enabled it, thread limit, versions);
3. run Locust headless: a discarded warm-up, then the measured window;
4. sample the server's and the client's CPU, RSS and threads throughout;
5. read the runtime again, stop everything, judge validity and store the cell.

A cell that cannot be measured honestly is kept and marked invalid with its reason
(``validity.py``): it is never dropped or averaged in. ``run.json`` is rewritten after
every cell, so an interrupted run keeps every finished cell.

The once-per-run steps (prepare, GIL audit, microbenchmark) are the workflow's: the
runner only stores what they produced (:meth:`Runner.record_step`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from loadtests.core.clock import utc_now
from loadtests.core.errors import LabError, LoadGeneratorError, ResultsError, ServerError, ServerRefused
from loadtests.core.flavour import by_label
from loadtests.core.progress import format_seconds
from loadtests.measure.loadgen import LoadSettings, running_locust
from loadtests.measure.runtime import NOT_ANSWERING
from loadtests.measure.sampling import Sampler, merge_samples, usage_in_window
from loadtests.measure.servers import ExternalServer, RunningServer, ServerSettings, external_server, running_server
from loadtests.measure.validity import THRESHOLDS, WindowFacts, idle_workers, judge
from loadtests.measure.windows import read_raw, window_stats
from loadtests.provision import envs
from loadtests.provision.interpreters import Interpreter
from loadtests.results.records import (
    SCHEMA_VERSION,
    AuditOutcome,
    BuildInfo,
    Cell,
    CellConfig,
    CellFiles,
    InterpreterInfo,
    Latency,
    Microbench,
    Outcome,
    Plan,
    RunRecord,
    RunSettings,
    RuntimeSnapshot,
    Sample,
    StepFailure,
)
from loadtests.results.store import cell_dir_name, load_run, machine_metadata, new_run_dir, save_run

# Set on every server and Locust process of a cell: it lets anyone (the tests, a user with
# `ps e`) find what a cell started, and prove nothing outlived it.
CELL_DIR_ENV = "LAB_CELL_DIR"
EXTERNAL_SAMPLING = "unavailable: external app"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunOptions:
    plan: Plan
    out_parent: Path
    locust_workers: int = 0
    app_urls: Mapping[str, str] = field(default_factory=dict)  # label -> URL of an app the lab does not start


def interpreter_infos(interpreters: Mapping[str, Interpreter]) -> dict[str, InterpreterInfo]:
    """The ``interpreters`` section of run.json, with each app environment's packages."""
    if not interpreters:  # every app is external (--app-url)
        return {}
    stamps = {spec.name: envs.read_stamp(spec) or {} for spec in envs.env_specs(dict(interpreters))}
    out = {}
    for interpreter in interpreters.values():
        stamp = stamps[by_label(interpreter.label).env_name]
        build = interpreter.build or None
        out[interpreter.label] = InterpreterInfo(
            path=interpreter.path, version=interpreter.version, free_threaded=interpreter.free_threaded,
            configure_args=interpreter.configure_args, compiler=interpreter.compiler, source=interpreter.source,
            build=(BuildInfo(tarball_sha256=build.get("tarball_sha256"),  # type: ignore[arg-type]
                             configure_flags=tuple(build.get("configure_flags") or ()))  # type: ignore[arg-type]
                   if build else None),
            packages=dict(stamp.get("packages", {})), unsupported=dict(stamp.get("unsupported", {})))
    return out


def external_infos(app_urls: Mapping[str, str]) -> dict[str, InterpreterInfo]:
    """The ``interpreters`` section for apps the lab did not start: what their /lab/runtime says."""
    out = {}
    for label, url in app_urls.items():
        runtime = external_server(url).runtime
        assert runtime is not None
        if runtime.free_threaded != by_label(label).free_threaded:
            raise ServerError(f"--app-url {label}={url} serves free_threaded={runtime.free_threaded}, "
                              f"which is not {label}")
        out[label] = InterpreterInfo(path=runtime.executable, version=runtime.python_version,
                                     free_threaded=runtime.free_threaded, configure_args=None, compiler=None,
                                     source="external", build=None, packages=dict(runtime.packages), unsupported={},
                                     url=url)
    return out


def external_mismatch(config: CellConfig, runtime: RuntimeSnapshot) -> str | None:
    """Why an external app cannot stand for this cell (the lab cannot restart it with other settings)."""
    if runtime.server.name != config.server:
        return f"the external app runs {runtime.server.name}, this cell needs {config.server}"
    if runtime.thread_limit != config.threads:
        return f"the external app's thread limit is {runtime.thread_limit}, this cell needs {config.threads}"
    if config.python_gil is not None:
        return "PYTHON_GIL cells need a server the lab starts"
    if config.cpus:
        return "CPU pinning needs a server the lab starts"
    if config.parallelism == "processes":
        return "the N-process baseline needs a server the lab starts with that many workers"
    return None


@dataclass
class CellDraft:
    """A cell while it is being measured; :meth:`freeze` turns it into the stored record."""

    config: CellConfig
    repeat: int
    cell_dir: Path
    run_dir: Path
    warmup_s: float
    duration_s: float
    locust_workers: int
    started_at: str = field(default_factory=utc_now)
    outcome: Outcome = "measured"
    invalid_reason: str | None = None
    rps: float | None = None
    requests: int = 0
    failures: int = 0
    latency_ms: Latency | None = None
    server_cpu_cores: float | None = None
    server_rss_mb_peak: float | None = None
    server_threads_peak: int | None = None
    server_process_cores: tuple[float, ...] | None = None
    client_cpu_cores: float | None = None
    client_pids: tuple[int, ...] = ()
    server_pid: int | None = None
    server_sampling: str | None = None
    rps_series: tuple[int, ...] = ()
    samples: tuple[Sample, ...] = ()
    runtime_before: RuntimeSnapshot | None = None
    runtime_after: RuntimeSnapshot | None = None
    refusal: str | None = None
    error: str | None = None
    external: bool = False

    def rel(self, name: str) -> str:
        return str((self.cell_dir / name).relative_to(self.run_dir))

    def fail(self, outcome: Outcome, reason: str, **details: str) -> None:
        """Record why the cell could not be measured; the first reason wins."""
        if self.invalid_reason is None:
            self.outcome, self.invalid_reason = outcome, reason
            for key, value in details.items():
                setattr(self, key, value)

    def freeze(self) -> Cell:
        c = self.config
        answers = [r for r in (self.runtime_before, self.runtime_after) if r is not None]
        files = CellFiles(locust_csv=self.rel("locust_stats.csv"), locust_history=self.rel("locust_stats_history.csv"),
                          locust_html=self.rel("locust.html"), locust_log=self.rel("locust.log"),
                          server_log=None if self.external else self.rel("server.log"))
        return Cell(
            id=c.cell_id(self.repeat), config_id=c.config_id, group=c.group, interpreter=c.interpreter,
            free_threaded=c.flavour.free_threaded, python_gil_env=c.python_gil, server=c.server, workers=c.workers,
            parallelism=c.parallelism, threads=c.threads, cpus=c.cpus, scenario=c.scenario, users=c.users,
            repeat=self.repeat, routes_dirs=c.routes_dirs, http=c.http, loop=c.loop, valid=self.invalid_reason is None, outcome=self.outcome,
            invalid_reason=self.invalid_reason, rps=self.rps, requests=self.requests, failures=self.failures,
            latency_ms=self.latency_ms, server_cpu_cores=self.server_cpu_cores,
            server_rss_mb_peak=self.server_rss_mb_peak, server_threads_peak=self.server_threads_peak,
            server_process_cores=self.server_process_cores, client_cpu_cores=self.client_cpu_cores,
            client_pids=self.client_pids, server_pid=self.server_pid, server_sampling=self.server_sampling,
            rps_series=self.rps_series, samples=self.samples, runtime_before=self.runtime_before,
            runtime_after=self.runtime_after,
            gil_enabled=any(r.gil_enabled for r in answers) if answers else None,
            gil_enabled_by=tuple(sorted({m for r in answers for m in r.gil_enabled_by})),
            started_at=self.started_at, warmup_s=self.warmup_s, duration_s=self.duration_s,
            locust_workers=self.locust_workers, files=files, refusal=self.refusal, error=self.error)


def new_record(options: RunOptions, run_id: str, interpreters: Mapping[str, InterpreterInfo]) -> RunRecord:
    plan = options.plan
    settings = RunSettings(
        warmup_s=plan.warmup_s, duration_s=plan.duration_s, repeats=plan.repeats,
        scenarios=tuple(sorted({c.scenario for c in plan.configs})),
        servers=tuple(sorted({c.server for c in plan.configs})), locust_workers=options.locust_workers,
        app_urls=dict(options.app_urls), plan=plan, validity=THRESHOLDS)
    return RunRecord(schema_version=SCHEMA_VERSION, run_id=run_id, preset=plan.name, created_at=utc_now(),
                     finished_at=None, complete=False, settings=settings, machine=machine_metadata(),
                     interpreters=dict(interpreters), cells=(), microbench=None, audit=None)


class Runner:
    """Runs (or resumes) one run directory."""

    def __init__(self, run_dir: Path, record: RunRecord, interpreters: Mapping[str, Interpreter],
                 on_progress: Progress | None = None) -> None:
        self.run_dir = run_dir
        self.record = record
        self.by_role = dict(interpreters)  # "gil"/"ft", as provisioning.load_interpreters() returns them
        self.say = on_progress or (lambda line: print(line, file=sys.stderr, flush=True))
        self.server_env: dict[str, str] = {}  # from the plan's prepare steps

    # ---- construction -------------------------------------------------------------
    @classmethod
    def start(cls, options: RunOptions, interpreters: Mapping[str, Interpreter],
              on_progress: Progress | None = None) -> Runner:
        infos = {**interpreter_infos(interpreters), **external_infos(options.app_urls)}
        run_dir = new_run_dir(options.out_parent, options.plan.name)
        runner = cls(run_dir, new_record(options, run_dir.name, infos), interpreters, on_progress)
        runner.save()
        return runner

    @classmethod
    def resume(cls, run_dir: Path, interpreters: Mapping[str, Interpreter], on_progress: Progress | None = None) -> Runner:
        record = load_run(run_dir)
        if record.complete:
            raise ResultsError(f"{run_dir} is already complete; nothing to resume.")
        return cls(Path(run_dir), record, interpreters, on_progress)

    @property
    def plan(self) -> Plan:
        """The plan stored in run.json, so --resume runs exactly what was started."""
        return self.record.settings.plan

    def save(self) -> None:
        save_run(self.run_dir, self.record)

    def record_step(self, *, microbench: Microbench | StepFailure | None = None,
                    audit: AuditOutcome | StepFailure | None = None) -> None:
        """Store the result of a once-per-run step and save."""
        changes: dict[str, Any] = {}
        if microbench is not None:
            changes["microbench"] = microbench
        if audit is not None:
            changes["audit"] = audit
        self.record = replace(self.record, **changes)
        self.save()

    # ---- running --------------------------------------------------------------------
    def pending(self) -> list[tuple[CellConfig, int]]:
        done = {c.id for c in self.record.cells}
        return [(config, repeat) for config, repeat in self.plan.cells() if config.cell_id(repeat) not in done]

    def run_cells(self) -> Path:
        """Measure every pending cell. On Ctrl-C, keep what is finished and re-raise."""
        todo = self.pending()
        total = len(self.plan.cells())
        done_before = total - len(todo)
        self.say(f"==> run {self.record.run_id}: {len(todo)} cells to measure"
                 + (f" ({done_before} already done)" if done_before else "") + f" -> {self.run_dir}")
        started = time.monotonic()
        try:
            for index, (config, repeat) in enumerate(todo, start=1):
                cell = self.measure(config, repeat)
                self.record = replace(self.record, cells=(*self.record.cells, cell))
                self.save()
                eta = (time.monotonic() - started) / index * (len(todo) - index)
                self.say(progress_line(done_before + index, total, cell, eta))
        except KeyboardInterrupt:
            self.save()
            self.say(f"\ninterrupted: {len(self.record.cells)} finished cells kept in {self.run_dir / 'run.json'}\n"
                     f"complete it with: gil-lab run --resume {self.run_dir}")
            raise
        self.record = replace(self.record, complete=True, finished_at=utc_now())
        self.save()
        return self.run_dir

    def measure(self, config: CellConfig, repeat: int) -> Cell:
        app_url = self.record.settings.app_urls.get(config.interpreter)
        plan = self.plan
        cell_dir = self.run_dir / "cells" / cell_dir_name(config.cell_id(repeat))
        cell_dir.mkdir(parents=True, exist_ok=True)
        draft = CellDraft(config, repeat, cell_dir, self.run_dir, plan.warmup_s, plan.duration_s,
                          self.record.settings.locust_workers, external=bool(app_url))
        info = self.record.interpreters.get(config.interpreter)
        try:
            if app_url:
                self._measure_external(external_server(app_url), draft)
            else:
                settings = ServerSettings(
                    server=config.server, python=envs.app_python(config.flavour.env_name), workers=config.workers,
                    threads=config.threads, http=config.http, loop=config.loop, python_gil=config.python_gil,
                    routes_dirs=config.routes_dirs, cpus=config.cpus, extra_env=tuple(sorted({**self.server_env, CELL_DIR_ENV: str(cell_dir)}.items())),
                )
                server_version = info.packages.get(config.server) if info else None
                with running_server(settings, cell_dir / "server.log", server_version) as running:
                    draft.server_pid = running.pid
                    draft.runtime_before = running.runtime
                    self._drive(running, draft)
        except ServerRefused as exc:
            draft.fail("refused", f"{config.server} refused to start: {last_line(exc)}", refusal=str(exc))
        except ServerError as exc:
            draft.fail("server-error", f"server failed: {last_line(exc)}", error=str(exc))
        except LoadGeneratorError as exc:
            draft.fail("client-error", f"load generator failed: {exc}")
        except LabError as exc:
            draft.fail("error", str(exc))
        return draft.freeze()

    def _measure_external(self, server: ExternalServer, draft: CellDraft) -> None:
        draft.runtime_before = server.runtime
        draft.server_sampling = EXTERNAL_SAMPLING
        assert server.runtime is not None
        skip = external_mismatch(draft.config, server.runtime)
        if skip:
            draft.fail("skipped", f"skipped: {skip}")
        else:
            self._drive(server, draft)

    def _drive(self, server: RunningServer | ExternalServer, draft: CellDraft) -> None:
        config, plan = draft.config, self.plan
        load = LoadSettings(config.scenario, server.base_url, config.users, plan.warmup_s, plan.duration_s,
                            draft.cell_dir, workers=self.record.settings.locust_workers,
                            routes_dirs=config.routes_dirs, extra_env=client_env(config, draft.cell_dir))
        crash: dict[str, int] = {}

        def server_died() -> str | None:
            code = server.exit_code()
            if code is not None:
                crash["code"] = code
                return f"server exited with status {code}"
            return None

        with Sampler({"server": [server.pid]} if server.pid else {}) as sampler, running_locust(load) as locust:
            sampler.add_tree("client", locust.pids)
            draft.client_pids = tuple(locust.pids)
            locust.wait(timeout=load.run_time_s + 90, abort=server_died)
        if "code" in crash:
            draft.fail("crashed", f"server crashed during the window (exit status {crash['code']})")
            return
        try:
            draft.runtime_after = server.fetch_runtime()
        except NOT_ANSWERING:
            draft.runtime_after = None
        raw = read_raw(load.raw_path)
        stats = window_stats(raw, plan.warmup_s, plan.duration_s)
        start = raw.test_start + plan.warmup_s
        end = start + plan.duration_s
        server_series, client_series = sampler.series.get("server", []), sampler.series.get("client", [])
        server_use = usage_in_window(server_series, start, end)
        client_use = usage_in_window(client_series, start, end)
        draft.rps, draft.requests, draft.failures = round(stats.rps, 3), stats.requests, stats.failures
        draft.latency_ms, draft.rps_series = stats.latency_ms, stats.rps_series
        if server_use:
            draft.server_cpu_cores = round(server_use.cpu_cores, 3)
            draft.server_rss_mb_peak = round(server_use.rss_mb_peak, 1)
            draft.server_threads_peak = server_use.threads_peak
        draft.client_cpu_cores = round(client_use.cpu_cores, 3) if client_use else None
        draft.samples = merge_samples(server_series, client_series, start)
        facts = WindowFacts(config.flavour, config.python_gil, draft.runtime_before, draft.runtime_after,
                            stats.requests, stats.failures, client_use.max_process_cores if client_use else None)
        reason = judge(facts, self.record.settings.validity)
        if server_use and server.pid and config.workers > 1:
            workers = {pid: cores for pid, cores in server_use.process_cores.items() if pid != server.pid}
            draft.server_process_cores = tuple(sorted((round(c, 3) for c in workers.values()), reverse=True))
            reason = reason or idle_workers(workers, config.workers, self.record.settings.validity)
        if reason:
            draft.fail("measured", reason)


def client_env(config: CellConfig, cell_dir: Path) -> tuple[tuple[str, str], ...]:
    """Locust's environment for a cell: its mark, and a new connection per request for N processes."""
    env = [(CELL_DIR_ENV, str(cell_dir))]
    if config.parallelism == "processes" and config.workers > 1:
        env.append(("LAB_CONNECTION_CLOSE", "1"))  # see scenarios/lab_support.py, LabUser.default_headers
    return tuple(env)


def last_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def progress_line(position: int, total: int, cell: Cell, eta_s: float) -> str:
    width = len(str(total))
    head = (f"[{position:>{width}}/{total}] {cell.scenario:<8} {cell.server:<7} {cell.interpreter:<5} "
            f"{cell.parallelism[:4]} w{cell.workers} t{cell.threads} u{cell.users:<3} r{cell.repeat}")
    if cell.valid and cell.rps is not None:
        p95 = cell.latency_ms.p95 if cell.latency_ms else 0.0
        body = f"{cell.rps:8.1f} rps  p95 {p95:7.0f} ms  cpu {cell.server_cpu_cores}"
    else:
        body = f"INVALID: {cell.invalid_reason}"
    return f"{head}  {body}  ETA {format_seconds(eta_s)}"

