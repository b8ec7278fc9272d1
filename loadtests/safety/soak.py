"""The soak: both interpreters' servers under the same steady load, side by side, memory sampled throughout.

Memory that grows per request is a leak whatever the speed: on 3.14t objects can be
freed later (deferred reclamation) or kept for good (immortal constants), so a service
that was flat on 3.14 may not be. A soak runs each interpreter's server (the default
server, one process, the lab's layer) with its own Locust session of ``users`` users
(the Locust file's think time), **at the same time**, for ``duration_s``: one soak of
two minutes covers both interpreters in two minutes of wall time, each on about half
the machine. Growth is counted per request, so the two need not serve as many.

Every ``interval_s`` the sampler reads each server's tree (USS, PSS, RSS, threads), and
each reading is paired with the requests that server had completed by then. The
analysis fits the growth (``analysis/memory_growth.py``); this module only measures.
A server that dies is recorded with its traceback and the requests in flight (the
other one goes on); a request still in flight at the end far beyond the soak's
latency is a hang, with every thread's stack.
"""

from __future__ import annotations

import bisect
import contextlib
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from loadtests.core.errors import LabError
from loadtests.core.flavour import FLAVOURS
from loadtests.core.servers import DEFAULT_SERVER
from loadtests.measure.fault_reports import crash_report, hang_bound, hang_report, hung_requests
from loadtests.measure.load_session import LoadSession, SessionSettings, load_session
from loadtests.measure.runtime import NOT_ANSWERING
from loadtests.measure.sampling import Sampler, TreeSample
from loadtests.measure.servers import RunningServer, running_server
from loadtests.measure.windows import latency_summary
from loadtests.results.records.soak import SoakCheck, SoakPoint, SoakSeries
from loadtests.safety.responses import ServedApp

Progress = Callable[[str], None]
INTERVAL_S = 0.5
#: How often each Locust session's samples are collected (its recorder buffers them until then).
DRAIN_S = 5.0
MIN_SOAK_S = 30.0


@dataclass(frozen=True)
class SoakSettings:
    load_files: tuple[Path, ...]  # the Locust file(s) whose users make the load
    source: str  # how reports name them
    log_dir: Path
    duration_s: float
    users: int = 8
    interval_s: float = INTERVAL_S


@dataclass
class Soaked:
    """One interpreter's server while the soak runs."""

    label: str
    server: RunningServer
    session: LoadSession
    completions: list[float]
    latencies_ms: list[float]
    failures: int = 0
    ended: float | None = None  # when its load stopped early (its server died)
    crash_series: SoakSeries | None = None

    def take(self) -> None:
        drained = self.session.drain()
        self.completions += [s[0] for s in drained.samples]
        self.latencies_ms += [s[1] for s in drained.samples]
        self.failures += sum(1 for s in drained.samples if not s[2])


def soak(app: ServedApp, settings: SoakSettings, progress: Progress) -> SoakCheck:
    """Load every interpreter ``app`` has an environment for, side by side, for ``settings.duration_s``."""
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    labels = [f.label for f in FLAVOURS if f.label in app.pythons]
    progress(f"==> soak: {settings.duration_s:g}s of steady load on {' and '.join(labels)} side by side "
             f"({settings.users} users each, {DEFAULT_SERVER}, {settings.source})")
    series: dict[str, SoakSeries] = {}
    notes = [f"{f.label} has no environment for this app: it was not soaked" for f in FLAVOURS
             if f.label not in app.pythons]
    with ExitStack() as stack:
        soaked: list[Soaked] = []
        for label in labels:
            try:
                server = stack.enter_context(running_server(app.settings(label),
                                                            settings.log_dir / f"server-{label}.log"))
                session = stack.enter_context(load_session(SessionSettings(
                    settings.load_files, settings.log_dir / f"locust-{label}.log")))
            except LabError as error:
                series[label] = SoakSeries(interpreter=label, requests=0, failures=0, seconds=0.0, points=(),
                                           error=str(error))
                continue
            soaked.append(Soaked(label, server, session, [], []))
        sampler = stack.enter_context(Sampler({}, interval=settings.interval_s))
        for s in soaked:
            sampler.add_tree(s.label, [s.server.pid], detailed=True)
        start = time.time()
        for s in soaked:
            s.session.start_load(s.server.base_url, settings.users, False)
        _hold(soaked, start, settings, app, progress)
        end = time.time()
        for s in soaked:
            if s.ended is None and s.session.exit_code() is None:
                s.session.stop_load()
            s.take()
        for s in soaked:
            series[s.label] = s.crash_series or _series(s, sampler.readings(s.label), start, s.ended or end, app)
    for label in labels:
        one = series[label]
        grew = [p.anon_mb for p in (one.points[0], one.points[-1]) if p.anon_mb is not None] if one.points else []
        memory = f", anonymous memory {grew[0]:.1f} → {grew[-1]:.1f} MB" if len(grew) == 2 else ""
        progress(f"    {label}: {one.requests} requests in {one.seconds:.0f}s{memory}"
                 + (f"; {one.error}" if one.error else "")
                 + (f"; crashed: {one.crash.fatal}" if one.crash else "") + ("; a request hung" if one.hang else ""))
    return SoakCheck(source=settings.source, server=DEFAULT_SERVER, threads=app.threads, users=settings.users,
                     duration_s=settings.duration_s, interval_s=settings.interval_s,
                     series=tuple(series[label] for label in labels), notes=tuple(notes))


def _hold(soaked: Sequence[Soaked], start: float, settings: SoakSettings, app: ServedApp, progress: Progress) -> None:
    """Keep the load on until the soak ends, collecting samples; a server that dies is recorded and left out."""
    next_drain = start + DRAIN_S
    while time.time() < start + settings.duration_s:
        time.sleep(min(0.5, max(0.0, start + settings.duration_s - time.time())))
        for s in soaked:
            if s.ended is not None:
                continue
            code = s.server.exit_code()
            if code is not None:
                s.ended = time.time()
                s.take()
                assert s.server.faults is not None
                crash = crash_report(s.server.faults, s.server.pid, code, app.routes.get(s.label))
                progress(f"    {s.label}: the server died after {s.ended - start:.0f}s ({crash.fatal})")
                s.crash_series = SoakSeries(interpreter=s.label, requests=len(s.completions), failures=s.failures,
                                            seconds=round(s.ended - start, 1), points=(), crash=crash)
            elif s.session.exit_code() is not None:
                raise LabError(f"the soak's Locust session for {s.label} exited (status {s.session.exit_code()}); "
                               f"see {settings.log_dir / f'locust-{s.label}.log'}")
        if time.time() >= next_drain:
            for s in soaked:
                if s.ended is None:
                    s.take()
            next_drain += DRAIN_S


def _series(s: Soaked, readings: Sequence[TreeSample], start: float, end: float, app: ServedApp) -> SoakSeries:
    """Each reading paired with the requests completed by then; the GIL state and any hang at the end."""
    done = sorted(c for c in s.completions if start <= c <= end)
    points = tuple(
        SoakPoint(t=round(r.t - start, 2), requests=bisect.bisect_right(done, r.t),
                  anon_mb=None if r.anon_bytes is None else round(r.anon_bytes / 2**20, 2),
                  uss_mb=None if r.uss_bytes is None else round(r.uss_bytes / 2**20, 2),
                  pss_mb=None if r.pss_bytes is None else round(r.pss_bytes / 2**20, 2),
                  rss_mb=round(r.rss_bytes / 2**20, 2), threads=r.threads)
        for r in readings if start <= r.t <= end)
    gil: bool | None = None
    with contextlib.suppress(*NOT_ANSWERING):
        gil = s.server.fetch_runtime().gil_enabled
    hang = None
    if s.server.faults is not None:
        bound = hang_bound(latency_summary(s.latencies_ms), "the soak")
        hung = hung_requests(s.server.faults, end, bound[0])
        if hung:
            hang = hang_report(s.server.faults, s.server.pid, hung, bound, app.routes.get(s.label))
    return SoakSeries(interpreter=s.label, requests=len(done), failures=s.failures, seconds=round(end - start, 1),
                      points=points, gil_enabled=gil, crash=None, hang=hang)
