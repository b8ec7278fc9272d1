"""Capacity figures: throughput per core, a fitted scaling model, a projection, the plan per family.

``analysis.capacity`` makes them. A projection to more cores than were measured is a
*model*, not a measurement: it carries its points and its fit quality, and the report
labels it as a projection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from loadtests.analysis.figures.configs import ConfigSummary

DEFAULT_SLO_MS = 500.0
PROJECTION_CORES = (4, 8, 16, 32)
MIN_POINTS_AMDAHL = 3
MIN_POINTS_USL = 4


@dataclass(frozen=True)
class CoreRate:
    """Throughput per core of one configuration."""

    config: ConfigSummary
    rps: float
    rps_per_busy_core: float | None  # rps ÷ server_cpu_cores (what the server actually burned)
    rps_per_usable_core: float  # rps ÷ cores the server could use


@dataclass(frozen=True)
class Fit:
    """A fitted scaling model and how well it fits its points.

    In throughput form with ``n`` cores, ``X(n) = X1 · n / (1 + σ(n − 1) + κ·n(n − 1))``:
    Amdahl's law when κ is 0, the Universal Scalability Law otherwise.
    """

    model: str  # "amdahl" or "usl"
    x1: float  # throughput at one core
    sigma: float  # serial fraction (contention)
    kappa: float  # coherency cost (0 for Amdahl)
    r2: float | None  # None when the points have no spread to explain
    residuals: tuple[float, ...]  # measured - fitted, in the points' unit
    points: tuple[tuple[float, float], ...]

    @staticmethod
    def shape(n: float, sigma: float, kappa: float = 0.0) -> float:
        """The model's speedup at ``n`` cores over one core."""
        return n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))

    def predict(self, n: float) -> float:
        return self.x1 * Fit.shape(n, self.sigma, self.kappa)

    def cores_for(self, target: float, limit: int = 4096) -> int | None:
        """Fewest cores the model says reach ``target``; None if it never does."""
        for n in range(1, limit + 1):
            if self.predict(n) >= target:
                return n
        return None

    @property
    def peak_cores(self) -> float | None:
        """USL's throughput peak ``sqrt((1 - σ) / κ)``; None for Amdahl (no peak)."""
        if self.kappa <= 0:
            return None
        return math.sqrt(max(1.0 - self.sigma, 0.0) / self.kappa)

    @property
    def describe(self) -> str:
        quality = "R² n/a" if self.r2 is None else f"R² {self.r2:.3f}"
        params = f"σ={self.sigma:.3f}" + (f", κ={self.kappa:.4f}" if self.model == "usl" else "")
        return f"{self.model} ({params}, X1={self.x1:.3g}, {quality})"


@dataclass(frozen=True)
class Projection:
    """Throughput projected to more cores, or the reason there is none."""

    source: str  # what was measured, e.g. "compute / uvicorn / 3.14t w1 t8"
    unit: str  # "rps" or "ops/s"
    points: tuple[tuple[float, float], ...]  # (cores, measured mean)
    fits: tuple[Fit, ...]
    cores: tuple[int, ...]
    reason: str | None  # why there is no projection (fewer than 3 distinct core counts)

    @property
    def ok(self) -> bool:
        return bool(self.fits)

    def predictions(self) -> list[tuple[int, tuple[float, ...]]]:
        """[(cores, (prediction per fit, ...)), ...]."""
        return [(n, tuple(f.predict(n) for f in self.fits)) for n in self.cores]


@dataclass(frozen=True)
class FamilyCapacity:
    """One family (a configuration across users levels) against the SLO."""

    label: str
    scenario: str
    best: ConfigSummary | None  # highest rps with p95 under the SLO
    rate: CoreRate | None  # of ``best``
    cores_needed: int | None  # for the target rps, linear in rps per usable core
    cores_needed_model: int | None  # from the Amdahl projection, when there is one
    measured: bool = True  # False when no users level has a valid repeat


@dataclass(frozen=True)
class CapacityPlan:
    slo_ms: float
    target_rps: float | None
    usable_cores: int
    families: tuple[FamilyCapacity, ...]
    projections: tuple[Projection, ...]


@dataclass(frozen=True)
class CurveStep:
    """One step of a capacity search as the latency-against-load chart draws it."""

    rate: float
    p95_ms: float | None  # from the intended send, over every arrival due in the window
    p95_low_ms: float | None  # its 95% bound (order statistics widened for bursts)
    p95_high_ms: float | None  # None: past the slowest arrival
    share: float | None  # arrivals over the SLO
    share_low: float | None  # its 95% interval, at the fit's dispersion
    share_high: float | None
    passed: bool
    valid: bool


@dataclass(frozen=True)
class CapacityCurve:
    """A configuration's search: every step, the fitted share-over-the-SLO curve, and the capacity it gives."""

    scenario: str
    server: str
    label: str
    phase: str
    slo_ms: float
    steps: tuple[CurveStep, ...]
    fitted: tuple[tuple[float, float], ...]  # (rate, fitted share) over the rates the fit used; () without a fit
    capacity: float | None
    ci_low: float | None
    ci_high: float | None
