"""One measured window: what the server answered, the samples, the cell, its warm-up and comparison."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from loadtests.results.record import Record, doc, inline
from loadtests.results.records.bytecode import ModuleBytecode
from loadtests.results.records.config import (
    CellConfig,
)
from loadtests.results.records.faults import CrashReport, HangReport

Outcome = Literal["measured", "refused", "crashed", "hung", "server-error", "client-error", "skipped", "error"]


@dataclass(frozen=True)
class Software(Record):
    """A piece of software by name and version, as the server reports it."""

    name: str | None = doc("Its name (uvicorn, granian, fastapi, ...).")
    version: str | None = doc("Its version.")


@dataclass(frozen=True)
class AppIdentity(Record):
    """What the lab's layer serves inside the server."""

    target: str = doc("The app as module:attribute.")
    dir: str | None = doc("The directory put first on the import path (LAB_APP_DIR).")
    framework: Software | None = doc("The web framework and its version (fastapi, starlette), or null for "
                                           "another ASGI app.")


@dataclass(frozen=True)
class RuntimeSnapshot(Record):
    """What ``GET /lab/runtime`` answered: the app's interpreter, GIL state and packages."""

    python_version: str = doc("platform.python_version() inside the server.")
    implementation: str = doc("sys.implementation.name.")
    executable: str = doc("sys.executable inside the server.")
    free_threaded: bool = doc("Py_GIL_DISABLED build flag.")
    gil_enabled: bool = doc("sys._is_gil_enabled() when it answered.")
    gil_flag: int | None = doc("sys.flags.gil (-X gil / PYTHON_GIL), null when unset.")
    gil_enabled_by: tuple[str, ...] = doc("Modules whose import re-enabled the GIL (RuntimeWarning hook).")
    gilwatch_site_hook: bool = doc("Whether the start-up hook that records those modules was active.")
    thread_limit: int | None = doc("anyio's thread limit on the event loop that answered.")
    pid: int = doc("The process that answered.")
    threads: int | None = doc("threading.active_count() in that process.")
    server: Software = doc("The server hosting the app.")
    packages: Mapping[str, str | None] = doc("Distribution -> version inside the server.")
    orjson_available: bool | None = doc("Whether orjson imports in the server.", default=None)
    app: AppIdentity | None = doc("What the layer serves (null in answers from before the layer).", default=None)
    bytecode: ModuleBytecode | None = doc("How the answering process loaded its modules (null in answers from "
                                          "before the lab recorded it).", default=None)


@dataclass(frozen=True)
class Latency(Record):
    """Exact percentiles over the requests that completed inside the window, in milliseconds."""

    p50: float = doc("Median.")
    p95: float = doc("95th percentile.")
    p99: float = doc("99th percentile.")
    mean: float = doc("Mean.")
    max: float = doc("Slowest request.")
    p90: float | None = doc("90th percentile (null in runs recorded before it was kept).", default=None)
    p95_ci: tuple[float, float | None] | None = doc(
        "95% interval of p95 (open-loop windows): the order statistics that bound it, widened by the design effect "
        "of the arrivals over the window's p95 (bursts of slow arrivals); the upper end is null when it runs past "
        "the slowest arrival. Runs before schema version 9 hold a bootstrap interval here.", default=None)


@dataclass(frozen=True)
class Sample(Record):
    """One sampler reading, ``t`` seconds after the window started (negative during warm-up)."""

    t: float = doc("Seconds from the start of the measured window.")
    server_rss_mb: float | None = doc("RSS of the server process tree, MB (sum over processes).")
    server_threads: int | None = doc("Threads in the server process tree.")
    server_cpu_cores: float | None = doc("Busy cores of the server tree since the previous reading (null for the first).")
    client_cpu_seconds: float | None = doc("Cumulative CPU seconds of the Locust processes at this reading.")
    server_pss_mb: float | None = doc("PSS of the server process tree, MB: shared pages split between the processes "
                                      "that share them, so N workers are not counted N times.", default=None)
    server_uss_mb: float | None = doc("USS of the server process tree, MB: pages no other process shares.",
                                      default=None)


@dataclass(frozen=True)
class CellFiles(Record):
    """Where a cell's raw files are, relative to the run directory."""

    locust_csv: str = doc("Locust's stats CSV (whole run, warm-up included).")
    locust_history: str = doc("Locust's stats history CSV.")
    locust_html: str = doc("Locust's HTML report.")
    locust_log: str = doc("Locust's output.")
    server_log: str | None = doc("The server's output; null for an external app.")


@dataclass(frozen=True)
class ThreadCores(Record):
    """The server's threads of one name and one kind, and the cores they used."""

    name: str = doc("The OS thread name, e.g. the event loop's `python` or anyio's `AnyIO worker t` (the kernel "
                    "keeps 15 characters: it never says what a thread is).")
    threads: int = doc("Threads of that name.")
    cores: float = doc("Average busy cores of all of them over the window.")
    kind: str | None = doc("What the server's layer says they are (GET /lab/threads): event-loop, anyio-worker, "
                           "executor (a concurrent.futures pool), python, native, or unknown for a thread it did not "
                           "list; null when the layer was not asked (windows recorded before it was).", default=None)


@dataclass(frozen=True)
class OpenLoopStats(Record):
    """An open-loop window's schedule against what the generator did, and what became of every arrival.

    The counts of arrivals come from the generator's schedule log (every arrival is logged when it falls due),
    not from the requests that completed."""

    offered_rps: float = doc("The arrival rate asked for.")
    scheduled: int = doc("Arrivals due inside the window (by intended send time), sent or dropped.")
    sent: int = doc("Arrivals dispatched inside the window (by the time the generator dispatched them).")
    completed: int = doc("Requests completed inside the window.")
    achieved_rps: float = doc("completed ÷ window length.")
    dropped: int = doc("Arrivals not sent because the in-flight cap was full.")
    late: int = doc("Requests sent later than their schedule by more than the late threshold.")
    late_threshold_ms: float = doc("How late a send may be before it counts as late: 5% of the SLO, at least 5 ms.")
    lag_ms_p50: float | None = doc("Median scheduling lag (actual send - intended send), ms.")
    lag_ms_p99: float | None = doc("99th-percentile scheduling lag, ms.")
    lag_ms_max: float | None = doc("Largest scheduling lag, ms.")
    send_rate_error: float | None = doc("sent ÷ scheduled - 1: how far the sends fell behind the schedule.")
    unanswered: int | None = doc("Arrivals due inside the window, sent, with no answer by answer_cutoff_s after its "
                                 "end: each counts as over the SLO (latency at least the cutoff minus its intended "
                                 "send) and as lost. Null before schema version 9.", default=None)
    failed: int | None = doc("Arrivals answered with a failure (lost).", default=None)
    over_slo: int | None = doc("Arrivals without a good answer within the SLO: slower than slo_ms from the intended "
                               "send, failed, dropped or unanswered. The capacity search judges this share.",
                               default=None)
    over_slo_blocks: tuple[int, ...] = doc("over_slo counted in 5 blocks of consecutive arrivals: how bursty the "
                                           "misses were.", default=())
    answer_cutoff_s: float | None = doc("How long after the window's end the load went on so its last arrivals "
                                        "could be answered (the SLO).", default=None)
    slo_ms: float | None = doc("The SLO over_slo was counted against, ms.", default=None)


@dataclass(frozen=True)
class LoadWorker(Record):
    """One Locust worker that carried load in a window, as the lab's handshake admitted it."""

    id: str = doc("Locust's client id (host name and a random suffix).")
    host: str | None = doc("The worker's host name.")
    address: str | None = doc("The address it reached the master from.")
    remote: bool = doc("True for a worker from elsewhere (`gil-lab worker`), false for one the lab started "
                       "(--locust-workers).")
    locust_version: str | None = doc("Its Locust version (equal to the master's, or it would have been refused).")
    lab_version: str | None = doc("Its lab version (likewise).")
    clock_offset_ms: float | None = doc("Its clock minus the master's, measured at join; its samples were moved "
                                        "onto the master's clock by this much.")
    clock_rtt_ms: float | None = doc("Round trip of the best clock round: the offset is right within half of it.")
    cpu_cores: float | None = doc("Its own average busy cores over the window, measured where it runs (above the "
                                  "saturation threshold the window is invalid); null with fewer than 2 readings.")
    requests: int = doc("Requests it completed inside the window.")
    left: bool = doc("True when it went away or stopped reporting during the window (the window is invalid).")


@dataclass(frozen=True)
class Cell(Record):
    """One measured window of one configuration, valid or not (an invalid cell says why)."""

    derived_keys = ("free_threaded",)

    # Stored, not derived: an older run's ids were spelt by that lab's rules, and history and diff match on them.
    id: str = doc("config_id plus /r<repeat>.")
    config_id: str = doc("The configuration's identity (see CellConfig).")
    config: CellConfig = inline("The configuration measured: its keys sit in the cell's object (PYTHON_GIL as "
                                "python_gil_env).", renames={"python_gil": "python_gil_env"})
    repeat: int = doc("Repeat number, from 0.")
    valid: bool = doc("Whether the cell counts. Invalid cells are listed with their reason, never averaged.")
    outcome: Outcome = doc("measured, refused (the server will not run 3.14t with the GIL on), crashed (see crash), "
                           "hung (a request outlived the window's hang bound: see hang), server-error, client-error, "
                           "skipped (an --app-url app cannot stand for this cell) or error.")
    invalid_reason: str | None = doc("Why the cell is invalid (null when valid).")
    rps: float | None = doc("Requests per second over the measured window (successful and failed).")
    requests: int = doc("Requests completed inside the window.")
    failures: int = doc("Of those, failed ones.")
    latency_ms: Latency | None = doc("Latency percentiles; null when no request completed.")
    server_cpu_cores: float | None = doc("Average busy cores of the server process tree during the window.")
    server_rss_mb_peak: float | None = doc("Peak RSS of the server process tree, MB (sum over processes).")
    server_threads_peak: int | None = doc("Peak threads in the server process tree.")
    server_process_cores: tuple[float, ...] | None = doc(
        "With workers > 1: average cores of each worker process, busiest first (a worker under 0.1 cores makes an "
        "N-process cell invalid); else null.")
    client_cpu_cores: float | None = doc("Average CPU cores of the Locust processes on the lab's machine (workers "
                                         "elsewhere: load_workers).")
    client_pids: tuple[int, ...] = doc("The Locust processes the cell started.")
    server_pid: int | None = doc("The server process the cell started (null for an external app).")
    server_sampling: str | None = doc("Why the server was not sampled (\"unavailable: external app\"), else null.")
    rps_series: tuple[int, ...] = doc("Requests completed in each second of the window.")
    samples: tuple[Sample, ...] = doc("Sampler readings through warm-up and window.")
    runtime_before: RuntimeSnapshot | None = doc("/lab/runtime before the window (null if it never answered).")
    runtime_after: RuntimeSnapshot | None = doc("/lab/runtime after the window (null if it stopped answering).")
    gil_enabled: bool | None = doc("True if the server reported the GIL on before OR after the window.")
    gil_enabled_by: tuple[str, ...] = doc("Modules that re-enabled the GIL, from both answers.")
    started_at: str = doc("ISO 8601 UTC.")
    warmup_s: float = doc("Discarded warm-up, seconds.")
    duration_s: float = doc("Measured window, seconds.")
    locust_workers: int = doc("Locust worker processes (0: one standalone process).")
    files: CellFiles = doc("The cell's raw files.")
    refusal: str | None = doc("The server's full refusal message when outcome is refused.")
    error: str | None = doc("The full error when outcome is server-error.")
    comparison_id: str | None = doc("The comparison this window belongs to (its arms alternate in blocks); null for "
                                    "cells measured one at a time.", default=None)
    block: int | None = doc("The block (one pair: A B B A or B A A B) within the comparison.", default=None)
    slot: int | None = doc("The window's position inside its block, from 0.", default=None)
    window_start: float | None = doc("Start of the measured window, Unix time on the lab's clock.", default=None)
    server_pss_mb_peak: float | None = doc("Peak PSS of the server process tree, MB (what multi-process "
                                           "comparisons use).", default=None)
    server_uss_mb_peak: float | None = doc("Peak USS of the server process tree, MB.", default=None)
    server_thread_cores: tuple[ThreadCores, ...] = doc("The server's CPU by thread name over the window, busiest "
                                                       "first: shows whether the event loop or the worker threads "
                                                       "did the work.", default=())
    workers_reporting: int = doc("Locust workers whose samples reached the lab (0: one standalone process).",
                                 default=0)
    latency_corrected_ms: Latency | None = doc("Open loop: latency from the intended send time, which includes "
                                               "the queueing a closed loop hides (coordinated omission).",
                                               default=None)
    open_loop: OpenLoopStats | None = doc("Open loop: how well the generator kept its schedule.", default=None)
    load_workers: tuple[LoadWorker, ...] = doc("The Locust workers of the window, local and remote ([] for one "
                                               "standalone process).", default=())
    instance: int = doc("The server instance that measured the window, from 0: each instance is a fresh start of "
                        "the configuration's server (new processes, a new hash seed), so windows of one instance "
                        "share what a second run would not.", default=0)
    hash_seed: int | None = doc("PYTHONHASHSEED of that server instance (null: not set by the lab).", default=None)
    steal: float | None = doc("Share of the machine's CPU time the hypervisor gave to other guests during the "
                              "window (steal in /proc/stat), 0-1; null where the kernel does not report it.",
                              default=None)
    foreign_cpu_cores: float | None = doc("Cores busy during the window outside the server's and Locust's process "
                                          "trees and the lab's own process: other work on the machine (other "
                                          "servers of the comparison included, which should be idle); null when "
                                          "the server was not sampled.", default=None)
    lab_cpu_cores: float | None = doc("Cores the lab's own process used during the window (its sampler and "
                                      "bookkeeping).", default=None)
    cpu_mhz: float | None = doc("Mean CPU clock over the usable CPUs at the window's end, MHz (cpufreq where the "
                                "kernel has it, else /proc/cpuinfo); null where neither is exposed.", default=None)
    drain_s: float | None = doc("Time spent before the window waiting for the previous window's server to finish "
                                "its requests and go idle.", default=None)
    drain_settled: bool | None = doc("Whether that server settled (no request in flight, CPU idle) before the drain's "
                                     "bound; false: the window started anyway, and is marked noisy.", default=None)
    noisy: str | None = doc("Why the machine was visibly busy elsewhere during the window (steal or foreign CPU "
                            "over the run's bounds, or an unsettled drain); null: it was not.", default=None)
    connection_close: bool = doc("Whether the window's users opened a new connection per request (the N-process "
                                 "arm, so the kernel spreads the load over its processes); false: kept-alive "
                                 "connections.", default=False)
    superseded: bool = doc("A noisy window measured again at once: kept for the record, not counted. A noisy window "
                           "that was not measured again (the repeat allowance was spent) counts, flagged.",
                           default=False)
    crash: CrashReport | None = doc("A server process that died in or before this window: its traceback and the "
                                    "requests in flight; null otherwise.", default=None)
    hang: HangReport | None = doc("Requests in flight far longer than this window's latency, with every thread's "
                                  "stack; null otherwise.", default=None)

    @property
    def free_threaded(self) -> bool:
        """Whether the interpreter is the free-threaded build."""
        return self.config.flavour.free_threaded


@dataclass(frozen=True)
class Warmup(Record):
    """A server's warm-up before its first measured window: load until throughput is stable."""

    config_id: str = doc("The configuration the server runs.")
    comparison_id: str = doc("The comparison it was started for.")
    seconds: float = doc("How long the load ran before the server counted as warm.")
    converged: bool = doc("Whether throughput became stable; false when warmup_s ran out first.")
    rps_series: tuple[int, ...] = doc("Requests completed in each second of the warm-up: the evidence.")
    started_at: str = doc("ISO 8601 UTC.")
    instance: int = doc("The server instance warmed up (a fresh start), from 0 within its comparison.", default=0)
    hash_seed: int | None = doc("PYTHONHASHSEED of that instance.", default=None)
    completions: int | None = doc("Requests completed during the warm-up.", default=None)
    block_rates: tuple[float, float] | None = doc("Completion rates (per second) of the last two blocks of "
                                                  "completions the steady-state test compared.", default=None)
    startup_s: float | None = doc("Seconds from starting the server to its first answer of /lab/runtime.",
                                  default=None)
    idle_rss_mb: float | None = doc("RSS of the server's process tree after start-up, before any load, MB.",
                                    default=None)
    idle_uss_mb: float | None = doc("USS of the server's process tree after start-up, before any load, MB.",
                                    default=None)
    idle_pss_mb: float | None = doc("PSS of the server's process tree after start-up, before any load, MB.",
                                    default=None)


Stopping = Literal["fixed pairs", "precision reached", "planned pairs", "time budget", "interrupted", "no valid pair",
                   "server failed", "server hung"]


@dataclass(frozen=True)
class ComparisonRun(Record):
    """How a comparison's alternation ended, recorded when it ends."""

    comparison_id: str = doc("The comparison.")
    config_ids: tuple[str, ...] = doc("Its arms, in the order of the first block.")
    blocks: int = doc("Blocks measured (complete or not).")
    stopping: Stopping = doc("fixed pairs (no precision target), precision reached (the pairs the pilot fixed, "
                             "and the interval is within the target), planned pairs (those pairs, and the "
                             "interval came out wider), time budget (stopped "
                             "imprecise), interrupted, no valid pair (no arm could run), server failed (a "
                             "server died mid-comparison) or server hung (a request outlived the hang bound).")
    precision_target: float | None = doc("The target it alternated towards, or null.")
    elapsed_s: float = doc("Wall time of the whole comparison, warm-ups included.")
    pilot_pairs: int | None = doc("Valid pairs of the pilot stage, whose spread fixed the number of pairs (null: a "
                                  "fixed number of pairs).", default=None)
    pilot_log_sd: float | None = doc("The largest log standard deviation of a ratio's pairs in the pilot.",
                                     default=None)
    planned_pairs: int | None = doc("Valid pairs the pilot fixed for the whole comparison (within the time budget).",
                                    default=None)
    instances: int = doc("Server instances each arm ran on.", default=1)
    noisy_repeats: int = doc("Windows measured again because the machine was busy elsewhere.", default=0)
    log_sd_pairs: float | None = doc("Variance components of its widest ratio at the end: the log ratio's standard "
                                     "deviation between pairs of one server instance...", default=None)
    log_sd_instances: float | None = doc("... and between instances (0 when they agree; null with one instance).",
                                         default=None)
