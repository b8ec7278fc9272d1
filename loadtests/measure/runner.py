"""Measure a plan: every pending comparison, scenario by scenario, on warm servers.

The pieces, each in its own module:

- the run's record and its saving (``results/run_writer.py``): run.json is rewritten
  after every window, so an interrupted run keeps every finished window and
  ``--resume`` continues each comparison from its finished blocks;
- the server pool and its launcher (``server_pool.py``): one server per distinct
  configuration of a scenario, started once, warmed up once (``warmup.py``);
- one window (``window_measurement.py``): load, samples, CPU and memory, validity, a Cell;
- the paired comparison loop (``comparison_loop.py``): windows in palindromic blocks
  until the stopping rule says stop;
- the capacity loop (``capacity_loop.py``): each arm's search for its rate at the SLO;
- the profile windows (``profiling.py``): when the plan asks, each headline server is
  sampled by perf once its comparison's windows are done.

The runner holds them together: one Locust session and one sampler per scenario, the
loop the plan asks for, and Ctrl-C. The once-per-run steps (prepare, audit,
microbenchmark, GIL culprits) are the workflow's; it stores them through :attr:`Runner.run`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

from loadtests.measure import native_profile
from loadtests.measure.capacity_loop import CapacityComparison
from loadtests.measure.comparison_loop import PairedComparison, StopRule, fixed_pairs
from loadtests.measure.load_session import LoadSession, SessionSettings, load_session
from loadtests.measure.master import MasterSettings
from loadtests.measure.profile_window import PYTHON_HZ
from loadtests.measure.profiling import Profiler
from loadtests.measure.run_record import RunOptions, external_infos, interpreter_infos, new_record
from loadtests.measure.sampling import Sampler
from loadtests.measure.server_pool import CELL_DIR_ENV, ServerLauncher, ServerPool
from loadtests.measure.servers import LOOPBACK
from loadtests.measure.window_measurement import WindowBench
from loadtests.plan.comparisons import ComparisonPlan, comparisons
from loadtests.plan.scenarios import scenario_env, scenario_file
from loadtests.plan.tuning import confirm_comparison, screens, tuned_benches
from loadtests.provision.interpreters import Interpreter
from loadtests.results.records import Plan
from loadtests.results.run_writer import RunWriter
from loadtests.results.store import cell_dir_name, new_run_dir

Progress = Callable[[str], None]


class Runner:
    """Runs (or resumes) one run directory."""

    def __init__(self, run: RunWriter, interpreters: Mapping[str, Interpreter], on_progress: Progress | None = None,
                 stop_rule: StopRule = fixed_pairs, master: MasterSettings | None = None) -> None:
        self.run = run
        self.master = master  # None: no workers from elsewhere
        self.by_role = dict(interpreters)  # "gil"/"ft", as provisioning.load_interpreters() returns them
        self.say = on_progress or (lambda line: print(line, file=sys.stderr, flush=True))
        self.stop_rule = stop_rule
        self.server_env: dict[str, str] = {}  # from the plan's prepare steps
        # label -> URL of an app the lab does not start, with its credentials (run.json keeps it without them)
        self.app_urls: dict[str, str] = dict(run.record.settings.app_urls)

    @classmethod
    def start(cls, options: RunOptions, interpreters: Mapping[str, Interpreter], on_progress: Progress | None = None,
              stop_rule: StopRule = fixed_pairs) -> Runner:
        infos = {**interpreter_infos(interpreters, options.own_envs), **external_infos(options.app_urls)}
        run_dir = new_run_dir(options.out_parent, options.plan.name)
        run = RunWriter.create(run_dir, new_record(options, run_dir.name, infos))
        runner = cls(run, interpreters, on_progress, stop_rule, options.master)
        runner.app_urls = dict(options.app_urls)
        return runner

    @property
    def run_dir(self) -> Path:
        return self.run.run_dir

    @property
    def plan(self) -> Plan:
        return self.run.plan

    def pending(self) -> list[ComparisonPlan]:
        finished = self.run.finished_comparisons()
        return [c for c in comparisons(self.plan.configs) if c.comparison_id not in finished]

    def confirmations(self, scenario: str) -> list[ComparisonPlan]:
        """A capacity plan's tunings of ``scenario`` whose screen is done: each side's best setting, to search
        again (``plan/tuning.py``); those already measured are left out."""
        if self.plan.capacity is None:
            return []
        finished = self.run.finished_comparisons()
        found = [confirm_comparison(bench, self.run.record.capacities)
                 for bench in tuned_benches(c for c in self.plan.configs if c.scenario == scenario)]
        return [c for c in found if c is not None and c.comparison_id not in finished]

    def run_cells(self) -> Path:
        """Measure every pending comparison. On Ctrl-C, keep what is finished and re-raise.

        The comparisons of one scenario share one Locust session and one pool of warm
        servers: a server that stands for an arm of several comparisons (the same settings
        under other users levels) is started and warmed up once.
        """
        todo = self.pending()
        total = len(comparisons(self.plan.configs)) + (len(tuned_benches(self.plan.configs)) if self.plan.capacity else 0)
        record = self.run.record
        self.say(f"==> run {record.run_id}: {len(todo)} of {total} comparisons to measure -> {self.run_dir}")
        launcher = ServerLauncher(self.run_dir, record.settings, record.interpreters,
                                  self.master.bind if self.master else LOOPBACK, self.server_env,
                                  app_urls=self.app_urls, bytecode=record.bytecode)
        profiler = self._profiler()
        try:
            scenarios = {c.scenario for c in todo} | {c.scenario for c in self.plan.configs
                                                        if self.confirmations(c.scenario)}
            for scenario in dict.fromkeys(c.scenario for c in self.plan.configs if c.scenario in scenarios):
                mine = [c for c in todo if c.scenario == scenario]
                with ExitStack() as stack:
                    session = stack.enter_context(self._session(mine[0] if mine else self.confirmations(scenario)[0]))
                    sampler = stack.enter_context(Sampler({}))
                    sampler.add_tree("client", session.pids)
                    bench = WindowBench(self.run_dir, record.settings, session, sampler)
                    pool = ServerPool(launcher.start, stack, bench, self.run, self.say)
                    if self.plan.capacity is None:
                        paired = PairedComparison(self.run, pool, self.stop_rule, self.say,
                                                  profiler.after if profiler else None)
                        for comparison in mine:
                            paired.measure(comparison, total)
                        continue
                    loop = CapacityComparison(self.run, pool, self.plan.capacity, self.say)
                    for comparison in mine:
                        loop.measure(comparison, total, "screen" if screens(comparison, self.plan.configs) else "search")
                    for comparison in self.confirmations(scenario):  # the best settings, searched afresh
                        loop.measure(comparison, total, "confirm")
        except KeyboardInterrupt:
            self.run.save()
            self.say(f"\ninterrupted: {len(self.run.record.cells)} finished windows kept in "
                     f"{self.run_dir / 'run.json'}\ncomplete it with: gil-lab run --resume {self.run_dir}")
            raise
        self.run.finish()
        return self.run_dir

    def _profiler(self) -> Profiler | None:
        """The profile windows, when the plan asks for them; whether perf can run here is recorded once."""
        if not self.plan.profile or self.plan.capacity is not None:
            return None
        setup = self.run.record.profiling
        if setup is None:
            setup = native_profile.setup(PYTHON_HZ)
            self.run.record_step(profiling=setup)
            self.say("==> profiles: " + (f"perf {setup.event} at {setup.frequency_hz} Hz, {setup.unwinding} unwinding, "
                                         f"a {setup.window_s:g} s window per headline server" if setup.available
                                         else f"not taken: {setup.reason}. {setup.remedy}"))
        return Profiler(self.run, setup, comparisons(self.plan.configs), self.say)

    @contextmanager
    def _session(self, comparison: ComparisonPlan) -> Iterator[LoadSession]:
        """The Locust session of one scenario (the team's Locust file, or the lab's scenario for it)."""
        config = comparison.arms[0]
        directory = self.run_dir / "locust" / cell_dir_name(config.scenario)
        settings = self.run.record.settings
        service = settings.service
        file = Path(service.locustfile) if service and service.locustfile and config.service else \
            scenario_file(config.scenario, config.routes_dirs)
        session_settings = SessionSettings(
            locustfiles=(file,), log_path=directory / "locust.log", workers=settings.locust_workers,
            extra_env=tuple(sorted({**scenario_env(config.scenario, config.routes_dirs),
                                    CELL_DIR_ENV: str(directory)}.items())),
            open_loop=self.plan.capacity is not None,
            master=self.master or MasterSettings())
        if self.master:
            self.say(f"    Locust master on {self.master.address}: waiting up to {self.master.join_timeout_s:.0f}s "
                     f"for {session_settings.expected_workers} workers")
        with load_session(session_settings, self.say) as session:
            yield session
