"""server_pool.py: one warm server per configuration of a scenario, and a recorded reason when none can start."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.core.errors import EnvironmentUnavailable, ServerRefused
from loadtests.measure.arm import server_key
from loadtests.measure.server_pool import died
from loadtests.plan.comparisons import comparisons
from tests.measure.fakes import FakeSession, FakeStarts, fake_pool, fresh_run


def test_a_server_stands_for_every_users_level_of_its_configuration(tmp_path: Path) -> None:
    run = fresh_run(tmp_path)
    (comparison,) = comparisons(run.plan.configs)
    starts = FakeStarts()
    pool = fake_pool(run, starts)
    arms = pool.arms(comparison)
    assert [a.config for a in arms] == list(comparison.arms) and [a.tree for a in arms] == ["server0", "server1"]
    more_users = replace(comparison, arms=tuple(replace(c, users=32, group="other") for c in comparison.arms))
    again = pool.arms(more_users)
    assert [a.server for a in again] == [a.server for a in arms]  # started once, warm for both users levels
    assert len(starts.started) == 2 and {server_key(c) for c in starts.started} == {server_key(c) for c in
                                                                                     comparison.arms}
    assert pool.bench.sampler.trees == {"server0": [4000], "server1": [4001]}  # type: ignore[attr-defined]
    assert run.record.cells == ()  # nothing is recorded for a server that started


def test_each_instance_is_a_server_of_its_own_with_its_own_hash_seed(tmp_path: Path) -> None:
    run = fresh_run(tmp_path)
    (comparison,) = comparisons(run.plan.configs)
    starts = FakeStarts()
    pool = fake_pool(run, starts)
    first, second = pool.arms(comparison, 0), pool.arms(comparison, 1)
    assert [a.instance for a in first + second] == [0, 0, 1, 1] and len(starts.started) == 4
    assert len({id(a.server) for a in first + second}) == 4  # fresh processes for every instance
    assert len({a.hash_seed for a in first + second}) == 4
    assert [a.server for a in pool.arms(comparison, 1)] == [a.server for a in second]  # kept warm
    starts.servers[0].exited = 1
    pool.forget(died(first))
    assert pool.arms(comparison, 1)[0].server is second[0].server and len(starts.started) == 4  # alive: kept
    assert pool.arms(comparison, 0)[0].server is not first[0].server  # the dead instance starts afresh


def test_a_refused_server_is_one_skipped_cell_per_comparison_and_is_not_started_again(tmp_path: Path) -> None:
    run = fresh_run(tmp_path)
    (comparison,) = comparisons(run.plan.configs)
    lines: list[str] = []
    starts = FakeStarts(errors={"3.14t": ServerRefused("granian\nrefuses to start: the GIL is on")})
    pool = fake_pool(run, starts, lines=lines)
    live = pool.arms(comparison)
    assert [a.config.interpreter for a in live] == ["3.14"]
    (skipped,) = run.record.cells
    assert skipped.outcome == "refused" and not skipped.valid and skipped.block is None
    assert skipped.invalid_reason == "uvicorn refused to start: refuses to start: the GIL is on"
    assert skipped.refusal == "granian\nrefuses to start: the GIL is on"
    assert any("refused to start" in line for line in lines)
    pool.arms(comparison, 1)  # 3.14's second instance starts; 3.14t is neither retried nor recorded again
    assert len(run.record.cells) == 1 and [c.interpreter for c in starts.started] == ["3.14", "3.14t", "3.14"]
    pool.arms(replace(comparison, comparison_id="json/uvicorn/u4/t8"))
    assert len(run.record.cells) == 2 and len(starts.started) == 3  # recorded again for another comparison


@pytest.mark.parametrize(("error", "mismatch", "outcome", "reason"), [
    (EnvironmentUnavailable("no 3.14t environment for app:app"), None, "skipped",
     "skipped: no 3.14t environment for app:app"),
    (None, "the external app runs granian, this cell needs uvicorn", "skipped",
     "skipped: the external app runs granian, this cell needs uvicorn"),
])
def test_an_arm_that_cannot_run_says_why(tmp_path: Path, error: Exception | None, mismatch: str | None,
                                         outcome: str, reason: str) -> None:
    run = fresh_run(tmp_path)
    (comparison,) = comparisons(run.plan.configs)
    starts = FakeStarts(errors={"3.14t": error} if error else {}, mismatch=mismatch)
    pool = fake_pool(run, starts)
    arm = pool.arm(next(c for c in comparison.arms if c.interpreter == "3.14t"), comparison)
    assert arm.server is None and arm.skip is not None
    assert (arm.skip.outcome, arm.skip.invalid_reason) == (outcome, reason)
    assert run.record.cells == (arm.skip,)


def test_a_dead_server_is_forgotten_and_the_next_comparison_starts_a_fresh_one(tmp_path: Path) -> None:
    run = fresh_run(tmp_path)
    (comparison,) = comparisons(run.plan.configs)
    starts = FakeStarts()
    pool = fake_pool(run, starts)
    arms = pool.arms(comparison)
    starts.servers[0].exited = 1
    assert [a.config for a in died(arms)] == [comparison.arms[0]]
    pool.forget(died(arms))
    fresh = pool.arms(comparison)
    assert fresh[0].server is not arms[0].server and fresh[1].server is arms[1].server
    assert len(starts.started) == 3


@pytest.mark.slow  # the warm-up watches the load for whole seconds
def test_a_new_server_is_warmed_up_once_and_its_warm_up_recorded(tmp_path: Path) -> None:
    run = fresh_run(tmp_path, warmup_s=2.0)
    (comparison,) = comparisons(run.plan.configs)
    session = FakeSession(rate=50.0)
    pool = fake_pool(run, FakeStarts(), session)
    arm = pool.arm(comparison.arms[0], comparison)
    pool.arm(comparison.arms[0], comparison)
    (warmup,) = run.record.warmups
    assert warmup.config_id == arm.config.config_id and warmup.comparison_id == comparison.comparison_id
    assert 2.0 <= warmup.seconds < 4.0 and len(warmup.rps_series) == int(warmup.seconds)
    assert all(n > 0 for n in warmup.rps_series) and not warmup.converged  # 100 completions cannot show 200
    assert warmup.completions is not None and 90 <= warmup.completions < 200 and warmup.block_rates is None
    assert (warmup.instance, warmup.hash_seed) == (0, arm.hash_seed)
    assert session.started == [("http://127.0.0.1:1", 8, None)]
