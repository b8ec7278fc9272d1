"""The per-endpoint scaling probe as a step of a run: which requests each scenario sends, probed per interpreter.

The requests come from what the load sends (``measure/endpoint_probe.py``):

- a team's Locust file: the preflight already walked it and kept each request;
- drop-in routes (the generic ``routes`` scenario, and a team's app without a Locust
  file): the load specs the app holds, read inside the probe's process;
- one of the lab's built-in scenarios: its Locust file is walked here the same way, every
  task once against a real 3.14 server (a few seconds).

Each scenario is probed once per run, in both app environments, with the settings of
the first configuration of that scenario on each interpreter (the same app, thread
limit and drop-ins as its servers). A probe that fails is reported and the run goes on.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from loadtests.core.errors import LabError
from loadtests.core.flavour import FLAVOURS
from loadtests.core.machine import usable_cores
from loadtests.measure import endpoint_probe, preflight
from loadtests.measure.endpoint_probe import ProbeRequest, ProbeSettings
from loadtests.measure.server_pool import ServerLauncher
from loadtests.measure.servers import LOOPBACK
from loadtests.plan.scenarios import LOAD_MODULE_ENV, ROUTES_SCENARIO, scenario_env, scenario_file
from loadtests.results.records import CellConfig, ProbeRun
from loadtests.results.run_writer import RunWriter
from loadtests.results.store import cell_dir_name

Progress = Callable[[str], None]


def _walk_scenario(config: CellConfig, launcher: ServerLauncher, log_dir: Path, progress: Progress) -> list[ProbeRequest]:
    """Every task of a built-in scenario's Locust file once against a 3.14 server: the requests it sends."""
    base = next((f for f in FLAVOURS if not f.free_threaded), FLAVOURS[0])
    settings = launcher.server_settings(replace(config, interpreter=base.label))
    target = preflight.PreflightTarget(base.label, settings)
    walked = preflight.run_preflight(scenario_file(config.scenario, config.routes_dirs), [target], log_dir, {},
                                     progress, scenario_env(config.scenario, config.routes_dirs))
    return endpoint_probe.requests_from_preflight(walked)


def probe_plan(config: CellConfig, run: RunWriter, launcher: ServerLauncher, log_dir: Path,
               progress: Progress) -> tuple[list[ProbeRequest], str | None]:
    """The requests to probe for ``config``'s scenario, and the drop-in module whose load specs to add."""
    service = run.record.settings.service
    if service is not None and service.locustfile and config.service is not None:
        return endpoint_probe.requests_from_preflight(service.preflight), None
    module = scenario_env(config.scenario, config.routes_dirs).get(LOAD_MODULE_ENV)
    if module is not None or config.scenario == ROUTES_SCENARIO:
        return [], module or ""
    return _walk_scenario(config, launcher, log_dir, progress), None


def probe_scenarios(run: RunWriter, launcher: ServerLauncher, progress: Progress) -> None:
    """Probe every scenario of the plan not probed yet (both interpreters); store each result as it comes."""
    settings = ProbeSettings(endpoint_probe.thread_counts(usable_cores()))
    firsts: dict[str, dict[str, CellConfig]] = {}
    for config in run.plan.configs:
        if config.python_gil is None:
            firsts.setdefault(config.scenario, {}).setdefault(config.interpreter, config)
    for scenario, by_label in firsts.items():
        if scenario in run.probed_scenarios():
            continue
        log_dir = run.run_dir / "probe" / cell_dir_name(scenario)
        progress(f"==> probe {scenario}: each endpoint in process (ASGI, no HTTP), from "
                 + ", ".join(map(str, settings.thread_counts)) + " threads, on " + " and ".join(by_label))
        try:
            with tempfile.TemporaryDirectory(prefix="gil-lab-walk-") as tmp:
                requests, module = probe_plan(next(iter(by_label.values())), run, launcher, Path(tmp), progress)
        except LabError as exc:
            progress(f"    probe of {scenario} skipped: could not learn its requests ({exc})")
            continue
        for label, config in by_label.items():
            try:
                server = launcher.server_settings(config)
            except LabError as exc:  # no environment for this interpreter
                progress(f"    probe on {label} skipped: {exc}")
                continue
            try:
                result = endpoint_probe.run_probe(scenario, label, server, requests, module, settings,
                                                  log_dir / f"{label}.log")
            except LabError as exc:
                progress(f"    probe on {label} failed: {exc}")
                continue
            run.add_probe(result)
            progress(f"    {label}: {summary(result)}")


def summary(result: ProbeRun) -> str:
    """``3 endpoints in 9.1 s`` (with the failures named)."""
    failed = [f"{e.key}: {e.error}" for e in result.endpoints if e.error]
    return (f"{len(result.endpoints)} endpoint(s) in {result.seconds:.1f} s"
            + (f"; {result.error}" if result.error else "")
            + (f"; not probed: {'; '.join(failed)}" if failed else ""))


def launcher_for(run: RunWriter, server_env: dict[str, str]) -> ServerLauncher:
    record = run.record
    return ServerLauncher(run.run_dir, record.settings, record.interpreters, LOOPBACK, server_env,
                          bytecode=record.bytecode)
