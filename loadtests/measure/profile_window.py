"""One extra window on a warm headline server, after its measured ones: the same load, sampled by perf.

The window is not one of the comparison's: its throughput is never averaged in, since
perf and the Python-level sampler take a little of the machine's CPU (the perf process
and the sampler's reads: about 2% of a core each, and the sampler's own CPU is
recorded). Inside it:

- ``perf record`` samples every thread of the server (see :mod:`.native_profile`);
- the Python-level sampler (:mod:`.python_stacks`) reads the server's Python stacks from
  another process at :data:`PYTHON_HZ`, with the server's own interpreter build;
- the server's CPU is sampled as in every window, requests are counted from Locust's
  raw samples, and the layer says which thread is what (``/lab/threads``).

What comes out is a :class:`NativeProfile`: samples per cause, per innermost function and
per kind of thread, CPU per request, with the folded stacks (native and Python) written
beside run.json for the flame graphs.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from loadtests.measure import native_causes, native_profile
from loadtests.measure.load_session import LoadSession
from loadtests.measure.runtime import NOT_ANSWERING, fetch_json
from loadtests.measure.sampling import Sampler, usage_in_window
from loadtests.measure.supervised import Supervised, supervised
from loadtests.measure.thread_kinds import fetch_kinds
from loadtests.provision.process_env import clean_env
from loadtests.results.records import (
    CellConfig,
    EndpointGlobals,
    GlobalRead,
    NativeProfile,
    ProfilingSetup,
    PythonFunctionCost,
    PythonProfile,
)

PYTHON_HZ = 99.0
SAMPLER = Path(__file__).with_name("python_stacks.py")
TOP_FUNCTIONS = 40
#: Wait for the window's time, watching the server and Locust (raises when either dies).
Wait = Callable[[float], None]


@dataclass(frozen=True)
class ProfileArm:
    """A warm server standing for one arm of a comparison."""

    config: CellConfig
    comparison_id: str
    pid: int
    base_url: str
    python: Path  # the server's interpreter: the Python-level sampler must be the same build
    tree: str  # its name in the run's Sampler


GLOBALS_PATH = "/lab/globals"


def fetch_globals(base_url: str) -> tuple[EndpointGlobals, ...]:
    """What the server's layer says each endpoint reads (empty when the layer does not answer)."""
    try:
        body = fetch_json(base_url.rstrip("/") + GLOBALS_PATH, timeout=30.0)
        return tuple(EndpointGlobals(route=str(e["route"]), endpoint=e.get("endpoint"), globals=tuple(
            GlobalRead(function=g["function"], name=g["name"], type=g["type"], value=g["value"],
                       immortal=g["immortal"]) for g in e["globals"])) for e in body["endpoints"])
    except (*NOT_ANSWERING, KeyError, TypeError, ValueError):
        return ()


def python_profile(report: Mapping[str, Any], kinds: Mapping[int, str], folded_path: Path,
                   run_dir: Path) -> PythonProfile:
    """The sampler's stacks as self and total samples per function; the folded stacks written beside run.json."""
    selfs: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    folded: Counter[str] = Counter()
    for tid, stack, cpu_us in report.get("stacks", []):
        frames = stack.split(";")
        selfs[frames[-1]] += cpu_us
        for frame in set(frames):
            totals[frame] += cpu_us
        folded[";".join([kinds.get(int(tid), "thread"), *frames])] += cpu_us
    weighed = sum(selfs.values()) or 1
    native_profile.write_folded(folded, folded_path)
    return PythonProfile(
        hz=float(report.get("hz", PYTHON_HZ)), samples=int(report.get("samples", 0)),
        on_cpu=int(report.get("on_cpu", 0)), errors=int(report.get("errors", 0)),
        sampler_cpu_s=float(report.get("cpu_s", 0.0)),
        functions=tuple(PythonFunctionCost(function=f, self_ms=round(n / 1000, 3), total_ms=round(totals[f] / 1000, 3),
                                           self_share=round(n / weighed, 4))
                        for f, n in selfs.most_common(TOP_FUNCTIONS)),
        folded=str(folded_path.relative_to(run_dir)))


def server_pids(pid: int) -> list[int]:
    """The server's process and its descendants (granian on 3.14 serves from a child process)."""
    try:
        root = psutil.Process(pid)
        return [pid, *(child.pid for child in root.children(recursive=True))]
    except psutil.NoSuchProcess:
        return [pid]


def serving_pid(pids: list[int]) -> int | None:
    """The process whose Python stacks to read: the only one, else the child that has used the most CPU (granian on
    3.14 serves from a worker process beside helpers); None when it cannot be told."""
    if len(pids) == 1:
        return pids[0]
    used = {}
    for pid in pids[1:]:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        used[pid] = times.user + times.system
    return max(used, key=lambda pid: used[pid]) if used else None


def _start_python_sampler(arm: ProfileArm, pid: int | None, seconds: float, out: Path) -> Supervised | None:
    if pid is None or not arm.python.exists():
        return None
    with out.with_suffix(".log").open("wb") as log:
        return supervised([str(arm.python), "-P", str(SAMPLER), str(pid), f"{PYTHON_HZ:g}", f"{seconds:g}",
                           str(out)], cwd=out.parent, env=clean_env(), output=log, grace=5.0)


def _python_report(process: Supervised | None, out: Path, seconds: float) -> dict[str, Any] | None:
    """The sampler's report once it has finished (it stops itself after ``seconds``), or None."""
    if process is None:
        return None
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=seconds + 30)
    process.stop(5.0)
    try:
        report = json.loads(out.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return report if isinstance(report, dict) and report.get("error") is None else None


def profile_arm(arm: ProfileArm, session: LoadSession, sampler: Sampler, setup: ProfilingSetup, transition_s: float,
                wait: Wait, out_dir: Path, run_dir: Path, connection_close: bool) -> NativeProfile:
    """The extra window on ``arm``'s server; a profile with ``error`` set when it could not be taken."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = out_dir / "perf.data"
    seconds = setup.window_s
    python: Supervised | None = None
    pids = server_pids(arm.pid)
    session.start_load(arm.base_url, arm.config.users, connection_close)
    try:
        with native_profile.recording(pids, data) as rec:
            wait(transition_s)
            python = _start_python_sampler(arm, serving_pid(pids), seconds, out_dir / "python.json")
            start_wall, start_mono = time.time(), time.monotonic()
            wait(seconds)
            end_wall, end_mono = time.time(), time.monotonic()
            error = rec.stop()
    except BaseException:
        if python is not None:
            python.stop(5.0)
        raise
    finally:
        session.stop_load()
    drained = session.drain()
    requests = sum(1 for s in drained.samples if start_wall <= s[0] < end_wall)
    usage = usage_in_window(sampler.readings(arm.tree), start_wall, end_wall)
    kinds = fetch_kinds(arm.base_url)
    server_globals = fetch_globals(arm.base_url)
    python_report = _python_report(python, out_dir / "python.json", seconds)
    samples = [] if error else native_profile.read_samples(data, start_mono, end_mono)
    data.unlink(missing_ok=True)  # tens of MB; the folded stacks keep what the report shows
    if not error and not samples:
        error = "perf recorded no sample of the server inside the window"
    attribution = native_causes.attribute(samples, setup.frequency_hz, requests, kinds, TOP_FUNCTIONS)
    folded_path = out_dir / "native.folded"
    native_profile.write_folded(native_profile.folded(samples, kinds), folded_path)
    cfg = arm.config
    return NativeProfile(
        comparison_id=arm.comparison_id, config_id=cfg.config_id, interpreter=cfg.interpreter, scenario=cfg.scenario,
        server=cfg.server, users=cfg.users, duration_s=round(end_wall - start_wall, 3), requests=requests,
        rps=round(requests / (end_wall - start_wall), 3) if end_wall > start_wall else None,
        server_cpu_cores=None if usage is None else round(usage.cpu_cores, 3), samples=len(samples),
        cpu_ms_per_request=round(len(samples) / setup.frequency_hz / requests * 1000, 3) if requests else None,
        causes=attribution.causes, functions=attribution.functions, threads=attribution.threads,
        folded=str(folded_path.relative_to(run_dir)),
        python=None if python_report is None else python_profile(python_report, kinds, out_dir / "python.folded",
                                                                 run_dir),
        error=error, globals=server_globals)
