"""Every record a run writes to ``run.json``, as frozen dataclasses (one module, one schema version).

The runner builds these records and writes ``RunRecord.to_json()``; every reader
(report, claims, capacity, history, diff) reads ``RunRecord.from_json()`` through
:func:`loadtests.results.store.load_run`, which migrates older files first.

``SCHEMA_VERSION`` history (each bump comes with a step in ``migrations.py``; old
files are kept as test fixtures under ``tests/fixtures/run-json/``):

1. The first contract: cells as loose objects; keys added over time (``outcome``,
   ``client_pids``, ``server_sampling``, ``app_urls``, ``plan``) may be missing from
   older files; ``microbench.summary`` stored beside its points.
2. Typed records: every key is present in every cell (null when it does not apply),
   ``latency_ms`` is null without requests, ``/lab/runtime`` answers have a fixed
   shape, external apps' interpreters carry their ``url``, the microbenchmark's
   summary is derived on read, the audit is stored with its verdict, and the
   validity thresholds are recorded in the settings.
3. Paired windows: cells are windows of a comparison (``comparison_id``, ``block``,
   ``slot``, ``window_start``), each comparison's stopping is recorded
   (``comparisons``), every server's steady-state warm-up is recorded (``warmups``),
   memory is sampled as PSS and USS besides RSS, the server's CPU per thread group
   (``server_thread_cores``), the plan carries ``transition_s``, ``precision`` and
   ``max_time_s``, and ``config_id`` names the CPU ids and the drop-in directories.
   ``summary.json`` (the machine-readable verdict) appears beside ``run.json``.
4. Open-loop windows and capacity: cells carry ``load_model``, ``target_rps``,
   ``arrivals``, ``latency_corrected_ms`` (from the intended send) and ``open_loop``
   (offered and achieved rates, drops, late sends, scheduling lag); ``Latency`` gains
   ``p90``; the run records each ``capacities`` search; summary.json gains a
   ``capacity`` list, and a ``tuned`` list (each side's best setting, with 3.14t against it
   at equal settings and best against best) when a side ran at several. Distributed load: the settings record the workers expected from
   other machines (``expect_workers``) and where the master listened
   (``locust_master``); each cell lists its Locust workers (``load_workers``: host,
   address, versions, clock offset at join, own CPU, requests, whether it left).
   A team's own service: configurations and cells carry ``service`` (the app, the
   sha256 of the lock its environment was installed from and of the Locust file;
   ``config_id`` names them), the settings carry ``service`` (the app, its directory,
   requirements, Locust file with its user classes and their ``wait_time``, both
   environments with the versions that differ, the app's route table per interpreter,
   the preflight requests) and ``team_scenarios`` (no claim verdict for them), and the
   run carries ``gil_culprits`` (each module that turned the GIL on, the distribution
   that ships it and the remedies).
5. Safety: the run carries ``safety`` (results/safety.py: the team's answers checked under
   parallel load against a serial reference, and its tests run plainly and in threads on
   both interpreters), and summary.json a ``safety`` object (races by endpoint and test);
   both null when no safety check ran. ``gil-lab safety`` writes a run with no cells.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from loadtests.core import flavour as flavours
from loadtests.core.flavour import Flavour
from loadtests.results.record import Record, doc
from loadtests.results.safety import SafetyRecord, SafetySummary

SCHEMA_VERSION = 5

Outcome = Literal["measured", "refused", "crashed", "server-error", "client-error", "skipped", "error"]
Parallelism = Literal["threads", "processes"]
LoadModel = Literal["closed", "open"]
Arrivals = Literal["poisson", "uniform"]
HttpParser = Literal["auto", "h11", "httptools"]
EventLoop = Literal["auto", "asyncio", "uvloop"]
HTTP_PARSERS: tuple[str, ...] = ("auto", "h11", "httptools")
EVENT_LOOPS: tuple[str, ...] = ("auto", "asyncio", "uvloop")


# --- what to measure ----------------------------------------------------------------------


def cpu_list(cpus: tuple[int, ...]) -> str:
    """``(0, 1, 2, 5)`` -> ``"0-2,5"``: the taskset spelling, short and exact."""
    ranges: list[str] = []
    ordered = sorted(set(cpus))
    start = prev = ordered[0]
    for cpu in [*ordered[1:], None]:
        if cpu is not None and cpu == prev + 1:
            prev = cpu
            continue
        ranges.append(str(start) if start == prev else f"{start}-{prev}")
        if cpu is not None:
            start = prev = cpu
    return ",".join(ranges)


#: The anyio thread limit the app sets by default (LAB_THREADS): N-process labels omit it.
LABEL_DEFAULT_THREADS = 8


def config_label(interpreter: str, python_gil: str | None, server: str, parallelism: str, workers: int,
                 threads: int, cpus: tuple[int, ...] | None) -> str:
    """The label grammar: ``<interpreter>[+PYTHON_GIL=<v>] <server> (w<W> t<T> | ×<W> proc[ t<T>])[ cpus<ids>]``.

    N-process labels name their thread limit only when it is not the lab's default of 8, so the
    labels every run has written stay as they were, and a thread sweep of N processes stays apart.
    """
    interp = interpreter + (f"+PYTHON_GIL={python_gil}" if python_gil is not None else "")
    procs_threads = "" if threads == LABEL_DEFAULT_THREADS else f" t{threads}"
    shape = f"×{workers} proc{procs_threads}" if parallelism == "processes" else f"w{workers} t{threads}"
    return f"{interp} {server} {shape}" + (f" cpus{cpu_list(cpus)}" if cpus else "")


@dataclass(frozen=True)
class ServiceRef(Record):
    """Which team service a configuration measures: part of its identity, so history and diff never equate two."""

    app: str = doc("The ASGI app as module:attribute.")
    lock: str | None = doc("sha256 of the lock file the interpreter's environment was installed from (the team's "
                           "requirements resolved for it); null: the lab's own app environment.")
    locustfile: str | None = doc("sha256 of the team's Locust file; null: one of the lab's scenarios drives the load.")

    def id_part(self, with_lock: bool = True) -> str:
        """``/app-<module:attr>[/lock-<12 hex>][/locust-<12 hex>]``, as config ids name it."""
        lock = f"/lock-{self.lock[:12]}" if self.lock and with_lock else ""
        locust = f"/locust-{self.locustfile[:12]}" if self.locustfile else ""
        return f"/app-{self.app}{lock}{locust}"


@dataclass(frozen=True)
class CellConfig(Record):
    """One configuration; a cell is a configuration plus a repeat number."""

    scenario: str = doc("Scenario name: a built-in (json, image, compute, hash, async) or a drop-in module's name.")
    server: str = doc("uvicorn or granian.")
    workers: int = doc("The server's --workers.")
    parallelism: Parallelism = doc("threads: one process, its anyio thread pool (granian on 3.14t: worker threads too); "
                                   "processes: N worker processes, the 3.14 N-process baseline.")
    threads: int = doc("LAB_THREADS: the anyio thread limit per event loop.")
    users: int = doc("Locust users (concurrency).")
    python_gil: str | None = doc("PYTHON_GIL given to the server: null (unset), \"0\" or \"1\".")
    cpus: tuple[int, ...] | None = doc("CPU ids the server is pinned to (taskset), or null.")
    interpreter: str = doc("\"3.14\" or \"3.14t\". Last, so sorting puts the interpreters of one configuration side by side.")
    routes_dirs: tuple[str, ...] = doc("Extra drop-in route directories (absolute paths).", default=())
    group: str = doc("The preset group that listed it (not part of its identity).", default="", compare=False)
    http: HttpParser = doc("uvicorn's --http: auto, h11 (pure Python) or httptools. granian parses HTTP in Rust "
                           "and ignores it.", default="auto")
    loop: EventLoop = doc("The event loop, --loop of both servers: auto, asyncio or uvloop.", default="auto")
    load_model: LoadModel = doc("closed: `users` send back to back; open: requests arrive at `target_rps`, "
                                "independently of responses.", default="closed")
    target_rps: float | None = doc("Open loop: the offered arrival rate, requests per second.", default=None)
    arrivals: Arrivals | None = doc("Open loop: poisson (exponential gaps) or uniform (even gaps).", default=None)
    service: ServiceRef | None = doc("The team's service it measures (--app, --requirements, --locustfile); null: "
                                     "the lab's built-in app in the lab's own environments.", default=None)

    def __post_init__(self) -> None:
        flavour = flavours.by_label(self.interpreter)
        flavours.check_server(self.server)
        if self.workers < 1 or self.threads < 1 or self.users < 1:
            raise ValueError(f"workers, threads and users must be >= 1 in {self.config_id}")
        if self.python_gil not in flavour.python_gil_values:
            raise ValueError(f"PYTHON_GIL={self.python_gil} is not allowed on {self.interpreter}")
        if self.http not in HTTP_PARSERS or self.loop not in EVENT_LOOPS:
            raise ValueError(f"http must be one of {HTTP_PARSERS} and loop one of {EVENT_LOOPS}")
        if self.load_model == "open" and (self.target_rps is None or self.target_rps <= 0 or self.arrivals is None):
            raise ValueError("an open-loop configuration needs a positive target_rps and its arrivals")

    @property
    def flavour(self) -> Flavour:
        return flavours.by_label(self.interpreter)

    @property
    def config_id(self) -> str:
        """Stable identity across runs: what history and diff match on (not the group)."""
        gil = f"gil-{self.python_gil}" if self.python_gil is not None else "gil-default"
        cpus = f"/cpus{cpu_list(self.cpus)}" if self.cpus else ""
        processes = "/processes" if self.parallelism == "processes" else ""
        # http, loop and drop-in directories are named only when set, so the common ids stay short
        server = "".join(f"/{name}-{value}" for name, value in (("http", self.http), ("loop", self.loop))
                         if value != "auto")
        routes = "".join(f"/routes-{Path(d).name}" for d in self.routes_dirs)
        load = f"/open-{self.arrivals}-r{self.target_rps:g}" if self.load_model == "open" else ""
        service = self.service.id_part() if self.service else ""
        return (f"{self.scenario}/{self.server}/{self.interpreter}/{gil}/w{self.workers}{processes}/t{self.threads}"
                f"/u{self.users}{cpus}{server}{routes}{service}{load}")

    @property
    def label(self) -> str:
        """Short human name: ``3.14t uvicorn w1 t8`` or ``3.14 uvicorn ×2 proc`` (docs/summary-json.md)."""
        return config_label(self.interpreter, self.python_gil, self.server, self.parallelism, self.workers,
                            self.threads, self.cpus)

    @property
    def order_key(self) -> tuple[Any, ...]:
        """Field order, with None made comparable; the interpreter last, so A and B sit side by side."""
        return (self.scenario, self.server, self.workers, self.parallelism, self.threads, self.users,
                self.python_gil or "", self.cpus or (), self.routes_dirs, self.interpreter)

    def cell_id(self, repeat: int) -> str:
        return f"{self.config_id}/r{repeat}"


@dataclass(frozen=True)
class CapacityPolicy(Record):
    """How a capacity run searches: the SLO, what a passing rate may lose, the resolution, the arrivals."""

    slo_ms: float = doc("The p95 objective, ms, measured from the intended send.")
    max_loss: float = doc("Failed and dropped requests together must stay under this share of the arrivals.", default=0.01)
    resolution: float = doc("Bisect until the bracket is this narrow, relative to its top.", default=0.10)
    arrivals: Arrivals = doc("poisson or uniform.", default="poisson")
    inflight_cap: int = doc("Requests in flight per load process before arrivals are dropped.", default=256)

    def __post_init__(self) -> None:
        if self.slo_ms <= 0:
            raise ValueError(f"the SLO must be a positive number of milliseconds, not {self.slo_ms}")
        if not 0 < self.max_loss < 1 or not 0 < self.resolution < 1:
            raise ValueError("max_loss and resolution are fractions between 0 and 1")
        if self.inflight_cap < 1:
            raise ValueError("the in-flight cap must be at least 1")


@dataclass(frozen=True)
class Plan(Record):
    """A resolved preset: what the run measures. Stored in run.json so --resume runs exactly this."""

    name: str = doc("Preset name.")
    description: str = doc("The preset's own description.")
    warmup_s: float = doc("Longest steady-state warm-up of a server before its first window, seconds; the lab "
                          "stops earlier once throughput is stable.")
    duration_s: float = doc("Measured window per turn, seconds.")
    repeats: int = doc("Pairs per comparison: the fixed number, or the minimum when precision is set "
                       "(then at least 5).")
    configs: tuple[CellConfig, ...] = doc("Every configuration, in execution order.")
    microbench: Mapping[str, Any] | None = doc("`gil-lab threads` settings ({} = defaults), or null for none.")
    prepare: tuple[str, ...] = doc("Steps run before the first cell (e.g. gil_trap).", default=())
    audit: bool = doc("Whether the GIL audit's app pass runs on 3.14t once per run.", default=False)
    transition_s: float = doc("Discarded after each switch of the load to another server, seconds.", default=1.0)
    precision: float | None = doc("Target 95% CI half-width of each paired ratio, relative to it (0.10 = ±10%); "
                                  "null: a fixed number of pairs.", default=None)
    max_time_s: float | None = doc("Time budget per comparison, seconds: an adaptive comparison stops there even "
                                   "if imprecise.", default=None)
    capacity: CapacityPolicy | None = doc("A capacity run (gil-lab capacity): open-loop searches instead of "
                                          "closed-loop comparisons.", default=None)

    def __post_init__(self) -> None:
        if self.repeats < 1 or self.duration_s <= 0 or self.warmup_s < 0 or self.transition_s < 0:
            raise ValueError("repeats must be >= 1, duration_s > 0, warmup_s and transition_s >= 0")
        if self.precision is not None and not 0 < self.precision < 1:
            raise ValueError(f"precision is a fraction of the ratio between 0 and 1, not {self.precision}")
        if self.max_time_s is not None and self.max_time_s <= 0:
            raise ValueError(f"max_time_s must be positive, not {self.max_time_s}")

    def cells(self) -> list[tuple[CellConfig, int]]:
        """All cells in execution order: repeat-major, interpreters interleaved (A B A B)."""
        ordered = sorted(set(self.configs), key=lambda c: c.order_key)
        return [(config, repeat) for repeat in range(self.repeats) for config in ordered]


@dataclass(frozen=True)
class ValidityThresholds(Record):
    """The limits that judged each cell valid or not, recorded so every verdict can be re-checked."""

    client_saturation_cores: float = doc("A Locust process above this many cores is saturated (it is one gevent "
                                         "thread, so about 1 core is its ceiling): the cell is invalid.")
    max_failure_ratio: float = doc("Failed requests above this share of the window's requests make a cell invalid.")
    idle_worker_cores: float = doc("An N-process cell whose worker used fewer cores than this did not measure N "
                                   "processes: it is invalid.")
    max_send_rate_error: float = doc("An open-loop window whose sends fell behind (or ran ahead of) the schedule "
                                     "by more than this share is invalid.", default=0.02)
    max_late_share: float = doc("An open-loop window with more than this share of its sends late (see "
                                "OpenLoopStats.late_threshold_ms) is invalid: the lag was the generator's.",
                                default=0.01)


# --- a team's own service ---------------------------------------------------------------


@dataclass(frozen=True)
class ServiceEnvironment(Record):
    """The environment one interpreter served the team's app from."""

    label: str = doc("3.14 or 3.14t.")
    path: str = doc("The environment's directory.")
    own: bool = doc("True: built from the team's requirements (.envs/own-*); false: the lab's own app environment.")
    python: str | None = doc("Its interpreter; null when the environment could not be built.")
    lock_file: str | None = doc("The lock it was installed from (uv pip compile for this interpreter), or null.")
    lock_sha256: str | None = doc("sha256 of that lock file: part of config_id.")
    unavailable_package: str | None = doc("The package that could not be installed on this interpreter, when uv "
                                          "named one.", default=None)
    unavailable_reason: str | None = doc("Why the environment could not be built (uv's last lines); null when it "
                                         "was built. Its arms are recorded as skipped cells with this reason.",
                                         default=None)

    @property
    def available(self) -> bool:
        return self.unavailable_reason is None

    @property
    def why_unavailable(self) -> str:
        """``orjson cannot be installed on 3.14t: <uv's reason>``."""
        return f"{self.unavailable_package or 'a requirement'} cannot be installed on {self.label}: " \
               f"{self.unavailable_reason}"


@dataclass(frozen=True)
class PackageDifference(Record):
    """A package the two interpreters resolved to different versions (null: not installed on that side)."""

    package: str = doc("Distribution name (normalised).")
    gil: str | None = doc("Version on 3.14.")
    ft: str | None = doc("Version on 3.14t.")


@dataclass(frozen=True)
class RouteInfo(Record):
    """One route of the app's table, as ``python -m gil_lab_layer.inspect`` read it."""

    path: str = doc("The path template, e.g. /books/{book_id}/similar (mounts flattened).")
    kind: str = doc("http, websocket or mount.")
    methods: tuple[str, ...] | None = doc("HTTP methods, or null for any.")
    endpoint: str | None = doc("module.qualname of the endpoint.")
    async_def: bool | None = doc("True: an `async def` endpoint, which runs on the event loop; null: not known.")
    body_model: str | None = doc("The body model FastAPI parses and validates on the event loop, or null.")


@dataclass(frozen=True)
class AppInspection(Record):
    """The app as one interpreter imported it, before any server started."""

    label: str = doc("3.14 or 3.14t.")
    framework: Software | None = doc("The web framework and version, or null.")
    routes: tuple[RouteInfo, ...] | None = doc("The route table, or null for an app without one.")
    gil_enabled: bool = doc("sys._is_gil_enabled() after the import.")
    gil_enabled_by: tuple[str, ...] = doc("Modules whose import turned the GIL on.")


@dataclass(frozen=True)
class LocustTask(Record):
    """A task of a user class and its weight."""

    name: str = doc("The task's function (or TaskSet class) name.")
    weight: int = doc("Its weight among the class's tasks.")


@dataclass(frozen=True)
class LocustUserClass(Record):
    """A user class of the team's Locust file, as Locust loaded it."""

    name: str = doc("Class name.")
    weight: int = doc("Its weight: how the lab's user count is shared between classes.")
    fixed_count: int = doc("Locust's fixed_count (0: by weight).")
    wait_time: str = doc("The class's wait_time, kept as the team's think time: e.g. `between(0.05, 0.2)`, "
                         "`constant(0)`, or the function's name.")
    tasks: tuple[LocustTask, ...] = doc("Its tasks with their weights.")


@dataclass(frozen=True)
class PreflightRequest(Record):
    """One request a preflight task sent."""

    method: str = doc("HTTP method.")
    path: str = doc("The URL path requested (no query).")
    name: str = doc("Locust's statistics name.")
    status: int | None = doc("The HTTP status, or null when no response came.")
    error: str | None = doc("Locust's failure text, or null.")
    route: str | None = doc("The route template of the app's table that serves the path, or null when none does.")


@dataclass(frozen=True)
class PreflightTask(Record):
    """One task of one user class, run once against a server before any window."""

    user_class: str = doc("The user class.")
    task: str = doc("The task.")
    requests: tuple[PreflightRequest, ...] = doc("What it sent.")
    error: str | None = doc("An exception the task raised (not an HTTP failure), or null.")


@dataclass(frozen=True)
class Preflight(Record):
    """Every task of the Locust file run once against one interpreter's server (real Locust, real server)."""

    interpreter: str = doc("3.14 or 3.14t.")
    server: str = doc("The server it ran against.")
    tasks: tuple[PreflightTask, ...] = doc("One entry per user class and task.")
    seconds: float = doc("Wall time, server start included.")


@dataclass(frozen=True)
class ServiceSettings(Record):
    """The team's service a run measured: what was served, from where, with which load."""

    app: str = doc("The ASGI app as module:attribute (LAB_APP).")
    app_dir: str = doc("First on the server's import path, and its working directory (LAB_APP_DIR).")
    requirements: str | None = doc("The requirements file the environments were built from, or null: the lab's own "
                                   "environments.")
    locustfile: str | None = doc("The team's Locust file, or null: a lab scenario drives the load.")
    environments: Mapping[str, ServiceEnvironment] = doc("Interpreter label -> the environment the app ran in.")
    differences: tuple[PackageDifference, ...] = doc("Packages the interpreters resolved to different versions.")
    inspections: Mapping[str, AppInspection] = doc("Interpreter label -> the app as it imported there.")
    user_classes: tuple[LocustUserClass, ...] = doc("The Locust file's user classes, with their wait_time.")
    preflight: tuple[Preflight, ...] = doc("Each task run once per interpreter before any window.")
    python_gil_0: bool = doc("Whether the run added a PYTHON_GIL=0 arm to the 3.14t side (a risk, never the "
                             "headline).", default=False)


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


# --- where it ran -------------------------------------------------------------------------


@dataclass(frozen=True)
class Machine(Record):
    """The machine the run measured: its cores are the ceiling of every speedup."""

    cpu_model: str = doc("CPU model name from /proc/cpuinfo.")
    cpu_count: int | None = doc("CPUs of the machine.")
    affinity: tuple[int, ...] | None = doc("CPU ids the lab may use.")
    usable_cores: int = doc("len(affinity): the ceiling of any speedup measured here.")
    os: str = doc("platform.platform().")
    hostname: str = doc("Host name.")
    memory_gb: float | None = doc("Physical memory, GiB.")
    git_sha: str | None = doc("The lab's commit, or null outside a checkout.")
    git_dirty: bool = doc("Whether tracked files of the lab differed from that commit.")

    def __post_init__(self) -> None:
        if self.usable_cores < 1:
            raise ValueError(f"usable_cores must be >= 1, got {self.usable_cores}")


@dataclass(frozen=True)
class BuildInfo(Record):
    """How the lab built an interpreter from source."""

    tarball_sha256: str | None = doc("sha256 of the CPython source tarball the lab built from.")
    configure_flags: tuple[str, ...] = doc("./configure flags beyond --prefix.")


@dataclass(frozen=True)
class InterpreterInfo(Record):
    """One interpreter as the run used it, with its app environment's packages."""

    path: str | None = doc("Interpreter path (for an external app: what its /lab/runtime reports).")
    version: str | None = doc("Python version, e.g. 3.14.7.")
    free_threaded: bool = doc("Py_GIL_DISABLED build flag.")
    configure_args: str | None = doc("sysconfig CONFIG_ARGS, or null for an external app.")
    compiler: str | None = doc("platform.python_compiler(), or null for an external app.")
    source: str = doc("How the lab found it: explicit, cache, path, pyenv, uv-find, uv-install, source-build, "
                      "or external (--app-url).")
    build: BuildInfo | None = doc("The lab's build record, or null for interpreters it did not build.")
    packages: Mapping[str, str | None] = doc("Distribution -> version in the app environment.")
    unsupported: Mapping[str, str] = doc("Packages left out of this environment, with the reason.")
    url: str | None = doc("The app's URL when it is external (--app-url), else null.", default=None)


# --- one measured window ------------------------------------------------------------------


@dataclass(frozen=True)
class Software(Record):
    """A piece of software by name and version, as the server reports it."""

    name: str | None = doc("Its name (uvicorn, granian, fastapi, ...).")
    version: str | None = doc("Its version.")


@dataclass(frozen=True)
class AppIdentity(Record):
    """What the lab's layer serves inside the server."""

    target: str = doc("The app as module:attribute.")
    dir: str | None = doc("The directory put first on the import path (LAB_APP_DIR).")
    framework: Software | None = doc("The web framework and its version (fastapi, starlette), or null for "
                                           "another ASGI app.")


@dataclass(frozen=True)
class RuntimeSnapshot(Record):
    """What ``GET /lab/runtime`` answered: the app's interpreter, GIL state and packages."""

    python_version: str = doc("platform.python_version() inside the server.")
    implementation: str = doc("sys.implementation.name.")
    executable: str = doc("sys.executable inside the server.")
    free_threaded: bool = doc("Py_GIL_DISABLED build flag.")
    gil_enabled: bool = doc("sys._is_gil_enabled() when it answered.")
    gil_flag: int | None = doc("sys.flags.gil (-X gil / PYTHON_GIL), null when unset.")
    gil_enabled_by: tuple[str, ...] = doc("Modules whose import re-enabled the GIL (RuntimeWarning hook).")
    gilwatch_site_hook: bool = doc("Whether the start-up hook that records those modules was active.")
    thread_limit: int | None = doc("anyio's thread limit on the event loop that answered.")
    pid: int = doc("The process that answered.")
    threads: int | None = doc("threading.active_count() in that process.")
    server: Software = doc("The server hosting the app.")
    packages: Mapping[str, str | None] = doc("Distribution -> version inside the server.")
    orjson_available: bool | None = doc("Whether orjson imports in the server.", default=None)
    app: AppIdentity | None = doc("What the layer serves (null in answers from before the layer).", default=None)


@dataclass(frozen=True)
class Latency(Record):
    """Exact percentiles over the requests that completed inside the window, in milliseconds."""

    p50: float = doc("Median.")
    p95: float = doc("95th percentile.")
    p99: float = doc("99th percentile.")
    mean: float = doc("Mean.")
    max: float = doc("Slowest request.")
    p90: float | None = doc("90th percentile (null in runs recorded before it was kept).", default=None)
    p95_ci: tuple[float, float] | None = doc("Bootstrap 95% interval of p95 (open-loop windows).", default=None)


@dataclass(frozen=True)
class Sample(Record):
    """One sampler reading, ``t`` seconds after the window started (negative during warm-up)."""

    t: float = doc("Seconds from the start of the measured window.")
    server_rss_mb: float | None = doc("RSS of the server process tree, MB (sum over processes).")
    server_threads: int | None = doc("Threads in the server process tree.")
    server_cpu_cores: float | None = doc("Busy cores of the server tree since the previous reading (null for the first).")
    client_cpu_seconds: float | None = doc("Cumulative CPU seconds of the Locust processes at this reading.")
    server_pss_mb: float | None = doc("PSS of the server process tree, MB: shared pages split between the processes "
                                      "that share them, so N workers are not counted N times.", default=None)
    server_uss_mb: float | None = doc("USS of the server process tree, MB: pages no other process shares.",
                                      default=None)


@dataclass(frozen=True)
class CellFiles(Record):
    """Where a cell's raw files are, relative to the run directory."""

    locust_csv: str = doc("Locust's stats CSV (whole run, warm-up included).")
    locust_history: str = doc("Locust's stats history CSV.")
    locust_html: str = doc("Locust's HTML report.")
    locust_log: str = doc("Locust's output.")
    server_log: str | None = doc("The server's output; null for an external app.")


@dataclass(frozen=True)
class ThreadCores(Record):
    """The server's threads of one name (Python 3.14 names OS threads) and the cores they used."""

    name: str = doc("The OS thread name, e.g. the event loop's `python` or anyio's `AnyIO worker t`.")
    threads: int = doc("Threads of that name.")
    cores: float = doc("Average busy cores of all of them over the window.")


@dataclass(frozen=True)
class OpenLoopStats(Record):
    """An open-loop window's schedule against what the generator did."""

    offered_rps: float = doc("The arrival rate asked for.")
    scheduled: int = doc("Arrivals scheduled inside the window (by intended send time).")
    sent: int = doc("Requests actually sent inside the window.")
    completed: int = doc("Requests completed inside the window.")
    achieved_rps: float = doc("completed ÷ window length.")
    dropped: int = doc("Arrivals not sent because the in-flight cap was full.")
    late: int = doc("Requests sent later than their schedule by more than the late threshold.")
    late_threshold_ms: float = doc("How late a send may be before it counts as late: 5% of the SLO, at least 5 ms.")
    lag_ms_p50: float | None = doc("Median scheduling lag (actual send - intended send), ms.")
    lag_ms_p99: float | None = doc("99th-percentile scheduling lag, ms.")
    lag_ms_max: float | None = doc("Largest scheduling lag, ms.")
    send_rate_error: float | None = doc("sent ÷ scheduled - 1: how far the sends fell behind the schedule.")


@dataclass(frozen=True)
class LoadWorker(Record):
    """One Locust worker that carried load in a window, as the lab's handshake admitted it."""

    id: str = doc("Locust's client id (host name and a random suffix).")
    host: str | None = doc("The worker's host name.")
    address: str | None = doc("The address it reached the master from.")
    remote: bool = doc("True for a worker from elsewhere (`gil-lab worker`), false for one the lab started "
                       "(--locust-workers).")
    locust_version: str | None = doc("Its Locust version (equal to the master's, or it would have been refused).")
    lab_version: str | None = doc("Its lab version (likewise).")
    clock_offset_ms: float | None = doc("Its clock minus the master's, measured at join; its samples were moved "
                                        "onto the master's clock by this much.")
    clock_rtt_ms: float | None = doc("Round trip of the best clock round: the offset is right within half of it.")
    cpu_cores: float | None = doc("Its own average busy cores over the window, measured where it runs (above the "
                                  "saturation threshold the window is invalid); null with fewer than 2 readings.")
    requests: int = doc("Requests it completed inside the window.")
    left: bool = doc("True when it went away or stopped reporting during the window (the window is invalid).")


@dataclass(frozen=True)
class Cell(Record):
    """One measured window of one configuration, valid or not (an invalid cell says why)."""

    id: str = doc("config_id plus /r<repeat>.")
    config_id: str = doc("The configuration's identity (see CellConfig).")
    group: str = doc("The preset group that listed the configuration.")
    interpreter: str = doc("\"3.14\" or \"3.14t\".")
    free_threaded: bool = doc("Whether the interpreter is the free-threaded build.")
    python_gil_env: str | None = doc("PYTHON_GIL given to the server: null, \"0\" or \"1\".")
    server: str = doc("uvicorn or granian.")
    workers: int = doc("The server's --workers.")
    parallelism: Parallelism = doc("threads or processes (see CellConfig).")
    threads: int = doc("LAB_THREADS: anyio thread limit per event loop.")
    cpus: tuple[int, ...] | None = doc("CPU set the server was pinned to, or null.")
    scenario: str = doc("Scenario name.")
    users: int = doc("Locust users.")
    repeat: int = doc("Repeat number, from 0.")
    routes_dirs: tuple[str, ...] = doc("Extra drop-in route directories of the configuration.")
    http: HttpParser = doc("uvicorn's --http (see CellConfig).")
    loop: EventLoop = doc("The servers' --loop (see CellConfig).")
    valid: bool = doc("Whether the cell counts. Invalid cells are listed with their reason, never averaged.")
    outcome: Outcome = doc("measured, refused (granian + GIL), crashed, server-error, client-error, skipped "
                           "(an --app-url app cannot stand for this cell) or error.")
    invalid_reason: str | None = doc("Why the cell is invalid (null when valid).")
    rps: float | None = doc("Requests per second over the measured window (successful and failed).")
    requests: int = doc("Requests completed inside the window.")
    failures: int = doc("Of those, failed ones.")
    latency_ms: Latency | None = doc("Latency percentiles; null when no request completed.")
    server_cpu_cores: float | None = doc("Average busy cores of the server process tree during the window.")
    server_rss_mb_peak: float | None = doc("Peak RSS of the server process tree, MB (sum over processes).")
    server_threads_peak: int | None = doc("Peak threads in the server process tree.")
    server_process_cores: tuple[float, ...] | None = doc(
        "With workers > 1: average cores of each worker process, busiest first (a worker under 0.1 cores makes an "
        "N-process cell invalid); else null.")
    client_cpu_cores: float | None = doc("Average CPU cores of the Locust processes on the lab's machine (workers "
                                         "elsewhere: load_workers).")
    client_pids: tuple[int, ...] = doc("The Locust processes the cell started.")
    server_pid: int | None = doc("The server process the cell started (null for an external app).")
    server_sampling: str | None = doc("Why the server was not sampled (\"unavailable: external app\"), else null.")
    rps_series: tuple[int, ...] = doc("Requests completed in each second of the window.")
    samples: tuple[Sample, ...] = doc("Sampler readings through warm-up and window.")
    runtime_before: RuntimeSnapshot | None = doc("/lab/runtime before the window (null if it never answered).")
    runtime_after: RuntimeSnapshot | None = doc("/lab/runtime after the window (null if it stopped answering).")
    gil_enabled: bool | None = doc("True if the server reported the GIL on before OR after the window.")
    gil_enabled_by: tuple[str, ...] = doc("Modules that re-enabled the GIL, from both answers.")
    started_at: str = doc("ISO 8601 UTC.")
    warmup_s: float = doc("Discarded warm-up, seconds.")
    duration_s: float = doc("Measured window, seconds.")
    locust_workers: int = doc("Locust worker processes (0: one standalone process).")
    files: CellFiles = doc("The cell's raw files.")
    refusal: str | None = doc("The server's full refusal message when outcome is refused.")
    error: str | None = doc("The full error when outcome is server-error.")
    comparison_id: str | None = doc("The comparison this window belongs to (its arms alternate in blocks); null for "
                                    "cells measured one at a time.", default=None)
    block: int | None = doc("The block (one pair: A B B A or B A A B) within the comparison.", default=None)
    slot: int | None = doc("The window's position inside its block, from 0.", default=None)
    window_start: float | None = doc("Start of the measured window, Unix time on the lab's clock.", default=None)
    server_pss_mb_peak: float | None = doc("Peak PSS of the server process tree, MB (what multi-process "
                                           "comparisons use).", default=None)
    server_uss_mb_peak: float | None = doc("Peak USS of the server process tree, MB.", default=None)
    server_thread_cores: tuple[ThreadCores, ...] = doc("The server's CPU by thread name over the window, busiest "
                                                       "first: shows whether the event loop or the worker threads "
                                                       "did the work.", default=())
    workers_reporting: int = doc("Locust workers whose samples reached the lab (0: one standalone process).",
                                 default=0)
    load_model: LoadModel = doc("closed or open (see CellConfig).", default="closed")
    target_rps: float | None = doc("Open loop: the offered arrival rate.", default=None)
    arrivals: Arrivals | None = doc("Open loop: poisson or uniform.", default=None)
    latency_corrected_ms: Latency | None = doc("Open loop: latency from the intended send time, which includes "
                                               "the queueing a closed loop hides (coordinated omission).",
                                               default=None)
    open_loop: OpenLoopStats | None = doc("Open loop: how well the generator kept its schedule.", default=None)
    load_workers: tuple[LoadWorker, ...] = doc("The Locust workers of the window, local and remote ([] for one "
                                               "standalone process).", default=())
    service: ServiceRef | None = doc("The team's service the window measured (see CellConfig), or null.", default=None)

    @property
    def config(self) -> CellConfig:
        return CellConfig(self.scenario, self.server, self.workers, self.parallelism, self.threads, self.users,
                          self.python_gil_env, self.cpus, self.interpreter, self.routes_dirs, self.group, self.http,
                          self.loop, self.load_model, self.target_rps, self.arrivals, self.service)

    @property
    def flavour(self) -> Flavour:
        return flavours.by_label(self.interpreter)


@dataclass(frozen=True)
class Warmup(Record):
    """A server's warm-up before its first measured window: load until throughput is stable."""

    config_id: str = doc("The configuration the server runs.")
    comparison_id: str = doc("The comparison it was started for.")
    seconds: float = doc("How long the load ran before the server counted as warm.")
    converged: bool = doc("Whether throughput became stable; false when warmup_s ran out first.")
    rps_series: tuple[int, ...] = doc("Requests completed in each second of the warm-up: the evidence.")
    started_at: str = doc("ISO 8601 UTC.")


Stopping = Literal["fixed pairs", "precision reached", "time budget", "interrupted", "no valid pair", "server failed"]


@dataclass(frozen=True)
class ComparisonRun(Record):
    """How a comparison's alternation ended, recorded when it ends."""

    comparison_id: str = doc("The comparison.")
    config_ids: tuple[str, ...] = doc("Its arms, in the order of the first block.")
    blocks: int = doc("Blocks measured (complete or not).")
    stopping: Stopping = doc("fixed pairs (no precision target), precision reached, time budget (stopped "
                             "imprecise), interrupted, no valid pair (no arm could run), or server failed (a "
                             "server died mid-comparison).")
    precision_target: float | None = doc("The target it alternated towards, or null.")
    elapsed_s: float = doc("Wall time of the whole comparison, warm-ups included.")


# --- the HTTP-free microbenchmark ---------------------------------------------------------


@dataclass(frozen=True)
class MicrobenchPoint(Record):
    """One (workload, variant, threads, repeat) measurement of the microbenchmark."""

    workload: str = doc("pure, json or hash.")
    variant: str = doc("3.14, 3.14t or 3.14t+PYTHON_GIL=1.")
    threads: int = doc("Threads running the workload at once.")
    repeat: int = doc("Repeat number; repeats interleave the variants.")
    seconds: float = doc("Measured wall time of the point.")
    ops: int = doc("Workload operations completed.")
    ops_per_s: float = doc("ops / seconds.")
    cpu_cores: float | None = doc("Process CPU time / wall: the cores the threads actually got.")
    gil_enabled: bool = doc("sys._is_gil_enabled() in the worker, before OR after the point.")
    valid: bool = doc("False when the GIL state contradicts the variant.")
    invalid_reason: str | None = doc("Why the point is invalid.")


@dataclass(frozen=True)
class MicrobenchVariant(Record):
    """An interpreter variant of the microbenchmark, as its worker saw itself."""

    path: str = doc("The interpreter.")
    python: str | None = doc("Its version.")
    free_threaded: bool | None = doc("Py_GIL_DISABLED.")
    python_gil_env: str | None = doc("PYTHON_GIL given to the worker (only for 3.14t+PYTHON_GIL=1).")
    gil_flag: int | None = doc("sys.flags.gil.")
    gil_enabled_at_start: bool | None = doc("sys._is_gil_enabled() when the worker started.")


@dataclass(frozen=True)
class LoadAverage(Record):
    """The machine's 1-minute load around the microbenchmark."""

    start: float | None = doc("1-minute load average when the benchmark started.")
    end: float | None = doc("... and when it ended.")


@dataclass(frozen=True)
class Microbench(Record):
    """``gil-lab threads``: stdlib-only work in 1..N threads per interpreter variant, no HTTP."""

    usable_cores: int = doc("Cores the benchmark could use.")
    thread_counts: tuple[int, ...] = doc("Thread counts measured.")
    repeats: int = doc("Repeats per point.")
    workloads: tuple[str, ...] = doc("Workloads measured.")
    variants: tuple[str, ...] = doc("Interpreter variants measured.")
    seconds_per_point: float = doc("Measured wall time per point.")
    started_at: str = doc("ISO 8601 UTC.")
    finished_at: str = doc("ISO 8601 UTC.")
    elapsed_s: float = doc("Wall time of the whole benchmark.")
    load_average: LoadAverage = doc("Other work on the same cores makes figures noisy.")
    interpreters: Mapping[str, MicrobenchVariant] = doc("Per variant, as its worker saw itself.")
    points: tuple[MicrobenchPoint, ...] = doc("One per (workload, variant, threads, repeat).")
    others_cores: float | None = doc("Average cores that other processes used while the benchmark ran: the whole "
                                     "machine's busy time minus the benchmark's own. Above a quarter of the usable "
                                     "cores the figures are noisy.", default=None)


@dataclass(frozen=True)
class StepFailure(Record):
    """A once-per-run step (microbenchmark, audit) that failed: the run goes on without it."""

    error: str = doc("What went wrong.")


# --- the GIL audit ------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditedInterpreter(Record):
    """The interpreter an audit imported the app with."""

    role: str = doc("gil or ft.")
    label: str = doc("3.14 or 3.14t.")
    path: str = doc("The interpreter.")
    version: str = doc("Its Python version.")
    free_threaded: bool = doc("Whether it is the free-threaded build.")


@dataclass(frozen=True)
class AuditOutcome(Record):
    """The GIL audit's app pass on 3.14t (``gil-lab audit --json`` is ``report``)."""

    verdict: str = doc("clean, gil-enabled, gil-forced-off, gil-build or import-failed.")
    gil_enabled: bool = doc("Whether the GIL ended up enabled after the imports.")
    gil_enabled_by: tuple[str, ...] = doc("Modules that turned it on.")
    interpreter: AuditedInterpreter = doc("The audited interpreter.")
    report: Mapping[str, Any] = doc("The whole audit report, as `gil-lab audit --json` prints it.")


@dataclass(frozen=True)
class GilRemedy(Record):
    """One way out for a module that turns the GIL on."""

    kind: str = doc("upgrade, alternative, fix or python_gil_0 (forcing it off: a risk).")
    text: str = doc("What to do.")


@dataclass(frozen=True)
class GilCulprit(Record):
    """A module that turned the GIL on under 3.14t, the distribution that ships it, and the remedies."""

    module: str = doc("The module CPython named.")
    distribution: str | None = doc("The installed distribution that ships it, or null when none does.")
    version: str | None = doc("That distribution's version.")
    file: str | None = doc("The extension file.")
    found_by: tuple[str, ...] = doc("Where it was seen: the audit's app import, its distribution pass, or a server's "
                                    "/lab/runtime during the run.")
    remedies: tuple[GilRemedy, ...] = doc("What the team can do, best first; forcing the GIL off comes last, with "
                                          "its risk.")


# --- the run ------------------------------------------------------------------------------


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
    cells: tuple[Cell, ...] = doc("Every finished cell, in execution order.")
    microbench: Microbench | StepFailure | None = doc("The threads microbenchmark, its failure, or null.")
    audit: AuditOutcome | StepFailure | None = doc("The GIL audit of the app on 3.14t, its failure, or null.")
    warmups: tuple[Warmup, ...] = doc("Every server's warm-up, in order.", default=())
    comparisons: tuple[ComparisonRun, ...] = doc("How each finished comparison ended.", default=())
    capacities: tuple[CapacitySearch, ...] = doc("Capacity searches (gil-lab capacity).", default=())
    gil_culprits: tuple[GilCulprit, ...] = doc("Every module that turned the GIL on under 3.14t in the audit or in "
                                               "a server, with its distribution and remedies.", default=())
    safety: SafetyRecord | None = doc("Whether the service answers correctly in parallel (gil-lab safety, or "
                                      "compare on a team's app); null when no safety check ran.", default=None)

    def __post_init__(self) -> None:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"schema_version must be {SCHEMA_VERSION} once migrated, got {self.schema_version}")

    @property
    def usable_cores(self) -> int:
        return self.machine.usable_cores


# --- capacity at an SLO -------------------------------------------------------------------


@dataclass(frozen=True)
class CapacityStep(Record):
    """One tested arrival rate of a capacity search."""

    rate: float = doc("Offered arrivals per second.")
    cell_id: str = doc("The window that measured it.")
    passed: bool = doc("Corrected p95 under the SLO, and failed + dropped under the loss limit.")
    p95_corrected_ms: float | None = doc("p95 latency from the intended send.")
    p95_ms: float | None = doc("p95 latency from the actual send.")
    loss: float | None = doc("(failed + dropped) ÷ scheduled: requests the server failed or could not take.")
    reason: str | None = doc("Why it failed (or was invalid).")
    valid: bool = doc("Whether the window counts. An invalid window (the load generator fell behind, the server "
                      "crashed) decides nothing: the search stops there and reports what it had.", default=True)


class CapacityBounds:
    """What a capacity's bracket says about it, shared by the search (run.json) and its summary."""

    max_rps_at_slo: float | None
    bracket_high: float | None
    limited_by: str | None

    @property
    def is_lower_bound(self) -> bool:
        """The capacity is only "at least": no rate above it failed (the search ran out of time, or an
        invalid window stopped it). An invalid window inside a known bracket leaves the bracket standing."""
        return self.bracket_high is None and (self.max_rps_at_slo is not None or self.limited_by is not None)


@dataclass(frozen=True)
class CapacitySearch(Record, CapacityBounds):
    """The highest arrival rate one configuration sustains at the SLO: a bracket, then bisection."""

    config_id: str = doc("The configuration, without the load model and rate.")
    label: str = doc("Its label (docs/summary-json.md).")
    scenario: str = doc("Its scenario.")
    server: str = doc("Its server.")
    interpreter: str = doc("3.14 or 3.14t.")
    slo_ms: float = doc("The p95 objective, ms.")
    max_loss: float = doc("The largest share of failed and dropped requests a passing rate may have.")
    steps: tuple[CapacityStep, ...] = doc("Every rate tested, in order.")
    max_rps_at_slo: float | None = doc("The highest passing rate (null: none passed).")
    bracket_low: float | None = doc("The highest passing rate: the capacity is at least this.")
    bracket_high: float | None = doc("The lowest failing rate above it: the capacity is below this (null: never "
                                     "failed within the search).")
    resolution: float = doc("The search stopped once the bracket was this narrow, relative to its top.")
    stopping: str = doc("resolution reached, time budget, or invalid window (see limited_by).")
    p95_ms_at_max: float | None = doc("Corrected p95 at the highest passing rate.")
    p95_ci_at_max: tuple[float, float] | None = doc("Bootstrap 95% interval of that p95: the statistical "
                                                    "uncertainty, apart from the search resolution.")
    server_cpu_cores_at_max: float | None = doc("Busy server cores at that rate.")
    pss_mb_at_max: float | None = doc("Peak PSS of the server tree at that rate, MB.")
    limited_by: str | None = doc("Why the search stopped before its resolution with no failing rate above the "
                                 "capacity, e.g. the load generator could not offer more: the capacity is then "
                                 "a lower bound.", default=None)


# --- summary.json: the machine-readable verdict -------------------------------------------

Verdict = Literal["faster", "slower", "not significant", "invalid"]
ComparisonKind = Literal["interpreter", "processes", "gil-toggle"]


@dataclass(frozen=True)
class ConfigLabel(Record):
    """One side of a comparison: its label and the fields the label is made of."""

    label: str = doc("``<interpreter>[+PYTHON_GIL=<v>] <server> (w<W> t<T> | ×<W> proc[ t<T>])[ cpus<ids>]`` "
                     "(an N-process label names its thread limit when it is not 8), e.g. `3.14t uvicorn w1 t8`, "
                     "`3.14 uvicorn ×2 proc` or `3.14 uvicorn ×2 proc t4`.")
    config_id: str = doc("Its config_id in run.json.")
    interpreter: str = doc("3.14 or 3.14t.")
    python_gil: str | None = doc("PYTHON_GIL given to the server, or null.")
    server: str = doc("uvicorn or granian.")
    parallelism: Parallelism = doc("threads or processes.")
    workers: int = doc("--workers.")
    threads: int = doc("anyio thread limit per event loop.")
    cpus: tuple[int, ...] | None = doc("CPU ids the server was pinned to, or null.")


@dataclass(frozen=True)
class ComparisonSummary(Record):
    """``candidate / baseline`` throughput for one scenario, server and users level."""

    comparison_id: str | None = doc("The comparison in run.json (null for runs measured before pairing).")
    kind: ComparisonKind = doc("interpreter: 3.14t vs 3.14, same settings; processes: 3.14t threads vs 3.14 with N "
                               "worker processes; gil-toggle: 3.14t with PYTHON_GIL=1 vs 3.14t.")
    scenario: str = doc("The scenario.")
    server: str = doc("The server.")
    users: int = doc("Locust users.")
    candidate: ConfigLabel = doc("The side in the numerator.")
    baseline: ConfigLabel = doc("The side in the denominator.")
    ratio: float | None = doc("Candidate ÷ baseline throughput: the geometric mean of the per-pair ratios when "
                              "paired; null when invalid.")
    ci_low: float | None = doc("Lower end of the 95% confidence interval of the ratio.")
    ci_high: float | None = doc("Upper end.")
    paired: bool = doc("True: windows alternated on warm servers, t interval on the log ratios; false: a run "
                       "measured before pairing, ratio of means with a Fieller interval.")
    n_pairs: int = doc("Pairs behind the ratio (repeats per side when not paired).")
    precision_reached: float | None = doc("The interval's half-width relative to the ratio (0.05 = ±5%).")
    precision_target: float | None = doc("The target the comparison alternated towards, or null.")
    stopping: str = doc("Why the alternation ended (see run.json comparisons), with adaptive stopping named.")
    verdict: Verdict = doc("faster or slower (the interval excludes 1), not significant, or invalid (no valid pair).")
    invalid_reason: str | None = doc("Why the comparison is invalid.")
    efficiency: float | None = doc("Ratio ÷ ideal (interpreter comparisons only; see docs/methodology.md).")
    ideal: float | None = doc("Cores the candidate could use ÷ cores the baseline actually used.")
    candidate_cv: float | None = doc("Coefficient of variation of the candidate's windows.")
    baseline_cv: float | None = doc("Coefficient of variation of the baseline's windows.")
    candidate_pss_mb: float | None = doc("Mean peak PSS of the candidate's server tree, MB.")
    baseline_pss_mb: float | None = doc("Mean peak PSS of the baseline's server tree, MB.")


@dataclass(frozen=True)
class CapacitySummary(Record, CapacityBounds):
    """The highest arrival rate a configuration sustains while p95 stays under the SLO."""

    scenario: str = doc("The scenario.")
    server: str = doc("The server.")
    interpreter: str = doc("3.14 or 3.14t.")
    configuration: str = doc("The configuration's label.")
    config_id: str = doc("Its config_id (without the load model and rate).")
    slo_ms: float = doc("The p95 objective, ms.")
    max_rps_at_slo: float | None = doc("The highest passing rate (null: none passed).")
    bracket_low: float | None = doc("The capacity is at least this (the search resolution's lower end).")
    bracket_high: float | None = doc("... and below this (null: no rate failed within the search).")
    p95_ms_at_max: float | None = doc("Corrected p95 at that rate.")
    p95_ci_at_max: tuple[float, float] | None = doc("Its bootstrap 95% interval (statistical uncertainty).")
    rps_per_core: float | None = doc("max_rps_at_slo ÷ the server's busy cores at that rate.")
    rps_per_gb: float | None = doc("max_rps_at_slo ÷ the server tree's peak PSS in GB at that rate.")
    limited_by: str | None = doc("Set when the search stopped on an invalid window (e.g. the load generator "
                                 "could not offer more): the capacity is then only a lower bound.", default=None)


RatioBound = Literal["measured", "at least", "at most", "unbounded"]


@dataclass(frozen=True)
class TunedSummary(Record):
    """One side (3.14, 3.14t, 3.14 × N processes) of a capacity run that tried several settings: its best one.

    Two ratios compare 3.14t with this side, and they answer different questions: ``ft_ratio_equal`` at
    equal settings (both at ``equal_threads``: the same app and settings, another interpreter) and
    ``ft_ratio_best`` best against best (each side at its own best setting: what a planner would deploy).
    """

    tuning_id: str = doc("What the sides share: scenario, server and users, and any CPU set, server flags or "
                         "drop-ins (a comparison id of run.json without its thread limit).")
    scenario: str = doc("The scenario.")
    server: str = doc("The server.")
    side: str = doc("3.14, 3.14t or 3.14 × N processes (N: best_workers), with +PYTHON_GIL=<v> when set.")
    interpreter: str = doc("3.14 or 3.14t.")
    parallelism: Parallelism = doc("threads (one process) or processes.")
    slo_ms: float = doc("The p95 objective, ms.")
    best_configuration: str = doc("The label of the best setting: the most capacity at the SLO; ties go to fewer "
                                  "threads, then fewer workers.")
    best_config_id: str = doc("Its config_id (without the load model and rate).")
    best_threads: int = doc("Its anyio thread limit.")
    best_workers: int = doc("Its --workers.")
    max_rps_at_slo: float | None = doc("Its capacity at the SLO (null: none passed).")
    lower_bound: bool = doc("True when the best setting's search stopped on an invalid window: its capacity is "
                            "at least max_rps_at_slo.", default=False)
    unsettled: tuple[str, ...] = doc("Other settings whose search stopped on an invalid window below the best: "
                                     "each is only a lower bound, so one of them may be better.", default=())
    threads_tried: tuple[int, ...] = doc("The thread limits this side was searched at.", default=())
    equal_threads: int | None = doc("The thread limit of the equal-settings comparison: 8 (the lab's default) "
                                    "when 3.14t and another side both measured it, else the limit most sides "
                                    "measured beside 3.14t; null when this side has no search there.", default=None)
    equal_configuration: str | None = doc("The label of this side's setting at equal_threads.", default=None)
    rps_at_equal: float | None = doc("Its capacity at the SLO.", default=None)
    equal_lower_bound: bool | None = doc("Whether that capacity is only a lower bound.", default=None)
    ft_ratio_equal: float | None = doc("At equal settings: 3.14t's capacity ÷ this side's, both at equal_threads. "
                                       "Null on the 3.14t side itself and where either is missing or zero.",
                                       default=None)
    ft_ratio_equal_bound: RatioBound | None = doc("measured; at least (3.14t's capacity is a lower bound); at most "
                                                  "(this side's is); unbounded (both are).", default=None)
    ft_ratio_best: float | None = doc("Best against best: 3.14t's capacity at its best setting ÷ this side's at "
                                      "its best. Null on the 3.14t side itself.", default=None)
    ft_ratio_best_bound: RatioBound | None = doc("As ft_ratio_equal_bound; an unsettled setting of either side "
                                                 "counts as a lower bound of its best.", default=None)


@dataclass(frozen=True)
class SummaryRecord(Record):
    """``summary.json``: the verdict of a run, for CI and dashboards (written beside run.json)."""

    schema_version: int = doc(f"The contract's version ({SCHEMA_VERSION}), shared with run.json.")
    run_id: str = doc("The run.")
    preset: str = doc("Its preset.")
    created_at: str = doc("When the run started.")
    usable_cores: int = doc("Cores the run measured on: no speedup can exceed this.")
    comparisons: tuple[ComparisonSummary, ...] = doc("Every comparison of the run.")
    capacity: tuple[CapacitySummary, ...] = doc("Capacity at the SLO per configuration (gil-lab capacity).",
                                                default=())
    tuned: tuple[TunedSummary, ...] = doc("Per side, the best of the settings a capacity run tried, with 3.14t "
                                          "against it at equal settings and best against best (empty when every "
                                          "side ran at one setting).", default=())
    safety: SafetySummary | None = doc("Races by endpoint and by test (docs/safety.md); null when the run "
                                       "checked no safety.", default=None)
