"""``gil-lab threads``: the HTTP-free baseline for claims C1 (threads scale) and C3 (1-thread cost).

It runs ``microbench_worker.py`` (standard library only) inside each interpreter
variant: 3.14, 3.14t, and 3.14t with ``PYTHON_GIL=1``. Each worker process measures
every (workload, thread count) point for a fixed wall time; repeats are interleaved
(3.14, 3.14t, 3.14t+PYTHON_GIL=1, 3.14, …) and each repeat visits the points in a
rotated order, so machine drift and colleagues' load do not favour one variant.

``PYTHON_GIL`` is removed from every worker's environment and set only for the
``PYTHON_GIL=1`` variant of the free-threaded build: on a GIL build it is a fatal
startup error for ``0`` and meaningless for ``1``.

The result is the ``microbench`` section of run.json (docs/run-json.md), a
:class:`~loadtests.results.records.Microbench` record; its figures (means, speedups,
efficiency) are computed by ``analysis.microbench_stats`` when a report is built.
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from loadtests.core.clock import utc_now
from loadtests.core.errors import ConfigError, InterpreterError, MicrobenchError
from loadtests.core.flavour import FT, GIL
from loadtests.core.machine import busy_cpu_seconds, load_average, usable_cores
from loadtests.provision.json_worker import run_json_worker
from loadtests.provision.process_env import child_env
from loadtests.results.records import LoadAverage, Microbench, MicrobenchPoint, MicrobenchVariant

WORKER = Path(__file__).with_name("microbench_worker.py")
WORKLOADS = ("pure", "json", "hash")
GIL_VARIANT = GIL.label
FT_VARIANT = FT.label
FT_GIL_ON_VARIANT = f"{FT.label}+PYTHON_GIL=1"
VARIANTS = (GIL_VARIANT, FT_VARIANT, FT_GIL_ON_VARIANT)
DEFAULT_REPEATS = 3
# 3 variants × 3 workloads × 3 thread counts × 3 repeats × 0.5 s ≈ 40 s on 2 cores, plus start-up.
DEFAULT_SECONDS = 0.5
DEFAULT_WARMUP_S = 0.1


class InterpreterLike(Protocol):
    """What the microbench needs of ``interpreters.Interpreter``."""

    @property
    def path(self) -> str: ...

    @property
    def free_threaded(self) -> bool: ...

    @property
    def label(self) -> str: ...


@dataclass(frozen=True)
class MicrobenchSettings:
    """Resolved settings; ``from_mapping`` reads a preset's ``[microbench]`` table or CLI flags."""

    workloads: tuple[str, ...]
    threads: tuple[int, ...]
    repeats: int
    seconds_per_point: float
    warmup_s: float
    variants: tuple[str, ...]
    usable_cores: int

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None = None, cores: int | None = None) -> MicrobenchSettings:
        s = dict(settings or {})
        known = {"workloads", "threads", "repeats", "seconds_per_point", "seconds", "warmup_s", "variants",
                 "usable_cores"}
        unknown = sorted(set(s) - known)
        if unknown:
            raise ConfigError(f"unknown microbench setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        n = int(s.get("usable_cores") or cores or usable_cores())
        workloads = tuple(s.get("workloads") or WORKLOADS)
        bad = [w for w in workloads if w not in WORKLOADS]
        if bad:
            raise ConfigError(f"unknown microbench workload(s) {', '.join(bad)}; choose from {', '.join(WORKLOADS)}")
        threads = tuple(sorted({int(t) for t in s.get("threads") or default_thread_counts(n)}))
        if not threads or threads[0] < 1:
            raise ConfigError(f"microbench thread counts must be >= 1, got {list(threads)}")
        variants = tuple(s.get("variants") or VARIANTS)
        bad = [v for v in variants if v not in VARIANTS]
        if bad:
            raise ConfigError(f"unknown microbench variant(s) {', '.join(bad)}; choose from {', '.join(VARIANTS)}")
        repeats = int(s.get("repeats", DEFAULT_REPEATS))
        seconds = float(s.get("seconds_per_point", s.get("seconds", DEFAULT_SECONDS)))
        if repeats < 1 or seconds <= 0:
            raise ConfigError(f"microbench repeats must be >= 1 and seconds > 0 (got {repeats}, {seconds})")
        return cls(workloads, threads, repeats, seconds, float(s.get("warmup_s", DEFAULT_WARMUP_S)), variants, n)

    @property
    def estimated_seconds(self) -> float:
        per_process = len(self.workloads) * (len(self.threads) * self.seconds_per_point + self.warmup_s) + 0.1
        return per_process * len(self.variants) * self.repeats


def default_thread_counts(cores: int) -> tuple[int, ...]:
    """1, powers of two up to the usable cores, the cores themselves, and twice that.

    On 2 cores: (1, 2, 4). The 2× point shows oversubscription: more threads than
    cores must not be read as more parallelism.
    """
    cores = max(1, cores)
    counts = {1, cores, 2 * cores}
    p = 2
    while p < cores:
        counts.add(p)
        p *= 2
    return tuple(sorted(counts))


def variant_command(variant: str, interpreters: Mapping[str, InterpreterLike]) -> tuple[InterpreterLike, dict[str, str]]:
    """The interpreter and the environment one variant runs with (PYTHON_GIL only where allowed)."""
    by_label = {i.label: i for i in interpreters.values()}
    label = FT_VARIANT if variant.startswith(FT_VARIANT) else GIL_VARIANT
    interp = by_label.get(label)
    if interp is None:
        raise InterpreterError(f"no {label} interpreter for the microbench variant {variant}: run `make setup`")
    if interp.free_threaded != (label == FT_VARIANT):
        raise InterpreterError(f"{interp.path} is labelled {label} but free_threaded={interp.free_threaded}")
    env = child_env()
    if variant == FT_GIL_ON_VARIANT:
        env["PYTHON_GIL"] = "1"
    return interp, env


def point_order(workloads: Sequence[str], threads: Sequence[int], repeat: int) -> list[tuple[str, int]]:
    """All points, rotated by ``repeat`` so no point always runs first (or last) in a process."""
    pts = [(w, n) for w in workloads for n in threads]
    k = repeat % len(pts) if pts else 0
    return pts[k:] + pts[:k]


def run_worker(interp: InterpreterLike, env: Mapping[str, str], config: Mapping[str, Any], timeout: float) -> dict:
    """Run one worker process and return its parsed JSON; raise MicrobenchError on any failure."""
    cmd = [str(interp.path), "-s", str(WORKER), json.dumps(config)]
    data = run_json_worker(cmd, env, timeout, f"microbench worker on {interp.path}", MicrobenchError)
    if not isinstance(data, dict) or not isinstance(data.get("points"), list):
        raise MicrobenchError(f"microbench worker on {interp.path} returned an unexpected document")
    return data


def judge_point(variant: str, gil_enabled: bool) -> str | None:
    """Why a point cannot stand for its variant, or None."""
    if variant == FT_VARIANT and gil_enabled:
        return "the GIL was enabled in a free-threaded point (a module re-enabled it)"
    if variant == FT_GIL_ON_VARIANT and not gil_enabled:
        return "PYTHON_GIL=1 was set but the GIL was off"
    return None


def run_microbench(
    interpreters: Mapping[str, InterpreterLike],
    settings: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Microbench:
    """Measure every variant × workload × thread count × repeat; return run.json's ``microbench``.

    ``interpreters`` is what ``provisioning.load_interpreters()`` returns (role → Interpreter);
    only ``.label``, ``.path`` and ``.free_threaded`` are used.
    """
    cfg = MicrobenchSettings.from_mapping(settings)
    say = progress or (lambda _line: None)
    commands = {v: variant_command(v, interpreters) for v in cfg.variants}
    n_points = len(cfg.workloads) * len(cfg.threads)
    timeout = 60.0 + 4 * n_points * cfg.seconds_per_point * max(cfg.threads)
    say(f"==> microbench: {', '.join(cfg.workloads)} × threads {list(cfg.threads)} × {len(cfg.variants)} variants × "
        f"{cfg.repeats} repeats, {cfg.seconds_per_point:g} s per point (about {cfg.estimated_seconds:.0f} s)")
    started, t0, load_start = utc_now(), time.monotonic(), load_average()
    # what the rest of the machine does meanwhile: its busy time minus ours and our workers'
    busy_start, own_start = busy_cpu_seconds(), _own_cpu_seconds()
    points: list[MicrobenchPoint] = []
    workers: dict[str, MicrobenchVariant] = {}
    for repeat in range(cfg.repeats):
        for variant in cfg.variants:
            interp, env = commands[variant]
            config = {"workloads": list(cfg.workloads), "threads": list(cfg.threads), "seconds": cfg.seconds_per_point,
                      "warmup_s": cfg.warmup_s, "order": point_order(cfg.workloads, cfg.threads, repeat)}
            data = run_worker(interp, env, config, timeout)
            if bool(data.get("free_threaded")) != variant.startswith(FT_VARIANT):
                raise MicrobenchError(f"{interp.path} reported free_threaded={data.get('free_threaded')} "
                                      f"for the {variant} variant")
            workers.setdefault(variant, MicrobenchVariant(
                path=str(interp.path), python=data.get("python"), free_threaded=data.get("free_threaded"),
                python_gil_env="1" if variant == FT_GIL_ON_VARIANT else None, gil_flag=data.get("gil_flag"),
                gil_enabled_at_start=data.get("gil_enabled_at_start")))
            for p in data["points"]:
                gil = bool(p.get("gil_enabled"))
                reason = judge_point(variant, gil)
                points.append(MicrobenchPoint(
                    workload=p["workload"], variant=variant, threads=int(p["threads"]), repeat=repeat,
                    seconds=float(p["seconds"]), ops=int(p["ops"]), ops_per_s=float(p["ops_per_s"]),
                    cpu_cores=p.get("cpu_cores"), gil_enabled=gil, valid=reason is None, invalid_reason=reason))
            say(f"    repeat {repeat + 1}/{cfg.repeats} {variant:<20} done "
                f"({time.monotonic() - t0:.0f} s elapsed)")
    return Microbench(
        usable_cores=cfg.usable_cores, thread_counts=cfg.threads, repeats=cfg.repeats, workloads=cfg.workloads,
        variants=cfg.variants, seconds_per_point=cfg.seconds_per_point, started_at=started, finished_at=utc_now(),
        elapsed_s=round(time.monotonic() - t0, 2),
        # other processes compete for the same cores: a 1-minute load above the cores means noisy figures
        load_average=LoadAverage(load_start, load_average()), interpreters=workers, points=tuple(points),
        others_cores=_others_cores(busy_start, own_start, time.monotonic() - t0))


def _own_cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (the benchmark's workers)."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _others_cores(busy_start: float | None, own_start: float, wall: float) -> float | None:
    busy_end = busy_cpu_seconds()
    if busy_start is None or busy_end is None or wall <= 0:
        return None
    return round(max(0.0, (busy_end - busy_start) - (_own_cpu_seconds() - own_start)) / wall, 3)
