"""One measured window on one warm server, from the start of its load to a stored Cell.

First the server that carried the previous load is drained (``drain.py``). Then the load
of the scenario's Locust session moves onto the arm's server; a transition is discarded,
then the window runs (closed-loop users, or open-loop arrivals at a rate). Afterwards the
window's samples are collected, ``/lab/runtime`` is read again, the server's and the load
generator's CPU and memory are taken from the sampler with what the rest of the machine
did (steal, other work: ``noise.py``), and validity is judged (``validity.py``). A window
that cannot be measured honestly still becomes a cell, marked invalid with its reason:
nothing here raises for a failed measurement.

A server that died leaves its traceback and the requests it had in flight on the cell
(``crash``); a request still in flight long after the window's latency says it should have
ended makes the cell ``hung``, with every thread's stack (``fault_reports.py``), and its
server is not drained before the next window: a hung request never ends.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from loadtests.core.errors import LoadGeneratorError, ServerError
from loadtests.core.machine import cpu_mhz
from loadtests.measure.arm import Aborted, Arm, wait_watching
from loadtests.measure.arrivals import open_loop_window
from loadtests.measure.cell_draft import CellDraft
from loadtests.measure.drain import LastLoad
from loadtests.measure.fault_reports import crash_report, hang_bound, hang_report, hung_requests, worker_crash
from loadtests.measure.load_session import Arrival, LoadSession, OpenLoad, WorkerState
from loadtests.measure.load_session import Sample as LoadSample
from loadtests.measure.load_workers import disturbance, window_workers, worker_label
from loadtests.measure.noise import noisy_reason
from loadtests.measure.runtime import NOT_ANSWERING
from loadtests.measure.sampling import Sampler, host_in_window, merge_samples, usage_in_window
from loadtests.measure.thread_kinds import fetch_kinds
from loadtests.measure.validity import WindowFacts, idle_workers, judge, judge_open_loop, saturated_worker
from loadtests.measure.windows import latency_summary, stats_between
from loadtests.plan.comparisons import ComparisonPlan, connection_close
from loadtests.results.records import Cell, CrashReport, RouteInfo, RunSettings

EXTERNAL_SAMPLING = "unavailable: external app"


@dataclass(frozen=True)
class WindowBench:
    """What every window of one scenario shares: the run's directory and settings, the load, the sampler,
    and which server carried the last load (drained before the next)."""

    run_dir: Path
    settings: RunSettings
    session: LoadSession
    sampler: Sampler
    last_load: LastLoad = field(default_factory=LastLoad)


def measure_window(bench: WindowBench, arm: Arm, comparison: ComparisonPlan, block: int, slot: int, repeat: int,
                   open_load: OpenLoad | None = None) -> Cell:
    """One measured window on ``arm``'s server: closed-loop users, or open-loop arrivals at a rate."""
    server, config, plan, session = arm.server, arm.config, bench.settings.plan, bench.session
    assert server is not None
    if open_load is not None:
        config = replace(config, load_model="open", target_rps=round(open_load.rate, 3),
                         arrivals=open_load.arrivals)  # type: ignore[arg-type]
    draft = CellDraft.begin(bench.run_dir, bench.settings, config, comparison.comparison_id, block, slot, repeat)
    draft.external = arm.external
    draft.instance, draft.hash_seed = arm.instance, arm.hash_seed
    if arm.log_path is not None:
        draft.server_log = str(arm.log_path.relative_to(bench.run_dir))
    draft.server_pid = server.pid
    draft.client_pids = tuple(session.pids)
    if draft.external:
        draft.server_sampling = EXTERNAL_SAMPLING
    try:
        code = server.exit_code()
        if code is not None:  # it died since its last window (in another arm's window, or its warm-up)
            raise Aborted("crashed", f"the server had died before the window (exit status {code})")
        workers = session.wait_for_workers()  # each window waits for every worker again
        drained = bench.last_load.before_load()
        draft.drain_s, draft.drain_settled = drained.seconds, drained.settled
        draft.runtime_before = server.fetch_runtime()
        draft.connection_close = connection_close(config)
        session.start_load(server.base_url, config.users, draft.connection_close, open_load)
        bench.last_load.loaded(server)
        try:
            wait_watching(plan.transition_s, server, session)
            start = time.time()
            wait_watching(open_load.window_s if open_load is not None and open_load.window_s else plan.duration_s,
                          server, session)
            end = time.time()
            if open_load is not None:  # the window's last arrivals get the same time to be answered as its first
                wait_watching(open_load.grace_s, server, session)
        finally:
            if session.exit_code() is None:
                session.stop_load()
        draft.window_start, draft.duration_s = start, end - start
        try:
            draft.runtime_after = server.fetch_runtime()
        except NOT_ANSWERING:
            draft.runtime_after = None
        kinds = fetch_kinds(server.base_url) if server.pid else {}
        collect(draft, bench, arm, start, end, workers, open_load, kinds or None)
        check_faults(draft, bench, arm, end)
    except Aborted as exc:
        record_crash(draft, bench, arm)
        draft.fail(exc.outcome, str(exc) + crash_words(draft.crash))
        session.drain()
    except ServerError as exc:
        record_crash(draft, bench, arm)
        draft.fail("server-error", f"server failed: {last_line(exc)}", error=str(exc))
    except NOT_ANSWERING as exc:
        record_crash(draft, bench, arm)
        draft.fail("server-error", f"server failed: /lab/runtime did not answer ({exc})")
    except LoadGeneratorError as exc:
        draft.fail("client-error", f"load generator failed: {exc}")
    return draft.freeze()


def routes_of(bench: WindowBench, interpreter: str) -> tuple[RouteInfo, ...] | None:
    """The team's route table as ``interpreter`` imported it (names what was in flight), or None."""
    service = bench.settings.service
    inspection = service.inspections.get(interpreter) if service is not None else None
    return inspection.routes if inspection is not None else None


def record_crash(draft: CellDraft, bench: WindowBench, arm: Arm) -> None:
    """A server that has exited: what it left (its traceback, the requests in flight) goes on the cell."""
    server = arm.server
    if server is None or server.faults is None or server.exit_code() is None or draft.crash is not None:
        return
    draft.crash = crash_report(server.faults, server.pid, server.exit_code(), routes_of(bench, arm.config.interpreter))


def crash_words(crash: CrashReport | None) -> str:
    """``: Fatal Python error: Segmentation fault, with GET /crash in flight`` for a window's reason."""
    if crash is None:
        return ""
    endpoints = sorted({r.endpoint for r in crash.in_flight})
    return f": {crash.fatal}" + (f", with {', '.join(endpoints)} in flight" if endpoints else "")


def check_faults(draft: CellDraft, bench: WindowBench, arm: Arm, end: float) -> None:
    """After the load stopped: a worker that died while its server went on, or requests that hung."""
    server = arm.server
    if server is None or server.faults is None:
        return
    routes = routes_of(bench, arm.config.interpreter)
    crash = worker_crash(server.faults, routes)
    if crash is not None:
        draft.crash = crash
        draft.fault("crashed", f"a worker process (pid {crash.pid}) crashed and its server started another"
                   + crash_words(crash))
        return
    bound = hang_bound(draft.latency_ms)
    hung = hung_requests(server.faults, end, bound[0])
    if hung:
        bench.last_load.forget(server)  # a hung request never ends: waiting for it would only delay the next window
        draft.hang = hang_report(server.faults, server.pid, hung, bound, routes)
        endpoints = sorted({r.endpoint for r in draft.hang.in_flight})
        oldest = max(r.seconds for r in draft.hang.in_flight)
        draft.fault("hung", f"{len(hung)} request(s) hung: {', '.join(endpoints)} in flight for up to {oldest:.1f} s, "
                   f"over the bound of {bound[0]:g} s ({bound[1]}); every thread's stack is on the cell")


def collect(draft: CellDraft, bench: WindowBench, arm: Arm, start: float, end: float,
            locust_workers: Sequence[WorkerState] = (), open_load: OpenLoad | None = None,
            kinds: Mapping[int, str] | None = None) -> None:
    """Samples, statistics, usage and the verdict of a window that ran to its end (``kinds``: the layer's threads)."""
    config, session, sampler, validity = arm.config, bench.session, bench.sampler, bench.settings.validity
    late = session.wait_for_reports(end, [w.id for w in locust_workers])
    drained = session.drain()
    samples = drained.samples
    draft.load_workers = window_workers(session, locust_workers, drained.origins, samples, start, end, late)
    stats = stats_between(samples, start, end - start, len(locust_workers))
    write_window_files(draft.cell_dir, session, samples, start, end, drained.arrivals)
    open_reason = None
    if open_load is not None:
        window = open_loop_window(samples, drained.origins, drained.arrivals, start, end, end + open_load.grace_s,
                                  open_load.rate, open_load.late_ms, open_load.slo_ms)
        draft.open_loop, draft.latency_corrected_ms = window.stats, window.corrected
        open_reason = judge_open_loop(draft.open_loop, validity)
    sampled = arm.server is not None and bool(arm.server.pid)
    server_series = sampler.readings(arm.tree) if sampled else []
    client_series = sampler.readings("client")
    server_use = usage_in_window(server_series, start, end, kinds)
    client_use = usage_in_window(client_series, start, end)
    draft.rps, draft.requests, draft.failures = round(stats.rps, 3), stats.requests, stats.failures
    draft.latency_ms, draft.rps_series = stats.latency_ms, stats.rps_series
    draft.workers_reporting = sum(1 for w in draft.load_workers if w.requests)
    if server_use:
        draft.server_cpu_cores = round(server_use.cpu_cores, 3)
        draft.server_rss_mb_peak = round(server_use.rss_mb_peak, 1)
        draft.server_threads_peak = server_use.threads_peak
        draft.server_pss_mb_peak = None if server_use.pss_mb_peak is None else round(server_use.pss_mb_peak, 1)
        draft.server_uss_mb_peak = None if server_use.uss_mb_peak is None else round(server_use.uss_mb_peak, 1)
        draft.server_thread_cores = server_use.thread_cores
    draft.client_cpu_cores = round(client_use.cpu_cores, 3) if client_use else None
    host = host_in_window(sampler.host_readings(), start, end)
    if host is not None:
        draft.steal, draft.lab_cpu_cores = host.steal, round(host.lab_cores, 3)
        if server_use is not None and client_use is not None:
            draft.foreign_cpu_cores = round(max(0.0, host.busy_cores - server_use.cpu_cores - client_use.cpu_cores
                                                - host.lab_cores), 3)
    draft.cpu_mhz = cpu_mhz()
    draft.samples = merge_samples([s for s in server_series if start - 1 <= s.t <= end + 1],
                                  [s for s in client_series if start - 1 <= s.t <= end + 1], start)
    facts = WindowFacts(config.flavour, config.python_gil, draft.runtime_before, draft.runtime_after,
                        stats.requests, stats.failures, client_use.max_process_cores if client_use else None,
                        open_loop=open_load is not None)
    reason = judge(facts, validity) or open_reason
    left = [w for w in draft.load_workers if w.left]
    if left:
        reason = reason or "Locust worker(s) left during the window: " + ", ".join(worker_label(w) for w in left)
    reason = reason or disturbance(session, drained, locust_workers, end)
    reason = reason or saturated_worker([(worker_label(w), w.cpu_cores) for w in draft.load_workers], validity)
    if server_use and sampled and config.workers > 1:
        assert arm.server is not None
        workers = {pid: cores for pid, cores in server_use.process_cores.items() if pid != arm.server.pid}
        draft.server_process_cores = tuple(sorted((round(c, 3) for c in workers.values()), reverse=True))
        if open_load is None:  # at a low arrival rate an idle worker is just a quiet one
            reason = reason or idle_workers(workers, config.workers, validity)
    if reason:
        draft.fail("measured", reason)
    draft.noisy = noisy_reason(draft.steal, draft.foreign_cpu_cores, draft.drain_settled, draft.drain_s, validity,
                               draft.external)


def write_window_files(directory: Path, session: LoadSession, samples: Sequence[LoadSample], start: float,
                       end: float, arrivals: Sequence[Arrival] = ()) -> None:
    """Locust's CSV and HTML of the window, its raw samples (and open-loop schedule log), and a per-second history.

    The raw file keeps the open-loop arrivals due in the window and every sample of theirs, also those that
    completed after the window's end, so each arrival's figures can be recomputed from it.
    """
    session.save_stats(directory)
    due = sorted((a for a in arrivals if start <= a[0] < end), key=lambda a: a[0])
    kept = sorted(s for s in samples if start <= s[0] < end or (s[4] is not None and start <= s[4] < end))
    (directory / "locust_raw.json").write_text(json.dumps({"window_start": start, "window_end": end,
                                                           "samples": kept, "arrivals": due}))
    inside = [s for s in kept if start <= s[0] < end]
    lines = ["Timestamp,Requests/s,Failures/s,50%,95%"]
    for second in range(int(end - start) + 1):
        bucket = [s for s in inside if start + second <= s[0] < start + second + 1]
        summary = latency_summary([s[1] for s in bucket])
        lines.append(f"{int(start) + second},{len(bucket)},{sum(1 for s in bucket if not s[2])},"
                     f"{summary.p50 if summary else ''},{summary.p95 if summary else ''}")
    (directory / "locust_stats_history.csv").write_text("\n".join(lines) + "\n")


def last_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
