"""Stand-ins for a server, a Locust session and a sampler, for unit tests of the measuring pieces.

They answer the same calls the real ones do, from recorded figures: the server's
``/lab/runtime`` answer is one a real server gave (a stored run's cell), and the session
replays recorded latencies as completions at a steady rate while its load runs. The
end-to-end tests use the real processes.
"""

from __future__ import annotations

import itertools
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from loadtests.core.errors import LoadGeneratorError
from loadtests.measure.fault_files import FaultWatch
from loadtests.measure.load_session import Drained, OpenLoad, WorkerState
from loadtests.measure.sampling import HostSample, TreeSample
from loadtests.measure.server_pool import ServerPool, Started
from loadtests.measure.window_measurement import WindowBench
from loadtests.results.records import CellConfig, RunRecord, RuntimeSnapshot
from loadtests.results.run_writer import RunWriter
from loadtests.results.store import load_run

OVERLOADED_MS = 30.0  # over the SLO the capacity tests use, short enough to complete inside their windows
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "run-json"
PAIRED = FIXTURES / "v3" / "smoke-paired.json"


def recorded_runtime(interpreter: str) -> RuntimeSnapshot:
    """What a real server of ``interpreter`` answered at /lab/runtime in a stored run."""
    run = load_run(PAIRED)
    cell = next(c for c in run.cells if c.config.interpreter == interpreter and c.runtime_before is not None)
    assert cell.runtime_before is not None
    return cell.runtime_before


def fresh_run(tmp_path: Path, **plan_changes: object) -> RunWriter:
    """A new run directory holding the stored paired run's settings and no cells, its plan made quick."""
    stored = load_run(PAIRED)
    plan = replace(stored.settings.plan, **{"warmup_s": 0.0, "transition_s": 0.0, "duration_s": 0.05,
                                            **plan_changes})  # type: ignore[arg-type]
    record: RunRecord = replace(stored, cells=(), warmups=(), comparisons=(), complete=False, finished_at=None,
                                settings=replace(stored.settings, plan=plan))
    run_dir = tmp_path / record.run_id
    run_dir.mkdir(parents=True)
    return RunWriter.create(run_dir, record)


@dataclass
class FakeServer:
    """A server that answers /lab/runtime with a recorded answer until it is told to exit or go quiet."""

    runtime: RuntimeSnapshot
    pid: int | None = 4242
    base_url: str = "http://127.0.0.1:1"
    exited: int | None = None
    runtime_answers: bool = True
    faults: FaultWatch | None = None

    def exit_code(self) -> int | None:
        return self.exited

    def fetch_runtime(self, timeout: float = 5.0) -> RuntimeSnapshot:
        if not self.runtime_answers:
            raise TimeoutError("no answer")
        return self.runtime

    def fetch_in_flight(self, timeout: float = 2.0) -> int | None:
        return 0 if self.runtime_answers else None


@dataclass
class FakeSession:
    """A Locust session that replays recorded latencies, ``rate`` completions a second while its load runs."""

    latencies_ms: tuple[float, ...] = (41.0, 38.5, 44.2, 40.1, 39.7, 52.3, 37.9, 43.0)
    rate: float = 200.0  # closed loop: completions a second; open loop follows the offered rate
    capacity_rps: float | None = None  # open loop above this rate: every request takes OVERLOADED_MS
    failing: bool = False  # every request fails
    refuses_start: str | None = None  # start_load raises LoadGeneratorError with this text
    kill_server_on_start: FakeServer | None = None  # the server "crashes" as soon as load starts
    pids: list[int] = field(default_factory=lambda: [5151])
    started: list[tuple[str, int, OpenLoad | None]] = field(default_factory=list)
    _since: float | None = None
    _upto: float | None = None
    _drained_to: float = 0.0

    def exit_code(self) -> int | None:
        return None

    def wait_for_workers(self, timeout: float | None = None) -> list[WorkerState]:
        return []

    def start_load(self, host: str, users: int, connection_close: bool, open_load: OpenLoad | None = None) -> None:
        if self.refuses_start:
            raise LoadGeneratorError(self.refuses_start)
        self.started.append((host, users, open_load))
        self._since, self._upto, self._drained_to = time.time(), None, 0.0
        if self.kill_server_on_start is not None:
            self.kill_server_on_start.exited = -9

    def stop_load(self) -> None:
        self._upto = time.time()

    def drain(self) -> Drained:
        if self._since is None:
            return Drained([], [], [], {})
        end = self._upto or time.time()
        first = max(self._since, self._drained_to)
        open_load = self.started[-1][2]
        rate = open_load.rate if open_load else self.rate
        overloaded = open_load is not None and self.capacity_rps is not None and rate > self.capacity_rps
        latencies = itertools.cycle((OVERLOADED_MS,) if overloaded else self.latencies_ms)
        count = int((end - first) * rate)
        intended = [first + i / rate for i in range(count)]
        samples = [(sent + latency / 1000.0, latency, not self.failing, "/json", sent if open_load else None)
                   for sent, latency in zip(intended, latencies, strict=False)]
        self._drained_to = first + count / rate
        arrivals = [(sent, sent, "") for sent in intended] if open_load else []  # the schedule log: all on time
        return Drained(samples, [""] * len(samples), arrivals, {})  # type: ignore[arg-type]

    def wait_for_reports(self, after: float, workers: object = None, timeout: float = 0.0) -> list[str]:
        return []

    def workers_joined(self) -> list[str]:
        return []

    def worker_cores(self, worker: str, start: float, end: float) -> float | None:
        return None

    def save_stats(self, directory: Path) -> dict[str, Path]:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "locust_stats.csv").write_text("Type,Name,Request Count\n")
        (directory / "locust.html").write_text("<html></html>\n")
        return {}


@dataclass
class FakeSampler:
    """Readings of a steady process tree: ``cores`` busy cores, every 20 ms, from when it was made."""

    server_cores: float = 0.9  # each server tree's
    cores: dict[str, float] = field(default_factory=lambda: {"client": 0.2})
    foreign: float = 0.0  # cores other work uses on the machine
    steal: float = 0.0  # share of the CPU time stolen
    trees: dict[str, list[int]] = field(default_factory=dict)
    origin: float = field(default_factory=time.time)

    def add_tree(self, name: str, pids: list[int], detailed: bool = False) -> None:
        self.trees[name] = pids
        self.cores.setdefault(name, self.server_cores)

    def host_readings(self) -> list[HostSample]:
        """The machine beside the trees: busy with the trees' cores plus ``foreign`` cores, ``steal`` stolen."""
        now = time.time() + 0.3
        steps = int((now - self.origin) / 0.02) + 1
        busy = sum(self.cores.values()) + self.foreign
        return [HostSample(self.origin + i * 0.02, busy * i * 0.02, self.steal * 2 * i * 0.02, 2 * i * 0.02, 0.0)
                for i in range(steps)]

    def readings(self, name: str) -> list[TreeSample]:
        cores = self.cores.get(name, 0.0)
        now = time.time() + 0.3  # a little past now: the window's end has its reading
        steps = int((now - self.origin) / 0.02) + 1
        pid = (self.trees.get(name) or [1])[0]
        return [TreeSample(self.origin + i * 0.02, cores * i * 0.02, 150 * 2**20, 12, 1,
                           ((pid, cores * i * 0.02),), 120 * 2**20, 110 * 2**20) for i in range(steps)]


@dataclass
class FakeStarts:
    """``ServerPool``'s start function: a fake server per configuration, or the error a real start raised."""

    errors: dict[str, Exception] = field(default_factory=dict)  # interpreter -> what starting raises
    mismatch: str | None = None  # an external app that cannot stand for the configuration
    started: list[CellConfig] = field(default_factory=list)
    servers: list[FakeServer] = field(default_factory=list)

    def __call__(self, config: CellConfig, stack: ExitStack, instance: int = 0) -> Started:
        self.started.append(config)
        if config.interpreter in self.errors:
            raise self.errors[config.interpreter]
        server = FakeServer(recorded_runtime(config.interpreter), pid=4000 + len(self.servers))
        self.servers.append(server)
        return Started(server, None, self.mismatch, hash_seed=1000 + len(self.servers))


def fake_pool(run: RunWriter, starts: FakeStarts, session: FakeSession | None = None,
              lines: list[str] | None = None, server_cores: float = 0.9) -> ServerPool:
    """A pool of fake servers, loaded by a fake session, recording into ``run``."""
    bench = WindowBench(run.run_dir, run.record.settings, session or FakeSession(),  # type: ignore[arg-type]
                        FakeSampler(server_cores))  # type: ignore[arg-type]
    return ServerPool(starts, ExitStack(), bench, run, (lines if lines is not None else []).append)
