"""The tests check: the team's suite run plainly and in parallel threads on 3.14 and 3.14t, each test classified.

The passes, each a ``python -m pytest`` in the app directory (``pytest_runs.py``):

1. **plain 3.14**, **plain 3.14t**: every test once, one thread (pytest-run-parallel is
   installed but not asked for threads; a test the team forced into threads with its
   ``force_parallel_threads`` marker still gets them);
2. **parallel 3.14**, **parallel 3.14t**: ``--parallel-threads N --iterations I``: each test
   runs in N threads at once, I times in each; the tests pytest-run-parallel keeps in
   one thread (the team's ``thread_unsafe`` marker, thread-unsafe fixtures such as
   ``monkeypatch`` and ``capsys``) are listed. A test that crashed or hung in an
   interpreter's plain pass is not run again in its parallel pass;
3. **parallel 3.14t+PYTHON_GIL=0**, a risk arm, only when an import turned the GIL on
   during a 3.14t pass: without it, 3.14t's threads would not have run without the GIL;
4. **re-runs**: every test that failed in a pass (and did not fail in every plain pass
   already) runs :data:`RERUNS` more times in every pass, so its failures are counted
   over ``1 + RERUNS`` runs per pass: a race fails only in threads, a flake fails
   plainly too.

Each test's class (the first that applies): crashed, hung (in any pass); not-run (it
never ran plainly: skipped, or its fixtures failed in both plain passes);
fails-everywhere (it failed in a plain pass: not a threading problem);
fails-parallel-both (it failed in threads on 3.14: unsafe whatever the interpreter);
fails-parallel-ft-only (it failed in threads on 3.14t only: a race the GIL was hiding);
passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtests.core.flavour import FT, GIL
from loadtests.provision.test_envs import SuiteEnv
from loadtests.results.records.safety import (
    CollectionProblem,
    PassResult,
    SuiteCheck,
    SuiteEnvironment,
    SuitePass,
    SuiteTest,
    SuiteTestClass,
)
from loadtests.safety.pytest_runs import PassRun, PassSpec, run_pass

Progress = Callable[[str], None]
#: Re-runs of each failing test, in every pass.
RERUNS = 3
DEFAULT_THREADS = 4
DEFAULT_ITERATIONS = 5
DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class SuiteSettings:
    tests_path: Path
    app_dir: Path
    work_dir: Path
    threads: int = DEFAULT_THREADS
    iterations: int = DEFAULT_ITERATIONS
    timeout_s: float = DEFAULT_TIMEOUT_S
    reruns: int = RERUNS

    @property
    def argument(self) -> str:
        """The tests path as pytest gets it: relative to the app directory when inside it."""
        try:
            return str(self.tests_path.resolve().relative_to(self.app_dir.resolve()))
        except ValueError:
            return str(self.tests_path.resolve())


@dataclass
class Arm:
    spec: PassSpec
    role: str
    label: str
    run: PassRun
    reruns: list[PassRun]


def environment_record(env: SuiteEnv) -> SuiteEnvironment:
    return SuiteEnvironment(label=env.label, path=str(env.path), python=str(env.python) if env.available else None,
                            lock_sha256=env.lock_sha256, tools=dict(env.tools),
                            unavailable_package=env.unavailable_package, unavailable_reason=env.unavailable_reason)


def check_suite(environments: Mapping[str, SuiteEnv], settings: SuiteSettings, progress: Progress) -> SuiteCheck:
    """Every pass, the re-runs, and each test's class: see the module docstring."""
    started = time.monotonic()
    notes: list[str] = []
    usable = {label: env for label, env in environments.items() if env.available}
    for label, env in environments.items():
        if not env.available:
            notes.append(f"no tests environment on {label}: {env.unavailable_package} cannot be installed there; "
                         f"uv says: {(env.unavailable_reason or '').splitlines()[0] if env.unavailable_reason else ''}"
                         f". Its passes did not run; the others did.")
    arms: list[Arm] = []

    def run(name: str, role: str, label: str, threads: int, iterations: int, python_gil: str | None = None,
            skip: Sequence[str] = ()) -> Arm:
        spec = PassSpec(name, usable[label].python, threads, iterations, python_gil, skip=tuple(skip))
        progress(f"==> tests: {name}" + (f" ({threads} threads × {iterations} iterations per test)"
                                         if threads > 1 or iterations > 1 else ""))
        done = run_pass(spec, settings.argument, settings.app_dir, settings.timeout_s,
                        settings.work_dir / name.replace(" ", "-").replace("=", ""))
        arm = Arm(spec, role, label, done, [])
        arms.append(arm)
        progress(f"    {_tally(done)} in {done.seconds:.1f}s" + (f"; {done.error}" if done.error else ""))
        return arm

    plain = {label: run(f"plain {label}", "plain", label, 1, 1) for label in (GIL.label, FT.label) if label in usable}
    for label in (GIL.label, FT.label):
        if label in usable:
            stopped = [n for n, t in plain[label].run.tests.items() if t.outcome in ("crashed", "hung")]
            run(f"parallel {label}", "parallel", label, settings.threads, settings.iterations, skip=stopped)
    ft_gil = [a for a in arms if a.label == FT.label and a.run.gil_enabled]
    if ft_gil:
        modules = sorted({m for a in ft_gil for m in a.run.gil_modules}) or ["a module pytest did not name"]
        notes.append(f"an import turned the GIL on during the tests on 3.14t ({', '.join(modules)}), so its threads "
                     "did not run in parallel; the parallel pass was repeated with PYTHON_GIL=0, as a risk: those "
                     "modules then run without the GIL they asked for")
        stopped = [n for n, t in plain[FT.label].run.tests.items() if t.outcome in ("crashed", "hung")]
        run(f"parallel {FT.label}+PYTHON_GIL=0", "risk", FT.label, settings.threads, settings.iterations, "0",
            stopped)
    failing = _to_rerun(arms)
    if failing and settings.reruns:
        progress(f"==> tests: re-running {len(failing)} failing test(s) {settings.reruns} times in every pass")
        for arm in arms:
            for number in range(settings.reruns):
                spec = PassSpec(arm.spec.name, arm.spec.python, arm.spec.threads, arm.spec.iterations,
                                arm.spec.python_gil, only=tuple(failing), skip=arm.spec.skip)
                arm.reruns.append(run_pass(spec, settings.argument, settings.app_dir, settings.timeout_s,
                                           settings.work_dir / f"{arm.spec.name.replace(' ', '-')}-rerun-{number}"))
    tests = [_classify(nodeid, arms) for nodeid in _nodeids(arms)]
    problems = _problems(arms)
    if problems:
        notes.append(f"{len(problems)} module(s) or fixture(s) failed before their tests could run (see the "
                     "problems); every other test still ran")
    return SuiteCheck(
        path=settings.argument, app_dir=str(settings.app_dir), environments={
            label: environment_record(env) for label, env in environments.items()},
        threads=settings.threads, iterations=settings.iterations, timeout_s=settings.timeout_s,
        reruns=settings.reruns, arms=tuple(_pass_record(a) for a in arms), tests=tuple(tests),
        problems=tuple(problems), notes=tuple(notes), seconds=round(time.monotonic() - started, 1))


def _to_rerun(arms: Sequence[Arm]) -> list[str]:
    """Tests that failed somewhere, except those that failed in every plain pass: re-runs could not change them."""
    plain = [a for a in arms if a.role == "plain"]
    out = set()
    for arm in arms:
        for nodeid, test in arm.run.tests.items():
            if test.outcome not in ("failed", "error"):
                continue
            if plain and all(p.run.tests.get(nodeid, test).outcome in ("failed", "error") for p in plain):
                continue
            out.add(nodeid)
    return sorted(out)


def _tally(run: PassRun) -> str:
    counts: dict[str, int] = {}
    for test in run.tests.values():
        counts[test.outcome] = counts.get(test.outcome, 0) + 1
    text = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "no test ran"
    return text + (f", {len(run.collect_errors)} module(s) did not import" if run.collect_errors else "")


def _nodeids(arms: Sequence[Arm]) -> list[str]:
    seen: dict[str, None] = {}
    for arm in arms:
        for nodeid in [*arm.run.collected, *arm.run.tests]:
            seen.setdefault(nodeid, None)
    return list(seen)


def _pass_record(arm: Arm) -> SuitePass:
    return SuitePass(name=arm.spec.name, role=arm.role, interpreter=arm.label,  # type: ignore[arg-type]
                     python_gil=arm.spec.python_gil, threads=arm.spec.threads, iterations=arm.spec.iterations,
                     processes=arm.run.processes, seconds=arm.run.seconds,
                     gil_enabled=arm.run.gil_enabled if arm.label == FT.label else None,
                     gil_enabled_by=tuple(arm.run.gil_modules) if arm.label == FT.label else (),
                     error=arm.run.error)


def _result(nodeid: str, arm: Arm) -> PassResult:
    first = arm.run.tests.get(nodeid)
    if first is None:
        why = ("it crashed or hung in the plain pass" if nodeid in arm.spec.skip
               else "not collected in this pass" if nodeid not in arm.run.collected else "the pass stopped first")
        return PassResult(arm.spec.name, "not run", 0, 0, why)
    runs, failures = 1, int(first.outcome in ("failed", "error"))
    for rerun in arm.reruns:
        again = rerun.tests.get(nodeid)
        if again is not None and again.outcome not in ("skipped",):
            runs += 1
            failures += int(again.outcome in ("failed", "error", "crashed", "hung"))
    return PassResult(arm.spec.name, first.outcome, runs, failures, first.message,  # type: ignore[arg-type]
                      first.traceback)


def _classify(nodeid: str, arms: Sequence[Arm]) -> SuiteTest:
    results = [(arm, _result(nodeid, arm)) for arm in arms]
    serial = next((a.run.serial[nodeid] for a in arms if nodeid in a.run.serial and a.role != "plain"), None)

    def first(test: Callable[[Arm, PassResult], bool]) -> str | None:
        return next((r.arm for a, r in results if test(a, r)), None)

    classification: SuiteTestClass = "passes"
    decided = first(lambda a, r: r.outcome == "crashed")
    if decided:
        classification = "crashed"
    elif decided := first(lambda a, r: r.outcome == "hung"):
        classification = "hung"
    elif not any(r.outcome in ("passed", "failed") for a, r in results if a.role == "plain"):
        classification = "not-run"
        decided = first(lambda a, r: a.role == "plain")
    elif decided := first(lambda a, r: a.role == "plain" and r.failures > 0):
        classification = "fails-everywhere"
    elif decided := first(lambda a, r: a.role == "parallel" and a.label == GIL.label and r.failures > 0):
        classification = "fails-parallel-both"
    elif decided := first(lambda a, r: a.role in ("parallel", "risk") and a.label == FT.label and r.failures > 0):
        classification = "fails-parallel-ft-only"
    return SuiteTest(nodeid=nodeid, classification=classification, arms=tuple(r for _, r in results),
                     decided_by=decided, kept_serial=serial)


def _problems(arms: Sequence[Arm]) -> list[CollectionProblem]:
    """Modules that did not import, and set-up errors that stopped tests in every plain pass."""
    found: dict[tuple[str, str], list[str]] = {}
    for arm in arms:
        for nodeid, error in arm.run.collect_errors.items():
            found.setdefault((nodeid, error), []).append(arm.spec.name)
    plain = [a for a in arms if a.role == "plain"]
    for arm in plain:
        for nodeid, test in arm.run.tests.items():
            if test.outcome == "error" and all(p.run.tests.get(nodeid, test).outcome == "error" for p in plain):
                found.setdefault((nodeid, test.message or "error in set-up"), []).append(arm.spec.name)
    return [CollectionProblem(nodeid, error, tuple(dict.fromkeys(names))) for (nodeid, error), names in found.items()]
