"""A Locust session the lab drives window by window, through Locust's own web API.

One session runs one scenario's Locust file (with the lab's recorder) for as long as
the comparisons of that scenario last: a standalone Locust process, or a master with
its workers (``--locust-workers N``, on this machine). Locust is started the way a user
starts it with a web UI (bound to 127.0.0.1), and the lab uses that UI's API:

- ``POST /swarm`` with ``user_count``, ``spawn_rate`` and ``host`` starts the users
  against one server (Locust clears its statistics at every start);
- ``POST /stop`` stops them;
- ``GET /lab/status`` and ``GET /lab/drain`` are the recorder's (``scenarios/lab_support.py``).

So switching the load from one warm server to the other costs a request, not a
process start, and every window's raw samples, CSV and HTML come from the same
Locust that a user would run.

Workers from other machines (``--expect-workers N``, ``gil-lab worker``) join the
session's master on ``MasterSettings.bind``. The session counts a worker only once the
lab's handshake (``scenarios/lab_workers.py``) has admitted it, and waits for the full
count, with a timeout, before every start of the load: Locust's workers leave and
rejoin after every stop, and a remote one may have gone away.

No Locust process gets the run's token: the master gets its session's keys in a key
file (``handshake.SessionKeys``), and each worker on this machine starts only after
the lab has checked that the master on its port is this session's (``challenge_master``,
as ``gil-lab worker`` does), with a key file that admits it once. The key files live
in a private temporary directory outside the results, and each is deleted by the
process that reads it.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtests import __version__ as LAB_VERSION
from loadtests.core.credentials import redact_bytes
from loadtests.core.direct_http import open_direct
from loadtests.core.errors import LoadGeneratorError, WorkersMissing
from loadtests.core.untrusted import printable
from loadtests.measure.handshake import KEYS_ENV, SessionKeys, challenge_master, write_key_file
from loadtests.measure.master import LAB_VERSION_ENV, MasterSettings
from loadtests.measure.ports import ATTEMPTS, free_port, lost_the_port
from loadtests.measure.servers import LOOPBACK
from loadtests.measure.supervised import Supervised, supervised
from loadtests.plan.scenarios import SCENARIOS_DIR
from loadtests.provision.process_env import child_env

# The recorder and the handshake it imports, in this order: Locust loads every -f file as a
# locustfile, and a module another file imported first would be loaded (and listen) twice.
RECORDER_FILES = (SCENARIOS_DIR / "lab_handshake.py", SCENARIOS_DIR / "lab_workers.py", SCENARIOS_DIR / "lab_support.py")
RECORDER = RECORDER_FILES[-1]
OPEN_LOOP = SCENARIOS_DIR / "open_loop.py"  # after the recorder, whose helpers it imports
OPEN_LOOP_USER = "OpenLoopDriver"
READY_TIMEOUT_S = 60.0
REPORT_WAIT_S = 5.0  # for every worker's last report after a window (it reports every 0.5 s)
HTTP_TIMEOUT_S = 30.0  # /stop waits for the users to end; /stats/report renders a page
# Every user starts at once: a window measures a steady load, not a ramp.
SPAWN_RATE = 1000
Sample = tuple[float, float, bool, str, float | None]  # completion, latency ms, ok, name, intended send (open loop)
Arrival = tuple[float, float | None, str]  # open loop: intended send, dispatched at (None: dropped), load process


def locust_executable() -> str:
    """The Locust of the running control plane (this interpreter's venv)."""
    candidate = Path(sys.executable).parent / "locust"
    if not candidate.exists():
        raise LoadGeneratorError(f"Locust is not installed next to {sys.executable}. Run `make setup`.")
    return str(candidate)


@dataclass(frozen=True)
class SessionSettings:
    locustfiles: tuple[Path, ...]  # the scenario's file(s); the recorder is loaded with them
    log_path: Path
    workers: int = 0  # Locust worker processes on this machine; 0 = one standalone process
    extra_env: tuple[tuple[str, str], ...] = ()
    open_loop: bool = False  # load the open-loop driver too, and pick user classes per window
    master: MasterSettings = MasterSettings()  # where the master listens, and the workers from elsewhere

    def files(self) -> list[Path]:
        lab = [*RECORDER_FILES, *([OPEN_LOOP] if self.open_loop else [])]
        own = {f.resolve() for f in (*RECORDER_FILES, OPEN_LOOP)}
        return [*lab, *(f for f in self.locustfiles if f.resolve() not in own)]

    def files_argument(self) -> str:
        return ",".join(str(f) for f in self.files())

    @property
    def expected_workers(self) -> int:
        """Every worker the master waits for: this machine's and the ones from elsewhere."""
        return self.workers + self.master.remote_workers

    @property
    def join_timeout_s(self) -> float:
        return self.master.join_timeout_s if self.master.remote_workers else READY_TIMEOUT_S

    @property
    def load_processes(self) -> int:
        """The processes that send requests: every worker (here and elsewhere), or the one standalone Locust."""
        return self.expected_workers or 1


@dataclass(frozen=True)
class OpenLoad:
    """What an open-loop window asks the driver for."""

    rate: float  # arrivals per second for the whole test
    arrivals: str = "poisson"
    inflight_cap: int = 256  # per load process
    late_ms: float = 5.0  # a send this far behind its schedule is late (the generator's fault, not the server's)
    slo_ms: float = 0.0  # the load goes on this long after the window, so its last arrivals can still be answered
    window_s: float | None = None  # the measured window (None: the preset's duration)

    @property
    def grace_s(self) -> float:
        """How long the load runs on after the window: an arrival due at its very end gets the whole SLO."""
        return self.slo_ms / 1000.0


def commands(settings: SessionSettings, web_port: int, master_port: int | None) -> list[list[str]]:
    """The commands a user would type: one Locust with its web UI, or a master and its workers."""
    locust = locust_executable()
    lead = [locust, "-f", settings.files_argument(), "--web-host", LOOPBACK, "--web-port", str(web_port),
            "--loglevel", "WARNING", "--exit-code-on-error", "0", "--stop-timeout", "0"]
    if settings.open_loop:
        lead.append("--class-picker")  # each window names its user classes: the driver, or the scenario's
    if not settings.expected_workers:
        return [lead]
    assert master_port is not None
    lead += ["--master", "--master-bind-host", settings.master.bind, "--master-bind-port", str(master_port)]
    worker = [locust, "-f", settings.files_argument(), "--worker", "--master-host", settings.master.connect_host,
              "--master-port", str(master_port), "--loglevel", "WARNING"]
    return [lead] + [worker] * settings.workers


@dataclass(frozen=True)
class WorkerState:
    """One Locust worker as the master's handshake knows it."""

    id: str
    state: str  # Locust's state (ready, running, ...), or "gone"
    admitted: bool
    host: str | None = None
    address: str | None = None
    locust: str | None = None
    lab: str | None = None
    offset_s: float | None = None
    rtt_s: float | None = None
    pid: int | None = None

    @property
    def label(self) -> str:
        return f"{self.host or self.id}" + (f" ({self.address})" if self.address else "")

    @classmethod
    def from_status(cls, item: dict[str, Any]) -> WorkerState:
        def number(key: str) -> float | None:
            return None if item.get(key) is None else float(item[key])

        def text(key: str) -> str | None:
            return None if item.get(key) is None else printable(item[key], limit=100)

        return cls(id=printable(item["id"]), state=printable(item.get("state")), admitted=bool(item.get("admitted")),
                   host=text("host"), address=text("address"), locust=text("locust"),
                   lab=text("lab"), offset_s=number("offset_s"), rtt_s=number("rtt_s"),
                   pid=None if item.get("pid") is None else int(item["pid"]))


@dataclass(frozen=True)
class Admission:
    """Who is connected to the master, who of them the lab admitted, and who it refused."""

    connected: tuple[str, ...]
    workers: tuple[WorkerState, ...]
    refused: tuple[tuple[str, str], ...] = ()  # (who, why)
    intrusions: tuple[tuple[str, float], ...] = ()  # (who, when): connected while the load ran

    @property
    def ready(self) -> list[WorkerState]:
        """Admitted workers that are connected (not gone, not missing)."""
        return [w for w in self.workers if w.admitted and w.id in self.connected]

    @property
    def pending(self) -> list[str]:
        """Connected but not (yet) admitted: still in the handshake, or without it (to be asked to quit)."""
        admitted = {w.id for w in self.workers if w.admitted}
        return [c for c in self.connected if c not in admitted]

    @classmethod
    def from_status(cls, status: dict[str, Any]) -> Admission:
        details = status.get("admission") or {}
        refused = tuple((printable(r.get("host") or r.get("id")) + (f" ({printable(r['address'])})"
                                                                    if r.get("address") else ""),
                         printable(r.get("reason"), limit=1000)) for r in details.get("refused", []))
        return cls(tuple(str(w) for w in status.get("workers", [])),
                   tuple(WorkerState.from_status(w) for w in details.get("workers", [])), refused,
                   tuple((printable(i.get("id")), float(i.get("at") or 0)) for i in details.get("intrusions", [])))


@dataclass
class Drained:
    """What the recorder held since the last drain."""

    samples: list[Sample]
    origins: list[str]  # per sample: the worker it came from ("" for a standalone Locust)
    arrivals: list[Arrival]  # the open-loop schedule log: every arrival that fell due, sent or dropped
    reports: dict[str, float]  # worker -> when it last reported (the master's clock)
    malformed: dict[str, int] = field(default_factory=dict)  # worker -> samples it sent that were not samples


@dataclass
class LoadSession:
    """A running session: its web API, its processes, and what each window collected."""

    settings: SessionSettings
    web_url: str
    processes: list[Supervised] = field(default_factory=list)
    cpu: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # worker -> (time, cpu s) readings
    say: Callable[[str], None] | None = None  # progress lines: workers joining, or refused
    announced: set[object] = field(default_factory=set)  # joins and refusals already told
    load_started: float = 0.0  # time.time() just before the last start of the load

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    # ---- the web API ----------------------------------------------------------------------
    def _call(self, path: str, form: dict[str, Any] | None = None, timeout: float = HTTP_TIMEOUT_S) -> bytes:
        data = urllib.parse.urlencode(form, doseq=True).encode() if form is not None else None
        request = urllib.request.Request(self.web_url + path, data=data, method="POST" if form is not None else "GET")
        try:
            with open_direct(request, timeout) as response:  # loopback: never through a proxy
                return bytes(response.read())
        except (urllib.error.URLError, OSError) as exc:
            raise LoadGeneratorError(f"Locust's web API did not answer {path} ({exc}); see "
                                     f"{self.settings.log_path}{self._exit_note()}") from None

    def _json(self, path: str, form: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            answer = json.loads(self._call(path, form))
        except json.JSONDecodeError as exc:
            raise LoadGeneratorError(f"Locust answered {path} with something that is not JSON ({exc})") from None
        if not isinstance(answer, dict):
            raise LoadGeneratorError(f"Locust answered {path} with {type(answer).__name__}, not an object")
        return answer

    def status(self) -> dict[str, Any]:
        return self._json("/lab/status")

    def start_load(self, host: str, users: int, connection_close: bool, open_load: OpenLoad | None = None) -> None:
        """Start the load against ``host`` (the previous window's users must be stopped).

        Closed loop: ``users`` users of the scenario. Open loop: one driver per load process,
        sending ``open_load.rate`` arrivals per second in all.
        """
        form: dict[str, Any] = {"spawn_rate": SPAWN_RATE, "host": host,
                                "lab_connection_close": "1" if connection_close else "0"}
        if open_load is not None:
            if not self.settings.open_loop:
                raise LoadGeneratorError("this Locust session was started without the open-loop driver")
            form.update(user_count=self.settings.load_processes, user_classes=OPEN_LOOP_USER,
                        lab_rate=f"{open_load.rate:g}", lab_arrivals=open_load.arrivals,
                        lab_inflight_cap=str(open_load.inflight_cap),
                        lab_load_processes=str(self.settings.load_processes))
        else:
            form["user_count"] = users
            if self.settings.open_loop:
                form["user_classes"] = self.scenario_classes()
        self.load_started = time.time()
        answer = self._json("/swarm", form)
        if not answer.get("success"):
            raise LoadGeneratorError(f"Locust refused to start the users: {answer.get('message')}")

    def scenario_classes(self) -> list[str]:
        """The scenario's own user classes (everything the session loaded but the open-loop driver)."""
        names = [str(n) for n in self.status().get("user_classes", []) if n != OPEN_LOOP_USER]
        if not names:
            raise LoadGeneratorError("the scenario's Locust file defines no user class")
        return names

    def stop_load(self) -> None:
        self._call("/stop", {})

    def drain(self) -> Drained:
        """Every sample (with the worker it came from), open-loop arrival and worker report since the last drain.

        A sample on the wire is ``[completion, latency ms, ok, name, worker, intended send]``, an
        arrival ``[intended send, dispatched at or null, worker]``; each worker's CPU readings
        are kept in :attr:`cpu`.
        """
        answer = self._json("/lab/drain")
        items = answer.get("samples", [])
        samples = [(float(s[0]), float(s[1]), bool(s[2]), str(s[3]),
                    None if len(s) < 6 or s[5] is None else float(s[5])) for s in items]
        origins = [str(s[4]) if len(s) > 4 and s[4] is not None else "" for s in items]
        for worker, readings in (answer.get("cpu") or {}).items():
            self.cpu.setdefault(str(worker), []).extend((float(t), float(c)) for t, c in readings)
        arrivals = [(float(a[0]), None if a[1] is None else float(a[1]), str(a[2]) if len(a) > 2 else "")
                    for a in answer.get("arrivals", [])]
        return Drained(samples, origins, arrivals,
                       {str(k): float(v) for k, v in (answer.get("reports") or {}).items()},
                       {str(k): int(v) for k, v in (answer.get("malformed") or {}).items()})

    def worker_cores(self, worker: str, start: float, end: float) -> float | None:
        """A worker's average busy cores over ``[start, end]``, from its own CPU readings; None with fewer than 2."""
        inside = [r for r in self.cpu.get(worker, []) if start - 0.3 <= r[0] <= end + 0.3]
        if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
            return None
        return max(0.0, (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0]))

    def save_stats(self, directory: Path) -> dict[str, Path]:
        """Locust's CSV and HTML for the window that just ended (saved before the next start clears them)."""
        directory.mkdir(parents=True, exist_ok=True)
        files = {"locust_csv": directory / "locust_stats.csv", "locust_html": directory / "locust.html"}
        # Locust's report repeats the host it was given: an --app-url's password is scrubbed from it
        files["locust_csv"].write_bytes(redact_bytes(self._call("/stats/requests/csv")))
        files["locust_html"].write_bytes(redact_bytes(self._call("/stats/report")))
        return files

    # ---- health -----------------------------------------------------------------------------
    def exit_code(self) -> int | None:
        """None while every process of the session runs; the first exit status otherwise."""
        for process in self.processes:
            code = process.poll()
            if code is not None:
                return code
        return None

    def _exit_note(self) -> str:
        code = self.exit_code()
        return "" if code is None else f" (a Locust process exited with status {code})"

    def workers_joined(self) -> list[str]:
        """The workers connected to the master ([] for a standalone Locust); asks the web API either way."""
        return [str(w) for w in self.status().get("workers", [])]

    def admission(self) -> Admission:
        return Admission.from_status(self.status())

    def wait_for_api(self, timeout: float = READY_TIMEOUT_S) -> None:
        """Until the web API of the master (or the standalone Locust) answers."""
        deadline = time.monotonic() + timeout
        while True:
            if self.exit_code() is not None:
                raise LoadGeneratorError(f"Locust exited with status {self.exit_code()} while starting; see "
                                         f"{self.settings.log_path}:\n{tail(self.settings.log_path)}")
            try:
                self.status()
                return
            except LoadGeneratorError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def intruders(self, start: float, end: float) -> list[str]:
        """Workers that connected between ``start`` and ``end`` while the load ran: Locust moved users to them."""
        return sorted({who for who, at in self.admission().intrusions if start <= at <= end})

    def wait_for_workers(self, timeout: float | None = None) -> list[WorkerState]:
        """Until every expected worker is connected and admitted; those workers.

        Locust gives users to every connected worker, admitted or not; the master refuses
        every worker not admitted when the load starts (the admission deadline, in
        ``lab_workers.py``), so a stranger, even one that keeps reconnecting, neither
        gets users nor holds the load back. Raises WorkersMissing naming who joined and
        who was refused, and why.
        """
        expected = self.settings.expected_workers
        if not expected:
            return []
        timeout = self.settings.join_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            if self.exit_code() is not None:
                raise LoadGeneratorError(f"the Locust master exited with status {self.exit_code()}; see "
                                         f"{self.settings.log_path}")
            admission = self.admission()
            self._announce(admission)
            ready = admission.ready
            if len(ready) >= expected:
                return ready
            if time.monotonic() > deadline:
                raise WorkersMissing(self._missing(admission, expected, timeout))
            time.sleep(0.2)

    def _announce(self, admission: Admission) -> None:
        if self.say is None:
            return
        for worker in admission.ready:
            if worker.id not in self.announced:
                self.announced.add(worker.id)
                self.say(f"    Locust worker {worker.label} joined: clock offset {offset_text(worker)}")
        for who, why in admission.refused:
            if (who, why) not in self.announced:
                self.announced.add((who, why))
                self.say(f"    Locust worker {who} refused: {why}")

    def _missing(self, admission: Admission, expected: int, timeout: float) -> str:
        ready = admission.ready
        joined = ", ".join(w.label for w in ready) or "none"
        text = f"{len(ready)} of {expected} Locust workers joined within {timeout:.0f}s (joined: {joined}"
        if admission.refused:
            text += "; refused: " + "; ".join(f"{who}: {why}" for who, why in admission.refused)
        if admission.pending:
            text += "; connected without being admitted: " + ", ".join(admission.pending)
        master = self.settings.master
        hint = (f"start them with `LAB_LOCUST_TOKEN=<the run's token> gil-lab worker --master "
                f"{master.connect_host}:{master.port}`" if master.remote_workers else f"see {self.settings.log_path}")
        return f"{text}); {hint}"

    def wait_for_reports(self, after: float, workers: Sequence[str] | None = None,
                         timeout: float = REPORT_WAIT_S) -> list[str]:
        """Until each worker has reported since ``after`` (its last samples are then in the master).

        ``workers``: the ids to wait for (default: every connected one). Returns those that
        did not report in time: they have left, or stopped reporting.
        """
        if not self.settings.expected_workers:
            return []
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            wanted = list(workers) if workers is not None else [str(w) for w in status.get("workers", [])]
            reports = status.get("reports") or {}
            late = [w for w in wanted if float(reports.get(w, 0.0)) <= after]
            if not late or time.monotonic() > deadline:
                return late
            time.sleep(0.1)


def offset_text(worker: WorkerState) -> str:
    """``+0.21 ms (round trip 0.48 ms)``: how far the worker's clock is from the master's."""
    if worker.offset_s is None:
        return "not measured"
    return f"{worker.offset_s * 1000:+.2f} ms (round trip {(worker.rtt_s or 0) * 1000:.2f} ms)"


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def load_session(settings: SessionSettings, say: Callable[[str], None] | None = None) -> Iterator[LoadSession]:
    """Start a session, wait until it is ready, yield it, and always stop every process it started.

    A port taken by another process between its choice and Locust's bind (another lab
    on this machine) means a new start on fresh ports, unless the user named the port.
    """
    settings.log_path.parent.mkdir(parents=True, exist_ok=True)
    # workers from elsewhere know the run's token; workers of this machine alone get one of the session's own
    token = settings.master.token or secrets.token_hex(16)
    with ExitStack() as stack:
        log = stack.enter_context(settings.log_path.open("ab"))
        keys = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gil-lab-session-")))  # mode 0700
        session = LoadSession(settings, "", say=say)
        try:
            for attempt in range(1, ATTEMPTS + 1):
                session = LoadSession(settings, f"http://{LOOPBACK}:{free_port()}", say=say)
                started_at = log.tell()
                try:
                    _start(session, log, keys / str(attempt), token)
                    break
                except LoadGeneratorError:
                    _stop(session)
                    log.flush()
                    if attempt == ATTEMPTS or settings.master.port or not lost_the_port(
                            _written_since(settings.log_path, started_at)):
                        raise
            yield session
        finally:
            _stop(session)


def _start(session: LoadSession, log: Any, keys: Path, token: str) -> None:
    """The master (or the standalone Locust), then each local worker once the lab has verified that master."""
    settings = session.settings
    keys.mkdir(mode=0o700)
    port = session.web_url.rsplit(":", 1)[1]
    master_port = settings.master.port or (free_port() if settings.expected_workers else None)
    lead, *workers = commands(settings, int(port), master_port)
    base = {"PYTHONUNBUFFERED": "1", LAB_VERSION_ENV: LAB_VERSION, **dict(settings.extra_env)}
    session_keys = SessionKeys.new(token)
    lead_env = {**base, KEYS_ENV: str(write_key_file(keys / "master.json", session_keys.for_master()))} \
        if settings.expected_workers else base
    _launch(session, log, lead, lead_env)
    session.wait_for_api()
    for number, args in enumerate(workers):
        assert master_port is not None
        ticket = challenge_master(settings.master.connect_host, master_port, token)
        _launch(session, log, args, {**base, KEYS_ENV: str(write_key_file(keys / f"worker-{number}.json",
                                                                          ticket.for_worker()))})
    session.wait_for_workers()


def _launch(session: LoadSession, log: Any, args: list[str], extra: dict[str, str]) -> None:
    log.write(f"$ {' '.join(args)}\n".encode())
    log.flush()
    # behind a supervisor: if the lab dies, Locust and its workers go with it
    session.processes.append(supervised(args, cwd=SCENARIOS_DIR, env=child_env(extra), output=log, grace=5.0))


def _stop(session: LoadSession) -> None:
    with contextlib.suppress(LoadGeneratorError):
        if session.processes and session.exit_code() is None:
            session.stop_load()
    for process in reversed(session.processes):  # the master first would leave its workers waiting
        process.stop(5.0)
    session.processes.clear()


def _written_since(path: Path, offset: int) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            return fh.read().decode(errors="replace")
    except OSError:
        return ""


def window_samples(samples: Sequence[Sample], start: float, end: float) -> list[Sample]:
    """The samples of requests that completed inside ``[start, end)``."""
    return sorted(s for s in samples if start <= s[0] < end)
