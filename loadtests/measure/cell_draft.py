"""A window while it is measured: every figure the runner collects, frozen into a Cell at the end."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from loadtests.core.clock import utc_now
from loadtests.results.records import (
    Cell,
    CellConfig,
    CellFiles,
    CrashReport,
    HangReport,
    Latency,
    LoadWorker,
    OpenLoopStats,
    Outcome,
    RunSettings,
    RuntimeSnapshot,
    Sample,
    ThreadCores,
)
from loadtests.results.store import cell_dir_name


@dataclass
class CellDraft:
    """A window while it is being measured; :meth:`freeze` turns it into the stored record."""

    config: CellConfig
    repeat: int
    cell_dir: Path
    run_dir: Path
    transition_s: float
    locust_workers: int
    comparison_id: str | None = None
    block: int | None = None
    slot: int | None = None
    started_at: str = field(default_factory=utc_now)
    window_start: float | None = None
    duration_s: float = 0.0
    outcome: Outcome = "measured"
    invalid_reason: str | None = None
    rps: float | None = None
    requests: int = 0
    failures: int = 0
    latency_ms: Latency | None = None
    server_cpu_cores: float | None = None
    server_rss_mb_peak: float | None = None
    server_pss_mb_peak: float | None = None
    server_uss_mb_peak: float | None = None
    server_threads_peak: int | None = None
    server_process_cores: tuple[float, ...] | None = None
    server_thread_cores: tuple[ThreadCores, ...] = ()
    client_cpu_cores: float | None = None
    client_pids: tuple[int, ...] = ()
    server_pid: int | None = None
    server_sampling: str | None = None
    rps_series: tuple[int, ...] = ()
    samples: tuple[Sample, ...] = ()
    runtime_before: RuntimeSnapshot | None = None
    runtime_after: RuntimeSnapshot | None = None
    refusal: str | None = None
    error: str | None = None
    external: bool = False
    workers_reporting: int = 0
    load_workers: tuple[LoadWorker, ...] = ()
    session_log: str | None = None
    server_log: str | None = None  # relative to the run directory; None: an external app
    open_loop: OpenLoopStats | None = None
    latency_corrected_ms: Latency | None = None
    instance: int = 0
    hash_seed: int | None = None
    steal: float | None = None
    foreign_cpu_cores: float | None = None
    lab_cpu_cores: float | None = None
    cpu_mhz: float | None = None
    drain_s: float | None = None
    drain_settled: bool | None = None
    noisy: str | None = None
    connection_close: bool = False
    crash: CrashReport | None = None
    hang: HangReport | None = None

    @classmethod
    def begin(cls, run_dir: Path, settings: RunSettings, config: CellConfig, comparison_id: str,
              block: int | None, slot: int | None, repeat: int = 0) -> CellDraft:
        """A window of ``comparison_id`` about to be measured, with its own directory under ``cells/``."""
        cell_dir = run_dir / "cells" / cell_dir_name(f"{comparison_id}/{config.cell_id(repeat)}")
        cell_dir.mkdir(parents=True, exist_ok=True)
        session_log = run_dir / "locust" / cell_dir_name(config.scenario) / "locust.log"
        return cls(config, repeat, cell_dir, run_dir, settings.plan.transition_s, settings.locust_workers,
                   comparison_id, block, slot, session_log=str(session_log.relative_to(run_dir)))

    def rel(self, name: str) -> str:
        return str((self.cell_dir / name).relative_to(self.run_dir))

    def fail(self, outcome: Outcome, reason: str, **details: str) -> None:
        """Record why the window could not be measured; the first reason wins."""
        if self.invalid_reason is None:
            self.outcome, self.invalid_reason = outcome, reason
            for key, value in details.items():
                setattr(self, key, value)

    def fault(self, outcome: Outcome, reason: str) -> None:
        """A crash or a hang: it explains the window better than a figure that went wrong because of it."""
        if self.outcome == "measured":
            self.invalid_reason = None
        self.fail(outcome, reason)

    def freeze(self) -> Cell:
        answers = [r for r in (self.runtime_before, self.runtime_after) if r is not None]
        files = CellFiles(locust_csv=self.rel("locust_stats.csv"), locust_history=self.rel("locust_stats_history.csv"),
                          locust_html=self.rel("locust.html"), locust_log=self.session_log or self.rel("locust.log"),
                          server_log=None if self.external else self.server_log)
        return Cell(
            id=self.config.cell_id(self.repeat), config_id=self.config.config_id, config=self.config,
            repeat=self.repeat, valid=self.invalid_reason is None,
            outcome=self.outcome, invalid_reason=self.invalid_reason, rps=self.rps, requests=self.requests,
            failures=self.failures, latency_ms=self.latency_ms, server_cpu_cores=self.server_cpu_cores,
            server_rss_mb_peak=self.server_rss_mb_peak, server_threads_peak=self.server_threads_peak,
            server_process_cores=self.server_process_cores, client_cpu_cores=self.client_cpu_cores,
            client_pids=self.client_pids, server_pid=self.server_pid, server_sampling=self.server_sampling,
            rps_series=self.rps_series, samples=self.samples, runtime_before=self.runtime_before,
            runtime_after=self.runtime_after,
            gil_enabled=any(r.gil_enabled for r in answers) if answers else None,
            gil_enabled_by=tuple(sorted({m for r in answers for m in r.gil_enabled_by})),
            started_at=self.started_at, warmup_s=self.transition_s, duration_s=round(self.duration_s, 3),
            locust_workers=self.locust_workers, files=files, refusal=self.refusal, error=self.error,
            comparison_id=self.comparison_id, block=self.block, slot=self.slot,
            window_start=None if self.window_start is None else round(self.window_start, 3),
            server_pss_mb_peak=self.server_pss_mb_peak, server_uss_mb_peak=self.server_uss_mb_peak,
            server_thread_cores=self.server_thread_cores, workers_reporting=self.workers_reporting,
            latency_corrected_ms=self.latency_corrected_ms, open_loop=self.open_loop,
            load_workers=self.load_workers, instance=self.instance, hash_seed=self.hash_seed, steal=self.steal,
            foreign_cpu_cores=self.foreign_cpu_cores, lab_cpu_cores=self.lab_cpu_cores, cpu_mhz=self.cpu_mhz,
            drain_s=self.drain_s, drain_settled=self.drain_settled, noisy=self.noisy,
            connection_close=self.connection_close, crash=self.crash, hang=self.hang)
