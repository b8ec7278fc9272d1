"""capacity.py: core rates, the SLO knee, linear core counts, and Amdahl/USL fits on exact curves."""

from __future__ import annotations

import math

import pytest

from loadtests.analysis import capacity as cap
from loadtests.analysis.configs import summarize_configs
from loadtests.analysis.stats import InsufficientData
from loadtests.results.records import MicrobenchPoint
from loadtests.results.store import parse_run
from tests.fixtures.synthetic_runs import make_run


def amdahl(n: float, x1: float, sigma: float) -> float:
    return x1 * n / (1 + sigma * (n - 1))


def usl(n: float, x1: float, sigma: float, kappa: float) -> float:
    return x1 * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))


def test_amdahl_fit_recovers_an_exact_curve() -> None:
    pts = [(n, amdahl(n, 10.0, 0.1)) for n in (1, 2, 3, 4)]
    fit = cap.fit_amdahl(pts)
    assert fit.sigma == pytest.approx(0.1, abs=1e-3) and fit.x1 == pytest.approx(10.0, rel=1e-3)
    assert fit.r2 == pytest.approx(1.0, abs=1e-6)
    # by hand: 10 * 16 / (1 + 0.1 * 15) = 64
    assert fit.predict(16) == pytest.approx(64.0, rel=1e-2)
    # 10n / (1 + 0.1(n - 1)) >= 50  <=>  n >= T(1 - σ) / (X1 - Tσ) = 45 / 5 = 9
    assert fit.cores_for(50.0) == 9
    assert fit.peak_cores is None


def test_usl_fit_finds_the_peak() -> None:
    pts = [(n, usl(n, 10.0, 0.05, 0.01)) for n in (1, 2, 4, 6, 8)]
    fit = cap.fit_usl(pts)
    assert fit.kappa == pytest.approx(0.01, rel=0.1) and fit.sigma == pytest.approx(0.05, abs=0.01)
    assert fit.peak_cores == pytest.approx(math.sqrt(0.95 / 0.01), rel=0.1)  # ≈ 9.7 cores


def test_projection_refuses_too_few_points() -> None:
    p = cap.project([(1, 10.0), (2, 19.0), (2, 18.0)], "x")
    assert not p.ok and p.fits == () and "2 distinct core count(s)" in (p.reason or "")
    assert "none is made" in (p.reason or "")
    p3 = cap.project([(1, 10.0), (2, 19.0), (3, 27.0)], "x")
    assert p3.ok and [f.model for f in p3.fits] == ["amdahl"]  # USL needs 4
    p4 = cap.project([(1, 10.0), (2, 19.0), (3, 27.0), (4, 34.0)], "x")
    assert [f.model for f in p4.fits] == ["amdahl", "usl"]
    assert [n for n, _ in p4.predictions()] == [4, 8, 16, 32]
    with pytest.raises(InsufficientData):
        cap.fit_usl([(1, 10.0), (2, 19.0), (3, 27.0)])


def test_cores_needed_linear() -> None:
    assert cap.cores_needed_linear(100, 18.0) == 6
    assert cap.cores_needed_linear(36, 18.0) == 2
    with pytest.raises(InsufficientData):
        cap.cores_needed_linear(100, 0)


def test_plan_from_a_run_two_cores() -> None:
    run = parse_run(make_run())
    configs = summarize_configs(run)
    plan = cap.capacity_plan(run, configs, slo_ms=500, target_rps=100)
    fam = {f.label: f for f in plan.families}
    json_ft = fam["json / 3.14t uvicorn w1 t8"]
    # p95 at 8 users on 3.14t is ~290 ms, under 500: the best is the highest-rps level, 8 users
    assert json_ft.best is not None and json_ft.best.users in (2, 8)
    assert json_ft.rate is not None and json_ft.rate.rps_per_usable_core == pytest.approx(json_ft.best.rps.mean / 2)
    assert json_ft.cores_needed == math.ceil(100 / json_ft.rate.rps_per_usable_core)
    gil_json = fam["json / 3.14 uvicorn w1 t8"]
    assert gil_json.best is not None and gil_json.best.users < 8  # 3.14 at 8 users queues past 500 ms
    trap = fam["gil-trap / 3.14t uvicorn w1 t8"]
    assert trap.best is None and not trap.measured  # every repeat invalid: no valid repeat, not an SLO miss
    # a users sweep on 2 cores only reaches core counts 1 and 2: every projection is refused
    assert plan.projections and not any(p.ok for p in plan.projections)


def test_plan_projects_from_a_cpu_sweep() -> None:
    run = parse_run(make_run(cores=4, scenarios=("compute",), servers=("uvicorn",), users=(8,),
                                 cpu_sweep=(1, 2, 3, 4), trap=False, gil_toggle=False, microbench=False))
    plan = cap.capacity_plan(run, summarize_configs(run), target_rps=60)
    ok = [p for p in plan.projections if p.ok]
    assert len(ok) == 1 and ok[0].source.startswith("compute / 3.14t uvicorn")
    pts = ok[0].points
    assert [n for n, _ in pts] == [1.0, 2.0, 3.0, 4.0]
    amdahl_fit = ok[0].fits[0]
    assert amdahl_fit.r2 is not None and amdahl_fit.r2 > 0.95
    # the model is linear-ish (0.95 per extra core): 32 cores project far above 4
    assert amdahl_fit.predict(32) > 4 * pts[-1][1]
    unpinned = next(f for f in plan.families if f.label == "compute / 3.14t uvicorn w1 t8")
    assert unpinned.cores_needed_model is not None


def test_max_rps_under_slo_rejects_bad_slo() -> None:
    with pytest.raises(InsufficientData):
        cap.max_rps_under_slo([], 0)
    assert cap.max_rps_under_slo([], 500) is None


def _point(threads: int, ops_per_s: float, gil: bool) -> MicrobenchPoint:
    return MicrobenchPoint(workload="pure", variant="3.14t", threads=threads, repeat=0, seconds=0.5, ops=1,
                           ops_per_s=ops_per_s, cpu_cores=None, gil_enabled=gil, valid=not gil,
                           invalid_reason="GIL on" if gil else None)


def test_microbench_points_drop_oversubscription_and_bad_gil() -> None:
    points = [_point(1, 10.0, False), _point(2, 19.0, False), _point(2, 1.0, True), _point(4, 19.5, False)]
    assert cap.microbench_points(points, "3.14t", "pure", usable_cores=2) == [(1.0, 10.0), (2.0, 19.0)]
    assert cap.microbench_points([], "3.14t", "pure", 2) == []
