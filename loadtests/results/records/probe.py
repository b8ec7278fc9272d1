"""The per-endpoint scaling probe: each endpoint the load reaches, called in process from 1 to N threads."""

from __future__ import annotations

from dataclasses import dataclass

from loadtests.results.record import Record, doc


@dataclass(frozen=True)
class ProbeStep(Record):
    """Every active thread called the endpoint back to back for the step's time."""

    threads: int = doc("Threads calling at once, each with its own event loop.")
    calls: int = doc("Calls that finished.")
    wall_s: float = doc("From the start until the last thread finished, seconds.")
    cpu_s: float = doc("CPU time of the probe process over the step (every thread: the loops and the worker "
                       "threads running sync endpoints), seconds.")

    def __post_init__(self) -> None:
        if self.threads < 1 or self.calls < 1 or self.wall_s <= 0 or self.cpu_s < 0:
            raise ValueError("a probe step needs threads and calls >= 1, a positive wall time and CPU time >= 0")


@dataclass(frozen=True)
class GlobalRead(Record):
    """A module global the endpoint (or an app function it calls) reads, as the probe's interpreter holds it."""

    function: str = doc("module.qualname of the function that reads it.")
    name: str = doc("The global's name, dotted when read through a module (compute_work._MODULUS).")
    type: str = doc("Its type.")
    value: str = doc("Its repr, cut at 40 characters.")
    immortal: bool | None = doc("sys._is_immortal: an immortal object's reference count is never written, so "
                                "threads reading it do not contend on it; null where the interpreter cannot tell.")


@dataclass(frozen=True)
class EndpointGlobals(Record):
    """The data globals one endpoint reads, as a running server holds them (GET /lab/globals)."""

    route: str = doc("The route template.")
    endpoint: str | None = doc("module.qualname of the endpoint function.")
    globals: tuple[GlobalRead, ...] = doc("The globals it (and the app functions it calls) reads.")


@dataclass(frozen=True)
class ProbedEndpoint(Record):
    """One endpoint's probe on one interpreter."""

    key: str = doc("The endpoint as the load names it, e.g. `GET /compute/pure`.")
    method: str = doc("HTTP method of the request sent.")
    path: str = doc("Its path.")
    query: str = doc("Its query string.")
    route: str | None = doc("The route template that served it, or null when the framework did not say.")
    endpoint: str | None = doc("module.qualname of the endpoint function, or null.")
    status: int | None = doc("Status of the first call, or null when it raised.")
    step_s: float | None = doc("Seconds per step (at least three single-thread calls).")
    steps: tuple[ProbeStep, ...] = doc("Every measured step, thread counts alternating within each repeat.")
    globals: tuple[GlobalRead, ...] = doc("The data globals it reads, with their immortality.")
    error: str | None = doc("Why it could not be probed (an error status, an exception), or null.")
    control: tuple[ProbeStep, ...] = doc("Plain threads on local variables at the most threads, one step after each "
                                         "repeat: the parallelism the machine allowed right beside the endpoint's "
                                         "steps.", default=())


@dataclass(frozen=True)
class ProbeRun(Record):
    """The probe of one scenario's endpoints in one interpreter's app environment."""

    scenario: str = doc("The scenario whose requests were probed.")
    interpreter: str = doc("3.14 or 3.14t.")
    python: str = doc("The app environment's interpreter.")
    free_threaded: bool = doc("Py_GIL_DISABLED.")
    gil_enabled: bool = doc("sys._is_gil_enabled() after the calls: on 3.14t, true makes its figures a GIL "
                            "interpreter's.")
    gil_enabled_by: tuple[str, ...] = doc("Modules that turned the GIL on.")
    thread_counts: tuple[int, ...] = doc("The thread counts measured.")
    repeats: int = doc("Repeats of every count.")
    endpoints: tuple[ProbedEndpoint, ...] = doc("One entry per endpoint the load reaches.")
    control: tuple[ProbeStep, ...] = doc("Plain threads spinning on local variables at each count, before and "
                                         "after the endpoints (calls are rounds of the loop): the parallelism the "
                                         "machine gave the probe.")
    seconds: float = doc("Wall time of the probe, start-up included.")
    error: str | None = doc("Why the probe could not run (the app failed to import, a lifespan failed), or null.",
                            default=None)
