"""Run a matrix: for each cell, start the server, drive it with Locust, sample, judge, store.

One cell (DESIGN.md, data flow step 4):
1. start the server on a free loopback port and wait until ``/lab/runtime`` answers;
2. read the runtime (GIL state, modules that re-enabled it, thread limit, versions);
3. run Locust headless: a discarded warm-up, then the measured window;
4. sample the server's and the client's CPU, RSS and threads throughout;
5. read the runtime again, stop everything, judge validity and store the cell.

A cell that cannot be measured honestly is kept and marked invalid with its reason:
the GIL on in a free-threaded cell, a server that crashed or refused to start, a
saturated load generator, failed requests. It is never dropped or averaged in.
"""

from __future__ import annotations

import functools
import importlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.core.errors import ConfigError, LabError, LoadGeneratorError, ResultsError, ServerError, ServerRefused
from loadtests.core.progress import format_seconds
from loadtests.measure.loadgen import LoadSettings, read_raw, running_locust, window_stats
from loadtests.measure.sampling import Sampler, usage_in_window
from loadtests.measure.servers import ServerSettings, external_server, running_server
from loadtests.plan.presets import PREPARE_STEPS, CellConfig, Preset
from loadtests.provision import envs
from loadtests.provision.interpreters import Interpreter
from loadtests.results.store import (
    RUN_FILE,
    SCHEMA_VERSION,
    cell_dir_name,
    load_run,
    machine_metadata,
    new_run_dir,
    utc_now,
    write_json_atomic,
)

CLIENT_SATURATION_CORES = 0.9  # Locust is one gevent thread per process: ~1 core is its ceiling
MAX_FAILURE_RATIO = 0.01
ENV_FOR_LABEL = {"3.14": "app-gil", "3.14t": "app-ft"}
# Set on every server and Locust process of a cell: it lets anyone (the tests, a user with
# `ps e`) find what a cell started, and prove nothing outlived it.
CELL_DIR_ENV = "LAB_CELL_DIR"


@dataclass(frozen=True)
class RunOptions:
    preset: Preset
    out_parent: Path
    locust_workers: int = 0
    settings_extra: dict = field(default_factory=dict)  # CLI choices recorded in run.json
    app_urls: dict[str, str] = field(default_factory=dict)  # label -> URL of an app the lab does not start


def interpreter_block(interpreters: dict[str, Interpreter]) -> dict:
    """The ``interpreters`` section of run.json, with each app environment's packages."""
    if not interpreters:  # every app is external (--app-url)
        return {}
    stamps = {spec.name: envs.read_stamp(spec) or {} for spec in envs.env_specs(interpreters)}
    block = {}
    for interpreter in interpreters.values():
        stamp = stamps[ENV_FOR_LABEL[interpreter.label]]
        build = interpreter.build or None
        block[interpreter.label] = {
            "path": interpreter.path, "version": interpreter.version, "free_threaded": interpreter.free_threaded,
            "configure_args": interpreter.configure_args, "compiler": interpreter.compiler, "source": interpreter.source,
            "build": ({"tarball_sha256": build.get("tarball_sha256"), "configure_flags": build.get("configure_flags")}
                      if build else None),
            "packages": stamp.get("packages", {}), "unsupported": stamp.get("unsupported", {}),
        }
    return block


def external_block(app_urls: dict[str, str]) -> dict:
    """The ``interpreters`` section for apps the lab did not start: what their /lab/runtime says."""
    block = {}
    for label, url in app_urls.items():
        runtime = external_server(url).runtime
        if bool(runtime.get("free_threaded")) != label.endswith("t"):
            raise ConfigError(f"--app-url {label}={url} serves free_threaded={runtime.get('free_threaded')}, "
                              f"which is not {label}")
        block[label] = {"url": url, "path": runtime.get("executable"), "version": runtime.get("python_version"),
                        "free_threaded": runtime.get("free_threaded"), "configure_args": None, "build": None,
                        "source": "external", "packages": runtime.get("packages", {}), "unsupported": {}}
    return block


def external_mismatch(config: CellConfig, runtime: dict) -> str | None:
    """Why an external app cannot stand for this cell (the lab cannot restart it with other settings)."""
    server = (runtime.get("server") or {}).get("name")
    if server != config.server:
        return f"the external app runs {server}, this cell needs {config.server}"
    if runtime.get("thread_limit") != config.threads:
        return f"the external app's thread limit is {runtime.get('thread_limit')}, this cell needs {config.threads}"
    if config.python_gil is not None:
        return "PYTHON_GIL cells need a server the lab starts"
    if config.cpus:
        return "CPU pinning needs a server the lab starts"
    return None


def judge(cell: dict, max_process_client_cores: float | None) -> str | None:
    """Why a measured cell is invalid, or None when it is valid."""
    before, after = cell.get("runtime_before") or {}, cell.get("runtime_after") or {}
    expected_ft = cell["interpreter"].endswith("t")
    if before and bool(before.get("free_threaded")) != expected_ft:
        return f"the server reported free_threaded={before.get('free_threaded')} on {cell['interpreter']}"
    if expected_ft and cell["gil_enabled"] and cell["python_gil_env"] != "1":
        modules = ", ".join(cell["gil_enabled_by"]) or "an unidentified module"
        return f"GIL enabled on the free-threaded build by {modules}"
    if cell["python_gil_env"] == "1" and not cell["gil_enabled"]:
        return "PYTHON_GIL=1 was set but the server reported the GIL disabled"
    if after == {} and before:
        return "the server stopped answering /lab/runtime after the window"
    if cell["requests"] == 0:
        return "no request completed in the measured window"
    if cell["failures"] > MAX_FAILURE_RATIO * cell["requests"]:
        return f"{cell['failures']} of {cell['requests']} requests failed (see the Locust report)"
    if max_process_client_cores is not None and max_process_client_cores > CLIENT_SATURATION_CORES:
        return (f"load generator saturated ({max_process_client_cores:.2f} cores in one Locust process); "
                "use --locust-workers or a lighter scenario")
    return None


class Runner:
    """Runs (or resumes) one run directory."""

    def __init__(self, run_dir: Path, record: dict, interpreters: dict[str, Interpreter],
                 on_progress: Callable[[str], None] | None = None) -> None:
        self.run_dir = run_dir
        self.record = record
        self.by_role = dict(interpreters)  # "gil"/"ft", as provision.load_interpreters() returns them
        self.say = on_progress or (lambda line: print(line, file=sys.stderr, flush=True))
        self.server_env: dict[str, str] = {}  # from the preset's prepare steps

    # ---- construction -------------------------------------------------------------
    @classmethod
    def start(cls, options: RunOptions, interpreters: dict[str, Interpreter], **kw: object) -> Runner:
        run_dir = new_run_dir(options.out_parent, options.preset.name)
        record = {
            "schema_version": SCHEMA_VERSION,
            "run_id": run_dir.name,
            "preset": options.preset.name,
            "created_at": utc_now(),
            "finished_at": None,
            "complete": False,
            "settings": {
                "warmup_s": options.preset.warmup_s, "duration_s": options.preset.duration_s,
                "repeats": options.preset.repeats,
                "scenarios": sorted({c.scenario for c in options.preset.configs}),
                "servers": sorted({c.server for c in options.preset.configs}),
                "locust_workers": options.locust_workers,
                "app_urls": options.app_urls,
                "plan": options.preset.to_json(),
                **options.settings_extra,
            },
            "machine": machine_metadata(),
            "interpreters": {**interpreter_block(interpreters), **external_block(options.app_urls)},
            "cells": [],
            "microbench": None,
            "audit": None,
        }
        runner = cls(run_dir, record, interpreters, **kw)  # type: ignore[arg-type]
        runner.save()
        return runner

    @classmethod
    def resume(cls, run_dir: Path, interpreters: dict[str, Interpreter], **kw: object) -> Runner:
        record = load_run(run_dir)
        if record.get("complete"):
            raise ResultsError(f"{run_dir} is already complete; nothing to resume.")
        return cls(Path(run_dir), record, interpreters, **kw)  # type: ignore[arg-type]

    @functools.cached_property
    def preset(self) -> Preset:
        """The plan stored in run.json (so --resume runs exactly what was started), read once."""
        plan = self.record["settings"]["plan"]
        configs = tuple(
            CellConfig(**{**c, "cpus": tuple(c["cpus"]) if c["cpus"] else None, "routes_dirs": tuple(c["routes_dirs"])})
            for c in plan["configs"]
        )
        return Preset(plan["name"], plan["description"], plan["warmup_s"], plan["duration_s"], plan["repeats"],
                      configs, plan.get("microbench"), tuple(plan.get("prepare", [])), bool(plan.get("audit")))

    def save(self) -> None:
        write_json_atomic(self.run_dir / RUN_FILE, self.record)

    # ---- running --------------------------------------------------------------------
    def pending(self) -> list[tuple[CellConfig, int]]:
        done = {c["id"] for c in self.record["cells"]}
        return [(config, repeat) for config, repeat in self.preset.cells() if config.cell_id(repeat) not in done]

    def run(self) -> Path:
        """Measure every pending cell. On Ctrl-C, keep what is finished and re-raise."""
        todo = self.pending()
        total = len(self.preset.cells())
        done_before = total - len(todo)
        self.say(f"==> run {self.record['run_id']}: {len(todo)} cells to measure"
                 + (f" ({done_before} already done)" if done_before else "") + f" -> {self.run_dir}")
        started = time.monotonic()
        try:
            self.prepare()
            self.run_audit()
            self.run_microbench()
            for index, (config, repeat) in enumerate(todo, start=1):
                cell = self.measure(config, repeat)
                self.record["cells"].append(cell)
                self.save()
                elapsed = time.monotonic() - started
                eta = elapsed / index * (len(todo) - index)
                self.say(progress_line(done_before + index, total, cell, eta))
        except KeyboardInterrupt:
            self.save()
            self.say(f"\ninterrupted: {len(self.record['cells'])} finished cells kept in {self.run_dir / RUN_FILE}\n"
                     f"complete it with: gil-lab run --resume {self.run_dir}")
            raise
        self.record["complete"] = True
        self.record["finished_at"] = utc_now()
        self.save()
        return self.run_dir

    def prepare(self) -> None:
        """Run the preset's prepare steps (e.g. build the GIL-trap extension) before any cell."""
        for step in self.preset.prepare:
            self.say(f"==> prepare: {step}")
            module = importlib.import_module(PREPARE_STEPS[step])
            self.server_env.update(module.prepare(self.by_role))

    def run_audit(self) -> None:
        """The GIL audit's app pass on 3.14t (claim C5): does importing the app turn the GIL back on?"""
        if not self.preset.audit or self.record.get("audit") or "ft" not in self.by_role:
            return
        from loadtests.audit.gil_audit import AuditOptions, audit

        routes = tuple(sorted({d for c in self.preset.configs for d in c.routes_dirs}))
        self.say("==> GIL audit: import the app in a fresh 3.14t process (the full audit is `gil-lab audit`)")
        try:
            self.record["audit"] = audit(AuditOptions(routes_dirs=routes, distributions=False), self.by_role)
            self.say(f"    GIL after importing the app: {'ON' if self.record['audit']['gil_enabled'] else 'off'}")
        except LabError as exc:
            self.record["audit"] = {"error": str(exc)}
            self.say(f"    audit failed, recorded in run.json: {exc}")
        self.save()

    def run_microbench(self) -> None:
        """The HTTP-free thread benchmark (`gil-lab threads`), once per run, before the cells."""
        settings = self.preset.microbench
        if settings is None or self.record.get("microbench"):
            return
        from loadtests.measure.microbench import run_microbench

        self.say("==> threads microbenchmark (no HTTP): pure-Python, json and sha256 work on 1..N threads")
        try:
            self.record["microbench"] = run_microbench(self.by_role, settings, progress=self.say)
        except LabError as exc:
            self.record["microbench"] = {"error": str(exc)}
            self.say(f"    microbenchmark failed, recorded in run.json: {exc}")
        self.save()

    def measure(self, config: CellConfig, repeat: int) -> dict:
        app_url = self.record["settings"].get("app_urls", {}).get(config.interpreter)
        env_name = ENV_FOR_LABEL[config.interpreter]
        preset = self.preset
        cell_dir = self.run_dir / "cells" / cell_dir_name(config.cell_id(repeat))
        cell_dir.mkdir(parents=True, exist_ok=True)
        rel = lambda name: str((cell_dir / name).relative_to(self.run_dir))  # noqa: E731
        cell: dict = {
            "id": config.cell_id(repeat), "config_id": config.config_id, "group": config.group,
            "interpreter": config.interpreter, "free_threaded": config.interpreter.endswith("t"), "gil_enabled": None,
            "gil_enabled_by": [], "python_gil_env": config.python_gil, "server": config.server,
            "workers": config.workers, "parallelism": config.parallelism, "threads": config.threads,
            "cpus": list(config.cpus) if config.cpus else None, "scenario": config.scenario, "users": config.users,
            "repeat": repeat, "valid": False, "invalid_reason": None, "outcome": "measured",
            "rps": None, "requests": 0, "failures": 0, "latency_ms": {}, "server_cpu_cores": None,
            "server_rss_mb_peak": None, "server_threads_peak": None, "client_cpu_cores": None, "rps_series": [],
            "samples": [], "runtime_before": None, "runtime_after": None, "server_pid": None,
            "started_at": utc_now(), "warmup_s": preset.warmup_s, "duration_s": preset.duration_s,
            "locust_workers": self.record["settings"].get("locust_workers", 0),
            "files": {"locust_csv": rel("locust_stats.csv"), "locust_history": rel("locust_stats_history.csv"),
                      "locust_html": rel("locust.html"), "locust_log": rel("locust.log"),
                      "server_log": rel("server.log")},
        }
        packages = self.record["interpreters"].get(config.interpreter, {}).get("packages", {})
        try:
            if app_url:
                server = external_server(app_url)
                cell["runtime_before"] = server.runtime
                cell["files"]["server_log"] = None
                cell["server_sampling"] = "unavailable: external app"
                skip = external_mismatch(config, server.runtime)
                if skip:
                    cell.update(outcome="skipped", invalid_reason=f"skipped: {skip}")
                else:
                    self._drive(server, config, cell, cell_dir)
            else:
                settings = ServerSettings(
                    server=config.server, python=envs.app_python(env_name), workers=config.workers,
                    threads=config.threads, python_gil=config.python_gil, routes_dirs=config.routes_dirs,
                    cpus=config.cpus, extra_env=tuple(sorted({**self.server_env, CELL_DIR_ENV: str(cell_dir)}.items())),
                )
                with running_server(settings, cell_dir / "server.log", packages.get(config.server)) as running:
                    cell["server_pid"] = running.pid
                    cell["runtime_before"] = running.runtime
                    self._drive(running, config, cell, cell_dir)
        except ServerRefused as exc:
            cell.update(outcome="refused", invalid_reason=f"{config.server} refused to start: {last_line(exc)}",
                        refusal=str(exc))
        except ServerError as exc:
            if cell["invalid_reason"] is None:
                cell.update(outcome="server-error", invalid_reason=f"server failed: {last_line(exc)}", error=str(exc))
        except LoadGeneratorError as exc:
            cell.update(outcome="client-error", invalid_reason=f"load generator failed: {exc}")
        except LabError as exc:
            cell.update(outcome="error", invalid_reason=str(exc))
        record_gil_state(cell)
        cell["valid"] = cell["invalid_reason"] is None
        return cell

    def _drive(self, server, config: CellConfig, cell: dict, cell_dir: Path) -> None:  # noqa: ANN001
        preset = self.preset
        load = LoadSettings(config.scenario, server.base_url, config.users, preset.warmup_s, preset.duration_s,
                            cell_dir, workers=int(self.record["settings"].get("locust_workers", 0)),
                            routes_dirs=config.routes_dirs, extra_env=client_env(config, cell_dir))
        crash: dict = {}

        def server_died() -> str | None:
            code = server.exit_code()
            if code is not None:
                crash["code"] = code
                return f"server exited with status {code}"
            return None

        with Sampler({"server": [server.pid]} if server.pid else {}) as sampler, running_locust(load) as locust:
            sampler.add_tree("client", locust.pids)
            cell["client_pids"] = locust.pids
            locust.wait(timeout=load.run_time_s + 90, abort=server_died)
        if "code" in crash:
            cell.update(outcome="crashed",
                        invalid_reason=f"server crashed during the window (exit status {crash['code']})")
            return
        try:
            cell["runtime_after"] = server.fetch_runtime()
        except OSError:
            cell["runtime_after"] = {}
        raw = read_raw(load.raw_path)
        stats = window_stats(raw, preset.warmup_s, preset.duration_s)
        start = float(raw["test_start"]) + preset.warmup_s
        end = start + preset.duration_s
        server_use = usage_in_window(sampler.series.get("server", []), start, end)
        client_use = usage_in_window(sampler.series.get("client", []), start, end)
        cell.update(
            rps=round(stats.rps, 3), requests=stats.requests, failures=stats.failures, latency_ms=stats.latency_ms,
            rps_series=stats.rps_series,
            server_cpu_cores=round(server_use.cpu_cores, 3) if server_use else None,
            server_rss_mb_peak=round(server_use.rss_mb_peak, 1) if server_use else None,
            server_threads_peak=server_use.threads_peak if server_use else None,
            client_cpu_cores=round(client_use.cpu_cores, 3) if client_use else None,
            samples=merge_samples(sampler, start),
        )
        record_gil_state(cell)
        cell["invalid_reason"] = judge(cell, client_use.max_process_cores if client_use else None)
        if server_use and server.pid and config.workers > 1:
            workers = {pid: cores for pid, cores in server_use.process_cores.items() if pid != server.pid}
            cell["server_process_cores"] = sorted((round(c, 3) for c in workers.values()), reverse=True)
            cell["invalid_reason"] = cell["invalid_reason"] or idle_workers(workers, config.workers)


IDLE_WORKER_CORES = 0.1


def client_env(config: CellConfig, cell_dir: Path) -> tuple[tuple[str, str], ...]:
    """Locust's environment for a cell: its mark, and a new connection per request for N processes."""
    env = [(CELL_DIR_ENV, str(cell_dir))]
    if config.parallelism == "processes" and config.workers > 1:
        env.append(("LAB_CONNECTION_CLOSE", "1"))  # see scenarios/lab_support.py, LabUser.default_headers
    return tuple(env)


def idle_workers(worker_cores: dict[int, float], expected: int) -> str | None:
    """Why an N-process cell did not measure N processes, or None.

    The kernel decides which worker accepts each of Locust's connections, and it may
    hand them all to one: the cell then measures one process while claiming N. It is not
    averaged in.
    """
    if len(worker_cores) < expected:  # granian on 3.14t: worker threads in one process
        return None
    busy = sum(1 for cores in worker_cores.values() if cores >= IDLE_WORKER_CORES)
    if busy < expected:
        return (f"the load reached {busy} of {expected} worker processes (the kernel gave Locust's "
                f"connections to {busy}); this cell does not measure {expected} processes")
    return None


def record_gil_state(cell: dict) -> None:
    """The GIL counts as enabled if the server reported it on before OR after the window."""
    runtimes = [r for r in (cell["runtime_before"], cell["runtime_after"]) if r]
    if runtimes:
        cell["gil_enabled"] = any(bool(r.get("gil_enabled")) for r in runtimes)
        cell["gil_enabled_by"] = sorted({m for r in runtimes for m in r.get("gil_enabled_by") or []})


def merge_samples(sampler: Sampler, origin: float) -> list[dict]:
    """Per-interval server and client readings, times relative to the window start."""
    out = []
    server = sampler.series.get("server", [])
    client = {round(s.t, 1): s for s in sampler.series.get("client", [])}
    previous = None
    for reading in server:
        entry = {"t": round(reading.t - origin, 2), "server_rss_mb": round(reading.rss_bytes / 2**20, 1),
                 "server_threads": reading.threads}
        if previous is not None and reading.t > previous.t:
            entry["server_cpu_cores"] = round((reading.cpu_seconds - previous.cpu_seconds) / (reading.t - previous.t), 3)
        match = client.get(round(reading.t, 1))
        if match is not None:
            entry["client_cpu_seconds"] = round(match.cpu_seconds, 3)
        out.append(entry)
        previous = reading
    return out


def last_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def progress_line(position: int, total: int, cell: dict, eta_s: float) -> str:
    width = len(str(total))
    head = (f"[{position:>{width}}/{total}] {cell['scenario']:<8} {cell['server']:<7} {cell['interpreter']:<5} "
            f"{cell['parallelism'][:4]} w{cell['workers']} t{cell['threads']} u{cell['users']:<3} r{cell['repeat']}")
    if cell["valid"]:
        body = f"{cell['rps']:8.1f} rps  p95 {cell['latency_ms'].get('p95', 0):7.0f} ms  cpu {cell['server_cpu_cores']}"
    else:
        body = f"INVALID: {cell['invalid_reason']}"
    return f"{head}  {body}  ETA {format_seconds(eta_s)}"

