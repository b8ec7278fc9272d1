"""``gil-lab threads``: the HTTP-free baseline for claims C1 (threads scale) and C3 (1-thread cost).

It runs ``microbench_worker.py`` (standard library only) inside each interpreter
variant: 3.14, 3.14t, and 3.14t with ``PYTHON_GIL=1``. Each worker process measures
every (workload, thread count) point for a fixed wall time; repeats are interleaved
(3.14, 3.14t, 3.14t+PYTHON_GIL=1, 3.14, …) and each repeat visits the points in a
rotated order, so machine drift and colleagues' load do not favour one variant.

``PYTHON_GIL`` is removed from every worker's environment and set only for the
``PYTHON_GIL=1`` variant of the free-threaded build: on a GIL build it is a fatal
startup error for ``0`` and meaningless for ``1``.

The result is the ``microbench`` section of run.json (docs/run-json.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from loadtests.analysis.stats import InsufficientData, efficiency, mean_ci, speedup
from loadtests.core.errors import ConfigError, InterpreterError, MicrobenchError
from loadtests.report.document import text_table
from loadtests.results.store import usable_cores, utc_now

WORKER = Path(__file__).with_name("microbench_worker.py")
WORKLOADS = ("pure", "json", "hash")
GIL_VARIANT = "3.14"
FT_VARIANT = "3.14t"
FT_GIL_ON_VARIANT = "3.14t+PYTHON_GIL=1"
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
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
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
    try:
        proc = subprocess.run(cmd, env=dict(env), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise MicrobenchError(f"microbench worker on {interp.path} took longer than {timeout:.0f} s") from None
    except OSError as exc:
        raise MicrobenchError(f"cannot run {interp.path}: {exc}") from None
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise MicrobenchError(f"microbench worker on {interp.path} exited with status {proc.returncode}:\n{tail}")
    try:
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        raise MicrobenchError(f"microbench worker on {interp.path} printed no JSON: {proc.stdout[-300:]!r}") from None
    if not isinstance(data, dict) or not isinstance(data.get("points"), list):
        raise MicrobenchError(f"microbench worker on {interp.path} returned an unexpected document")
    return data


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (OSError, AttributeError):  # pragma: no cover - not Unix
        return None


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
) -> dict:
    """Measure every variant × workload × thread count × repeat; return run.json's ``microbench``.

    ``interpreters`` is what ``provision.load_interpreters()`` returns (role → Interpreter);
    only ``.label``, ``.path`` and ``.free_threaded`` are used.
    """
    cfg = MicrobenchSettings.from_mapping(settings)
    say = progress or (lambda _line: None)
    commands = {v: variant_command(v, interpreters) for v in cfg.variants}
    n_points = len(cfg.workloads) * len(cfg.threads)
    timeout = 60.0 + 4 * n_points * cfg.seconds_per_point * max(cfg.threads)
    say(f"==> microbench: {', '.join(cfg.workloads)} × threads {list(cfg.threads)} × {len(cfg.variants)} variants × "
        f"{cfg.repeats} repeats, {cfg.seconds_per_point:g} s per point (about {cfg.estimated_seconds:.0f} s)")
    started, t0, load_start = utc_now(), time.monotonic(), _load_average()
    points: list[dict] = []
    workers: dict[str, dict] = {}
    for repeat in range(cfg.repeats):
        for variant in cfg.variants:
            interp, env = commands[variant]
            config = {"workloads": list(cfg.workloads), "threads": list(cfg.threads), "seconds": cfg.seconds_per_point,
                      "warmup_s": cfg.warmup_s, "order": point_order(cfg.workloads, cfg.threads, repeat)}
            data = run_worker(interp, env, config, timeout)
            if bool(data.get("free_threaded")) != variant.startswith(FT_VARIANT):
                raise MicrobenchError(f"{interp.path} reported free_threaded={data.get('free_threaded')} "
                                      f"for the {variant} variant")
            workers.setdefault(variant, {
                "path": str(interp.path), "python": data.get("python"), "free_threaded": data.get("free_threaded"),
                "python_gil_env": "1" if variant == FT_GIL_ON_VARIANT else None, "gil_flag": data.get("gil_flag"),
                "gil_enabled_at_start": data.get("gil_enabled_at_start"),
            })
            for p in data["points"]:
                gil = bool(p.get("gil_enabled"))
                reason = judge_point(variant, gil)
                points.append({"workload": p["workload"], "variant": variant, "threads": int(p["threads"]),
                               "repeat": repeat, "seconds": p["seconds"], "ops": p["ops"],
                               "ops_per_s": p["ops_per_s"], "cpu_cores": p.get("cpu_cores"),
                               "gil_enabled": gil, "valid": reason is None,
                               "invalid_reason": reason})
            say(f"    repeat {repeat + 1}/{cfg.repeats} {variant:<20} done "
                f"({time.monotonic() - t0:.0f} s elapsed)")
    return {
        "usable_cores": cfg.usable_cores,
        "thread_counts": list(cfg.threads),
        "repeats": cfg.repeats,
        "workloads": list(cfg.workloads),
        "variants": list(cfg.variants),
        "seconds_per_point": cfg.seconds_per_point,
        "started_at": started,
        "finished_at": utc_now(),
        "elapsed_s": round(time.monotonic() - t0, 2),
        # other processes compete for the same cores: a 1-minute load above the cores means noisy figures
        "load_average": {"start": load_start, "end": _load_average()},
        "interpreters": workers,
        "points": points,
        "summary": summarize(points, cfg.usable_cores),
    }


# --- derived figures ----------------------------------------------------------------------------


def point_valid(p: Mapping[str, Any]) -> bool:
    """A point's own verdict, or (for points recorded without one) the GIL-state rule."""
    if "valid" in p:
        return bool(p["valid"])
    return judge_point(str(p.get("variant")), bool(p.get("gil_enabled"))) is None


def invalid_reason(p: Mapping[str, Any]) -> str | None:
    return p.get("invalid_reason") or judge_point(str(p.get("variant")), bool(p.get("gil_enabled")))


def valid_ops(points: Sequence[Mapping[str, Any]], workload: str, variant: str, threads: int) -> list[float]:
    """ops/s of the valid repeats of one point; invalid ones are never averaged in."""
    return [float(p["ops_per_s"]) for p in points
            if (p.get("workload"), p.get("variant"), p.get("threads")) == (workload, variant, threads)
            and point_valid(p) and p.get("ops_per_s") is not None]


def _mean_cpu(points: Sequence[Mapping[str, Any]], workload: str, variant: str, threads: int) -> float | None:
    cpu = [float(p["cpu_cores"]) for p in points
           if (p.get("workload"), p.get("variant"), p.get("threads")) == (workload, variant, threads)
           and point_valid(p) and p.get("cpu_cores") is not None]
    return round(sum(cpu) / len(cpu), 3) if cpu else None


def summarize(points: Sequence[Mapping[str, Any]], cores: int) -> list[dict]:
    """Per (workload, variant, threads): mean ops/s with its CI, speedup vs 1 thread with its CI, efficiency."""
    keys: list[tuple[str, str, int]] = []
    for p in points:
        k = (str(p["workload"]), str(p["variant"]), int(p["threads"]))
        if k not in keys:
            keys.append(k)
    out = []
    def order(k: tuple[str, str, int]) -> tuple[int, int, int]:
        w, v, n = k
        return (WORKLOADS.index(w) if w in WORKLOADS else 9, VARIANTS.index(v) if v in VARIANTS else 9, n)

    for w, v, n in sorted(keys, key=order):
        vals = valid_ops(points, w, v, n)
        row: dict[str, Any] = {"workload": w, "variant": v, "threads": n, "n": len(vals), "ops_per_s": None,
                               "ops_per_s_ci": None, "speedup": None, "speedup_ci": None, "efficiency": None,
                               "cpu_cores": _mean_cpu(points, w, v, n)}
        if vals:
            m = mean_ci(vals, what=f"{w} {v} {n} threads ops/s", floor=0.0)
            row["ops_per_s"] = round(m.mean, 4)
            row["ops_per_s_ci"] = [round(m.low, 4), round(m.high, 4)] if m.low is not None and m.high is not None else None
        try:
            s = speedup(vals, valid_ops(points, w, v, 1), what="ops/s")
        except InsufficientData:
            s = None
        if s is not None:
            row["speedup"] = round(s.ratio, 4)
            row["speedup_ci"] = [round(s.low, 4), round(s.high, 4)] if s.has_interval else None  # type: ignore[arg-type]
            row["efficiency"] = round(efficiency(s.ratio, n, cores), 4)
        out.append(row)
    return out


def single_thread_ratio(points: Sequence[Mapping[str, Any]], workload: str) -> Any:
    """3.14t ÷ 3.14 ops/s at one thread (C3): below 1 means the free-threaded build is slower."""
    return speedup(valid_ops(points, workload, FT_VARIANT, 1), valid_ops(points, workload, GIL_VARIANT, 1),
                   what="ops/s")


# --- terminal rendering -------------------------------------------------------------------------


def _fmt_ci(ci: Sequence[float] | None, digits: int) -> str:
    return f"{ci[0]:.{digits}f}–{ci[1]:.{digits}f}" if ci else "n<2"


def render_microbench(section: Mapping[str, Any]) -> str:
    """A table of ops/s, speedup over 1 thread and efficiency per workload, variant and thread count."""
    cores = int(section.get("usable_cores") or 1)
    rows = [("workload", "variant", "threads", "ops/s", "95% CI", "speedup vs 1", "95% CI", "efficiency",
             "CPU cores used")]
    summary = section.get("summary") or summarize(section.get("points") or [], cores)
    for r in summary:
        rows.append((r["workload"], r["variant"], str(r["threads"]),
                     f"{r['ops_per_s']:.1f}" if r["ops_per_s"] is not None else "—", _fmt_ci(r["ops_per_s_ci"], 1),
                     f"{r['speedup']:.2f}×" if r["speedup"] is not None else "—", _fmt_ci(r["speedup_ci"], 2),
                     f"{r['efficiency']:.2f}" if r["efficiency"] is not None else "—",
                     f"{r['cpu_cores']:.2f}" if r.get("cpu_cores") is not None else "—"))
    lines = text_table(rows)
    points = section.get("points") or []
    notes = [f"{cores} usable core(s): no speedup can exceed {cores}×; efficiency = speedup ÷ min(threads, cores)."]
    load = section.get("load_average") or {}
    busiest = max((v for v in load.values() if v is not None), default=None)
    if busiest is not None and busiest > cores * 0.5:
        notes.append(f"warning: the 1-minute load average reached {busiest:.2f} on {cores} cores: other processes "
                     "shared the CPUs, so these figures are noisy (wide intervals).")
    for w in section.get("workloads") or ():
        try:
            s = single_thread_ratio(points, w)
        except InsufficientData:
            continue
        notes.append(f"{w}: one thread on 3.14t runs at {s.ratio:.2f}× the speed of 3.14 ({s.ratio - 1:+.1%}).")
    invalid = [p for p in points if not point_valid(p)]
    if invalid:
        notes.append(f"{len(invalid)} invalid point(s), excluded: "
                     + "; ".join(sorted({f"{p['variant']}: {invalid_reason(p)}" for p in invalid})))
    return "\n".join(lines + [""] + notes) + "\n"

