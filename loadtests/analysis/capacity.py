"""Capacity planning from a run: rps per core, the SLO knee, cores needed, projections.

A projection to more cores than were measured is a *model*, not a measurement. It is
only made from at least three distinct core counts, always carries its data points
and its fit quality, and the report labels it as a projection.

Models, in throughput form with ``n`` cores:

- Amdahl: ``X(n) = X1 · n / (1 + σ(n − 1))`` where σ is the serial fraction;
- USL (Gunther): ``X(n) = X1 · n / (1 + σ(n − 1) + κ·n(n − 1))``, κ being the cost of
  coherency; fitted only from four or more distinct core counts.

Both are fitted by least squares: a grid over the shape parameters, refined around
the best cell, with ``X1`` in closed form. That is deterministic and needs no SciPy.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Sequence

from loadtests.analysis.figures.capacity import (
    DEFAULT_SLO_MS,
    MIN_POINTS_AMDAHL,
    MIN_POINTS_USL,
    PROJECTION_CORES,
    CapacityPlan,
    CoreRate,
    FamilyCapacity,
    Fit,
    Projection,
)
from loadtests.analysis.figures.configs import FT_INTERPRETER, ConfigSummary
from loadtests.analysis.figures.stats import InsufficientData
from loadtests.analysis.microbench_stats import valid_ops
from loadtests.results.records import Microbench, MicrobenchPoint, RunRecord

# --- per-configuration figures --------------------------------------------------------


def core_rate(config: ConfigSummary, usable_cores: int) -> CoreRate:
    """rps ÷ busy cores and rps ÷ usable cores (the CPU set size if the server was pinned)."""
    if config.rps is None:
        raise InsufficientData(f"{config.config_id} has no valid repeat: no throughput to divide")
    cores = len(config.cpus) if config.cpus else usable_cores
    if cores < 1:
        raise InsufficientData(f"usable cores must be >= 1, got {cores}")
    busy = config.server_cpu_cores.mean if config.server_cpu_cores else None
    per_busy = config.rps.mean / busy if busy and busy > 0 else None
    return CoreRate(config, config.rps.mean, per_busy, config.rps.mean / cores)


def max_rps_under_slo(configs: Iterable[ConfigSummary], slo_ms: float = DEFAULT_SLO_MS) -> ConfigSummary | None:
    """The configuration with the highest mean rps whose mean p95 stays under ``slo_ms``.

    Pass the users levels of one family. None when no level meets the SLO.
    """
    if slo_ms <= 0:
        raise InsufficientData(f"the SLO must be a positive number of milliseconds, got {slo_ms}")
    ok = [c for c in configs if c.rps is not None and c.p95 is not None and c.p95.mean < slo_ms]
    return max(ok, key=lambda c: c.rps.mean if c.rps else 0.0, default=None)


def cores_needed_linear(target_rps: float, rps_per_core: float) -> int:
    """``ceil(target / rps per core)``: assumes perfect scaling, so it is a lower bound."""
    if target_rps <= 0:
        raise InsufficientData(f"target rps must be positive, got {target_rps}")
    if rps_per_core <= 0:
        raise InsufficientData(f"rps per core must be positive, got {rps_per_core}")
    return max(1, math.ceil(target_rps / rps_per_core - 1e-9))


# --- scaling models -------------------------------------------------------------------


def _shape_at(n: float, *, sigma: float, kappa: float) -> float:
    return Fit.shape(n, sigma, kappa)


def _best_x1(points: Sequence[tuple[float, float]], shape: Callable[[float], float]) -> tuple[float, float]:
    f = [shape(n) for n, _ in points]
    denom = math.fsum(v * v for v in f)
    x1 = math.fsum(v * y for v, (_, y) in zip(f, points, strict=True)) / denom
    sse = math.fsum((y - x1 * v) ** 2 for v, (_, y) in zip(f, points, strict=True))
    return x1, sse


def _search(
    points: Sequence[tuple[float, float]], sigmas: Sequence[float], kappas: Sequence[float]
) -> tuple[float, float, float, float]:
    """(sse, x1, sigma, kappa) of the best grid cell."""
    best = (math.inf, 0.0, 0.0, 0.0)
    for s in sigmas:
        for k in kappas:
            x1, sse = _best_x1(points, functools.partial(_shape_at, sigma=s, kappa=k))
            if sse < best[0]:
                best = (sse, x1, s, k)
    return best


def _linspace(lo: float, hi: float, steps: int) -> list[float]:
    return [lo + (hi - lo) * i / steps for i in range(steps + 1)]


def _fit(points: Sequence[tuple[float, float]], usl: bool) -> Fit:
    sigmas = _linspace(0.0, 1.0, 200)
    kappas = [0.0] + [10 ** (e / 8) for e in range(-56, 1)] if usl else [0.0]
    sse, x1, s, k = _search(points, sigmas, kappas)
    width_s, width_k = 0.01, (k * 0.5 if k > 0 else 1e-7)
    for _ in range(6):  # refine around the best cell
        ss = [min(max(v, 0.0), 1.0) for v in _linspace(s - width_s, s + width_s, 40)]
        ks = [max(v, 0.0) for v in _linspace(k - width_k, k + width_k, 40)] if usl else [0.0]
        cand = _search(points, ss, ks)
        if cand[0] <= sse:
            sse, x1, s, k = cand
        width_s /= 8
        width_k /= 8
    ys = [y for _, y in points]
    mean_y = math.fsum(ys) / len(ys)
    sst = math.fsum((y - mean_y) ** 2 for y in ys)
    fitted = Fit("usl" if usl else "amdahl", x1, s, k, None, (), tuple(points))
    residuals = tuple(y - fitted.predict(n) for n, y in points)
    r2 = 1.0 - sse / sst if sst > 0 else None
    return Fit(fitted.model, x1, s, k, r2, residuals, tuple(points))


def fit_amdahl(points: Sequence[tuple[float, float]]) -> Fit:
    """Least-squares Amdahl fit to (cores, throughput) points; needs 3 distinct core counts."""
    _require(points, MIN_POINTS_AMDAHL, "an Amdahl fit")
    return _fit(points, usl=False)


def fit_usl(points: Sequence[tuple[float, float]]) -> Fit:
    """Least-squares USL fit to (cores, throughput) points; needs 4 distinct core counts."""
    _require(points, MIN_POINTS_USL, "a USL fit")
    return _fit(points, usl=True)


def _require(points: Sequence[tuple[float, float]], k: int, what: str) -> None:
    xs = {n for n, _ in points}
    if len(xs) < k:
        raise InsufficientData(f"{what} needs {k} distinct core counts, got {len(xs)} ({sorted(xs)})")
    if any(n < 1 or y < 0 or not math.isfinite(y) for n, y in points):
        raise InsufficientData(f"{what} needs cores >= 1 and finite non-negative throughput")


def project(
    points: Sequence[tuple[float, float]], source: str, unit: str = "rps", cores: Sequence[int] = PROJECTION_CORES
) -> Projection:
    """Fit Amdahl (and USL from 4 points) and project to ``cores``; refuse with < 3 points."""
    pts = tuple(sorted((float(n), float(y)) for n, y in points))
    xs = sorted({n for n, _ in pts})
    if len(xs) < MIN_POINTS_AMDAHL:
        shown = ", ".join(f"{n:g}" for n in xs) or "none"
        reason = (f"only {len(xs)} distinct core count(s) measured ({shown}); "
                  f"a projection needs at least {MIN_POINTS_AMDAHL}, so none is made")
        return Projection(source, unit, pts, (), tuple(cores), reason)
    fits = [fit_amdahl(pts)]
    if len(xs) >= MIN_POINTS_USL:
        fits.append(fit_usl(pts))
    return Projection(source, unit, pts, tuple(fits), tuple(cores), None)


# --- sweep points from a run ----------------------------------------------------------


def http_sweep_points(family: Iterable[ConfigSummary], usable_cores: int) -> list[tuple[float, float]]:
    """(cores in use, rps) for one family of configurations across users and CPU sets.

    Cores in use = min(users, workers × threads, CPU set size or usable cores). Several
    configurations at the same core count (users beyond the cores) keep the highest
    mean rps: saturated throughput is the capacity at that core count.
    """
    best: dict[int, float] = {}
    for c in family:
        if c.rps is None:
            continue
        cores = len(c.cpus) if c.cpus else usable_cores
        n = max(1, min(c.users, c.workers * c.threads, cores))
        best[n] = max(best.get(n, 0.0), c.rps.mean)
    return sorted((float(n), y) for n, y in best.items())


def microbench_points(points: Sequence[MicrobenchPoint], variant: str, workload: str,
                      usable_cores: int) -> list[tuple[float, float]]:
    """(threads, mean ops/s) for one variant and workload, threads <= usable cores only.

    Points with more threads than cores measure oversubscription, not more cores.
    Invalid points (a GIL state that contradicts the variant) are dropped.
    """
    out = []
    for n in sorted({p.threads for p in points}):
        vals = valid_ops(points, workload, variant, n) if 1 <= n <= usable_cores else []
        if vals:
            out.append((float(n), math.fsum(vals) / len(vals)))
    return out


# --- the plan the report shows --------------------------------------------------------


def _families(configs: Iterable[ConfigSummary], with_cpus: bool) -> dict[tuple, list[ConfigSummary]]:
    out: dict[tuple, list[ConfigSummary]] = {}
    for c in configs:
        key = (c.scenario, c.server, c.interpreter, c.python_gil_env, c.parallelism, c.workers, c.threads)
        out.setdefault(key + ((c.cpus,) if with_cpus else ()), []).append(c)
    return out


def capacity_plan(
    run: RunRecord, configs: Sequence[ConfigSummary], slo_ms: float = DEFAULT_SLO_MS, target_rps: float | None = None
) -> CapacityPlan:
    """SLO knee and core rates per family; projections for 3.14t families and the microbench.

    An SLO family is one configuration across users levels (same CPU set); a projection
    family also spans CPU sets, since core count is what it models.
    """
    cores = run.usable_cores
    projections: dict[tuple, Projection] = {}
    for key, members in _families(configs, with_cpus=False).items():
        first = members[0]
        if first.interpreter == FT_INTERPRETER and first.python_gil_env in (None, "0") and first.is_cpu_bound:
            label = f"{first.scenario} / {first.label}"
            projections[key] = project(http_sweep_points(members, cores), label, "rps")
    fams = []
    for key, members in _families(configs, with_cpus=True).items():
        first = members[0]
        best = max_rps_under_slo(members, slo_ms)
        rate = core_rate(best, cores) if best else None
        need = need_model = None
        if target_rps is not None and rate is not None:
            need = cores_needed_linear(target_rps, rate.rps_per_usable_core)
            proj = projections.get(key[:-1])
            if proj is not None and proj.ok and first.cpus is None:
                need_model = proj.fits[0].cores_for(target_rps)
        fams.append(FamilyCapacity(f"{first.scenario} / {first.label}", first.scenario, best, rate, need, need_model,
                                   any(c.rps is not None for c in members)))
    extra = []
    mb = run.microbench
    if isinstance(mb, Microbench):
        for workload in mb.workloads:
            pts = microbench_points(mb.points, FT_INTERPRETER, workload, cores)
            if pts:
                extra.append(project(pts, f"microbench {workload} / 3.14t threads", "ops/s"))
    return CapacityPlan(slo_ms, target_rps, cores, tuple(fams), tuple(projections.values()) + tuple(extra))
