"""Measure a plan: comparisons of warm servers, their windows alternating in blocks.

For each comparison (``plan/comparisons.py``) the runner:

1. starts one server per arm (3.14, 3.14t, 3.14 × N processes, ...) and keeps them all
   warm; it waits until each answers ``/lab/runtime`` (never a fixed sleep);
2. warms each new server up under load until its throughput is stable (``warmup.py``);
3. alternates measured windows between the arms in palindromic blocks (A B B A),
   moving the load of one Locust session from server to server; only one server
   carries load at any moment, and each switch is followed by a discarded transition;
4. after every window: reads ``/lab/runtime`` again, samples CPU, memory and threads,
   judges validity (``validity.py``) and stores the window as a cell of run.json;
5. asks the stopping rule after every block: a fixed number of pairs, or (adaptive)
   until every ratio is precise enough or the comparison's time is up.

``run.json`` is rewritten after every window, so an interrupted run keeps every
finished window and ``--resume`` continues each comparison from its finished blocks.
A window that cannot be measured honestly is kept and marked invalid with its reason.
The once-per-run steps (prepare, audit, microbenchmark) are the workflow's: the runner
only stores what they produced (:meth:`Runner.record_step`).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from loadtests.core.clock import utc_now
from loadtests.core.errors import (
    EnvironmentUnavailable,
    LabError,
    LoadGeneratorError,
    ResultsError,
    ServerError,
    ServerRefused,
)
from loadtests.core.paths import LAB_ROOT
from loadtests.core.progress import format_seconds
from loadtests.measure.capacity_search import FLOOR_RPS, Search, capacity_record, judge_step, open_window_s
from loadtests.measure.cell_draft import CellDraft
from loadtests.measure.load_session import LoadSession, OpenLoad, SessionSettings, WorkerState, load_session
from loadtests.measure.load_session import Sample as LoadSample
from loadtests.measure.load_workers import disturbance, window_workers, worker_label
from loadtests.measure.master import MasterSettings
from loadtests.measure.run_record import RunOptions, external_infos, external_mismatch, interpreter_infos, new_record
from loadtests.measure.runtime import NOT_ANSWERING
from loadtests.measure.sampling import Sampler, merge_samples, usage_in_window
from loadtests.measure.servers import (
    LOOPBACK,
    ExternalServer,
    RunningServer,
    ServerSettings,
    external_server,
    running_server,
)
from loadtests.measure.validity import (
    WindowFacts,
    idle_workers,
    judge,
    judge_open_loop,
    saturated_worker,
)
from loadtests.measure.warmup import per_second, steady
from loadtests.measure.windows import late_threshold_ms, latency_summary, open_loop_window, stats_between
from loadtests.plan.comparisons import ComparisonPlan, comparisons
from loadtests.plan.scenarios import scenario_env, scenario_file
from loadtests.provision import envs
from loadtests.provision.interpreters import Interpreter
from loadtests.results.records import (
    AuditOutcome,
    CapacityPolicy,
    Cell,
    CellConfig,
    ComparisonRun,
    GilCulprit,
    Microbench,
    Outcome,
    Plan,
    RunRecord,
    ServiceSettings,
    StepFailure,
    Stopping,
    Warmup,
)
from loadtests.results.store import cell_dir_name, load_run, new_run_dir, save_run

# Set on every server and Locust process of a run: it lets anyone (the tests, a user with
# `ps e`) find what a run started, and prove nothing outlived it.
CELL_DIR_ENV = "LAB_CELL_DIR"
EXTERNAL_SAMPLING = "unavailable: external app"
POLL_S = 0.2
Progress = Callable[[str], None]
Server = RunningServer | ExternalServer


@dataclass(frozen=True)
class Decision:
    """What the stopping rule says after a block: stop (and why), and a line of progress."""

    stop: Stopping | None
    note: str = ""


#: ``rule(comparison, cells so far, plan, seconds elapsed) -> Decision``. The workflow supplies the
#: adaptive one (it needs the paired statistics); :func:`fixed_pairs` needs none.
StopRule = Callable[[ComparisonPlan, Sequence[Cell], Plan, float], Decision]


def complete_blocks(cells: Sequence[Cell], comparison: ComparisonPlan) -> int:
    """Blocks of a comparison whose every window was measured (valid or not).

    An arm that never ran (refused, skipped: recorded once, outside any block) has no
    windows to wait for.
    """
    mine = [c for c in cells if c.comparison_id == comparison.comparison_id]
    absent = {c.config_id for c in mine if c.block is None}
    expected = sum(1 for config in comparison.block(0) if config.config_id not in absent)
    per_block: dict[int, int] = {}
    for c in mine:
        if c.block is not None:
            per_block[c.block] = per_block.get(c.block, 0) + 1
    return sum(1 for n in per_block.values() if n == expected)


def fixed_pairs(comparison: ComparisonPlan, cells: Sequence[Cell], plan: Plan, elapsed: float) -> Decision:
    """Exactly ``plan.repeats`` blocks."""
    done = complete_blocks(cells, comparison)
    return Decision("fixed pairs" if done >= plan.repeats else None, f"{done}/{plan.repeats} pairs")


class Aborted(Exception):
    """A window could not finish: the server or Locust died under it (the reason is the message)."""

    def __init__(self, outcome: Outcome, reason: str) -> None:
        super().__init__(reason)
        self.outcome = outcome


@dataclass
class Arm:
    """One configuration of a comparison and the server standing for it."""

    config: CellConfig
    server: Server | None  # None: it could not start or cannot stand for the configuration (see ``skip``)
    skip: Cell | None = None  # the record that says why
    tree: str = ""  # its name in the sampler


def server_key(config: CellConfig) -> CellConfig:
    """What decides a server: a configuration without its load (users) or its preset group."""
    return replace(config, users=1, group="")


def died_configs(arms: Sequence[Arm]) -> list[CellConfig]:
    return [a.config for a in arms if a.server is not None and a.server.exit_code() is not None]


class ServerPool:
    """The warm servers of one scenario, started and warmed up on first use, stopped with the scenario."""

    def __init__(self, runner: Runner, stack: ExitStack, sampler: Sampler, session: LoadSession) -> None:
        self.runner, self.stack, self.sampler, self.session = runner, stack, sampler, session
        self.servers: dict[CellConfig, Server] = {}
        self.failed: dict[CellConfig, tuple[Exception | None, str | None]] = {}

    def arm(self, config: CellConfig, comparison: ComparisonPlan) -> Arm:
        """The arm standing for ``config`` in ``comparison``: a warm server, or a recorded reason why none."""
        key = server_key(config)
        tree = f"server{list(self.servers).index(key) if key in self.servers else len(self.servers)}"
        arm = Arm(config, None, tree=tree)
        if key not in self.servers and key not in self.failed:
            try:
                server = self.runner._start_server(config, self.stack)
            except (ServerRefused, ServerError, LabError) as exc:
                self.failed[key] = (exc, None)
            else:
                reason = external_mismatch(config, server.runtime) if isinstance(server, ExternalServer) and \
                    server.runtime else None
                if reason:
                    self.failed[key] = (None, f"skipped: {reason}")
                else:
                    self.servers[key] = server
                    if server.pid:
                        self.sampler.add_tree(tree, [server.pid], detailed=True)
                    self.runner._warm_up(Arm(config, server, tree=tree), comparison, self.session)
        if key in self.failed:
            error, reason = self.failed[key]
            arm.skip = self.runner._unstarted(config, comparison, error, reason)
            self.runner.say(f"    {config.label}: {arm.skip.invalid_reason}")
            return arm
        arm.server = self.servers[key]
        arm.tree = f"server{list(self.servers).index(key)}"
        return arm

    def forget(self, configs: Sequence[CellConfig]) -> None:
        """Servers that died: later comparisons get a fresh start (a new server, warmed up again)."""
        for config in configs:
            key = server_key(config)
            self.servers.pop(key, None)


class Runner:
    """Runs (or resumes) one run directory."""

    def __init__(self, run_dir: Path, record: RunRecord, interpreters: Mapping[str, Interpreter],
                 on_progress: Progress | None = None, stop_rule: StopRule = fixed_pairs,
                 master: MasterSettings | None = None) -> None:
        self.run_dir = run_dir
        self.master = master  # None: no workers from elsewhere
        self.record = record
        self.by_role = dict(interpreters)  # "gil"/"ft", as provisioning.load_interpreters() returns them
        self.say = on_progress or (lambda line: print(line, file=sys.stderr, flush=True))
        self.stop_rule = stop_rule
        self.server_env: dict[str, str] = {}  # from the plan's prepare steps
        # label -> URL of an app the lab does not start, with its credentials (run.json keeps it without them)
        self.app_urls: dict[str, str] = dict(record.settings.app_urls)

    # ---- construction -------------------------------------------------------------
    @classmethod
    def start(cls, options: RunOptions, interpreters: Mapping[str, Interpreter], on_progress: Progress | None = None,
              stop_rule: StopRule = fixed_pairs) -> Runner:
        infos = {**interpreter_infos(interpreters, options.own_envs),
                 **external_infos(options.app_urls)}
        run_dir = new_run_dir(options.out_parent, options.plan.name)
        runner = cls(run_dir, new_record(options, run_dir.name, infos), interpreters, on_progress, stop_rule,
                     options.master)
        runner.app_urls = dict(options.app_urls)
        runner.save()
        return runner

    @classmethod
    def resume(cls, run_dir: Path, interpreters: Mapping[str, Interpreter], on_progress: Progress | None = None,
               stop_rule: StopRule = fixed_pairs, master: MasterSettings | None = None) -> Runner:
        record = load_run(run_dir)
        if record.complete:
            raise ResultsError(f"{run_dir} is already complete; nothing to resume.")
        return cls(Path(run_dir), record, interpreters, on_progress, stop_rule, master)

    @property
    def plan(self) -> Plan:
        """The plan stored in run.json, so --resume runs exactly what was started."""
        return self.record.settings.plan

    def save(self) -> None:
        save_run(self.run_dir, self.record)

    def record_step(self, *, microbench: Microbench | StepFailure | None = None,
                    audit: AuditOutcome | StepFailure | None = None,
                    gil_culprits: tuple[GilCulprit, ...] | None = None) -> None:
        """Store the result of a once-per-run step and save."""
        changes: dict[str, Any] = {}
        if microbench is not None:
            changes["microbench"] = microbench
        if audit is not None:
            changes["audit"] = audit
        if gil_culprits is not None:
            changes["gil_culprits"] = gil_culprits
        self.record = replace(self.record, **changes)
        self.save()

    def _add(self, **changes: Any) -> None:
        """Append to the record's tuples (cells, warmups, comparisons) and save."""
        appended: dict[str, Any] = {k: (*getattr(self.record, k), *v) for k, v in changes.items()}
        self.record = replace(self.record, **appended)
        self.save()

    # ---- running --------------------------------------------------------------------
    def pending(self) -> list[ComparisonPlan]:
        finished = {c.comparison_id for c in self.record.comparisons}
        return [c for c in comparisons(self.plan.configs) if c.comparison_id not in finished]

    def run_cells(self) -> Path:
        """Measure every pending comparison. On Ctrl-C, keep what is finished and re-raise.

        The comparisons of one scenario share one Locust session and one pool of warm
        servers: a server that stands for an arm of several comparisons (the same settings
        under other users levels) is started and warmed up once.
        """
        todo = self.pending()
        total = len(comparisons(self.plan.configs))
        self.say(f"==> run {self.record.run_id}: {len(todo)} of {total} comparisons to measure -> {self.run_dir}")
        try:
            for scenario in dict.fromkeys(c.scenario for c in todo):
                mine = [c for c in todo if c.scenario == scenario]
                with ExitStack() as stack:
                    session = stack.enter_context(self._session(mine[0]))
                    sampler = stack.enter_context(Sampler({}))
                    sampler.add_tree("client", session.pids)
                    pool = ServerPool(self, stack, sampler, session)
                    for comparison in mine:
                        if self.plan.capacity is not None:
                            self.run_capacity(comparison, pool, total, self.plan.capacity)
                        else:
                            self.run_comparison(comparison, pool, total)
        except KeyboardInterrupt:
            self.save()
            self.say(f"\ninterrupted: {len(self.record.cells)} finished windows kept in {self.run_dir / 'run.json'}\n"
                     f"complete it with: gil-lab run --resume {self.run_dir}")
            raise
        self.record = replace(self.record, complete=True, finished_at=utc_now())
        self.save()
        return self.run_dir

    @contextmanager
    def _session(self, comparison: ComparisonPlan) -> Iterator[LoadSession]:
        """The Locust session of one scenario (the team's Locust file, or the lab's scenario for it)."""
        config = comparison.arms[0]
        directory = self.run_dir / "locust" / cell_dir_name(config.scenario)
        service = self.record.settings.service
        file = Path(service.locustfile) if service and service.locustfile and config.service else \
            scenario_file(config.scenario, config.routes_dirs)
        settings = SessionSettings(
            locustfiles=(file,), log_path=directory / "locust.log",
            workers=self.record.settings.locust_workers,
            extra_env=tuple(sorted({**scenario_env(config.scenario, config.routes_dirs),
                                    CELL_DIR_ENV: str(directory)}.items())),
            open_loop=self.plan.capacity is not None,
            master=self.master or MasterSettings())
        if self.master:
            self.say(f"    Locust master on {self.master.address}: waiting up to {self.master.join_timeout_s:.0f}s "
                     f"for {settings.expected_workers} workers")
        with load_session(settings, self.say) as session:
            yield session

    def run_comparison(self, comparison: ComparisonPlan, pool: ServerPool, total: int) -> None:
        started = time.monotonic()
        done_before = len(self.record.comparisons)
        names = " vs ".join(a.label for a in comparison.arms)
        self.say(f"==> [{done_before + 1}/{total}] {comparison.comparison_id}: {names}")
        live = [arm for arm in (pool.arm(config, comparison) for config in comparison.arms) if arm.server is not None]
        if not live:
            self._finish(comparison, "no valid pair", started)
            return
        stopping: Stopping = "interrupted"
        block = self._next_block(comparison)
        while True:
            decision = self.stop_rule(comparison, self.record.cells, self.plan, time.monotonic() - started)
            if decision.stop is not None:
                stopping = decision.stop
                self.say(f"    stop: {decision.stop} ({decision.note})")
                break
            died = self._block(comparison, live, block, pool.session, pool.sampler)
            note = self.stop_rule(comparison, self.record.cells, self.plan, time.monotonic() - started).note
            self.say(f"    block {block + 1}: " + "  ".join(self._window_text(c) for c in self._block_cells(
                comparison, block)) + (f"  [{note}]" if note else "")
                     + f"  {format_seconds(time.monotonic() - started)}")
            block += 1
            if died:
                stopping = "server failed"
                self.say(f"    stop: {died}")
                pool.forget(died_configs(live))
                break
        self._finish(comparison, stopping, started)

    def run_capacity(self, comparison: ComparisonPlan, pool: ServerPool, total: int, policy: CapacityPolicy) -> None:
        """Search every arm's capacity at the SLO, the arms' steps interleaved so drift favours none."""
        started = time.monotonic()
        names = " vs ".join(a.label for a in comparison.arms)
        self.say(f"==> [{len(self.record.comparisons) + 1}/{total}] capacity of {comparison.comparison_id} at p95 < "
                 f"{policy.slo_ms:g} ms: {names}")
        live = [arm for arm in (pool.arm(config, comparison) for config in comparison.arms) if arm.server is not None]
        searches = {arm.config: Search(start=self._starting_rate(arm), resolution=policy.resolution) for arm in live}
        budget = self.plan.max_time_s
        step = self._next_block(comparison)
        out_of_time = False
        while not all(s.done for s in searches.values()):
            for slot, arm in enumerate(live):
                search = searches[arm.config]
                rate = search.next_rate
                if rate is None:
                    continue
                if budget is not None and time.monotonic() - started >= budget:
                    out_of_time = True
                    break
                self._drain(arm, pool.sampler, pool.session)
                repeat = sum(1 for c in self.record.cells if c.config_id.startswith(arm.config.config_id + "/open-"))
                load = OpenLoad(rate, policy.arrivals, policy.inflight_cap, late_threshold_ms(policy.slo_ms))
                cell = self._window(arm, comparison, step, slot, repeat, pool.session, pool.sampler, load)
                self._add(cells=(cell,))
                result = judge_step(cell, rate, policy.slo_ms, policy.max_loss)
                search.record(result)
                corrected = f"{result.p95_corrected_ms:.0f} ms" if result.p95_corrected_ms is not None else "—"
                verdict = "pass" if result.passed else "fail" if result.valid else "INVALID, search stops"
                self.say(f"    {arm.config.label} at {rate:.1f}/s: {verdict} "
                         f"(p95 {corrected} from the schedule"
                         + (f"; {result.reason}" if result.reason else "") + ")")
            if out_of_time:
                break
            step += 1
        for arm in live:
            self._add(capacities=(capacity_record(arm.config, searches[arm.config], policy, self.record.cells,
                                                  "time budget" if out_of_time and not searches[arm.config].done
                                                  else "resolution reached"),))
            best = searches[arm.config].best_step()
            self.say(f"    capacity {arm.config.label}: " + (f"{best.rate:.1f} rps" if best else "none at this SLO"))
        self._finish(comparison, "time budget" if out_of_time else "precision reached", started)

    def _starting_rate(self, arm: Arm) -> float:
        """Half of what the server completed closed-loop in its warm-up's last seconds (a rate it should pass)."""
        warmups = [w for w in self.record.warmups if w.config_id == arm.config.config_id and w.rps_series]
        if not warmups:
            return 5.0
        tail = warmups[-1].rps_series[-3:]
        return max(FLOOR_RPS * 2, 0.5 * sum(tail) / len(tail))

    def _drain(self, arm: Arm, sampler: Sampler, session: LoadSession, timeout: float = 10.0) -> None:
        """Between rate steps: wait until the server has finished the previous step's queue (its CPU goes idle)."""
        session.drain()
        if arm.server is None or not arm.server.pid:
            time.sleep(1.0)
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = time.time()
            use = usage_in_window(sampler.readings(arm.tree), now - 1.0, now)
            if use is not None and use.cpu_cores < IDLE_CORES:
                return

    def _finish(self, comparison: ComparisonPlan, stopping: Stopping, started: float) -> None:
        self._add(comparisons=(ComparisonRun(
            comparison_id=comparison.comparison_id, config_ids=tuple(a.config_id for a in comparison.arms),
            blocks=self._next_block(comparison), stopping=stopping, precision_target=self.plan.precision,
            elapsed_s=round(time.monotonic() - started, 1)),))

    def _next_block(self, comparison: ComparisonPlan) -> int:
        blocks = [c.block for c in self.record.cells if c.comparison_id == comparison.comparison_id and c.block is not None]
        return max(blocks) + 1 if blocks else 0

    def _block_cells(self, comparison: ComparisonPlan, block: int) -> list[Cell]:
        return [c for c in self.record.cells if c.comparison_id == comparison.comparison_id and c.block == block]

    @staticmethod
    def _window_text(cell: Cell) -> str:
        head = f"{cell.config.interpreter}{'×' + str(cell.config.workers) if cell.config.parallelism == 'processes' else ''}"
        return f"{head} {cell.rps:.1f}" if cell.valid and cell.rps is not None else f"{head} INVALID"

    # ---- servers ----------------------------------------------------------------------
    def _start_server(self, config: CellConfig, stack: ExitStack) -> Server:
        url = self.app_urls.get(config.interpreter)
        if url:
            return external_server(url)
        directory = self.run_dir / "servers" / cell_dir_name(server_key(config).config_id)
        service = self.record.settings.service
        python, app, app_dir = envs.app_python(config.flavour.env_name), "app.main:app", None
        if service is not None:
            python, app, app_dir = service_python(service, config.interpreter), service.app, service.app_dir
        settings = ServerSettings(
            server=config.server, python=python, workers=config.workers,
            host=self.master.bind if self.master else LOOPBACK,  # where remote workers reach it
            threads=config.threads, http=config.http, loop=config.loop, python_gil=config.python_gil,
            app=app, app_dir=None if app_dir == str(LAB_ROOT) else app_dir,
            routes_dirs=config.routes_dirs, cpus=config.cpus,
            extra_env=tuple(sorted({**self.server_env, CELL_DIR_ENV: str(directory)}.items())))
        info = self.record.interpreters.get(config.interpreter)
        version = info.packages.get(config.server) if info else None
        return stack.enter_context(running_server(settings, directory / "server.log", version))

    def _unstarted(self, config: CellConfig, comparison: ComparisonPlan, exc: Exception | None,
                   reason: str | None = None) -> Cell:
        """The one record of an arm that never ran: refused, failed to start, or skipped."""
        draft = self._draft(config, comparison, None, None)
        draft.external = bool(self.record.settings.app_urls.get(config.interpreter))
        if isinstance(exc, EnvironmentUnavailable):
            draft.fail("skipped", f"skipped: {exc}")
        elif isinstance(exc, ServerRefused):
            draft.fail("refused", f"{config.server} refused to start: {last_line(exc)}", refusal=str(exc))
        elif isinstance(exc, ServerError):
            draft.fail("server-error", f"server failed: {last_line(exc)}", error=str(exc))
        elif exc is not None:
            draft.fail("error", str(exc))
        else:
            draft.fail("skipped", reason or "skipped")
        cell = draft.freeze()
        self._add(cells=(cell,))
        return cell

    # ---- load -------------------------------------------------------------------------
    def _warm_up(self, arm: Arm, comparison: ComparisonPlan, session: LoadSession) -> None:
        """Load a new server until its throughput is stable (or the warm-up budget runs out)."""
        assert arm.server is not None
        budget = self.plan.warmup_s
        if budget <= 0:
            return
        try:
            session.wait_for_workers()
        except LoadGeneratorError as exc:
            self.say(f"    warm-up of {arm.config.label} skipped: {exc}")
            return
        session.start_load(arm.server.base_url, arm.config.users, comparison.needs_connection_close)
        start = time.time()
        completions: list[float] = []
        converged = False
        try:
            while time.time() - start < budget:
                self._sleep(1.0, arm.server, session)
                samples = session.drain().samples
                completions += [s[0] for s in samples]
                if steady(per_second(completions, start, int(time.time() - start))):
                    converged = True
                    break
        except Aborted as exc:
            self.say(f"    warm-up of {arm.config.label} aborted: {exc}")
        finally:
            session.stop_load()
            session.drain()
        seconds = time.time() - start
        series = per_second(completions, start, int(seconds))
        self._add(warmups=(Warmup(config_id=arm.config.config_id, comparison_id=comparison.comparison_id,
                                  seconds=round(seconds, 2), converged=converged, rps_series=tuple(series),
                                  started_at=utc_now()),))
        self.say(f"    warm-up {arm.config.label}: {seconds:.0f}s, per-second {list(series)}"
                 + ("" if converged else " (not stable yet: the warm-up budget ran out)"))

    def _sleep(self, seconds: float, server: Server, session: LoadSession) -> None:
        """Wait, watching the server and Locust: raise Aborted if either dies."""
        deadline = time.monotonic() + seconds
        while True:
            code = server.exit_code()
            if code is not None:
                raise Aborted("crashed", f"server crashed during the window (exit status {code})")
            code = session.exit_code()
            if code is not None:
                raise Aborted("client-error", f"load generator exited with status {code} during the window")
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(POLL_S, left))

    def _block(self, comparison: ComparisonPlan, arms: list[Arm], block: int, session: LoadSession,
               sampler: Sampler) -> str | None:
        """Measure one block; return why the comparison cannot go on (a server died), else None."""
        by_config = {a.config: a for a in arms}
        windows = [c for c in comparison.block(block) if c in by_config]
        repeats = {a.config.config_id: sum(1 for c in self.record.cells if c.config_id == a.config.config_id
                                           and c.comparison_id == comparison.comparison_id) for a in arms}
        died = None
        for slot, config in enumerate(windows):
            arm = by_config[config]
            assert arm.server is not None
            cell = self._window(arm, comparison, block, slot, repeats[config.config_id], session, sampler)
            repeats[config.config_id] += 1
            self._add(cells=(cell,))
            if cell.outcome == "crashed" or (arm.server.exit_code() is not None):
                died = f"the {config.label} server died ({cell.invalid_reason})"
        return died

    def _draft(self, config: CellConfig, comparison: ComparisonPlan, block: int | None, slot: int | None,
               repeat: int = 0) -> CellDraft:
        name = f"{config.config_id}/r{repeat}"
        cell_dir = self.run_dir / "cells" / cell_dir_name(f"{comparison.comparison_id}/{name}")
        cell_dir.mkdir(parents=True, exist_ok=True)
        session_log = self.run_dir / "locust" / cell_dir_name(config.scenario) / "locust.log"
        return CellDraft(config, repeat, cell_dir, self.run_dir, self.plan.transition_s,
                         self.record.settings.locust_workers, comparison.comparison_id, block, slot,
                         session_log=str(session_log.relative_to(self.run_dir)))

    def _window(self, arm: Arm, comparison: ComparisonPlan, block: int, slot: int, repeat: int,
                session: LoadSession, sampler: Sampler, open_load: OpenLoad | None = None) -> Cell:
        """One measured window on ``arm``'s server: closed-loop users, or open-loop arrivals at a rate."""
        server, config, plan = arm.server, arm.config, self.plan
        assert server is not None
        if open_load is not None:
            config = replace(config, load_model="open", target_rps=round(open_load.rate, 3),
                             arrivals=open_load.arrivals)  # type: ignore[arg-type]
        draft = self._draft(config, comparison, block, slot, repeat)
        draft.external = isinstance(server, ExternalServer)
        if isinstance(server, RunningServer):
            draft.server_log = str(server.log_path.relative_to(self.run_dir))
        draft.server_pid = server.pid
        draft.client_pids = tuple(session.pids)
        if draft.external:
            draft.server_sampling = EXTERNAL_SAMPLING
        try:
            workers = session.wait_for_workers()  # each window waits for every worker again
            draft.runtime_before = server.fetch_runtime()
            session.start_load(server.base_url, config.users, comparison.needs_connection_close, open_load)
            try:
                self._sleep(plan.transition_s, server, session)
                start = time.time()
                self._sleep(plan.duration_s if open_load is None else open_window_s(plan.duration_s, open_load.rate),
                            server, session)
                end = time.time()
            finally:
                if session.exit_code() is None:
                    session.stop_load()
            draft.window_start, draft.duration_s = start, end - start
            try:
                draft.runtime_after = server.fetch_runtime()
            except NOT_ANSWERING:
                draft.runtime_after = None
            self._collect(draft, arm, session, sampler, start, end, workers, open_load)
        except Aborted as exc:
            draft.fail(exc.outcome, str(exc))
            session.drain()
        except ServerError as exc:
            draft.fail("server-error", f"server failed: {last_line(exc)}", error=str(exc))
        except NOT_ANSWERING as exc:
            draft.fail("server-error", f"server failed: /lab/runtime did not answer ({exc})")
        except LoadGeneratorError as exc:
            draft.fail("client-error", f"load generator failed: {exc}")
        return draft.freeze()

    def _collect(self, draft: CellDraft, arm: Arm, session: LoadSession, sampler: Sampler, start: float,
                 end: float, locust_workers: Sequence[WorkerState] = (), open_load: OpenLoad | None = None) -> None:
        """Samples, statistics, usage and the verdict of a window that ran to its end."""
        config = arm.config
        late = session.wait_for_reports(end, [w.id for w in locust_workers])
        drained = session.drain()
        samples = drained.samples
        draft.load_workers = window_workers(session, locust_workers, drained.origins, samples, start, end, late)
        stats = stats_between(samples, start, end - start, len(locust_workers))
        write_window_files(draft.cell_dir, session, samples, start, end, drained.drops)
        open_reason = None
        if open_load is not None:
            draft.open_loop, draft.latency_corrected_ms = open_loop_window(samples, drained.drops, start, end,
                                                                           open_load.rate, open_load.late_ms)
            open_reason = judge_open_loop(draft.open_loop, self.record.settings.validity)
        server_series = sampler.readings(arm.tree) if arm.server and arm.server.pid else []
        client_series = sampler.readings("client")
        server_use = usage_in_window(server_series, start, end)
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
        draft.samples = merge_samples([s for s in server_series if start - 1 <= s.t <= end + 1],
                                      [s for s in client_series if start - 1 <= s.t <= end + 1], start)
        facts = WindowFacts(config.flavour, config.python_gil, draft.runtime_before, draft.runtime_after,
                            stats.requests, stats.failures, client_use.max_process_cores if client_use else None)
        validity = self.record.settings.validity
        reason = judge(facts, validity) or open_reason
        left = [w for w in draft.load_workers if w.left]
        if left:
            reason = reason or "Locust worker(s) left during the window: " + ", ".join(worker_label(w) for w in left)
        reason = reason or disturbance(session, drained, end)
        reason = reason or saturated_worker([(worker_label(w), w.cpu_cores) for w in draft.load_workers], validity)
        if server_use and arm.server and arm.server.pid and config.workers > 1:
            workers = {pid: cores for pid, cores in server_use.process_cores.items() if pid != arm.server.pid}
            draft.server_process_cores = tuple(sorted((round(c, 3) for c in workers.values()), reverse=True))
            if open_load is None:  # at a low arrival rate an idle worker is just a quiet one
                reason = reason or idle_workers(workers, config.workers, validity)
        if reason:
            draft.fail("measured", reason)


IDLE_CORES = 0.15  # a server below this has drained its queue


def write_window_files(directory: Path, session: LoadSession, samples: Sequence[LoadSample], start: float,
                       end: float, drops: Sequence[float] = ()) -> None:
    """Locust's CSV and HTML of the window, its raw samples, and a per-second history from them."""
    session.save_stats(directory)
    inside = sorted(s for s in samples if start <= s[0] < end)
    (directory / "locust_raw.json").write_text(json.dumps({"window_start": start, "window_end": end,
                                                           "samples": inside,
                                                           "drops": sorted(d for d in drops if start <= d < end)}))
    lines = ["Timestamp,Requests/s,Failures/s,50%,95%"]
    for second in range(int(end - start) + 1):
        bucket = [s for s in inside if start + second <= s[0] < start + second + 1]
        summary = latency_summary([s[1] for s in bucket])
        lines.append(f"{int(start) + second},{len(bucket)},{sum(1 for s in bucket if not s[2])},"
                     f"{summary.p50 if summary else ''},{summary.p95 if summary else ''}")
    (directory / "locust_stats_history.csv").write_text("\n".join(lines) + "\n")


def service_python(service: ServiceSettings, label: str) -> Path:
    """The interpreter that serves the team's app on ``label``; EnvironmentUnavailable when it has none."""
    env = service.environments.get(label)
    if env is None or not env.available or env.python is None:
        why = env.why_unavailable if env is not None else "none was prepared"
        raise EnvironmentUnavailable(f"no {label} environment for {service.app}: {why}")
    return Path(env.python)


def last_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__
