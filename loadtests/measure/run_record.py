"""The run record a measurement starts from: its options, the interpreters it measures, and
apps the lab did not start (``--app-url``), as run.json's first version describes them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtests.core.clock import utc_now
from loadtests.core.credentials import without_credentials
from loadtests.core.errors import ServerError
from loadtests.core.flavour import by_label
from loadtests.core.machine import usable_cores
from loadtests.measure.master import MasterSettings
from loadtests.measure.servers import external_server
from loadtests.measure.validity import thresholds_for
from loadtests.provision import envs
from loadtests.provision.interpreters import Interpreter
from loadtests.results.records import (
    SCHEMA_VERSION,
    UNKNOWN_BYTECODE,
    BuildInfo,
    BytecodeState,
    CellConfig,
    InterpreterInfo,
    Plan,
    RunRecord,
    RunSettings,
    RuntimeSnapshot,
    ServiceSettings,
)
from loadtests.results.store import machine_metadata


@dataclass(frozen=True)
class RunOptions:
    plan: Plan
    out_parent: Path
    locust_workers: int = 0
    app_urls: Mapping[str, str] = field(default_factory=dict)  # label -> URL of an app the lab does not start
    master: MasterSettings | None = None  # workers from other machines join this master (--expect-workers)
    service: ServiceSettings | None = None  # a team's own app, environments and Locust file
    team_scenarios: tuple[str, ...] = ()  # scenarios that get a diagnosis and no claim verdict
    own_envs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # label -> packages of the team's env
    bytecode: Mapping[str, BytecodeState] = field(default_factory=dict)  # label -> how its servers load modules


def interpreter_infos(interpreters: Mapping[str, Interpreter],
                      own_envs: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, InterpreterInfo]:
    """The ``interpreters`` section of run.json, with each app environment's packages.

    ``own_envs`` (label -> {"packages", "unsupported"}) stands in for the lab's own
    environments where a team's requirements built the app's.
    """
    if not interpreters:  # every app is external (--app-url)
        return {}
    stamps = {spec.name: envs.read_stamp(spec) or {} for spec in envs.env_specs(dict(interpreters))}
    out = {}
    for interpreter in interpreters.values():
        stamp = (own_envs or {}).get(interpreter.label) or stamps[by_label(interpreter.label).env_name]
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
            raise ServerError(f"--app-url {label}={without_credentials(url)} serves free_threaded={runtime.free_threaded}, "
                              f"which is not {label}")
        out[label] = InterpreterInfo(path=runtime.executable, version=runtime.python_version,
                                     free_threaded=runtime.free_threaded, configure_args=None, compiler=None,
                                     source="external", build=None, packages=dict(runtime.packages), unsupported={},
                                     url=without_credentials(url))
    return out


def external_mismatch(config: CellConfig, runtime: RuntimeSnapshot) -> str | None:
    """Why an external app cannot stand for this configuration (the lab cannot restart it with other settings)."""
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


def new_record(options: RunOptions, run_id: str, interpreters: Mapping[str, InterpreterInfo]) -> RunRecord:
    plan = options.plan
    settings = RunSettings(
        warmup_s=plan.warmup_s, duration_s=plan.duration_s, repeats=plan.repeats,
        scenarios=tuple(sorted({c.scenario for c in plan.configs})),
        servers=tuple(sorted({c.server for c in plan.configs})), locust_workers=options.locust_workers,
        app_urls={label: without_credentials(url) for label, url in options.app_urls.items()}, plan=plan,
        validity=thresholds_for(usable_cores()),
        expect_workers=options.master.remote_workers if options.master else 0,
        locust_master=options.master.address if options.master else None,
        service=options.service, team_scenarios=options.team_scenarios)
    return RunRecord(schema_version=SCHEMA_VERSION, run_id=run_id, preset=plan.name, created_at=utc_now(),
                     finished_at=None, complete=False, settings=settings, machine=machine_metadata(),
                     interpreters=dict(interpreters),
                     bytecode={label: options.bytecode.get(label, UNKNOWN_BYTECODE) for label in interpreters},
                     cells=(), microbench=None, audit=None)
