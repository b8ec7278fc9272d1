"""``run.json``: the run's settings and the record that holds everything it measured."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from loadtests.results.record import Record, doc
from loadtests.results.records.audit import AuditOutcome, GilCulprit
from loadtests.results.records.bytecode import BytecodeState
from loadtests.results.records.capacity import CapacitySearch
from loadtests.results.records.config import Plan, ValidityThresholds
from loadtests.results.records.machine import InterpreterInfo, Machine
from loadtests.results.records.microbench import Microbench, StepFailure
from loadtests.results.records.probe import ProbeRun
from loadtests.results.records.profile import NativeProfile, ProfilingSetup
from loadtests.results.records.safety import SafetyRecord
from loadtests.results.records.service import ServiceSettings
from loadtests.results.records.version import SCHEMA_VERSION
from loadtests.results.records.window import Cell, ComparisonRun, Warmup


@dataclass(frozen=True)
class RunSettings(Record):
    """What the preset and the command-line overrides resolved to."""

    warmup_s: float = doc("Discarded warm-up per cell, seconds.")
    duration_s: float = doc("Measured window per cell, seconds.")
    repeats: int = doc("Repeats per configuration.")
    scenarios: tuple[str, ...] = doc("Scenarios in the plan.")
    servers: tuple[str, ...] = doc("Servers in the plan.")
    locust_workers: int = doc("Locust worker processes per cell (0: one standalone process).")
    app_urls: Mapping[str, str] = doc("Interpreter label -> URL of an app the lab did not start (--app-url).")
    plan: Plan = doc("The resolved preset.")
    validity: ValidityThresholds = doc("The limits that judged validity.")
    expect_workers: int = doc("Locust workers expected from other machines (`gil-lab worker`, --expect-workers); "
                              "0: none.", default=0)
    locust_master: str | None = doc("ADDRESS:PORT the Locust master listened on for those workers, or null.",
                                    default=None)
    service: ServiceSettings | None = doc("The team's own service (--app, --requirements, --locustfile), or null for "
                                          "the lab's built-in app.", default=None)
    team_scenarios: tuple[str, ...] = doc("Scenarios that are the team's own (a --locustfile, drop-ins from outside "
                                          "the lab): each gets a diagnosis and no claim verdict.", default=())



@dataclass(frozen=True)
class RunRecord(Record):
    """``run.json``: one run directory's settings, environment and every cell."""

    schema_version: int = doc(f"The contract's version ({SCHEMA_VERSION}); older files are migrated when read.")
    run_id: str = doc("Unique; a run never overwrites another.")
    preset: str = doc("Preset name.")
    created_at: str = doc("ISO 8601 UTC.")
    finished_at: str | None = doc("Null while running or when interrupted.")
    complete: bool = doc("False when interrupted (see --resume).")
    settings: RunSettings = doc("What the preset and the command-line overrides resolved to.")
    machine: Machine = doc("The machine the run measured.")
    interpreters: Mapping[str, InterpreterInfo] = doc("Interpreter label -> its facts and packages.")
    bytecode: Mapping[str, BytecodeState] = doc("Interpreter label -> how its servers loaded their modules: compiled "
                                                "by the lab first, or from source (`--bytecode`), and what was "
                                                "compiled. On 3.14t it decides whether module constants are "
                                                "immortal.")
    cells: tuple[Cell, ...] = doc("Every finished cell, in execution order.")
    microbench: Microbench | StepFailure | None = doc("The threads microbenchmark, its failure, or null.")
    audit: AuditOutcome | StepFailure | None = doc("The GIL audit of the app on 3.14t, its failure, or null.")
    warmups: tuple[Warmup, ...] = doc("Every server's warm-up, in order.", default=())
    comparisons: tuple[ComparisonRun, ...] = doc("How each finished comparison ended.", default=())
    capacities: tuple[CapacitySearch, ...] = doc("Capacity searches (gil-lab capacity).", default=())
    gil_culprits: tuple[GilCulprit, ...] = doc("Every module that turned the GIL on under 3.14t in the audit or in "
                                               "a server, with its distribution and remedies.", default=())
    probes: tuple[ProbeRun, ...] = doc("The per-endpoint scaling probe, per scenario and interpreter (gil-lab "
                                       "diagnose; compare on a team's app).", default=())
    profiling: ProfilingSetup | None = doc("How the headline servers were profiled, or why they could not be; null "
                                           "when the run took no profile.", default=None)
    profiles: tuple[NativeProfile, ...] = doc("Native profiles of the headline servers, one per arm, from an extra "
                                              "window after the measured ones.", default=())
    safety: SafetyRecord | None = doc("Whether the service answers correctly in parallel (gil-lab safety, or "
                                      "compare on a team's app); null when no safety check ran.", default=None)

    def __post_init__(self) -> None:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version must be {SCHEMA_VERSION} once migrated, got {self.schema_version}")

    @property
    def usable_cores(self) -> int:
        return self.machine.usable_cores
