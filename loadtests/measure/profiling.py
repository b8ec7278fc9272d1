"""Which servers get a profile window, and when: the headline arms, once their comparison's windows are done.

A scenario and server's *headline* is the comparison a reader looks at first: 3.14t
against 3.14, one process each, PYTHON_GIL unset, at the most users (then unpinned,
then the widest thread pool). Its two arms each get one extra window
(:func:`~loadtests.measure.profile_window.profile_arm`) right after the comparison's
last block, while their servers are still warm, at the same load. A profile that cannot
be taken is recorded with its reason; it never stops the run. When perf cannot run at
all, the run records why once (``run.json``'s ``profiling``) and takes no window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from loadtests.core.errors import LabError
from loadtests.measure.arm import Aborted, Arm, wait_watching
from loadtests.measure.profile_window import ProfileArm, profile_arm
from loadtests.measure.window_measurement import WindowBench
from loadtests.plan.comparisons import ComparisonPlan, connection_close
from loadtests.results.records import CellConfig, NativeProfile, ProfilingSetup
from loadtests.results.run_writer import RunWriter
from loadtests.results.store import cell_dir_name

GIL, FT = "3.14", "3.14t"


def profiled_configs(comparison: ComparisonPlan) -> list[CellConfig]:
    """The arms worth a profile: one process of each interpreter, PYTHON_GIL unset."""
    return [c for c in comparison.arms if c.parallelism == "threads" and c.python_gil is None]


def headline_comparisons(plans: Iterable[ComparisonPlan]) -> set[str]:
    """Per scenario and server, the comparison whose 3.14t and 3.14 arms are the headline."""
    best: dict[tuple[str, str], tuple[tuple[int, bool, int], str]] = {}
    for plan in plans:
        arms = profiled_configs(plan)
        if {c.interpreter for c in arms} != {GIL, FT}:
            continue
        first = arms[0]
        rank = (first.users, first.cpus is None, first.workers * first.threads)
        key = (plan.scenario, first.server)
        if key not in best or rank > best[key][0]:
            best[key] = (rank, plan.comparison_id)
    return {comparison_id for _, comparison_id in best.values()}


def failed_profile(config: CellConfig, comparison_id: str, reason: str) -> NativeProfile:
    return NativeProfile(comparison_id=comparison_id, config_id=config.config_id, interpreter=config.interpreter,
                         scenario=config.scenario, server=config.server, users=config.users, duration_s=0.0,
                         requests=0, rps=None, server_cpu_cores=None, samples=0, cpu_ms_per_request=None, causes=(),
                         functions=(), threads=(), folded=None, python=None, error=reason)


class Profiler:
    """Takes the profile windows of a run's headline comparisons, after their measured windows."""

    def __init__(self, run: RunWriter, setup: ProfilingSetup, plans: Iterable[ComparisonPlan],
                 say: Callable[[str], None]) -> None:
        self.run, self.setup, self.say = run, setup, say
        self.targets = headline_comparisons(plans)

    def after(self, comparison: ComparisonPlan, arms: Sequence[Arm], bench: WindowBench) -> None:
        """Profile the headline arms of ``comparison`` that have a warm server and no profile yet."""
        if not self.setup.available or comparison.comparison_id not in self.targets:
            return
        done = {(p.comparison_id, p.config_id) for p in self.run.record.profiles}
        wanted = set(profiled_configs(comparison))
        for arm in arms:
            server = arm.server
            key = (comparison.comparison_id, arm.config.config_id)
            if arm.config not in wanted or key in done or server is None or not server.pid:
                continue
            profile = self._one(comparison, arm, bench)
            self.run.add_profile(profile)
            self.say(f"    profile {arm.config.label}: " + (
                f"not taken ({profile.error})" if profile.error else
                f"{profile.samples} samples, {profile.requests} requests, "
                + ", ".join(f"{c.cause} {c.share:.0%}" for c in profile.causes[:3])))

    def _one(self, comparison: ComparisonPlan, arm: Arm, bench: WindowBench) -> NativeProfile:
        server = arm.server
        assert server is not None and server.pid is not None
        target = ProfileArm(arm.config, comparison.comparison_id, server.pid, server.base_url,
                            arm.python or bench.run_dir / "no-python", arm.tree)
        out_dir = bench.run_dir / "profiles" / cell_dir_name(f"{comparison.comparison_id}/{arm.config.config_id}")
        try:
            return profile_arm(target, bench.session, bench.sampler, self.setup, bench.settings.plan.transition_s,
                               lambda seconds: wait_watching(seconds, server, bench.session), out_dir, bench.run_dir,
                               connection_close(arm.config))
        except (Aborted, LabError, OSError) as exc:
            bench.session.drain()
            return failed_profile(arm.config, comparison.comparison_id, str(exc))
