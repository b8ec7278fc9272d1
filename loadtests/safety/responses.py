"""The response check: the load's requests recorded once, replayed to every arm, each answer judged.

In order, each pass on a fresh server (the default server, uvicorn, with the lab's layer, ``PYTHONHASHSEED=0``
so every process iterates sets alike):

1. **recording** (3.14t; 3.14 when 3.14t has no environment): the load's tasks run one
   at a time through Locust (``recording.py``); its answers are the cross-check;
2. **reference**: 3.14t, one request at a time, in a seeded shuffled order; and beside
   it, on its own server, **3.14 ×N**: the list in its recorded order, N requests in
   flight (each keeps about one core busy, so on two cores neither waits for the other);
3. **3.14t ×N**: the list in its recorded order, N requests in flight, alone on the
   machine, so its threads have every core;
4. **3.14t+PYTHON_GIL=0 ×N**, a risk arm, only when an import turned the GIL on in a
   3.14t server: without it, 3.14t would not have run without the GIL.

After 1 and 2 the state of order-dependent endpoints is read back; ``judge.py`` decides
what is compared and how (its docstring has the rule) and classifies each endpoint.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.core.flavour import FT, GIL
from loadtests.core.servers import DEFAULT_SERVER
from loadtests.measure.runtime import NOT_ANSWERING
from loadtests.measure.servers import RunningServer, ServerSettings, running_server
from loadtests.results.records import RouteInfo
from loadtests.results.records.safety import ResponseArm, ResponsesCheck
from loadtests.safety import judge
from loadtests.safety.exchange import Answer, SentRequest
from loadtests.safety.recording import record_load
from loadtests.safety.replay import Replayed, replay
from loadtests.safety.team_config import TeamMarks

Progress = Callable[[str], None]
DEFAULT_REQUESTS = 1000
DEFAULT_CONCURRENCY = 8
DEFAULT_SEED = 20
#: Without a budget, the recording still stops after this long.
RECORDING_LIMIT_S = 1800.0
#: The recording's share of a time budget: it is one of about three serial passes' worth of work.
RECORDING_SHARE = 0.3


@dataclass(frozen=True)
class ServedApp:
    """The app as each interpreter serves it: what the workflow prepared (environments, route tables)."""

    app: str
    app_dir: str | None  # None: the lab's built-in app, from the repository
    pythons: Mapping[str, Path]  # interpreter label -> its environment's python (only those that exist)
    routes: Mapping[str, Sequence[RouteInfo] | None] = field(default_factory=dict)
    routes_dirs: tuple[str, ...] = ()
    threads: int = 8

    def settings(self, label: str, python_gil: str | None = None) -> ServerSettings:
        return ServerSettings(server=DEFAULT_SERVER, python=self.pythons[label], threads=self.threads,
                              python_gil=python_gil, app=self.app, app_dir=self.app_dir,
                              routes_dirs=self.routes_dirs, extra_env=(("PYTHONHASHSEED", "0"),))


@dataclass(frozen=True)
class ResponseSettings:
    load_files: tuple[Path, ...]  # the Locust file(s) whose tasks make the requests
    source: str  # how reports name them
    log_dir: Path
    requests: int = DEFAULT_REQUESTS
    concurrency: int = DEFAULT_CONCURRENCY
    seed: int = DEFAULT_SEED
    budget_s: float | None = None
    marks: TeamMarks = field(default_factory=TeamMarks)


@dataclass
class Pass:
    """One pass's answers and what the report says of it."""

    arm: ResponseArm
    answers: Mapping[int, Answer]
    readback: list[Answer]


@contextmanager
def _server(app: ServedApp, label: str, name: str, log_dir: Path, python_gil: str | None = None
            ) -> Iterator[RunningServer]:
    with running_server(app.settings(label, python_gil), log_dir / f"server-{name}.log") as server:
        yield server


def _replay(server: RunningServer, requests: Sequence[SentRequest], order: Sequence[int], concurrency: int
            ) -> Replayed:
    return replay(server.base_url, requests, order, concurrency, alive=lambda: server.exit_code() is None)


def _readback(server: RunningServer, requests: Sequence[SentRequest]) -> list[Answer]:
    done = _replay(server, requests, [r.index for r in requests], 1)
    return [done.answers[r.index] for r in requests]


def _arm(name: str, role: str, label: str, python_gil: str | None, concurrency: int, server: RunningServer,
         sent: int, answers: Mapping[int, Answer], seconds: float) -> ResponseArm:
    gil: bool | None = None
    by: tuple[str, ...] = ()
    try:
        runtime = server.fetch_runtime()
        gil, by = runtime.gil_enabled, tuple(runtime.gil_enabled_by)
    except NOT_ANSWERING:
        pass
    died = server.exit_code()
    error = None if died is None and gil is not None else (
        f"the server {'exited with status ' + str(died) if died is not None else 'stopped answering'}; last lines "
        f"of {server.log_path}:\n{server.log_tail(12)}")
    return ResponseArm(name=name, role=role, interpreter=label, python_gil=python_gil,  # type: ignore[arg-type]
                       concurrency=concurrency, requests=sent, answered=sum(a.answered for a in answers.values()),
                       seconds=round(seconds, 2), gil_enabled=gil, gil_enabled_by=by, server_error=error)


def check_responses(app: ServedApp, settings: ResponseSettings, progress: Progress) -> ResponsesCheck:
    """Record, replay to every arm, judge: see the module docstring."""
    started = time.monotonic()
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    reference_label = FT.label if FT.label in app.pythons else GIL.label
    notes: list[str] = []
    if reference_label != FT.label:
        notes.append("3.14t has no environment for this app, so the check ran on 3.14 alone (its reference: 3.14 "
                     "one request at a time): it can find races under any concurrency, not the ones the GIL hides")
    max_s = settings.budget_s * RECORDING_SHARE if settings.budget_s else RECORDING_LIMIT_S
    routes = app.routes.get(reference_label)
    n = settings.concurrency
    progress(f"==> responses: recording {settings.requests} requests of {settings.source} on {reference_label} "
             f"(seed {settings.seed})")
    candidates: list[judge.ArmAnswers] = []
    gil_arm: ResponseArm | None = None
    with ExitStack() as servers:
        recording_server = servers.enter_context(_server(app, reference_label, "recording", settings.log_dir))
        recording = record_load(recording_server, settings.load_files, settings.requests, settings.seed, max_s,
                                routes, settings.log_dir)
        requests = recording.requests
        replayable = [r.index for r in requests if not r.streamed]
        progress(f"    recorded {len(requests)} requests from {recording.tasks_run} tasks in {recording.seconds:.1f}s"
                 + "".join(f"\n    note: task {e}" for e in recording.task_errors))
        order = list(replayable)
        random.Random(settings.seed).shuffle(order)
        reference_server = servers.enter_context(_server(app, reference_label, "reference", settings.log_dir))
        # The reference keeps one core busy and 3.14 with the GIL about one: on two cores they run side by side.
        gil_server = (servers.enter_context(_server(app, GIL.label, f"{GIL.label}x{n}", settings.log_dir))
                      if GIL.label in app.pythons and reference_label != GIL.label else None)
        progress(f"==> responses: reference, {reference_label} one request at a time in another order"
                 + (f"; beside it {GIL.label} ×{n}, {n} requests in flight" if gil_server else ""))
        with ThreadPoolExecutor(2) as pool:
            reference_job = pool.submit(_replay, reference_server, requests, order, 1)
            gil_job = None if gil_server is None else pool.submit(_replay, gil_server, requests, replayable, n)
            reference = reference_job.result()
            gil_done = None if gil_job is None else gil_job.result()
        plans = judge.plan_endpoints(requests, recording.answers, reference.answers, settings.marks)
        judge.validate_sets(plans, requests, recording.answers, reference.answers)
        readback = judge.readback_requests(requests, plans)
        recording_readback = _readback(recording_server, readback)
        reference_readback = _readback(reference_server, readback)
        valid = judge.valid_readbacks(readback, recording_readback, reference_readback, plans)
        arms = [_arm("recording", "cross-check", reference_label, None, 1, recording_server, len(requests),
                     recording.answers, recording.seconds),
                _arm(f"{reference_label} ×1 (reference)", "reference", reference_label, None, 1,
                     reference_server, len(order) + len(readback), reference.answers, reference.seconds)]
        if gil_server is not None and gil_done is not None:
            back = _readback(gil_server, readback)
            name = f"{GIL.label} ×{n}"
            gil_arm = _arm(name, "candidate", GIL.label, None, n, gil_server, len(replayable) + len(readback),
                           gil_done.answers, gil_done.seconds)
            candidates.append(judge.ArmAnswers(name, GIL.label, None, n, gil_done.answers, back))

    def run_arm(label: str, python_gil: str | None, role: str) -> ResponseArm:
        name = f"{label}{'+PYTHON_GIL=' + python_gil if python_gil else ''} ×{n}"
        progress(f"==> responses: {name}, {n} requests in flight")
        with _server(app, label, name.replace(" ", "").replace("×", "x"), settings.log_dir, python_gil) as server:
            done = _replay(server, requests, replayable, n)
            back = _readback(server, readback)
            arm = _arm(name, role, label, python_gil, n, server, len(replayable) + len(readback), done.answers,
                       done.seconds)
        candidates.insert(0 if role == "candidate" else len(candidates),
                          judge.ArmAnswers(name, label, python_gil, n, done.answers, back))
        return arm

    if FT.label in app.pythons:
        arms.append(run_arm(FT.label, None, "candidate"))
    if gil_arm is not None:
        arms.append(gil_arm)
    elif GIL.label in app.pythons and reference_label == GIL.label:
        arms.append(run_arm(GIL.label, None, "candidate"))
    gil_on = [a for a in arms if a.interpreter == FT.label and a.gil_enabled]
    if gil_on:
        modules = sorted({m for a in gil_on for m in a.gil_enabled_by}) or ["a module the server did not name"]
        notes.append(f"an import turned the GIL on in the 3.14t servers ({', '.join(modules)}), so their arm ran "
                     "with the GIL; a PYTHON_GIL=0 arm ran too, as a risk: it shows what 3.14t would answer without "
                     "the GIL, with those modules running unprotected")
        arms.append(run_arm(FT.label, "0", "risk"))
    for arm in arms:
        if arm.server_error:
            notes.append(f"{arm.name}: {arm.server_error.splitlines()[0]}")
    reference_answers = reference.answers
    tallies = [judge.tally_arm(plans, requests, reference_answers, arm, readback, reference_readback, valid)
               for arm in candidates]
    endpoints, examples = judge.endpoint_checks(plans, candidates, tallies, requests, n)
    unused = settings.marks.unused(list(plans))
    if unused:
        notes.append(f"the safety file names endpoints the load never requested: {', '.join(unused)}")
    if readback and not all(valid):
        notes.append(f"{valid.count(False)} of {len(readback)} read-back requests answered differently after two "
                     "serial passes, so the state they read is not compared")
    limited = None
    if len(requests) < settings.requests:
        limited = {"time": f"the time budget ended the recording after {recording.seconds:.0f}s",
                   "idle": f"{200} tasks in a row sent no request", "no tasks": "a user class has no tasks"}.get(
            recording.stopped, f"the recording stopped: {recording.stopped}")
    return ResponsesCheck(
        source=settings.source, server=DEFAULT_SERVER, threads=app.threads, seed=settings.seed,
        requested=settings.requests, recorded=len(requests), concurrency=n, arms=tuple(arms),
        endpoints=tuple(endpoints), exclusions=tuple(judge.exclusions(plans, settings.marks)),
        examples=tuple(examples), notes=tuple(notes), seconds=round(time.monotonic() - started, 1),
        budget_s=settings.budget_s, limited_by=limited)
