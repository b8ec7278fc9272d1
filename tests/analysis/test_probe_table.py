"""The probe's table from raw steps: CPU per call, growth, efficiency, and a verdict that says what was measurable."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.analysis.probe_table import endpoint_table
from loadtests.results.records import GlobalRead, ProbedEndpoint, ProbeRun, ProbeStep, RunRecord
from loadtests.results.store import load_run

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "run-json" / "v3" / "smoke-paired.json"


def steps(cpu_1: float, cpu_2: float, busy_2: float, calls: int = 20, repeats: int = 3) -> tuple[ProbeStep, ...]:
    """Alternating 1- and 2-thread steps: CPU per call ``cpu_1``/``cpu_2``; one thread keeps one core busy."""
    out = []
    for r in range(repeats):
        jitter = 1 + 0.01 * r
        out.append(ProbeStep(1, calls, round(calls * cpu_1 * jitter, 6), round(calls * cpu_1 * jitter, 6)))
        cpu = calls * 2 * cpu_2 * jitter
        out.append(ProbeStep(2, calls * 2, round(cpu / busy_2, 6), round(cpu, 6)))
    return tuple(out)


def endpoint(key: str, step: tuple[ProbeStep, ...], *reads: GlobalRead) -> ProbedEndpoint:
    return ProbedEndpoint(key=key, method="GET", path=key.split()[1], query="", route=key.split()[1],
                          endpoint=f"app.{key.split('/')[-1]}", status=200, step_s=0.5, steps=step, globals=reads,
                          error=None)


def probe(label: str, endpoints: tuple[ProbedEndpoint, ...], control_busy: float = 2.0) -> ProbeRun:
    return ProbeRun(scenario="shop", interpreter=label, python=f"/envs/{label}/bin/python",
                    free_threaded=label == "3.14t", gil_enabled=label == "3.14", gil_enabled_by=(),
                    thread_counts=(1, 2), repeats=3, endpoints=endpoints,
                    control=(ProbeStep(1, 100, 0.5, 0.5), ProbeStep(2, 200, 0.5, 0.5 * control_busy)), seconds=9.0)


def run_with(*probes: ProbeRun) -> RunRecord:
    return replace(load_run(FIXTURE), probes=probes)  # 2 usable cores


MODULUS = GlobalRead("app.work.pure", "_MODULUS", "int", "1000003", False)
ONE = GlobalRead("app.work.pure", "_ONE", "int", "1", True)


def test_an_endpoint_whose_cpu_per_call_grows_on_3_14t_is_contending_and_names_its_mortal_globals() -> None:
    ft = probe("3.14t", (endpoint("GET /shared", steps(0.010, 0.013, 1.9), MODULUS, ONE),
                         endpoint("GET /local", steps(0.010, 0.010, 2.0))))
    gil = probe("3.14", (endpoint("GET /shared", steps(0.008, 0.008, 1.0)),
                         endpoint("GET /local", steps(0.008, 0.008, 1.0))), control_busy=1.0)
    shared, local = endpoint_table(run_with(gil, ft))
    assert shared.verdict == "contending" and "1.30×" in shared.why
    assert shared.non_immortal == (MODULUS,)
    growth = shared.cpu_growth
    assert growth is not None and growth.ratio == pytest.approx(1.3)
    assert local.verdict == "scales" and local.efficiency("3.14t") == pytest.approx(1.0, abs=0.01)
    assert local.efficiency("3.14") == pytest.approx(0.5, abs=0.01)
    assert shared.single_thread_cost is not None and shared.single_thread_cost.ratio == pytest.approx(1.25, abs=0.01)
    row = shared.row("3.14t", 1)
    assert row is not None and row.cpu_per_call.mean == pytest.approx(0.0101, abs=1e-4) and row.efficiency is None


def test_when_plain_threads_could_not_overlap_nothing_is_claimed() -> None:
    ft = probe("3.14t", (endpoint("GET /local", steps(0.010, 0.010, 1.0)),), control_busy=1.0)
    (only,) = endpoint_table(run_with(ft))
    assert only.verdict == "unmeasured" and "1.00 of 2 cores" in only.why
    assert only.single_thread_cost is None  # no 3.14 side


def test_threads_that_wait_for_each_other_while_plain_threads_overlap_are_serialised() -> None:
    ft = probe("3.14t", (endpoint("GET /locked", steps(0.010, 0.010, 1.0)),), control_busy=1.95)
    (only,) = endpoint_table(run_with(ft))
    assert only.verdict == "serialised"


def test_a_3_14t_probe_whose_gil_came_on_is_not_judged() -> None:
    ft = replace(probe("3.14t", (endpoint("GET /local", steps(0.010, 0.010, 2.0)),)), gil_enabled=True,
                 gil_enabled_by=("lxml.etree",))
    (only,) = endpoint_table(run_with(ft))
    assert only.verdict == "failed" and "lxml.etree" in only.why


def measured(key: str, steps_: list[tuple[int, float, float]], control: list[float]) -> ProbedEndpoint:
    """Steps as (threads, CPU ms per call, busy cores), 100 calls each; one control step per repeat."""
    return replace(endpoint(key, tuple(ProbeStep(t, 100, round(0.1 * ms / busy, 6), round(0.1 * ms, 6))
                                       for t, ms, busy in steps_)),
                   control=tuple(ProbeStep(2, 100, 1.0, busy) for busy in control))


def test_on_a_busy_machine_an_endpoint_is_judged_on_the_repeats_where_plain_threads_overlapped() -> None:
    """Figures of a real probe on a loaded 2-core machine: only some repeats had both cores."""
    shared = measured("GET /shared", [(1, 2.58, 1.0), (2, 2.81, 1.12), (1, 2.48, 0.95), (2, 3.49, 1.15),
                                      (1, 2.52, 0.93), (2, 4.29, 1.93), (1, 3.12, 1.0), (2, 4.37, 1.98)],
                      [1.04, 0.99, 1.96, 1.98])
    local = measured("GET /local", [(1, 3.02, 1.01), (2, 2.78, 1.98), (1, 2.57, 1.01), (2, 2.63, 1.28),
                                    (1, 2.55, 0.87), (2, 2.56, 1.33), (1, 2.61, 0.85), (2, 2.62, 1.3)],
                     [2.0, 0.66, 1.25, 0.6])
    alone = measured("GET /alone", [(1, 2.6, 1.0), (2, 2.6, 1.9), (1, 2.6, 1.0), (2, 2.6, 1.0)], [1.9, 0.4])
    judged = {e.endpoint: e for e in endpoint_table(run_with(probe("3.14t", (shared, local, alone))))}
    assert judged["GET /shared"].verdict == "contending" and "every repeat at least 1.40×" in judged["GET /shared"].why
    assert judged["GET /local"].verdict == "scales" and "2 of 4 repeats" in judged["GET /local"].why
    assert judged["GET /alone"].verdict == "unmeasured"  # one overlapping repeat is too few: every repeat counts
