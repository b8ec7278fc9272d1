"""Every record a run writes to ``run.json`` and ``summary.json``, as frozen dataclasses.

The runner builds these records and writes ``RunRecord.to_json()``; every reader
(report, claims, capacity, history, diff) reads ``RunRecord.from_json()`` through
:func:`loadtests.results.store.load_run`, which migrates older files first. One module
per part of the file, lowest first (each imports only those above it):

- ``version``: ``SCHEMA_VERSION``, the one version of both files, and its history;
- ``bytecode``: how the servers load their modules (compiled first, or from source);
- ``config``: what to measure (a configuration, the plan, the capacity policy, the
  validity limits);
- ``faults``: a server that crashed or hung under load (its traceback, its stacks, the
  requests in flight);
- ``window``: one measured window (the runtime answers, samples, the cell, warm-ups,
  how each comparison ended);
- ``service``: a team's own service (environments, the app as imported, the Locust
  file, the preflight);
- ``machine``: where the run ran (the machine, each interpreter);
- ``microbench``: the HTTP-free microbenchmark, and a once-per-run step's failure;
- ``audit``: the GIL audit and the modules that turned the GIL on;
- ``probe``: the per-endpoint scaling probe;
- ``profile``: native profiles of the headline servers;
- ``capacity``: capacity searches at an SLO;
- ``safety``: the safety checks (answers under parallel load, the team's tests in
  threads) and their part of summary.json;
- ``run``: the run's settings and ``RunRecord``, the whole of ``run.json``;
- ``summary``: ``SummaryRecord``, the whole of ``summary.json``.

Import the names from here: ``from loadtests.results.records import Cell``.
"""

from __future__ import annotations

from loadtests.results.records.audit import (
    AuditedInterpreter,
    AuditOutcome,
    GilCulprit,
    GilRemedy,
)
from loadtests.results.records.bytecode import (
    BYTECODE_MODES,
    UNKNOWN_BYTECODE,
    BytecodeMode,
    BytecodeState,
    CompiledTree,
    ModuleBytecode,
)
from loadtests.results.records.capacity import (
    MISS_TARGET,
    CapacityBounds,
    CapacityFit,
    CapacityMethod,
    CapacitySearch,
    CapacityStep,
    SearchPhase,
    StepPhase,
    setting_rank,
)
from loadtests.results.records.config import (
    EVENT_LOOPS,
    HTTP_PARSERS,
    LABEL_DEFAULT_THREADS,
    Arrivals,
    CapacityPolicy,
    CellConfig,
    EventLoop,
    HttpParser,
    LoadModel,
    Parallelism,
    Plan,
    ServiceRef,
    ValidityThresholds,
    config_label,
    cpu_list,
)
from loadtests.results.records.faults import CrashReport, HangReport, InFlightRequest
from loadtests.results.records.machine import (
    BuildInfo,
    InterpreterInfo,
    Machine,
)
from loadtests.results.records.microbench import (
    LoadAverage,
    Microbench,
    MicrobenchPoint,
    MicrobenchVariant,
    StepFailure,
)
from loadtests.results.records.probe import (
    EndpointGlobals,
    GlobalRead,
    ProbedEndpoint,
    ProbeRun,
    ProbeStep,
)
from loadtests.results.records.profile import (
    CauseShare,
    FunctionCost,
    NativeProfile,
    ProfilingSetup,
    PythonFunctionCost,
    PythonProfile,
    ThreadShare,
)
from loadtests.results.records.run import (
    RunRecord,
    RunSettings,
)
from loadtests.results.records.safety import (
    SafetyRecord,
    SafetySummary,
)
from loadtests.results.records.service import (
    AppInspection,
    LocustTask,
    LocustUserClass,
    PackageDifference,
    Preflight,
    PreflightRequest,
    PreflightTask,
    RouteInfo,
    ServiceEnvironment,
    ServiceSettings,
)
from loadtests.results.records.summary import (
    CapacityRatio,
    CapacitySummary,
    ComparisonKind,
    ComparisonSummary,
    ConfigLabel,
    FindingSummary,
    ProbeSummary,
    ProfileCauseSummary,
    RatioBound,
    SummaryRecord,
    TunedSummary,
    Verdict,
)
from loadtests.results.records.version import (
    SCHEMA_VERSION,
)
from loadtests.results.records.window import (
    AppIdentity,
    Cell,
    CellFiles,
    ComparisonRun,
    Latency,
    LoadWorker,
    OpenLoopStats,
    Outcome,
    RuntimeSnapshot,
    Sample,
    Software,
    Stopping,
    ThreadCores,
    Warmup,
)

__all__ = [
    "SafetyRecord",
    "SafetySummary",
    "AppIdentity",
    "AppInspection",
    "Arrivals",
    "AuditOutcome",
    "AuditedInterpreter",
    "BYTECODE_MODES",
    "BuildInfo",
    "BytecodeMode",
    "BytecodeState",
    "CapacityBounds",
    "CapacityFit",
    "CapacityMethod",
    "CapacityPolicy",
    "CapacityRatio",
    "CapacitySearch",
    "CapacityStep",
    "MISS_TARGET",
    "SearchPhase",
    "StepPhase",
    "CapacitySummary",
    "CauseShare",
    "Cell",
    "CellConfig",
    "CellFiles",
    "ComparisonKind",
    "ComparisonRun",
    "ComparisonSummary",
    "CompiledTree",
    "ConfigLabel",
    "CrashReport",
    "EVENT_LOOPS",
    "EndpointGlobals",
    "EventLoop",
    "FindingSummary",
    "FunctionCost",
    "GilCulprit",
    "GilRemedy",
    "GlobalRead",
    "HTTP_PARSERS",
    "HangReport",
    "HttpParser",
    "InFlightRequest",
    "InterpreterInfo",
    "LABEL_DEFAULT_THREADS",
    "Latency",
    "LoadAverage",
    "LoadModel",
    "LoadWorker",
    "LocustTask",
    "LocustUserClass",
    "Machine",
    "Microbench",
    "MicrobenchPoint",
    "MicrobenchVariant",
    "ModuleBytecode",
    "NativeProfile",
    "OpenLoopStats",
    "Outcome",
    "PackageDifference",
    "Parallelism",
    "Plan",
    "Preflight",
    "PreflightRequest",
    "PreflightTask",
    "ProbeRun",
    "ProbeStep",
    "ProbeSummary",
    "ProbedEndpoint",
    "ProfileCauseSummary",
    "ProfilingSetup",
    "PythonFunctionCost",
    "PythonProfile",
    "RatioBound",
    "RouteInfo",
    "RunRecord",
    "RunSettings",
    "RuntimeSnapshot",
    "SCHEMA_VERSION",
    "Sample",
    "ServiceEnvironment",
    "ServiceRef",
    "ServiceSettings",
    "Software",
    "StepFailure",
    "Stopping",
    "SummaryRecord",
    "ThreadCores",
    "ThreadShare",
    "TunedSummary",
    "UNKNOWN_BYTECODE",
    "ValidityThresholds",
    "Verdict",
    "Warmup",
    "config_label",
    "cpu_list",
    "setting_rank",
]
