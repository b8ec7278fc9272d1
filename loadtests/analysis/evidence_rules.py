"""The diagnosis's rules that read the probe, the native profiles and the audit.

Each returns a :class:`~loadtests.analysis.figures.diagnosis.Finding` whose ``evidence``
holds the figures it rests on: a profile's share of CPU (``profile_share``, a fraction of
the window's samples on 3.14t), CPU per request, the probe's CPU growth and efficiency,
the global the layer found not immortal. The thresholds are constants of
:mod:`loadtests.analysis.figures.diagnosis`.

- **refcount-contention**: 3.14t's profile spends :data:`REFCOUNT_SHARE` or more of its
  CPU in the shared reference-count paths. A share by symbol is a lower bound (the
  atomic work is mostly inlined into the eval loop). The probe's CPU growth of the
  scenario's endpoints and the layer's non-immortal globals say which object and what to
  change;
- **locks**, **gc**, **allocator**: 3.14t's share (or CPU per request) in those causes
  above its threshold and above 3.14's;
- **contending**, **serialised**, **probe-unmeasured**: the probe's verdicts, per endpoint;
- **single-thread-cost**: an endpoint whose CPU per call on one thread is at least
  :data:`SINGLE_THREAD_COST` times 3.14's, its interval above 1;
- **no-profile**: perf could not run, with the reason and what to do;
- **gil-latent**: the servers ran with the GIL off, but a distribution of the
  environment turns it on when imported (the audit).
"""

from __future__ import annotations

from collections.abc import Sequence

from loadtests.analysis.figures.diagnosis import (
    ALLOCATOR_RATIO,
    ALLOCATOR_SHARE,
    GC_SHARE,
    HOT_FUNCTION_SHARE,
    LOCKS_SHARE,
    OVERLAP_CORES,
    REFCOUNT_EXCESS,
    REFCOUNT_SHARE,
    SINGLE_THREAD_COST,
    EvidenceValue,
    Finding,
)
from loadtests.analysis.figures.probe import FT, GIL, EndpointScaling
from loadtests.analysis.figures.profiles import ProfilePair
from loadtests.results.records import AuditOutcome, GlobalRead, RunRecord


def compile_advice(reads: Sequence[GlobalRead], bytecode: str = "unknown") -> str:
    """What to change about a module global that is not immortal: compiled bytecode (unless the servers already
    loaded their modules from it), or a local copy. ``bytecode`` is the run's state for 3.14t."""
    name = reads[0].name.rsplit(".", 1)[-1] if reads else "CONSTANT"
    local = name.strip("_").lower() or "value"
    where = f" in {reads[0].function}" if reads else ""
    copy = (f"read the global into a local variable before the hot loop{where} (`{local} = {name}`), so threads "
            "stop touching the shared object")
    if bytecode == "compiled":  # compiling cannot help: the value is built when the module runs, not a constant
        return (f"The servers already loaded their modules from bytecode, so {name} is built at run time, not a "
                f"constant of the code, and no compiling makes it immortal: {copy}, or make it a literal constant.")
    return ("Ship compiled bytecode: run `python -m compileall` over the app when the image or package is built (a "
            "server that cannot write __pycache__, or runs with PYTHONDONTWRITEBYTECODE=1, compiles every module "
            f"from source at each start), so modules load from .pyc and their constants are immortal on 3.14t; or {copy}.")


def why_mortal(bytecode: str) -> str:
    """Why a global the hot code reads is not immortal, as far as the run's bytecode state for 3.14t tells."""
    if bytecode == "compiled":
        return "its module was loaded from bytecode, so the value is built at run time"
    if bytecode == "source":
        return "its module was compiled from source"
    return "its module was compiled from source, or the value is built at run time"


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _global_text(reads: Sequence[GlobalRead]) -> str:
    return ", ".join(f"{g.name} ({g.type} {g.value}, read by {g.function})" for g in reads[:3])


def _python_top(pair: ProfilePair) -> str | None:
    """The hottest Python function of 3.14t's window, as its Python-level stacks read it."""
    profile = pair.ft
    if profile is None or profile.python is None or not profile.python.functions:
        return None
    top = profile.python.functions[0]
    return f"{top.function} ({top.self_share:.0%} of the Python-level CPU)"


def _runs(label: str, function: str) -> bool:
    """Whether the Python profile's ``pure (workloads/compute_work.py)`` is ``app.workloads.compute_work.pure``."""
    name, _, file = label.partition(" (")
    module = file.rstrip(")").removesuffix(".py").replace("/", ".")
    return function.endswith(f".{name}") and module.rsplit(".", 1)[-1] in function


def mortal_globals(pair: ProfilePair, endpoints: Sequence[EndpointScaling]) -> tuple[list[GlobalRead], str]:
    """The non-immortal globals the hot code reads, and whose view it is: the 3.14t server's own (GET /lab/globals
    during its profile window), else the probe's process.

    Hot code is what the load reached (the probe's endpoints) and the functions 3.14t's Python-level profile found
    hot; a global read by a hot function comes first.
    """
    hot = [f.function for f in (pair.ft.python.functions if pair.ft and pair.ft.python else ())
           if f.self_share >= HOT_FUNCTION_SHARE]
    reached = {e.endpoint.split(" ", 1)[-1] for e in endpoints}
    served = pair.ft.globals if pair.ft is not None else ()
    if served:
        reads = [g for e in served for g in e.globals
                 if e.route in reached or any(_runs(label, g.function) for label in hot)]
        source = "the 3.14t server"
    else:
        reads = [g for e in endpoints for g in e.non_immortal]
        source = "the probe"
    mortal = list(dict.fromkeys(g for g in reads if g.immortal is False))
    mortal.sort(key=lambda g: not any(_runs(label, g.function) for label in hot))
    return mortal, source


def refcount_contention(pair: ProfilePair | None, endpoints: Sequence[EndpointScaling],
                        bytecode: str = "unknown") -> Finding | None:
    if pair is None:
        return None
    share, base = pair.share(FT, "refcount-shared"), pair.share(GIL, "refcount-shared") or 0.0
    if share is None or share < REFCOUNT_SHARE or share - base < REFCOUNT_EXCESS:
        return None
    contending = [e for e in endpoints if e.verdict in ("contending", "serialised")]
    shown = contending[0] if contending else (endpoints[0] if endpoints else None)
    mortal, source = mortal_globals(pair, contending or endpoints)
    evidence: dict[str, EvidenceValue] = {
        "profile_share": share, "profile_share_3.14": base, "cpu_ms_per_request": pair.ms(FT, "refcount-shared"),
        "profile_samples": pair.ft.samples if pair.ft else None}
    probe = ""
    if shown is not None:
        growth = shown.cpu_growth
        evidence.update({"endpoint": shown.endpoint, "probe_verdict": shown.verdict,
                         "probe_cpu_growth": _r(growth.ratio if growth else None, 3),
                         "probe_efficiency": _r(shown.efficiency(FT), 3),
                         "probe_efficiency_3.14": _r(shown.efficiency(GIL), 3), "probe_threads": shown.top_threads})
        if growth is not None:
            probe = (f" In process (the probe, no HTTP), CPU per call of {shown.endpoint} grew {growth.ratio:.2f}× "
                     f"from 1 to {shown.top_threads} threads on 3.14t, efficiency "
                     f"{shown.efficiency(FT) or 0:.2f} ({shown.verdict}).")
    if mortal:
        evidence.update({"global": mortal[0].name, "global_function": mortal[0].function, "immortal": False,
                         "immortality_seen_by": source, "bytecode": bytecode})
    python = _python_top(pair)
    named = (f" The hot code reads {_global_text(mortal)}, not immortal in {source}: {why_mortal(bytecode)}, so "
             "every thread that reads it writes its reference count." if mortal else "")
    # The shared path is slower even when no other thread is there; contention is when threads overlapped.
    overlapped = bool(contending) or (pair.ft is not None and (pair.ft.server_cpu_cores or 0) >= OVERLAP_CORES)
    what = "reference-count contention on a shared object" if overlapped else "reference counting on a shared object"
    title = what + (f" ({mortal[0].name}, not immortal)" if mortal else "")
    evidence["threads_overlapped"] = overlapped
    return Finding(
        "refcount-contention", title,
        f"{share:.1%} of 3.14t's CPU in the profile window went to reference counting on objects another thread "
        f"owns (_Py_TryIncRefShared, _Py_DecRefShared and the like: {pair.ms(FT, 'refcount-shared') or 0:.2f} ms per "
        f"request; 3.14: {base:.1%}). That share is a lower bound: most of this work is inlined into the eval "
        f"loop.{probe}" + (f" The hottest Python function: {python}." if python else "") + named,
        compile_advice(mortal, bytecode) if mortal else
        "Find the shared object every request reads in its hot loop: a module global, a bound method of a shared "
        "instance, a shared cache (functools.lru_cache) or class attribute. Make it local to the call, or immortal "
        "(a constant of a module loaded from .pyc).", evidence)


def _cause_finding(pair: ProfilePair | None, cause: str, code: str, title: str, share_min: float, what: str,
                   change: str) -> Finding | None:
    if pair is None:
        return None
    share, base = pair.share(FT, cause), pair.share(GIL, cause) or 0.0
    if share is None or share < share_min or share <= base:
        return None
    tops = [f.function for f in pair.functions if f.cause == cause][:3]
    return Finding(code, title,
                   f"{share:.1%} of 3.14t's CPU in the profile window ({pair.ms(FT, cause) or 0:.2f} ms per request) "
                   f"against {base:.1%} on 3.14: {what}" + (f" Hottest: {', '.join(tops)}." if tops else ""), change,
                   {"profile_share": share, "profile_share_3.14": base, "cpu_ms_per_request": pair.ms(FT, cause),
                    "cpu_ms_per_request_3.14": pair.ms(GIL, cause)})


def locks(pair: ProfilePair | None) -> Finding | None:
    return _cause_finding(
        pair, "locks", "locks", "threads contend for locks on 3.14t", LOCKS_SHARE,
        "mutexes, the parking lot and critical sections: per-object locks of dicts, lists and sets many threads "
        "write, or a lock of the app or an extension.",
        "Stop sharing the mutable container between threads (one per thread or per request, or a queue), or take "
        "the lock once around a batch instead of per item. A lock that makes threads sleep shows in the probe as "
        "serialised.")


def garbage_collection(pair: ProfilePair | None) -> Finding | None:
    return _cause_finding(
        pair, "gc", "gc", "garbage collection stops every thread on 3.14t", GC_SHARE,
        "the free-threaded collector stops the world while it runs, so every thread waits.",
        "Allocate fewer container objects per request (reuse buffers, prefer tuples and plain values), or raise "
        "the collection threshold (gc.set_threshold) after measuring that memory stays bounded.")


def allocator(pair: ProfilePair | None) -> Finding | None:
    if pair is None:
        return None
    ft_ms, gil_ms, share = pair.ms(FT, "allocator"), pair.ms(GIL, "allocator"), pair.share(FT, "allocator")
    if ft_ms is None or not gil_ms or share is None or share < ALLOCATOR_SHARE or ft_ms < ALLOCATOR_RATIO * gil_ms:
        return None
    return Finding("allocator", "memory allocation costs more per request on 3.14t",
                   f"3.14t spent {ft_ms:.2f} ms per request allocating and freeing (mimalloc, free lists, "
                   f"deallocation), {ft_ms / gil_ms:.2f}× 3.14's {gil_ms:.2f} ms; {share:.1%} of its CPU.",
                   "Create fewer objects per request (reuse, fewer temporaries in hot loops); the free-threaded "
                   "build's allocator is per thread, so a thread that frees what another allocated pays more.",
                   {"profile_share": share, "cpu_ms_per_request": ft_ms, "cpu_ms_per_request_3.14": gil_ms,
                    "ratio": round(ft_ms / gil_ms, 3)})


def probe_findings(endpoints: Sequence[EndpointScaling], bytecode: str = "unknown") -> list[Finding]:
    """The probe's verdicts as findings: contending and serialised endpoints, an unmeasurable probe, a costly one."""
    out = []
    for e in endpoints:
        growth, eff = e.cpu_growth, e.efficiency(FT)
        evidence: dict[str, EvidenceValue] = {
            "endpoint": e.endpoint, "threads": e.top_threads, "cpu_growth": _r(growth.ratio if growth else None, 3),
            "cpu_growth_low": _r(growth.low if growth else None, 3),
            "cpu_growth_high": _r(growth.high if growth else None, 3), "efficiency": _r(eff, 3),
            "efficiency_3.14": _r(e.efficiency(GIL), 3), "control_cores": _r(e.control_cores, 3)}
        if e.verdict == "contending":
            mortal = e.non_immortal
            if mortal:
                evidence.update({"global": mortal[0].name, "immortal": False})
            out.append(Finding(
                "contending", f"{e.endpoint} contends between threads on 3.14t",
                f"{e.why}, called in process with no HTTP; efficiency {eff or 0:.2f} on 3.14t"
                + (f" (3.14: {e.efficiency(GIL):.2f})" if e.efficiency(GIL) is not None else "")
                + (f"; it reads {_global_text(mortal)}, not immortal on 3.14t" if mortal else "") + ".",
                compile_advice(mortal, bytecode) if mortal else
                "Look for what its threads share: a module-level dict, list or set they write, a counter, a cache, a "
                "lock taken in a loop, an object every call reads; make it per call or per thread.", evidence))
        elif e.verdict == "serialised":
            out.append(Finding(
                "serialised", f"{e.endpoint}: its threads wait for each other on 3.14t", f"{e.why}.",
                "Look for a lock held across the endpoint's work (the app's, a client library's, a connection pool "
                "of one), or work that runs on the event loop.", evidence))
        cost = e.single_thread_cost
        if cost is not None and cost.ratio >= SINGLE_THREAD_COST and cost.low is not None and cost.low > 1.0:
            out.append(Finding(
                "single-thread-cost", f"{e.endpoint} costs {cost.ratio:.2f}× the CPU per call on 3.14t on one thread",
                f"in process, no HTTP: 3.14t {e.row(FT, 1).cpu_per_call.mean * 1000:.2f} ms per call against "  # type: ignore[union-attr]
                f"{e.row(GIL, 1).cpu_per_call.mean * 1000:.2f} ms on 3.14 ({cost.low:.2f}–{cost.high:.2f}); the "  # type: ignore[union-attr]
                "free-threaded build's own cost (PEP 779 allows 15%), before any thread contends.",
                "Nothing to fix in the app for this part: it is the interpreter's; more threads recover it only "
                "where the endpoint scales.",
                {"endpoint": e.endpoint, "single_thread_cost": round(cost.ratio, 3), "low": _r(cost.low, 3),
                 "high": _r(cost.high, 3)}))
    unmeasured = [e for e in endpoints if e.verdict == "unmeasured"]
    if unmeasured:
        e = unmeasured[0]
        out.append(Finding(
            "probe-unmeasured", "the probe could not see contention: threads never ran at once",
            f"{e.why} ({', '.join(u.endpoint for u in unmeasured)}).",
            "Run `gil-lab diagnose` again on a quiet machine (or with more free cores).",
            {"endpoints": len(unmeasured), "control_cores": _r(e.control_cores, 3), "threads": e.top_threads}))
    return out


def no_profile(run: RunRecord) -> Finding | None:
    setup = run.profiling
    if setup is None or setup.available:
        return None
    return Finding("no-profile", "no native profile: perf could not run here",
                   f"{setup.reason}. The findings below rest on the run's own signals and the probe only.",
                   setup.remedy or "Install linux-perf and allow perf_event_open.",
                   {"reason": setup.reason})


def gil_latent(run: RunRecord, scenario: str, server: str) -> Finding | None:
    """The servers ran free-threaded, but a distribution of the environment would turn the GIL on if imported."""
    audit = run.audit if isinstance(run.audit, AuditOutcome) else None
    if audit is None or audit.verdict != "requirement-needs-gil" or not audit.would_enable:
        return None
    cells = [c for c in run.cells if c.config.scenario == scenario and c.config.server == server and c.free_threaded
             and c.config.python_gil is None and c.runtime_after is not None]
    if not cells or any(c.gil_enabled for c in cells):
        return None
    named = "; ".join(audit.would_enable)
    return Finding("gil-latent", "the GIL stayed off, but a requirement would turn it on if imported",
                   f"every 3.14t window ran with the GIL off: the app's own import does not load {named}. A code "
                   "path that imports it (a rarely used endpoint, a lazy import) turns the GIL on for the rest of "
                   "the process, and every request after it runs under the GIL.",
                   "Upgrade or replace that distribution, or keep its import off the server's code paths; "
                   "`gil-lab audit` lists its remedies.",
                   {"would_enable": named, "windows_gil_off": len(cells)})
