"""What to measure: a configuration, the plan that lists them, and the limits that judge a window."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from loadtests.core import flavour as flavours
from loadtests.core.flavour import Flavour
from loadtests.core.servers import check_server
from loadtests.results.record import Record, doc

Parallelism = Literal["threads", "processes"]
LoadModel = Literal["closed", "open"]
Arrivals = Literal["poisson", "uniform"]
HttpParser = Literal["auto", "h11", "httptools"]
EventLoop = Literal["auto", "asyncio", "uvloop"]
HTTP_PARSERS: tuple[str, ...] = ("auto", "h11", "httptools")
EVENT_LOOPS: tuple[str, ...] = ("auto", "asyncio", "uvloop")


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

    scenario: str = doc("Scenario name: a built-in (json, image, compute, contended, hash, async) or a drop-in module's name.")
    server: str = doc("The server, by the name its declaration gives it (docs/adding-a-server.md).")
    workers: int = doc("The server's --workers.")
    parallelism: Parallelism = doc("threads: one process, its anyio thread pool (plus worker threads with an event loop "
                                   "each, for a server whose workers are threads: granian on 3.14t); processes: N "
                                   "worker processes, the 3.14 N-process baseline.")
    threads: int = doc("LAB_THREADS: the anyio thread limit per event loop.")
    users: int = doc("Locust users (concurrency).")
    python_gil: str | None = doc("PYTHON_GIL given to the server: null (unset), \"0\" or \"1\".")
    cpus: tuple[int, ...] | None = doc("CPU ids the server is pinned to (taskset), or null.")
    interpreter: str = doc("\"3.14\" or \"3.14t\". Last, so sorting puts the interpreters of one configuration side by side.")
    routes_dirs: tuple[str, ...] = doc("Extra drop-in route directories (absolute paths).", default=())
    group: str = doc("The preset group that listed it (not part of its identity).", default="", compare=False)
    http: HttpParser = doc("--http: auto, h11 (pure Python) or httptools, for a server that lets you choose its "
                           "HTTP/1 parser (uvicorn does); the others use their own and ignore it.", default="auto")
    loop: EventLoop = doc("The event loop, --loop of every server: auto, asyncio or uvloop.", default="auto")
    load_model: LoadModel = doc("closed: `users` send back to back; open: requests arrive at `target_rps`, "
                                "independently of responses.", default="closed")
    target_rps: float | None = doc("Open loop: the offered arrival rate, requests per second.", default=None)
    arrivals: Arrivals | None = doc("Open loop: poisson (exponential gaps) or uniform (even gaps).", default=None)
    service: ServiceRef | None = doc("The team's service it measures (--app, --requirements, --locustfile); null: "
                                     "the lab's built-in app in the lab's own environments.", default=None)

    def __post_init__(self) -> None:
        flavour = flavours.by_label(self.interpreter)
        check_server(self.server)
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
    """How a capacity run searches: the SLO, what a passing rate may lose, the arrivals, where to spend them."""

    slo_ms: float = doc("The p95 objective, ms, measured from the intended send.")
    max_loss: float = doc("Failed, dropped and unanswered arrivals together must stay under this share.", default=0.01)
    resolution: float = doc("Runs before schema version 7: bisect until the bracket is this narrow, relative to its "
                            "top. The fitted search does not bisect.", default=0.10)
    arrivals: Arrivals = doc("poisson or uniform.", default="poisson")
    inflight_cap: int = doc("Requests in flight per load process before arrivals are dropped.", default=256)
    precision: float = doc("The half-width of the capacity's 95% interval, relative to it, that a search plans its "
                           "refine steps for once its pilot has run (0.12 = ±12%).", default=0.12)
    bracket_arrivals: int = doc("Arrivals per window while bracketing (far from the capacity).", default=80)
    refine_arrivals: int = doc("Arrivals per window around the capacity, where they decide.", default=200)
    pilot_steps: int = doc("Refine steps before the search plans how many it needs.", default=4)
    min_steps: int = doc("Refine steps of one search, at least: the scatter of the steps around the fitted curve "
                         "measures how bursty the misses are, and needs enough steps to do so.", default=10)
    max_steps: int = doc("Refine steps of one search, at most.", default=40)

    def __post_init__(self) -> None:
        if self.slo_ms <= 0:
            raise ValueError(f"the SLO must be a positive number of milliseconds, not {self.slo_ms}")
        if not 0 < self.max_loss < 1 or not 0 < self.resolution < 1 or not 0 < self.precision < 1:
            raise ValueError("max_loss, resolution and precision are fractions between 0 and 1")
        if self.inflight_cap < 1:
            raise ValueError("the in-flight cap must be at least 1")
        if min(self.bracket_arrivals, self.refine_arrivals) < 20 or not 1 <= self.pilot_steps <= self.max_steps or self.min_steps > self.max_steps:
            raise ValueError("a window needs at least 20 arrivals, and 1 <= pilot_steps <= max_steps, min_steps <= max_steps")


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
    max_time_s: float | None = doc("Time budget per comparison, seconds (a paired comparison counts its "
                                   "alternation only, not its servers' starts and warm-ups): an adaptive "
                                   "comparison stops there even if imprecise.", default=None)
    capacity: CapacityPolicy | None = doc("A capacity run (gil-lab capacity): open-loop searches instead of "
                                          "closed-loop comparisons.", default=None)
    probe: bool = doc("Whether the per-endpoint scaling probe runs before the first window (gil-lab diagnose; "
                      "compare on a team's app).", default=False)
    profile: bool = doc("Whether each headline server (3.14 and 3.14t, one process, the comparison at the most "
                        "users) gets an extra profile window after its measured ones (perf, when it can run).",
                        default=False)
    instances: int = doc("Server instances per arm of each comparison: fresh starts (new processes, a new hash seed) "
                         "that share its pairs, so the intervals hold the variance between instances.", default=1)

    def __post_init__(self) -> None:
        if self.repeats < 1 or self.duration_s <= 0 or self.warmup_s < 0 or self.transition_s < 0:
            raise ValueError("repeats must be >= 1, duration_s > 0, warmup_s and transition_s >= 0")
        if self.instances < 1:
            raise ValueError(f"instances must be at least 1, not {self.instances}")
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
                                "OpenLoopStats.late_threshold_ms), and more than 2, is invalid: the lag was the "
                                "generator's.", default=0.01)
    noisy_steal: float | None = doc("A window with more steal than this share of the CPU time is noisy (null in runs "
                                    "before the rule).", default=None)
    noisy_foreign_cores: float | None = doc("A window during which other work used more cores than this is noisy "
                                            "(off for an --app-url app, whose own CPU is outside the lab's "
                                            "trees).", default=None)
    noisy_repeats: int = doc("A noisy window is measured again at most this many times in a row.", default=0)
    noisy_repeats_per_comparison: int = doc("And at most this many times in one comparison: then noisy windows "
                                            "count, flagged, so a busy machine cannot stretch a run without "
                                            "bound.", default=0)
