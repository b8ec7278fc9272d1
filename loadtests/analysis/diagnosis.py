"""Why a scenario does or does not scale on 3.14t: findings computed from what the run measured.

Pure functions over a run record (its windows, its probe and profiles, and for a team's
service the stored inspection and preflight). Each finding says what it found (``detail``,
a sentence with the figures), what the team can change, and carries the figures it rests
on as ``evidence`` (summary.json's findings have them). Nothing is guessed: a rule fires
only on its signals, and the thresholds are the constants of
:mod:`loadtests.analysis.figures.diagnosis`, printed with the report. The rules that read
the probe, the native profiles and the audit are in ``evidence_rules.py``; two findings
that contradict each other are never both kept.

Signals, per scenario and server, from the valid windows of the headline 3.14t and 3.14
arms (``configs.headline``):

- the server's busy cores per thread (``server_thread_cores``), by what each thread is as
  the server's layer said (``kind``): the event loop(s), anyio's workers (where sync
  endpoints run), an app's own pools. Windows recorded before the layer said so fall back
  to OS names, where a name several threads share (an app's ``ThreadPoolExecu``) is never
  taken for the event loop;
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
from loadtests.analysis.evidence_rules import (
    allocator,
    garbage_collection,
    gil_latent,
    locks,
    no_profile,
    probe_findings,
    refcount_contention,
)
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
    EvidenceValue,
    Finding,
    ScenarioDiagnosis,
)
from loadtests.analysis.figures.probe import PROBE_SERVER, EndpointScaling
from loadtests.analysis.figures.profiles import CauseDelta, ProfilePair
from loadtests.analysis.probe_table import endpoint_table
from loadtests.analysis.profile_diff import profile_pairs
from loadtests.core.wording import format_interval
from loadtests.results.records import AuditOutcome, Cell, GilCulprit, RouteInfo, RunRecord, ServiceSettings

WORKER_THREADS = "AnyIO worker"
#: Threads of the servers' own I/O machinery: neither the event loop nor the worker pool.
HELPER_THREADS = ("libuv-worker", "tokio-rt-worker", "Thread-")
#: OS names of pools (an app's ThreadPoolExecutor, asyncio's default executor): never an event loop.
POOL_THREADS = ("ThreadPoolExecu", "asyncio_")


@dataclass(frozen=True)
class ArmSignals:
    """What one configuration's valid windows measured, averaged."""

    config: ConfigSummary
    windows: int
    rps: float
    server_cores: float | None
    loop_thread: str | None  # the event loop thread's OS name (what the layer said it is, or an older run's guess)
    loop_cores: float | None  # the busiest event loop's cores (granian on 3.14t may run several)
    worker_cores: float | None
    in_flight: float | None  # rps × mean latency (Little's law)
    client_cores: float | None
    loops: int = 1  # event loop threads in the server

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


@dataclass(frozen=True)
class ThreadSplit:
    """One window's server CPU by what the threads are."""

    loop_name: str | None  # the event loop thread's OS name; None when no loop can be named
    loop_cores: float | None  # the busiest loop's cores
    loops: int  # event loop threads (granian on 3.14t: one per worker thread)
    worker_cores: float | None  # anyio's worker threads together


def thread_split(cell: Cell) -> ThreadSplit:
    """The event loop's thread name, the busiest loop's cores, the loops, and the worker threads' cores.

    The layer's kinds decide when the window has them. An older window is read by OS name,
    where only a name one thread holds can be a loop: a pool's threads share a name (the
    kernel cuts ``ThreadPoolExecutor-0_N`` to ``ThreadPoolExecu``) and are never the loop.
    """
    threads = cell.server_thread_cores
    if not threads:
        return ThreadSplit(None, None, 0, None)
    if any(t.kind is not None for t in threads):
        loops = [t for t in threads if t.kind == "event-loop"]
        workers = sum(t.cores for t in threads if t.kind == "anyio-worker")
        busiest = max(loops, key=lambda t: t.cores / t.threads, default=None)
        if busiest is None:
            return ThreadSplit(None, None, 0, workers)
        return ThreadSplit(busiest.name, round(busiest.cores / busiest.threads, 3), sum(t.threads for t in loops),
                           workers)
    workers = sum(t.cores for t in threads if t.name.startswith(WORKER_THREADS))
    others = [t for t in threads if not t.name.startswith(WORKER_THREADS) and not t.name.startswith(HELPER_THREADS)]
    loop = max(others, key=lambda t: t.cores, default=None)
    if loop is None or loop.threads != 1 or loop.name.startswith(POOL_THREADS):
        return ThreadSplit(None, None, 0, workers)  # several threads of one name, or a pool's: not a loop to name
    return ThreadSplit(loop.name, loop.cores, 1, workers)


def arm_signals(run: RunRecord, config: ConfigSummary) -> ArmSignals | None:
    cells = [c for c in run.cells if c.config_id == config.config_id and is_counted(c)]
    if not cells:
        return None
    splits = [thread_split(c) for c in cells]
    flights = [c.rps * c.latency_ms.mean / 1000.0 for c in cells if c.rps is not None and c.latency_ms is not None]
    names = [s.loop_name for s in splits if s.loop_name]
    return ArmSignals(config, len(cells), statistics.fmean(c.rps for c in cells if c.rps is not None),
                      _mean(c.server_cpu_cores for c in cells), max(set(names), key=names.count) if names else None,
                      _mean(s.loop_cores for s in splits), _mean(s.worker_cores for s in splits), _mean(flights),
                      _mean(c.client_cpu_cores for c in cells), max((s.loops for s in splits), default=0))


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
    who = who_turned_it_on(run, modules)
    return Finding("gil-reenabled", f"the GIL came back on in 3.14t, turned on by {named}",
                   f"{len(on)} of {len(cells)} 3.14t windows reported the GIL on (/lab/runtime before and after each "
                   f"window); they are invalid and not compared, since they measure a GIL interpreter. {who[1]}",
                   change + " `--python-gil 0` measures what forcing the GIL off would give, at a risk (see the "
                   "PYTHON_GIL=0 finding when it ran).",
                   {"windows_gil_on": len(on), "windows": len(cells), "modules": ", ".join(modules) or None,
                    "turned_on_by": who[0]})


def who_turned_it_on(run: RunRecord, modules: Sequence[str]) -> tuple[str, str]:
    """Whether the app's own import turned the GIL on (the audit saw it), or something the servers imported later."""
    audit = run.audit if isinstance(run.audit, AuditOutcome) else None
    own = set(audit.app_enabled_by) if audit is not None else set()
    if audit is not None and own and (not modules or set(modules) & own):
        return "app-import", (f"The audit's import of {audit.report.get('app', {}).get('target', 'the app')} turned "
                              f"it on ({', '.join(sorted(own))}): every server of this app runs under the GIL.")
    if audit is not None and audit.app_gil_enabled is False:
        return "later-import", ("The audit's import of the app left it off: the servers imported "
                                f"{', '.join(modules) or 'a module'} later (the server itself, or a code path the "
                                "load reached).")
    return "unknown", "No audit of the app's import tells whether its own import did it."


def no_free_threaded_environment(service: ServiceSettings | None) -> Finding | None:
    env = service.environments.get(FT_INTERPRETER) if service else None
    if env is None or env.available:
        return None
    return Finding("no-3.14t", f"no 3.14t measurement: {env.unavailable_package or 'a requirement'} cannot be "
                               "installed on 3.14t",
                   f"uv could not build the 3.14t environment: {env.unavailable_reason}. The 3.14t arms are recorded "
                   "as skipped cells; only 3.14 was measured.",
                   f"Look for a release of {env.unavailable_package or 'the package'} with free-threaded (cp314t) "
                   "wheels, pin it, or replace the package; until then 3.14t cannot run this service.",
                   {"package": env.unavailable_package})


def load_generator(run: RunRecord, scenario: str, server: str) -> Finding | None:
    cells = [c for c in run.cells if c.config.scenario == scenario and c.config.server == server]
    saturated = [c for c in cells if (c.invalid_reason or "").startswith("load generator saturated")]
    per_process = [c.client_cpu_cores / max(1, c.locust_workers) for c in cells
                   if c.client_cpu_cores is not None and is_counted(c)]
    busiest = max(per_process, default=0.0)
    if not saturated and busiest < CLIENT_NEAR_SATURATION:
        return None
    detail = (f"{len(saturated)} window(s) invalid: Locust saturated its core" if saturated else
              f"Locust used up to {busiest:.2f} cores per process (saturation is about 1: it is one gevent "
              "thread)")
    return Finding("load-generator", "the load generator was the limit, not the server", detail,
                   "Run Locust with workers (--locust-workers N, one per core of load needed), use FastHttpUser "
                   "in the Locust file, or lower --users.",
                   {"saturated_windows": len(saturated), "client_cores_per_process": round(busiest, 3)})


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
        "keep middleware and response serialisation light.",
        {"loop_thread": ft.loop_thread, "loop_cores": round(ft.loop_cores, 3),
         "loop_share": None if ft.loop_share is None else round(ft.loop_share, 3),
         "worker_cores": None if ft.worker_cores is None else round(ft.worker_cores, 3),
         "server_cores": round(ft.server_cores, 3), "could_use_cores": could_use,
         "in_flight": None if ft.in_flight is None else round(ft.in_flight, 2)})


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
    loops = max(1, ft.loops)
    ceiling = ft.rps / ft.loop_cores  # each loop serves rps ÷ loops with loop_cores: loops × that ÷ loop_cores
    if ceiling < ft.rps * 1.05:
        return None  # a ceiling at or below what was measured is no ceiling: the loop is not the one limit
    one = "it is one thread" if loops == 1 else f"each of its {loops} loops is one thread"
    return Finding("loop-ceiling", f"the event loop caps one process at about {ceiling:.0f} rps",
                   f"on 3.14t the event loop's thread ({ft.loop_thread}) used {ft.loop_cores:.2f} cores for "
                   f"{ft.rps / loops:.1f} rps; {one}, so at this mix of requests one process cannot pass about "
                   f"{ceiling:.0f} rps on any number of cores (an estimate: the loop's work per request × 1 core)"
                   + (f"; on the loop: {'; '.join(causes)}" if causes else "") + ".",
                   ("To raise the ceiling: " + "; ".join(changes) + ".") if changes else
                   "To raise the ceiling, move work off the loop (sync endpoints, lighter middleware and "
                   "serialisation), or run more processes.",
                   {"loop_thread": ft.loop_thread, "loop_cores": round(ft.loop_cores, 3), "loops": loops,
                    "rps": round(ft.rps, 2), "ceiling_rps": round(ceiling, 1)})


def already_parallel(base: ArmSignals, usable: int, comparison: Comparison | None) -> Finding | None:
    could_use = base.config.cores_in_use(usable)
    if base.server_cores is None or could_use < 2 or base.server_cores < ALREADY_PARALLEL_SHARE * could_use:
        return None
    ratio = "" if comparison is None else f"; 3.14t/3.14 = {comparison.speedup.ratio:.2f}×"
    return Finding("already-parallel", "3.14 already used every core: nothing for free threading to gain",
                   f"the 3.14 server kept {base.server_cores:.2f} of {could_use} usable cores busy with one process: "
                   f"the work runs in C code that releases the GIL{ratio}.",
                   "Keep 3.14 for this workload (3.14t cannot add cores that are already busy); for more "
                   "throughput add cores or processes. 3.14t may still use less memory than N 3.14 processes.",
                   {"server_cores_3.14": round(base.server_cores, 3), "usable_cores": could_use,
                    "ratio": None if comparison is None else round(comparison.speedup.ratio, 3)})


def per_core_cost(base: ArmSignals, ft: ArmSignals, pair: ProfilePair | None = None) -> Finding | None:
    b, f = base.rps_per_core, ft.rps_per_core
    if b is None or f is None or b <= 0 or f > PER_CORE_DROP * b:
        return None
    evidence: dict[str, EvidenceValue] = {"rps_per_core_3.14t": round(f, 2), "rps_per_core_3.14": round(b, 2),
                                          "change": round(f / b - 1, 3)}
    where = extra_cpu(pair)
    if where:
        evidence.update({f"extra_ms_per_request_{d.cause}": round(d.delta_ms or 0.0, 3) for d in where})
        went = "; ".join(f"{d.cause} {d.delta_ms:+.1f} ms" for d in where)
        why = (f"; the profiles say where the extra CPU per request went on 3.14t: {went} (see the causes and the "
               "difference table)")
    else:
        why = (": the free-threaded build's own cost per request (specialisation limits, reference counting across "
               "threads) or contention between threads on shared objects; without a profile the lab cannot say which")
    return Finding("per-core-cost", "each request cost more CPU on 3.14t",
                   f"3.14t served {f:.1f} rps per busy core against {b:.1f} on 3.14 ({f / b - 1:+.0%}){why}.",
                   "Look for shared mutable state every request touches (a global dict or cache, a lock, a shared "
                   "counter) and keep per-request data local; `gil-lab threads` shows what plain Python costs on "
                   "3.14t on this machine without HTTP.", evidence)


def extra_cpu(pair: ProfilePair | None, top: int = 3) -> list[CauseDelta]:
    """The causes where 3.14t spent the most CPU per request more than 3.14, largest first."""
    if pair is None or not pair.usable("3.14t") or not pair.usable("3.14"):
        return []
    return [d for d in pair.causes if (d.delta_ms or 0.0) > 0][:top]


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
                   f"Raise the load: --users {wanted} (about 1.5 requests in flight per core).",
                   {"interpreter": arm.config.interpreter, "in_flight": round(arm.in_flight, 2),
                    "server_cores": None if arm.server_cores is None else round(arm.server_cores, 3),
                    "could_use_cores": could_use, "users": users, "users_wanted": wanted})


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
                   "limit, LAB_THREADS); on a shared machine, measure again when it is quiet.",
                   {"in_flight_3.14": round(base.in_flight or 0, 2), "in_flight_3.14t": round(ft.in_flight or 0, 2),
                    "server_cores_3.14": round(base.server_cores or 0, 3),
                    "server_cores_3.14t": round(ft.server_cores or 0, 3), "could_use_cores": could_use})


def scales(comparison: Comparison) -> Finding | None:
    s = comparison.speedup
    if not s.significant or s.ratio <= 1 or comparison.efficiency is None or \
            comparison.efficiency < SCALES_EFFICIENCY:
        return None
    return Finding("scales", "it scales with threads on 3.14t",
                   f"3.14t/3.14 = {s.ratio:.2f}× ({format_interval(s.low, s.high)}), efficiency "
                   f"{comparison.efficiency:.2f} of the ideal {comparison.ideal:.2f}×.",
                   "Nothing blocks scaling here; more cores should give more throughput in one 3.14t process.",
                   {"ratio": round(s.ratio, 3), "ratio_low": s.low, "ratio_high": s.high,
                    "efficiency": round(comparison.efficiency, 3),
                    "ideal": None if comparison.ideal is None else round(comparison.ideal, 3)})


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
                           "the GIL; fixing or upgrading them is the safe way.",
                   {"ratio": round(c.speedup.ratio, 3), "ratio_low": c.speedup.low, "ratio_high": c.speedup.high,
                    "modules_needing_gil": ", ".join(g.module for g in needing) or None})


# --- assembly -------------------------------------------------------------------------


def diagnose(run: RunRecord, configs: Sequence[ConfigSummary] | None = None,
             comps: Sequence[Comparison] | None = None, probed: Sequence[EndpointScaling] | None = None,
             profiles: Sequence[ProfilePair] | None = None) -> list[ScenarioDiagnosis]:
    """One diagnosis per scenario and server, findings in order of what to fix first (the probe's apart).

    ``configs``, ``comps``, ``probed`` and ``profiles``: the run's, when the caller has them already
    (``analyse`` does).
    """
    configs = list(configs) if configs is not None else summarize_configs(run)
    comps = list(comps) if comps is not None else comparisons(run, configs)
    heads = headline(comps)
    usable = run.usable_cores
    service = run.settings.service
    think = [f"{u.name} {u.wait_time}" for u in service.user_classes] if service else []
    out = []
    probed = endpoint_table(run) if probed is None else probed
    pairs_found = profile_pairs(run) if profiles is None else profiles
    pairs = dict.fromkeys((c.config.scenario, c.config.server) for c in run.cells)
    ft_state = run.bytecode.get(FT_INTERPRETER)  # how the 3.14t servers loaded their modules: says why a global is mortal
    bytecode = ft_state.state if ft_state is not None else "unknown"
    for scenario in dict.fromkeys(e.scenario for e in probed):
        found = tuple(probe_findings([e for e in probed if e.scenario == scenario], bytecode))
        if found:
            out.append(ScenarioDiagnosis(scenario, PROBE_SERVER, found))
    for scenario, server in pairs:
        head = heads.get((scenario, server))
        profile = next((p for p in pairs_found if p.scenario == scenario and p.server == server), None)
        endpoints = [e for e in probed if e.scenario == scenario]
        findings: list[Finding | None] = [no_free_threaded_environment(service), gil_reenabled(run, scenario, server),
                                          gil_latent(run, scenario, server), load_generator(run, scenario, server),
                                          no_profile(run), refcount_contention(profile, endpoints, bytecode), locks(profile),
                                          garbage_collection(profile), allocator(profile)]
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
            findings += [per_core_cost(base, ft, profile), waiting(base, ft, usable)]
        if head is not None:
            findings.append(scales(head))
        findings.append(python_gil_0_risk(run, comps, scenario, server))
        kept = consistent([f for f in findings if f is not None])
        if not kept and head is not None:
            kept = (no_limit(head, base, ft, usable),)
        out.append(ScenarioDiagnosis(scenario, server, kept))
    return out


#: Findings that cannot all be true at once: when the first is found, the others are dropped.
CONTRADICTED_BY = {"scales": ("event-loop", "loop-ceiling")}


def consistent(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """The findings without any a stronger one contradicts (near-ideal scaling leaves no loop to blame)."""
    codes = {f.code for f in findings}
    dropped = {code for strong in codes for code in CONTRADICTED_BY.get(strong, ())}
    return tuple(f for f in findings if f.code not in dropped)


def no_limit(head: Comparison, base: ArmSignals | None, ft: ArmSignals | None, usable: int) -> Finding:
    s = head.speedup
    used = "; ".join(f"{a.config.interpreter} used {a.server_cores:.2f} of {a.config.cores_in_use(usable)} cores"
                     for a in (ft, base) if a is not None and a.server_cores is not None)
    return Finding("no-limit", "no limit found by the lab's rules",
                   f"3.14t/3.14 = {s.ratio:.2f}× ({format_interval(s.low, s.high)}), efficiency "
                   + ("—" if head.efficiency is None else f"{head.efficiency:.2f}") + (f"; {used}" if used else "")
                   + ": the rest of the cores went to Locust and the machine's other processes.",
                   "More pairs (--precision) narrow the interval; a machine with more cores shows where it stops.",
                   {"ratio": round(s.ratio, 3), "ratio_low": s.low, "ratio_high": s.high,
                    "efficiency": None if head.efficiency is None else round(head.efficiency, 3)})


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
