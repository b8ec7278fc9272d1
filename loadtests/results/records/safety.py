"""Records of ``gil-lab safety``: the team's answers checked under parallel load, and its tests in threads.

``run.json`` holds one :class:`SafetyRecord` (``safety``) when a run checked a
service's safety: ``gil-lab safety`` itself, or ``gil-lab compare`` on a team's app.
Its two checks (``responses`` and ``tests``) are recorded whole: every arm that ran,
every endpoint and test with its counts per arm, what was excluded and why, and the
first mismatches as readable diffs. The verdicts (an endpoint's or a test's
classification, a rate with its interval) are computed by the stage that ran the
checks and stored here, so a reader never recomputes them.

A soak (``soak``, ``soak.py``) records each interpreter's memory under a steady load.

summary.json's ``safety`` object (:class:`SafetySummary`) holds the races derived from
these records by :meth:`SafetyRecord.summary`, and what the analysis adds: the crashes
and hangs of every window and of the soak, and the memory growth it fits to the soak.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from loadtests.results.record import Record, doc
from loadtests.results.records.soak import SoakCheck

# --- responses checked under parallel load --------------------------------------------------


@dataclass(frozen=True)
class CheckFailure(Record):
    """A check that could not run at all: the others' results are kept."""

    error: str = doc("What went wrong, and what to do.")


#: How an endpoint's answers are judged, fixed set (docs/safety.md).
EndpointClass = Literal["consistent", "wrong-without-gil", "wrong-under-concurrency", "not-compared"]
ENDPOINT_CLASSES: tuple[EndpointClass, ...] = ("consistent", "wrong-without-gil", "wrong-under-concurrency",
                                               "not-compared")
ArmRole = Literal["cross-check", "reference", "candidate", "risk"]
Comparison = Literal["per request", "order-dependent", "not compared"]
MismatchCheck = Literal["status", "answer", "set of answers", "read-back", "no answer"]
ExclusionSource = Literal["team", "serial passes"]


@dataclass(frozen=True)
class ResponseArm(Record):
    """One pass of the recorded request list against a fresh server."""

    name: str = doc("How reports name it: `3.14t ×8`, `3.14t ×1 (reference)`, `3.14 ×8`, `recording`.")
    role: ArmRole = doc("cross-check: the recording pass (Locust, serial, the order the tasks ran); reference: "
                        "3.14t with one request at a time, in another order (the answers every arm is compared "
                        "with); candidate: 3.14t or 3.14 at the load's concurrency; risk: 3.14t with "
                        "PYTHON_GIL=0 after an import turned the GIL on.")
    interpreter: str = doc("3.14 or 3.14t.")
    python_gil: str | None = doc("PYTHON_GIL given to the server, or null.")
    concurrency: int = doc("Requests in flight at once.")
    requests: int = doc("Requests sent (the read-back included).")
    answered: int = doc("Requests that got an HTTP answer.")
    seconds: float = doc("Wall time of the pass, server start excluded.")
    gil_enabled: bool | None = doc("The server's GIL state after the pass (/lab/runtime), or null when it no "
                                   "longer answered.")
    gil_enabled_by: tuple[str, ...] = doc("Modules that turned the GIL on in that server.", default=())
    server_error: str | None = doc("The server died or stopped answering during the pass: what its log said.",
                                   default=None)


@dataclass(frozen=True)
class ArmMismatches(Record):
    """One endpoint's answers in one arm, against the reference."""

    arm: str = doc("The arm's name.")
    interpreter: str = doc("3.14 or 3.14t.")
    python_gil: str | None = doc("PYTHON_GIL of the arm's server, or null.")
    concurrency: int = doc("Requests in flight at once.")
    requests: int = doc("Answers of this endpoint that were compared.")
    mismatches: int = doc("Of those, how many were wrong: a status or answer that differs from the reference's "
                          "for the same request, an answer an order-dependent endpoint gave more often than the "
                          "reference did, or a read-back of the final state that differs.")
    rate: float = doc("mismatches ÷ requests (0 when nothing was compared).")
    ci_low: float = doc("Lower end of the rate's 95% Wilson score interval.")
    ci_high: float = doc("Upper end.")


@dataclass(frozen=True)
class EndpointCheck(Record):
    """One endpoint (method and route) of the recorded load, and its verdict."""

    endpoint: str = doc("`METHOD /route/{param}` from the app's route table, else Locust's request name.")
    requests: int = doc("Requests to it in the recorded list.")
    compared: Comparison = doc("per request: each answer against the reference's for the same request; "
                               "order-dependent: two serial passes in different orders answered differently, so "
                               "only the statuses, the set of answers and the state read back after each pass are "
                               "compared; not compared: excluded (see exclusions).")
    arms: tuple[ArmMismatches, ...] = doc("Per arm other than the reference: its mismatches.")
    classification: EndpointClass = doc("consistent: no arm differs from the reference; wrong-without-gil: 3.14t "
                                        "differs and 3.14 at the same concurrency does not (a race the GIL "
                                        "hides); wrong-under-concurrency: both differ (unsafe whatever the "
                                        "interpreter); not-compared: every answer was excluded.")
    advice: str | None = doc("What to change, for an endpoint that is not consistent.", default=None)


@dataclass(frozen=True)
class Exclusion(Record):
    """Something the comparison left out, and why: a report always says what was excluded."""

    endpoint: str = doc("The endpoint, or `*` for every endpoint.")
    what: str = doc("A JSON path (`$.generated_at`, `$.items[*].etag`), or `whole answer`.")
    source: ExclusionSource = doc("team: marked in the team's safety file; serial passes: two passes with one "
                                  "request at a time answered differently, so it is not repeatable.")
    reason: str = doc("Why, in words.")


@dataclass(frozen=True)
class MismatchExample(Record):
    """One wrong answer, as a readable diff against the reference."""

    endpoint: str = doc("The endpoint.")
    arm: str = doc("The arm that gave it.")
    index: int = doc("The request's position in the recorded list (null-free: -1 for a read-back).")
    request: str = doc("`METHOD /path?query` and a short body, as sent.")
    check: MismatchCheck = doc("What differed: the status, the answer, the set of answers of an order-dependent "
                               "endpoint, the state read back after the pass, or no answer at all.")
    diff: str = doc("The difference, one line per differing JSON path (`$.a[2].b: expected 3, got 4`) or a "
                    "unified diff of the text.")


@dataclass(frozen=True)
class ResponsesCheck(Record):
    """The recorded requests replayed to every arm, and each endpoint's verdict."""

    source: str = doc("What generated the requests: the team's Locust file, or the lab's scenarios.")
    server: str = doc("The server every arm ran on.")
    threads: int = doc("The anyio thread limit of each server (LAB_THREADS).")
    seed: int = doc("Seed of `random` while the tasks ran, and of the reference's order.")
    requested: int = doc("How many requests the recording aimed for.")
    recorded: int = doc("How many it recorded (fewer when the time budget ended it, see limited_by).")
    concurrency: int = doc("Requests in flight at once in the candidate arms.")
    arms: tuple[ResponseArm, ...] = doc("Every pass, in the order run.")
    endpoints: tuple[EndpointCheck, ...] = doc("Each endpoint of the recorded load.")
    exclusions: tuple[Exclusion, ...] = doc("Everything left out of the comparison, with the reason.")
    examples: tuple[MismatchExample, ...] = doc("The first few mismatches of each endpoint and arm.")
    notes: tuple[str, ...] = doc("What else a reader should know (the GIL came on, a server died, ...).")
    seconds: float = doc("Wall time of the whole check, server starts included.")
    budget_s: float | None = doc("The time budget the check was given, or null.", default=None)
    limited_by: str | None = doc("Why fewer requests were recorded than asked, or null.", default=None)


# --- the team's tests in parallel threads ---------------------------------------------------

#: How a test is judged, fixed set (docs/safety.md).
SuiteTestClass = Literal["passes", "fails-everywhere", "fails-parallel-ft-only", "fails-parallel-both", "crashed",
                    "hung", "not-run"]
SUITE_TEST_CLASSES: tuple[SuiteTestClass, ...] = ("passes", "fails-everywhere", "fails-parallel-ft-only",
                                       "fails-parallel-both", "crashed", "hung", "not-run")
SuitePassRole = Literal["plain", "parallel", "risk"]
PassOutcome = Literal["passed", "failed", "error", "skipped", "crashed", "hung", "not run"]


@dataclass(frozen=True)
class SuiteEnvironment(Record):
    """The environment one interpreter ran the tests in: the team's lock plus the lab's pinned test tools."""

    label: str = doc("3.14 or 3.14t.")
    path: str = doc("The environment's directory.")
    python: str | None = doc("Its interpreter, or null when it could not be built.")
    lock_sha256: str | None = doc("sha256 of its lock file.")
    tools: Mapping[str, str] = doc("The test tools installed: pytest, pytest-run-parallel (none when it could not "
                                   "be built).")
    unavailable_package: str | None = doc("The package uv could not install, when the environment could not be "
                                          "built.", default=None)
    unavailable_reason: str | None = doc("uv's reason.", default=None)


@dataclass(frozen=True)
class SuitePass(Record):
    """One pass of the whole suite on one interpreter."""

    name: str = doc("`plain 3.14`, `parallel 3.14t`, `parallel 3.14t+PYTHON_GIL=0` (a risk arm).")
    role: SuitePassRole = doc("plain: one thread, once; parallel: pytest-run-parallel's threads and iterations; "
                            "risk: the parallel pass again with PYTHON_GIL=0, after an import turned the GIL on.")
    interpreter: str = doc("3.14 or 3.14t.")
    python_gil: str | None = doc("PYTHON_GIL of the pass, or null.")
    threads: int = doc("Threads each test ran in (1 for plain).")
    iterations: int = doc("Iterations per thread (1 for plain).")
    processes: int = doc("pytest processes the pass took: one, plus one per resume after a crash or hang.")
    seconds: float = doc("Wall time of the pass, re-runs excluded.")
    gil_enabled: bool | None = doc("Whether the GIL was on at the end of the pass (3.14t), or null.")
    gil_enabled_by: tuple[str, ...] = doc("Modules that turned it on during the tests.", default=())
    error: str | None = doc("Why the pass could not run at all, or null.", default=None)


@dataclass(frozen=True)
class PassResult(Record):
    """One test in one arm: its outcome, and how often it failed over the first run and the re-runs."""

    arm: str = doc("The arm's name.")
    outcome: PassOutcome = doc("The first run's outcome: passed, failed, error (in set-up or tear-down), skipped, "
                               "crashed (the interpreter died), hung (it outlived the per-test timeout), or not "
                               "run (its module did not import, or it crashed or hung in the plain pass before).")
    runs: int = doc("Runs in this arm: the first and the re-runs of a failing test.")
    failures: int = doc("Of those, how many failed or errored.")
    message: str | None = doc("The failure's last line, or why it did not run.", default=None)
    traceback: str | None = doc("A crash's faulthandler traceback, or every thread's stack of a hang.",
                                default=None)


@dataclass(frozen=True)
class SuiteTest(Record):
    """One test of the suite, across every arm, and its verdict."""

    nodeid: str = doc("pytest's node id, relative to the app directory.")
    classification: SuiteTestClass = doc("passes: everywhere; fails-everywhere: fails with one thread too (not a "
                                    "threading problem); fails-parallel-ft-only: only in threads on 3.14t (a race "
                                    "the GIL was hiding); fails-parallel-both: in threads on 3.14 too (unsafe "
                                    "whatever the interpreter); crashed; hung; not-run: it never ran (its module "
                                    "did not import, or its fixtures failed everywhere).")
    arms: tuple[PassResult, ...] = doc("Its outcome in each arm.")
    decided_by: str | None = doc("The arm whose result decided the classification.", default=None)
    kept_serial: str | None = doc("Why pytest-run-parallel ran it in one thread (a thread_unsafe marker, a "
                                  "thread-unsafe fixture...), or null.", default=None)

    @property
    def deciding(self) -> PassResult | None:
        return next((a for a in self.arms if a.arm == self.decided_by), None)

    @property
    def is_race(self) -> bool:
        """Whether it failed, crashed or hung only when its code ran in several threads."""
        if self.classification in ("fails-parallel-ft-only", "fails-parallel-both"):
            return True
        return self.classification in ("crashed", "hung") and "parallel" in (self.decided_by or "")


@dataclass(frozen=True)
class CollectionProblem(Record):
    """A test module that did not import, or a fixture that failed for every test that used it."""

    nodeid: str = doc("The module (or test) pytest could not collect or set up.")
    error: str = doc("The error's last lines: the import or fixture that failed.")
    arms: tuple[str, ...] = doc("The arms it happened in.")


@dataclass(frozen=True)
class SuiteCheck(Record):
    """The team's tests run plainly and in parallel threads, on 3.14 and 3.14t."""

    path: str = doc("The tests path given (--tests), relative to the app directory when inside it.")
    app_dir: str = doc("pytest's working directory.")
    environments: Mapping[str, SuiteEnvironment] = doc("Interpreter label -> the environment the tests ran in.")
    threads: int = doc("pytest-run-parallel's --parallel-threads.")
    iterations: int = doc("Its --iterations.")
    timeout_s: float = doc("The per-test timeout: a test still running then is hung; every thread's stack is "
                           "dumped and the suite resumes after it.")
    reruns: int = doc("Re-runs of each failing test, in every arm, to tell a race from a flake.")
    arms: tuple[SuitePass, ...] = doc("Every pass, in order.")
    tests: tuple[SuiteTest, ...] = doc("Every test that was collected.")
    problems: tuple[CollectionProblem, ...] = doc("Modules that did not import and fixtures that failed.")
    notes: tuple[str, ...] = doc("What else a reader should know.")
    seconds: float = doc("Wall time of the check, environment builds excluded.")

    @property
    def kept_serial(self) -> tuple[SuiteTest, ...]:
        return tuple(t for t in self.tests if t.kept_serial)


# --- the whole safety verdict ---------------------------------------------------------------


@dataclass(frozen=True)
class SafetyRecord(Record):
    """Whether the service still answers correctly when requests really run in parallel."""

    app: str = doc("The app checked, as module:attribute.")
    responses: ResponsesCheck | CheckFailure | None = doc("The response check, its failure, or null when it did not "
                                                         "run.")
    tests: SuiteCheck | CheckFailure | None = doc("The tests check, its failure, or null when no --tests was "
                                                 "given.", default=None)
    soak: SoakCheck | CheckFailure | None = doc("The soak (--soak): each interpreter's memory and threads under a "
                                               "steady load; its failure; or null when none ran.", default=None)

    @property
    def races(self) -> tuple[str, ...]:
        """Endpoints and tests with a race, as the terminal names them."""
        found: list[str] = []
        if isinstance(self.responses, ResponsesCheck):
            found += [e.endpoint for e in self.responses.endpoints
                      if e.classification in ("wrong-without-gil", "wrong-under-concurrency")]
        if isinstance(self.tests, SuiteCheck):
            found += [t.nodeid for t in self.tests.tests if t.is_race]
        return tuple(found)

    def summary(self) -> SafetySummary:
        """summary.json's ``safety`` object, as far as the checks decide it (the analysis adds crashes, hangs and
        memory)."""
        responses: list[ResponseSummary] = []
        if isinstance(self.responses, ResponsesCheck):
            responses = [ResponseSummary(endpoint=e.endpoint, interpreter=a.interpreter, python_gil=a.python_gil,
                                         concurrency=a.concurrency, requests=a.requests, mismatches=a.mismatches,
                                         rate=a.rate, ci_low=a.ci_low, ci_high=a.ci_high,
                                         classification=e.classification)
                         for e in self.responses.endpoints for a in e.arms]
        tests: list[SuiteTestSummary] = []
        if isinstance(self.tests, SuiteCheck):
            for t in self.tests.tests:
                deciding = t.deciding
                runs = deciding.runs if deciding else sum(a.runs for a in t.arms)
                failures = deciding.failures if deciding else sum(a.failures for a in t.arms)
                tests.append(SuiteTestSummary(nodeid=t.nodeid, classification=t.classification, failures=failures,
                                         runs=runs, arm=t.decided_by))
        return SafetySummary(app=self.app, responses=tuple(responses), tests=tuple(tests), races=self.races,
                             responses_error=self.responses.error if isinstance(self.responses, CheckFailure)
                             else None,
                             tests_error=self.tests.error if isinstance(self.tests, CheckFailure) else None,
                             soak_error=self.soak.error if isinstance(self.soak, CheckFailure) else None)


# --- summary.json ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResponseSummary(Record):
    """One endpoint in one arm of the response check."""

    endpoint: str = doc("`METHOD /route`.")
    interpreter: str = doc("3.14 or 3.14t.")
    python_gil: str | None = doc("PYTHON_GIL of the arm (\"0\": the risk arm), or null.")
    concurrency: int = doc("Requests in flight at once.")
    requests: int = doc("Answers compared with the reference (3.14t, one request at a time).")
    mismatches: int = doc("Wrong answers among them.")
    rate: float = doc("mismatches ÷ requests.")
    ci_low: float = doc("Lower end of its 95% Wilson interval.")
    ci_high: float = doc("Upper end.")
    classification: EndpointClass = doc("The endpoint's verdict over every arm: consistent, wrong-without-gil, "
                                        "wrong-under-concurrency or not-compared (docs/safety.md).")


@dataclass(frozen=True)
class SuiteTestSummary(Record):
    """One test of the team's suite."""

    nodeid: str = doc("pytest's node id.")
    classification: SuiteTestClass = doc("passes, fails-everywhere, fails-parallel-ft-only, fails-parallel-both, "
                                    "crashed, hung or not-run (docs/safety.md).")
    failures: int = doc("Failed runs in the arm that decided the classification (every arm for passes).")
    runs: int = doc("Runs in that arm: the first and the re-runs.")
    arm: str | None = doc("That arm, e.g. `parallel 3.14t`.", default=None)


@dataclass(frozen=True)
class CrashSummary(Record):
    """A server process that died: in a window, or during the soak."""

    interpreter: str = doc("3.14 or 3.14t.")
    where: str = doc("The configuration whose window it was in (`3.14t uvicorn w1 t8`), or `soak`.")
    cell: str | None = doc("The window's cell id in run.json, or null (soak).")
    endpoints: tuple[str, ...] = doc("The endpoints in flight when it died (`GET /items/{item_id}`), most requests "
                                     "first.")
    fatal: str = doc("faulthandler's first line, e.g. `Fatal Python error: Segmentation fault`.")
    traceback: str = doc("faulthandler's output: every thread's stack at the crash.")


@dataclass(frozen=True)
class HangSummary(Record):
    """Requests in flight far longer than the window's latency, and where every thread waited."""

    interpreter: str = doc("3.14 or 3.14t.")
    where: str = doc("The configuration whose window found it, or `soak`.")
    cell: str | None = doc("The window's cell id, or null (soak).")
    endpoints: tuple[str, ...] = doc("The endpoints of the requests over the bound.")
    bound_s: float = doc("The bound they passed, seconds (docs/safety.md: ten times the window's p99, at least "
                         "1 s).")
    stacks: tuple[str, ...] = doc("Each thread's stack, dumped while the server went on.")


@dataclass(frozen=True)
class MemorySummary(Record):
    """How fast one interpreter's server memory grew under the soak's steady load, after the allocator's plateau."""

    interpreter: str = doc("3.14 or 3.14t.")
    measure: str = doc("What was fitted: `RssAnon` (the server tree's anonymous resident memory: its heap and "
                       "thread stacks); `USS` or `RSS` where the kernel did not report it.")
    slope_mb_per_1000: float | None = doc("Growth in MB per 1,000 requests after the plateau (null: too few "
                                          "readings).")
    ci_low: float | None = doc("Lower end of its 95% interval (from block means, so autocorrelated readings do "
                               "not narrow it: docs/safety.md).")
    ci_high: float | None = doc("Upper end.")
    grows: bool = doc("True only when the whole interval lies above zero and its lower end, over the requests "
                      "after the plateau, adds up to at least 4 MB (smaller steps are the allocator's).")
    plateau_s: float | None = doc("Seconds into the soak where the fit starts (the allocator's plateau).")
    requests: int = doc("Requests the server completed during the soak.")
    threads_start: int | None = doc("Threads of the server's tree at the plateau.", default=None)
    threads_end: int | None = doc("... and at the end: a pool that keeps adding threads grows too.", default=None)


@dataclass(frozen=True)
class SafetySummary(Record):
    """Whether the service is safe to run in parallel: races by endpoint and test, crashes, hangs, memory growth."""

    app: str = doc("The app checked.")
    responses: tuple[ResponseSummary, ...] = doc("Each endpoint in each arm that was compared with the reference.")
    tests: tuple[SuiteTestSummary, ...] = doc("Each test of the suite (empty without --tests).")
    races: tuple[str, ...] = doc("Endpoints and tests with a race: what `--expect no-races` fails on.",
                                 default=())
    responses_error: str | None = doc("Why the response check could not run, or null.", default=None)
    tests_error: str | None = doc("Why the tests could not run, or null.", default=None)
    crashes: tuple[CrashSummary, ...] = doc("Every server process that died, in a window or the soak.", default=())
    hangs: tuple[HangSummary, ...] = doc("Every hang: requests over the window's bound, with the stacks.",
                                         default=())
    memory: tuple[MemorySummary, ...] = doc("Per interpreter, the soak's memory growth (empty without --soak).",
                                            default=())
    soak_error: str | None = doc("Why the soak could not run, or null.", default=None)
