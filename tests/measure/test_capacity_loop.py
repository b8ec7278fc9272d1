"""capacity_loop.py: each arm's rate search at the SLO, the arms' steps interleaved, every step recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.measure import capacity_loop
from loadtests.measure.capacity_loop import CapacityComparison
from loadtests.plan.comparisons import comparisons
from loadtests.results.records import CapacityPolicy, Warmup
from loadtests.results.run_writer import RunWriter
from tests.measure.fakes import FakeSession, FakeStarts, fake_pool, fresh_run

# The fake answers in 3-4 ms, or 30 ms above capacity; short searches: few arrivals a window, few steps.
POLICY = CapacityPolicy(slo_ms=20.0, bracket_arrivals=20, refine_arrivals=20, pilot_steps=2, min_steps=4,
                        max_steps=6)


def capacity_run(tmp_path: Path, warm_rps: int = 4000, **plan: object) -> RunWriter:
    run = fresh_run(tmp_path, **{"duration_s": 0.1, "capacity": POLICY, "precision": None, **plan})
    for config in run.plan.configs:  # the warm-ups a search starts from: half their last seconds' rate
        run.add_warmup(Warmup(config.config_id, "c", 3.0, True, (warm_rps,) * 3, "2026-01-01T00:00:00Z"))
    return run


@pytest.mark.slow  # a dozen short open-loop windows
def test_each_arm_brackets_then_refines_around_its_capacity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capacity_loop, "DRAIN_POLL_S", 0.01)
    run = capacity_run(tmp_path)
    (comparison,) = comparisons(run.plan.configs)
    session = FakeSession(latencies_ms=(3.0, 4.0), capacity_rps=2600.0)
    lines: list[str] = []
    CapacityComparison(run, fake_pool(run, FakeStarts(), session, server_cores=0.0), POLICY, lines.append).measure(comparison, 1)
    searches = run.record.capacities
    assert [s.config_id for s in searches] == [c.config_id for c in comparison.arms]
    for search in searches:
        assert [step.rate for step in search.steps][:2] == [2000.0, 3000.0]  # from the warm-up, then up by 1.5
        assert [step.phase for step in search.steps][:2] == ["bracket", "bracket"]
        assert {step.phase for step in search.steps[2:]} == {"refine"}
        assert all(step.arrivals and step.misses is not None for step in search.steps)
        assert search.max_rps_at_slo is not None and search.bracket_high is not None
        assert search.bracket_low is not None and search.bracket_low <= 2600.0 < search.bracket_high
        assert search.stopping in ("precision planned", "step limit") and not search.is_lower_bound
        assert search.arrivals == sum(step.arrivals or 0 for step in search.steps)
    opened = [c for c in run.record.cells if c.config.load_model == "open"]
    assert len(opened) == sum(len(s.steps) for s in searches)  # every step's window is kept
    assert [c.config.interpreter for c in opened[:2]] == ["3.14", "3.14t"]  # the arms take turns
    assert {c.config.target_rps for c in opened} >= {2000.0, 3000.0}
    assert all(c.open_loop is not None and c.open_loop.answer_cutoff_s == 0.02 for c in opened)
    assert run.record.comparisons[0].stopping == "precision reached"
    assert any(line.startswith("    capacity 3.14t uvicorn w1 t8: ") for line in lines)
    assert any(" (refine): " in line and "arrivals over the SLO" in line for line in lines)


def test_a_search_starts_at_half_of_the_warm_up_and_without_one_at_a_default(tmp_path: Path) -> None:
    run = capacity_run(tmp_path, warm_rps=30)
    (comparison,) = comparisons(run.plan.configs)
    loop = CapacityComparison(run, fake_pool(run, FakeStarts()), POLICY, [].append)
    arm = loop.pool.arm(comparison.arms[0], comparison)
    assert loop.starting_rate(arm) == 15.0
    bare = fresh_run(tmp_path / "bare", capacity=POLICY, precision=None)
    loop = CapacityComparison(bare, fake_pool(bare, FakeStarts()), POLICY, [].append)
    assert loop.starting_rate(loop.pool.arm(comparison.arms[0], comparison)) == capacity_loop.DEFAULT_START_RPS


@pytest.mark.slow  # a few short open-loop windows
def test_a_time_budget_ends_the_searches_with_what_they_had(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capacity_loop, "DRAIN_POLL_S", 0.01)
    run = capacity_run(tmp_path, max_time_s=0.3)
    (comparison,) = comparisons(run.plan.configs)
    session = FakeSession(latencies_ms=(3.0,), capacity_rps=10_000.0)  # never fails: the budget must stop it
    CapacityComparison(run, fake_pool(run, FakeStarts(), session, server_cores=0.0), POLICY, [].append).measure(comparison, 1)
    assert run.record.comparisons[0].stopping == "time budget"
    for search in run.record.capacities:
        assert search.bracket_high is None and search.is_lower_bound and search.stopping == "time budget"
        assert search.ci_low is None and search.ci_high is None
