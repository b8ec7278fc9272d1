"""Native profiles: where each headline server spent its CPU during an extra window at the measured load."""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.results.record import Record, doc
from loadtests.results.records.probe import EndpointGlobals


@dataclass(frozen=True)
class ProfilingSetup(Record):
    """How the run sampled its servers, or why it could not."""

    available: bool = doc("Whether perf could sample here; false: no profile was taken, see reason.")
    reason: str | None = doc("Why perf could not run (not installed, perf_event_paranoid, no capability), or null.")
    remedy: str | None = doc("What to do about it, or null.")
    perf_version: str | None = doc("`perf --version`, or null.")
    event: str = doc("The sampling event: cpu-clock (a software timer; virtual machines have no hardware counters).")
    frequency_hz: int = doc("Samples per second per busy thread.")
    unwinding: str = doc("How stacks were unwound: dwarf (a copy of the stack, unwound afterwards with the "
                         "interpreter's debug information; frame pointers would need a rebuilt interpreter).")
    stack_bytes: int = doc("Bytes of stack copied per sample for dwarf unwinding.")
    window_s: float = doc("Length of each profile window, seconds.")
    python_sampler_hz: float | None = doc("Rate of the Python-level stack sampler (it reads the server's memory "
                                          "from another process), or null when it did not run.")


@dataclass(frozen=True)
class CauseShare(Record):
    """The samples one cause accounts for (see docs/diagnosis.md for the classification)."""

    cause: str = doc("refcount-shared, refcount, locks, gc, allocator, eval, extension:<library>, kernel, libc, "
                     "interpreter or unknown.")
    samples: int = doc("Samples classified as this cause.")
    share: float = doc("Fraction of the window's samples.")
    cpu_ms_per_request: float | None = doc("CPU milliseconds per request spent on it (samples ÷ rate ÷ requests).")


@dataclass(frozen=True)
class FunctionCost(Record):
    """One native function, innermost first: an inlined function is named as itself, not as its caller."""

    function: str = doc("The function the sample's instruction belongs to (inlined functions named).")
    library: str = doc("The binary it lives in: the interpreter, an extension's .so, libc, [kernel].")
    cause: str = doc("The cause its samples were classified under (from the whole stack).")
    samples: int = doc("Samples whose innermost frame it is (self time).")
    share: float = doc("Fraction of the window's samples.")
    cpu_ms_per_request: float | None = doc("Self CPU milliseconds per request.")


@dataclass(frozen=True)
class ThreadShare(Record):
    """The samples of one kind of thread, as the layer identified the server's threads."""

    kind: str = doc("event-loop, anyio-worker, executor, python, native, or the OS name when the layer did not say.")
    threads: int = doc("Threads of that kind that were sampled.")
    samples: int = doc("Their samples.")
    share: float = doc("Fraction of the window's samples.")


@dataclass(frozen=True)
class PythonFunctionCost(Record):
    """A Python function in the Python-level stacks of the same window."""

    function: str = doc("Qualified name and file, e.g. `pure (workloads/compute_work.py)`.")
    self_ms: float = doc("CPU milliseconds of readings with it as the innermost Python frame (a thread's stack "
                         "weighs the CPU it used since the previous reading).")
    total_ms: float = doc("CPU milliseconds of readings with it anywhere on the stack.")
    self_share: float = doc("self_ms ÷ all the CPU the readings weighed.")


@dataclass(frozen=True)
class PythonProfile(Record):
    """The Python-level stacks of the window, read from outside the server (nothing runs inside it)."""

    hz: float = doc("Samples per second asked for.")
    samples: int = doc("Stack readings taken.")
    on_cpu: int = doc("Thread stacks kept: threads that used CPU since the previous reading.")
    errors: int = doc("Readings that failed (a thread changing its stack while read); they are dropped.")
    sampler_cpu_s: float = doc("CPU the sampler process used, seconds: its cost, taken from the machine's cores, "
                               "not from the server's threads.")
    functions: tuple[PythonFunctionCost, ...] = doc("The hottest functions by self CPU.")
    folded: str | None = doc("Folded Python stacks, relative to the run directory.")


@dataclass(frozen=True)
class NativeProfile(Record):
    """One headline server sampled by perf during an extra window after the measured ones, at the same load."""

    comparison_id: str = doc("The comparison whose arm it profiles.")
    config_id: str = doc("The configuration.")
    interpreter: str = doc("3.14 or 3.14t.")
    scenario: str = doc("The scenario.")
    server: str = doc("The server.")
    users: int = doc("Locust users: the same closed-loop load as the measured windows.")
    duration_s: float = doc("The profile window, seconds.")
    requests: int = doc("Requests completed in the window.")
    rps: float | None = doc("Throughput in the window.")
    server_cpu_cores: float | None = doc("The server's busy cores in the window (sampled as in every window).")
    samples: int = doc("perf samples of the server's threads inside the window.")
    cpu_ms_per_request: float | None = doc("Sampled CPU per request: samples ÷ frequency ÷ requests, ms.")
    causes: tuple[CauseShare, ...] = doc("Samples per cause, largest first.")
    functions: tuple[FunctionCost, ...] = doc("The hottest native functions by self samples.")
    threads: tuple[ThreadShare, ...] = doc("Samples per kind of thread.")
    folded: str | None = doc("Folded native stacks (one `frame;frame;… count` per line), relative to the run "
                             "directory; the report draws its flame graph from them.")
    python: PythonProfile | None = doc("Python-level stacks of the same window, or null.")
    error: str | None = doc("Why this window has no profile (perf failed, the server died), or null.",
                            default=None)
    globals: tuple[EndpointGlobals, ...] = doc("The module globals each route's endpoint reads, with their "
                                               "immortality as this server holds them (GET /lab/globals): on 3.14t "
                                               "constants are immortal only in modules loaded from a .pyc.",
                                               default=())
