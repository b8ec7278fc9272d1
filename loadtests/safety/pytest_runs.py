"""One pass of a team's suite: ``python -m pytest`` in the app directory, resumed after every crash or hang.

The pass runs the tests environment's interpreter with the lab's plugin
(``plugin/gil_lab_safety_plugin.py``), under a supervisor so it dies with the lab. When
the interpreter crashes (a segfault: the plugin's faulthandler has every thread's
traceback) or a test outlives the per-test timeout (the plugin's watchdog dumps every
thread's stack and exits), the test that was running is recorded as crashed or hung
and pytest starts again without the tests that already ran. A process that stops
reporting for longer than the timeout outside any test is stopped and recorded too.
Nothing that finished before is lost: the plugin wrote it down as it happened.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadtests.measure.supervised import supervised
from loadtests.provision.interpreters import clean_env

PLUGIN_DIR = Path(__file__).resolve().parent / "plugin"
PLUGIN = "gil_lab_safety_plugin"
#: How long a pytest process may stay silent beyond the per-test timeout (collection, session tear-down).
SILENCE_GRACE_S = 120.0
STOP_GRACE_S = 5.0
#: A pass gives up after this many crashes and hangs in a row with no test finishing between them.
MAX_RESTARTS = 50
FAULT_LINES = 80


@dataclass(frozen=True)
class PassSpec:
    """One pass: which interpreter, how many threads, which tests."""

    name: str
    python: Path
    threads: int = 1
    iterations: int = 1
    python_gil: str | None = None
    only: tuple[str, ...] | None = None  # re-runs: just these node ids
    skip: tuple[str, ...] = ()  # tests not to run (they crashed or hung in the plain pass)

    @property
    def parallel(self) -> bool:
        return self.threads > 1 or self.iterations > 1


@dataclass
class OneTest:
    """What one test did in one pass."""

    nodeid: str
    outcome: str = "passed"  # passed, failed, error, skipped, crashed, hung
    message: str | None = None
    traceback: str | None = None


@dataclass
class PassRun:
    """Everything a pass learned: per test, what pytest-run-parallel kept serial, collection errors, the GIL."""

    tests: dict[str, OneTest] = field(default_factory=dict)
    collected: list[str] = field(default_factory=list)
    serial: dict[str, str] = field(default_factory=dict)
    collect_errors: dict[str, str] = field(default_factory=dict)
    gil_modules: list[str] = field(default_factory=list)
    gil_enabled: bool | None = None
    processes: int = 0
    seconds: float = 0.0
    error: str | None = None  # the pass could not run at all (pytest's usage error, nothing collected, ...)
    run_parallel: bool = False


def command(spec: PassSpec, tests_path: str, app_dir: Path) -> list[str]:
    args = [str(spec.python), "-m", "pytest", tests_path, "-p", PLUGIN, "-p", "no:faulthandler",
            "-p", "no:cacheprovider", "--rootdir", str(app_dir), "--continue-on-collection-errors", "-q",
            "--no-header", "-rN", "--color=no"]
    if spec.parallel:
        args += ["--parallel-threads", str(spec.threads), "--iterations", str(spec.iterations),
                 "--ignore-gil-enabled"]
    return args


def run_pass(spec: PassSpec, tests_path: str, app_dir: Path, timeout_s: float, work_dir: Path) -> PassRun:
    """Run the pass to its end, resuming after each crash or hang (see the module docstring)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    result = PassRun()
    done: set[str] = set(spec.skip)
    started = time.monotonic()
    restarts = 0
    while True:
        number = result.processes
        events_path, faults_path = work_dir / f"events-{number}.jsonl", work_dir / f"faults-{number}.txt"
        skip_path = work_dir / f"skip-{number}.txt"
        skip_path.write_text("".join(f"{n}\n" for n in sorted(done)))
        env = _environment(spec, events_path, faults_path, skip_path, timeout_s, work_dir)
        code = _run(command(spec, tests_path, app_dir), app_dir, env, work_dir / f"pytest-{number}.log",
                    events_path, timeout_s)
        result.processes += 1
        events = _events(events_path)
        unfinished = _absorb(result, events)
        ended = any(e["event"] == "end" for e in events)
        if unfinished is None:
            if not ended and not events:
                result.error = _no_session(code, work_dir / f"pytest-{number}.log")
            elif not ended and isinstance(code, int) and code < 0:
                result.error = f"pytest died (signal {-code}) outside any test; see {work_dir}"
            break
        faults = _tail(faults_path, FAULT_LINES)
        hung = code == "silent" or "Timeout (" in faults
        result.tests[unfinished] = OneTest(
            unfinished, "hung" if hung else "crashed",
            (f"still running after {timeout_s:g}s" if hung else _crash_line(code, faults)),
            faults or None)
        done |= set(result.tests) | {unfinished}
        restarts += 1
        if restarts > MAX_RESTARTS:
            result.error = f"stopped after {MAX_RESTARTS} crashes and hangs; the tests not run are listed as such"
            break
        if not set(result.collected) - done:
            break
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _environment(spec: PassSpec, events: Path, faults: Path, skip: Path, timeout_s: float,
                 work_dir: Path) -> dict[str, str]:
    extra = {
        "PYTHONPATH": os.pathsep.join([str(PLUGIN_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "GIL_LAB_SAFETY_EVENTS": str(events), "GIL_LAB_SAFETY_FAULTS": str(faults),
        "GIL_LAB_SAFETY_SKIP": str(skip), "GIL_LAB_SAFETY_TIMEOUT": f"{timeout_s:g}", "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    if spec.only is not None:
        only = work_dir / "only.txt"
        only.write_text("".join(f"{n}\n" for n in spec.only))
        extra["GIL_LAB_SAFETY_ONLY"] = str(only)
    if spec.python_gil is not None:
        extra["PYTHON_GIL"] = spec.python_gil
    return clean_env(extra)


def _run(args: list[str], cwd: Path, env: Mapping[str, str], log: Path, events: Path,
         timeout_s: float) -> int | str | None:
    """The process's exit status, or "silent" when it stopped reporting and was stopped."""
    silence = timeout_s + SILENCE_GRACE_S
    with log.open("ab") as output:
        output.write(f"$ {' '.join(args)}\n".encode())
        output.flush()
        process = supervised(args, cwd=cwd, env=env, output=output, grace=STOP_GRACE_S)
        last_size, last_change = -1, time.monotonic()
        try:
            while True:
                code = process.poll()
                if code is not None:
                    return code
                size = events.stat().st_size if events.exists() else 0
                if size != last_size:
                    last_size, last_change = size, time.monotonic()
                elif time.monotonic() - last_change > silence:
                    process.stop(STOP_GRACE_S)
                    return "silent"
                time.sleep(0.1)
        finally:
            if process.poll() is None:
                process.stop(STOP_GRACE_S)


def _events(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the last line of a process that died mid-write
    return out


def _absorb(result: PassRun, events: Sequence[dict[str, Any]]) -> str | None:
    """Fold one process's events into the pass; the node id of a test that started and never finished."""
    running: str | None = None
    for event in events:
        kind = event["event"]
        if kind == "collected":
            result.run_parallel = bool(event.get("run_parallel"))
            result.collected += [n for n in event["nodeids"] if n not in result.collected]
            result.serial.update(event.get("serial") or {})
        elif kind == "collect_error":
            result.collect_errors[event["nodeid"]] = event["error"]
        elif kind == "start":
            running = event["nodeid"]
            result.tests.setdefault(running, OneTest(running))
        elif kind == "report":
            _report(result.tests.setdefault(event["nodeid"], OneTest(event["nodeid"])), event)
        elif kind == "finish":
            running = None
        elif kind == "gil" and event["module"] not in result.gil_modules:
            result.gil_modules.append(event["module"])
        if event.get("gil") is not None:  # on once is on for the life of the process
            result.gil_enabled = bool(event["gil"]) or bool(result.gil_enabled)
    return running


def _report(test: OneTest, event: Mapping[str, Any]) -> None:
    outcome, when = event["outcome"], event["when"]
    if outcome == "failed":
        if test.outcome in ("passed", "skipped"):
            test.outcome = "failed" if when == "call" else "error"
            test.message = (f"in {when}: " if when != "call" else "") + (event.get("message") or "failed")
    elif outcome == "skipped" and test.outcome == "passed":
        test.outcome = "skipped"
        test.message = event.get("message")


def _tail(path: Path, lines: int) -> str:
    if not path.is_file():
        return ""
    kept = path.read_text(errors="replace").strip().splitlines()
    return "\n".join(kept[-lines:] if len(kept) > lines else kept)


def _crash_line(code: int | str | None, faults: str) -> str:
    fatal = next((line for line in faults.splitlines() if line.startswith("Fatal Python error")), None)
    if fatal:
        return fatal
    if isinstance(code, int) and code < 0:
        return f"the interpreter was killed by signal {-code}"
    return f"the interpreter exited with status {code} in the middle of the test"


def _no_session(code: int | str | None, log: Path) -> str:
    tail = _tail(log, 12)
    return f"pytest did not start a session (exit status {code}); its output ends:\n{tail}"
