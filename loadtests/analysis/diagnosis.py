"""Why a scenario does or does not scale on 3.14t: findings computed from what the run measured.

Pure functions over a run record (its windows, and for a team's service the stored
inspection and preflight). Each finding names its evidence, figures from the run, and
what the team can change. Nothing is guessed: a rule fires only on its signals, and
the thresholds are the constants of :mod:`loadtests.analysis.figures.diagnosis`, printed
with the report.

Signals, per scenario and server, from the valid windows of the headline 3.14t and 3.14
arms (``configs.headline``):

- the server's busy cores, split by OS thread name (``server_thread_cores``): anyio's
  worker threads (``AnyIO worker t…``) run sync endpoints; the busiest other thread is
  the event loop's (uvicorn's main thread ``python``, granian's ``granian-worker``);
- requests in flight on average, by Little's law: rps × mean latency;
- rps per busy core on each interpreter, the ratio and its interval;
- the GIL state every window reported, with the modules that turned it on (joined to
  the distribution and remedies in ``run.gil_culprits``);
- the load generator's cores and the validity verdicts;
- for a team's service: the routes its Locust file reached in the preflight, and
  which of them are ``async def`` or have a body model parsed on the loop.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from loadtests.analysis.configs import comparisons, headline, is_counted, summarize_configs
from loadtests.analysis.figures.configs import FT_INTERPRETER, KIND_INTERPRETER, Comparison, ConfigSummary
from loadtests.analysis.figures.diagnosis import (
    ALREADY_PARALLEL_SHARE,
    CLIENT_NEAR_SATURATION,
    IDLE_CORES,
    IN_FLIGHT_SHARE,
    LOOP_NOTABLE_CORES,
    LOOP_SATURATED_CORES,
    LOOP_SHARE,
    PER_CORE_DROP,
    SCALES_EFFICIENCY,
    WAITING_SHARE,
    Finding,
    ScenarioDiagnosis,
)
from loadtests.core.wording import format_interval
from loadtests.results.records import Cell, GilCulprit, RouteInfo, RunRecord, ServiceSettings

WORKER_THREADS = "AnyIO worker"
#: Threads of the servers' own I/O machinery: neither the event loop nor the worker pool.
HELPER_THREADS = ("libuv-worker", "tokio-rt-worker", "Thread-")


@dataclass(frozen=True)
class ArmSignals:
    """What one configuration's valid windows measured, averaged."""

    config: ConfigSummary
    windows: int
    rps: float
    server_cores: float | None
    loop_thread: str | None
    loop_cores: float | None
    worker_cores: float | None
    in_flight: float | None  # rps × mean latency (Little's law)
    client_cores: float | None

    @property
    def rps_per_core(self) -> float | None:
        return self.rps / self.server_cores if self.server_cores else None

    @property
    def loop_share(self) -> float | None:
        """The event loop thread's share of the server's busy time."""
        return self.loop_cores / self.server_cores if self.loop_cores is not None and self.server_cores else None


def _mean(values: Iterable[float | None]) -> float | None:
    found = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.fmean(found) if found else None


def thread_split(cell: Cell) -> tuple[str | None, float | None, float | None]:
    """(the event loop's thread name, its cores, the worker threads' cores) of one window."""
    if not cell.server_thread_cores:
        return None, None, None
    workers = sum(t.cores for t in cell.server_thread_cores if t.name.startswith(WORKER_THREADS))
    others = [t for t in cell.server_thread_cores
              if not t.name.startswith(WORKER_THREADS) and not t.name.startswith(HELPER_THREADS)]
    loop = max(others, key=lambda t: t.cores, default=None)
    return (loop.name, loop.cores, workers) if loop else (None, None, workers)


def arm_signals(run: RunRecord, config: ConfigSummary) -> ArmSignals | None:
    cells = [c for c in run.cells if c.config_id == config.config_id and is_counted(c)]
    if not cells:
        return None
    splits = [thread_split(c) for c in cells]
    flights = [c.rps * c.latency_ms.mean / 1000.0 for c in cells if c.rps is not None and c.latency_ms is not None]
    names = [name for name, _, _ in splits if name]
    return ArmSignals(config, len(cells), statistics.fmean(c.rps for c in cells if c.rps is not None),
                      _mean(c.server_cpu_cores for c in cells), max(set(names), key=names.count) if names else None,
                      _mean(s[1] for s in splits), _mean(s[2] for s in splits), _mean(flights),
                      _mean(c.client_cpu_cores for c in cells))


# --- the rules ------------------------------------------------------------------------


def _culprit_text(module: str, culprits: Sequence[GilCulprit]) -> str:
    found = next((c for c in culprits if c.module == module), None)
    if found is None or found.distribution is None:
        return module
    return f"{module} (from {found.distribution} {found.version})"


def gil_reenabled(run: RunRecord, scenario: str, server: str) -> Finding | None:
    cells = [c for c in run.cells if c.config.scenario == scenario and c.config.server == server and c.free_threaded
             and c.config.python_gil is None and c.outcome != "skipped"]
    on = [c for c in cells if c.gil_enabled]
    if not on:
        return None
    modules = sorted({m for c in on for m in c.gil_enabled_by})
    named = ", ".join(_culprit_text(m, run.gil_culprits) for m in modules) or "a module the server did not name"
    remedies = [r.text for m in modules for c in run.gil_culprits if c.module == m for r in c.remedies
                if r.kind != "python_gil_0"]
    change = " ".join(dict.fromkeys(remedies)) or "Find the import with `gil-lab audit` and upgrade or replace it."
    return Finding("gil-reenabled", f"the GIL came back on in 3.14t, turned on by {named}",
                   f"{len(on)} of {len(cells)} 3.14t windows reported the GIL on (/lab/runtime before and after each "
                   "window); they are invalid and not compared, since they measure a GIL interpreter.",
                   change + " `--python-gil 0` measures what forcing the GIL off would give, at a risk (see the "
                   "PYTHON_GIL=0 finding when it ran).")


def no_free_threaded_environment(service: ServiceSettings | None) -> Finding | None:
    env = service.environments.get(FT_INTERPRETER) if service else None
    if env is None or env.available:
        return None
    return Finding("no-3.14t", f"no 3.14t measurement: {env.unavailable_package or 'a requirement'} cannot be "
                               "installed on 3.14t",
                   f"uv could not build the 3.14t environment: {env.unavailable_reason}. The 3.14t arms are recorded "
                   "as skipped cells; only 3.14 was measured.",
                   f"Look for a release of {env.unavailable_package or 'the package'} with free-threaded (cp314t) "
                   "wheels, pin it, or replace the package; until then 3.14t cannot run this service.")


def load_generator(run: RunRecord, scenario: str, server: str) -> Finding | None:
    cells = [c for c in run.cells if c.config.scenario == scenario and c.config.server == server]
    saturated = [c for c in cells if (c.invalid_reason or "").startswith("load generator saturated")]
    per_process = [c.client_cpu_cores / max(1, c.locust_workers) for c in cells
                   if c.client_cpu_cores is not None and is_counted(c)]
    busiest = max(per_process, default=0.0)
    if not saturated and busiest < CLIENT_NEAR_SATURATION:
        return None
    evidence = (f"{len(saturated)} window(s) invalid: Locust saturated its core" if saturated else
                f"Locust used up to {busiest:.2f} cores per process (saturation is about 1: it is one gevent "
                "thread)")
    return Finding("load-generator", "the load generator was the limit, not the server", evidence,
                   "Run Locust with workers (--locust-workers N, one per core of load needed), use FastHttpUser "
                   "in the Locust file, or lower --users.")


def _reached_routes(service: ServiceSettings | None, label: str) -> list[RouteInfo]:
    """The routes the Locust file's tasks reached in the preflight, as the app's table describes them."""
    if service is None:
        return []
    inspection = service.inspections.get(label) or next(iter(service.inspections.values()), None)
    paths = {r.route for p in service.preflight for t in p.tasks for r in t.requests if r.route}
    return [route for route in (inspection.routes or ()) if route.path in paths] if inspection else []


def event_loop(run: RunRecord, ft: ArmSignals, usable: int) -> Finding | None:
    could_use = ft.config.cores_in_use(usable)
    if ft.loop_cores is None or ft.server_cores is None or ft.server_cores > could_use - IDLE_CORES:
        return None
    queued = ft.in_flight is not None and ft.in_flight >= IN_FLIGHT_SHARE * could_use
    if ft.loop_cores < LOOP_SATURATED_CORES and not (queued and (ft.loop_share or 0) >= LOOP_SHARE):
        return None
    causes, changes = _loop_causes(run, ft.config.interpreter)
    cause = "; ".join(causes) if causes else (
        "no `async def` route or loop-parsed body among the routes the load reached"
        if run.settings.service else "the lab's built-in app has no route table stored with the run")
    return Finding(
        "event-loop", "a serial section on the event loop: its thread is busy while cores stay idle",
        f"on 3.14t the event loop's thread ({ft.loop_thread}) used {ft.loop_cores:.2f} cores "
        f"({ft.loop_share or 0:.0%} of the server's work) and the worker threads {ft.worker_cores or 0:.2f}, while "
        f"the server used {ft.server_cores:.2f} of the {could_use} cores it could use"
        + (f" with {ft.in_flight:.1f} requests in flight" if ft.in_flight is not None else "") + f"; cause: {cause}.",
        ("Change: " + "; ".join(changes) + ".") if changes else
        "Move CPU work off the loop: sync `def` endpoints, or `anyio.to_thread.run_sync` around the heavy part; "
        "keep middleware and response serialisation light.")


def _loop_causes(run: RunRecord, label: str) -> tuple[list[str], list[str]]:
    """What the load reached that runs on the loop, and what to change about each."""
    reached = _reached_routes(run.settings.service, label)
    causes, changes = [], []
    for route in (r for r in reached if r.async_def):
        methods = ",".join(route.methods or ["*"])
        causes.append(f"{methods} {route.path} is `async def` ({route.endpoint}), so it runs on the loop"
                      + (f" and FastAPI parses its body {route.body_model} there" if route.body_model else ""))
        changes.append(f"make {route.endpoint} a plain `def` (the framework then runs it in the thread pool) or "
                       "move its CPU work into `await anyio.to_thread.run_sync(...)`")
    for route in (r for r in reached if r.body_model and not r.async_def):
        causes.append(f"FastAPI parses and validates the body {route.body_model} of {route.path} on the loop")
        changes.append(f"take the raw body in {route.endpoint} (`request: Request`) and validate it inside the "
                       "endpoint (`Model.model_validate_json(...)`), where it runs in a worker thread")
    return causes, changes


def loop_ceiling(run: RunRecord, ft: ArmSignals) -> Finding | None:
    """The loop is not saturated yet, but its share of the work caps what one process can serve."""
    if ft.loop_cores is None or ft.loop_cores < LOOP_NOTABLE_CORES:
        return None
    causes, changes = _loop_causes(run, ft.config.interpreter)
    ceiling = ft.rps / ft.loop_cores
    return Finding("loop-ceiling", f"the event loop caps one process at about {ceiling:.0f} rps",
                   f"on 3.14t the event loop's thread ({ft.loop_thread}) used {ft.loop_cores:.2f} cores for "
                   f"{ft.rps:.1f} rps; it is one thread, so at this mix of requests one process cannot pass about "
                   f"{ceiling:.0f} rps on any number of cores (an estimate: the loop's work per request × 1 core)"
                   + (f"; on the loop: {'; '.join(causes)}" if causes else "") + ".",
                   ("To raise the ceiling: " + "; ".join(changes) + ".") if changes else
                   "To raise the ceiling, move work off the loop (sync endpoints, lighter middleware and "
                   "serialisation), or run more processes.")


def already_parallel(base: ArmSignals, usable: int, comparison: Comparison | None) -> Finding | None:
    could_use = base.config.cores_in_use(usable)
    if base.server_cores is None or could_use < 2 or base.server_cores < ALREADY_PARALLEL_SHARE * could_use:
        return None
    ratio = "" if comparison is None else f"; 3.14t/3.14 = {comparison.speedup.ratio:.2f}×"
    return Finding("already-parallel", "3.14 already used every core: nothing for free threading to gain",
                   f"the 3.14 server kept {base.server_cores:.2f} of {could_use} usable cores busy with one process: "
                   f"the work runs in C code that releases the GIL{ratio}.",
                   "Keep 3.14 for this workload (3.14t cannot add cores that are already busy); for more "
                   "throughput add cores or processes. 3.14t may still use less memory than N 3.14 processes.")


def per_core_cost(base: ArmSignals, ft: ArmSignals) -> Finding | None:
    b, f = base.rps_per_core, ft.rps_per_core
    if b is None or f is None or b <= 0 or f > PER_CORE_DROP * b:
        return None
    return Finding("per-core-cost", "each request cost more CPU on 3.14t",
                   f"3.14t served {f:.1f} rps per busy core against {b:.1f} on 3.14 ({f / b - 1:+.0%}): the "
                   "free-threaded build's own cost per request (specialisation limits, reference counting across "
                   "threads) or contention between threads on shared objects.",
                   "Look for shared mutable state every request touches (a global dict or cache, a lock, a shared "
                   "counter) and keep per-request data local; `gil-lab threads` shows what plain Python costs on "
                   "3.14t on this machine without HTTP.")


def under_loaded(arm: ArmSignals, usable: int, user_classes: Sequence[str]) -> Finding | None:
    """Fewer requests in flight than cores: read on 3.14t where it ran, whose requests never wait for a GIL."""
    could_use = arm.config.cores_in_use(usable)
    if arm.in_flight is None or arm.in_flight >= IN_FLIGHT_SHARE * could_use or \
            (arm.server_cores is not None and arm.server_cores > could_use - IDLE_CORES):
        return None
    users = arm.config.users
    wanted = max(users + 1, math.ceil(users * could_use * 1.5 / max(arm.in_flight, 0.05)))
    think = f" (wait_time: {', '.join(user_classes)})" if user_classes else ""
    return Finding("under-loaded", "the load never filled the server",
                   f"on {arm.config.interpreter} only {arm.in_flight:.2f} requests were in flight on average (rps × "
                   f"mean latency) and the server used {arm.server_cores or 0:.2f} of {could_use} usable cores, "
                   f"with {users} users: their think time{think} left cores idle, so the ratio measures latency "
                   "more than capacity.",
                   f"Raise the load: --users {wanted} (about 1.5 requests in flight per core).")


def waiting(base: ArmSignals, ft: ArmSignals, usable: int) -> Finding | None:
    could_use = base.config.cores_in_use(usable)
    busy = [a for a in (base, ft) if a.server_cores is not None and a.in_flight is not None
            and a.in_flight >= IN_FLIGHT_SHARE * could_use and a.server_cores < WAITING_SHARE * could_use]
    if len(busy) < 2:
        return None
    return Finding("waiting", "requests waited without using the CPU",
                   f"with {base.in_flight:.1f} (3.14) and {ft.in_flight:.1f} (3.14t) requests in flight the servers "
                   f"used only {base.server_cores:.2f} and {ft.server_cores:.2f} of {could_use} cores: requests "
                   "waited on I/O, a lock or a pool, or other processes held the machine's cores.",
                   "Check what a request waits for (a database, an outbound call, a connection or thread pool "
                   "limit, LAB_THREADS); on a shared machine, measure again when it is quiet.")


def scales(comparison: Comparison) -> Finding | None:
    s = comparison.speedup
    if not s.significant or s.ratio <= 1 or comparison.efficiency is None or \
            comparison.efficiency < SCALES_EFFICIENCY:
        return None
    return Finding("scales", "it scales with threads on 3.14t",
                   f"3.14t/3.14 = {s.ratio:.2f}× ({format_interval(s.low, s.high)}), efficiency "
                   f"{comparison.efficiency:.2f} of the ideal {comparison.ideal:.2f}×.",
                   "Nothing blocks scaling here; more cores should give more throughput in one 3.14t process.")


def python_gil_0_risk(run: RunRecord, comps: Sequence[Comparison], scenario: str, server: str) -> Finding | None:
    forced = [c for c in comps if c.kind == KIND_INTERPRETER and c.scenario == scenario and c.server == server
              and c.candidate.python_gil_env == "0"]
    if not forced:
        return None
    c = max(forced, key=lambda x: x.users)
    needing = list(run.gil_culprits)
    risk = ("modules that need the GIL then run without it: "
            + ", ".join(_culprit_text(g.module, run.gil_culprits) for g in needing)) if needing else \
        "no module of this service was seen needing the GIL, so forcing it off should change nothing"
    text = next((r.text for g in needing for r in g.remedies if r.kind == "python_gil_0"), None)
    return Finding("python-gil-0", "PYTHON_GIL=0 is a risk, not a result",
                   f"3.14t with PYTHON_GIL=0 against 3.14: {c.speedup.ratio:.2f}× "
                   f"({format_interval(c.speedup.low, c.speedup.high)}); {risk}.",
                   text or "Use PYTHON_GIL=0 only after reviewing or stress-testing every extension that needs "
                           "the GIL; fixing or upgrading them is the safe way.")


# --- assembly -------------------------------------------------------------------------


def diagnose(run: RunRecord, configs: Sequence[ConfigSummary] | None = None,
             comps: Sequence[Comparison] | None = None) -> list[ScenarioDiagnosis]:
    """One diagnosis per scenario and server, findings in order of what to fix first.

    ``configs`` and ``comps``: the run's, when the caller has them already (``analyse`` does).
    """
    configs = list(configs) if configs is not None else summarize_configs(run)
    comps = list(comps) if comps is not None else comparisons(run, configs)
    heads = headline(comps)
    usable = run.usable_cores
    service = run.settings.service
    think = [f"{u.name} {u.wait_time}" for u in service.user_classes] if service else []
    out = []
    pairs = dict.fromkeys((c.config.scenario, c.config.server) for c in run.cells)
    for scenario, server in pairs:
        head = heads.get((scenario, server))
        findings: list[Finding | None] = [no_free_threaded_environment(service), gil_reenabled(run, scenario, server),
                                          load_generator(run, scenario, server)]
        base_cfg, ft_cfg = _arms(configs, head, scenario, server)
        base = arm_signals(run, base_cfg) if base_cfg else None
        ft = arm_signals(run, ft_cfg) if ft_cfg else None
        if ft is not None:
            bound = event_loop(run, ft, usable)
            findings.append(bound or loop_ceiling(run, ft))
        if base is not None:
            findings.append(already_parallel(base, usable, head))
        if ft is not None or base is not None:
            findings.append(under_loaded(ft or base, usable, think))  # type: ignore[arg-type]
        if base is not None and ft is not None:
            findings += [per_core_cost(base, ft), waiting(base, ft, usable)]
        if head is not None:
            findings.append(scales(head))
        findings.append(python_gil_0_risk(run, comps, scenario, server))
        kept = tuple(f for f in findings if f is not None)
        if not kept and head is not None:
            kept = (no_limit(head, base, ft, usable),)
        out.append(ScenarioDiagnosis(scenario, server, kept))
    return out


def no_limit(head: Comparison, base: ArmSignals | None, ft: ArmSignals | None, usable: int) -> Finding:
    s = head.speedup
    used = "; ".join(f"{a.config.interpreter} used {a.server_cores:.2f} of {a.config.cores_in_use(usable)} cores"
                     for a in (ft, base) if a is not None and a.server_cores is not None)
    return Finding("no-limit", "no limit found by the lab's rules",
                   f"3.14t/3.14 = {s.ratio:.2f}× ({format_interval(s.low, s.high)}), efficiency "
                   + ("—" if head.efficiency is None else f"{head.efficiency:.2f}") + (f"; {used}" if used else "")
                   + ": the rest of the cores went to Locust and the machine's other processes.",
                   "More pairs (--precision) narrow the interval; a machine with more cores shows where it stops.")


def _arms(configs: Sequence[ConfigSummary], head: Comparison | None, scenario: str,
          server: str) -> tuple[ConfigSummary | None, ConfigSummary | None]:
    """The 3.14 and 3.14t arms to read signals from: the headline's, else the busiest threaded ones."""
    if head is not None:
        return head.baseline, head.candidate
    mine = [c for c in configs if c.scenario == scenario and c.server == server and c.parallelism == "threads"
            and c.python_gil_env is None and c.rps is not None]
    pick = {label: max((c for c in mine if c.interpreter == label), key=lambda c: c.users, default=None)
            for label in ("3.14", FT_INTERPRETER)}
    return pick["3.14"], pick[FT_INTERPRETER]
