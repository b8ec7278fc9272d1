"""comparison_loop.py: windows alternate in blocks, one window per arm, until the stopping rule says stop."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from app.layer import faults as layer_faults
from loadtests.core.errors import ServerRefused
from loadtests.measure.comparison_loop import Decision, PairedComparison, complete_blocks, fixed_pairs, window_text
from loadtests.measure.fault_files import FaultWatch, faults_dir
from loadtests.plan.comparisons import ComparisonPlan, comparisons
from loadtests.results.records import Cell, Plan
from loadtests.results.run_writer import RunWriter
from loadtests.results.store import load_run
from tests.measure.fakes import PAIRED, FakeSession, FakeStarts, fake_pool, fresh_run

QUICK = {"duration_s": 0.03}


def quick_session() -> FakeSession:
    """Short windows need quick requests: a few milliseconds each."""
    return FakeSession(latencies_ms=(3.1, 2.8, 4.0), rate=500.0)


def measured(run: RunWriter, starts: FakeStarts | None = None, session: FakeSession | None = None,
             lines: list[str] | None = None) -> ComparisonPlan:
    (comparison,) = comparisons(run.plan.configs)
    pool = fake_pool(run, starts or FakeStarts(), session or quick_session(), lines)
    PairedComparison(run, pool, fixed_pairs, (lines if lines is not None else []).append).measure(comparison, 1)
    return comparison


@pytest.mark.slow  # four short windows, each saved to run.json
def test_a_fixed_comparison_measures_its_pairs_in_blocks_that_change_direction(tmp_path: Path) -> None:
    run = fresh_run(tmp_path, **QUICK)
    lines: list[str] = []
    comparison = measured(run, lines=lines)
    cells = run.record.cells
    a, b = (c.config_id for c in comparison.arms)
    assert [(c.block, c.slot, c.config_id) for c in cells] == [(0, 0, a), (0, 1, b), (1, 0, b), (1, 1, a)]
    assert [c.repeat for c in cells if c.config_id == a] == [0, 1]  # every window of an arm has its own id
    assert all(c.valid for c in cells) and complete_blocks(cells, comparison) == run.plan.repeats == 2
    (finished,) = run.record.comparisons
    assert (finished.stopping, finished.blocks, finished.config_ids) == ("fixed pairs", 2, (a, b))
    assert lines[0] == f"==> [1/1] {comparison.comparison_id}: 3.14 uvicorn w1 t8 vs 3.14t uvicorn w1 t8"
    assert lines[-1] == "    stop: fixed pairs (2/2 pairs)"


@pytest.mark.slow  # four short windows, each saved to run.json
def test_an_interrupted_comparison_resumes_from_its_first_unfinished_block(tmp_path: Path) -> None:
    run = fresh_run(tmp_path, **QUICK)
    (comparison,) = comparisons(run.plan.configs)

    def ctrl_c_after_one_block(comparison: ComparisonPlan, cells: Sequence[Cell], plan: Plan,
                               elapsed: float) -> Decision:
        if complete_blocks(cells, comparison) == 1:
            raise KeyboardInterrupt
        return fixed_pairs(comparison, cells, plan, elapsed)

    with pytest.raises(KeyboardInterrupt):
        PairedComparison(run, fake_pool(run, FakeStarts(), quick_session()), ctrl_c_after_one_block, [].append).measure(comparison, 1)
    first = run.record.cells
    resumed = RunWriter.reopen(run.run_dir)  # what --resume reads: every finished window, no finished comparison
    assert resumed.record.cells == first and resumed.record.comparisons == () and resumed.next_block(
        comparison.comparison_id) == 1
    PairedComparison(resumed, fake_pool(resumed, FakeStarts(), quick_session()), fixed_pairs, [].append).measure(comparison, 1)
    assert resumed.record.cells[:2] == first and {c.block for c in resumed.record.cells[2:]} == {1}
    assert [c.repeat for c in resumed.record.cells if c.config_id == first[0].config_id] == [0, 1]
    assert resumed.record.comparisons[0].blocks == 2 and resumed.record.comparisons[0].stopping == "fixed pairs"


def test_a_server_that_dies_ends_its_comparison_and_is_forgotten(tmp_path: Path) -> None:
    run = fresh_run(tmp_path, **QUICK)
    starts = FakeStarts()
    session = quick_session()
    (comparison,) = comparisons(run.plan.configs)
    pool = fake_pool(run, starts, session)
    pool.arms(comparison)
    session.kill_server_on_start = starts.servers[1]  # the 3.14t server dies in its first window
    PairedComparison(run, pool, fixed_pairs, [].append).measure(comparison, 1)
    (finished,) = run.record.comparisons
    assert finished.stopping == "server failed" and finished.blocks == 1
    crashed = [c for c in run.record.cells if c.outcome == "crashed"]
    assert crashed and crashed[0].config.interpreter == "3.14t"
    assert len(pool.servers) == 1  # the dead one is gone: a later comparison starts it afresh


def test_a_comparison_with_no_server_is_recorded_as_having_no_valid_pair(tmp_path: Path) -> None:
    run = fresh_run(tmp_path, **QUICK)
    refused = ServerRefused("no")
    measured(run, FakeStarts(errors={"3.14": refused, "3.14t": refused}))
    assert [c.outcome for c in run.record.cells] == ["refused", "refused"]
    assert run.record.comparisons[0].stopping == "no valid pair"


def test_the_stopping_rule_is_asked_before_every_block(tmp_path: Path) -> None:
    run = fresh_run(tmp_path, **QUICK)
    asked: list[int] = []

    def one_block(comparison: ComparisonPlan, cells: Sequence[Cell], plan: Plan, elapsed: float) -> Decision:
        asked.append(complete_blocks(cells, comparison))
        return Decision("precision reached" if cells else None, "")

    (comparison,) = comparisons(run.plan.configs)
    PairedComparison(run, fake_pool(run, FakeStarts(), quick_session()), one_block, [].append).measure(comparison, 1)
    assert asked == [0, 1, 1] and run.record.comparisons[0].stopping == "precision reached"


def test_a_block_line_shows_each_window() -> None:
    cell = replace(load_run(PAIRED).cells[0], rps=41.2, valid=True)
    assert window_text(cell) == "3.14 41.2"
    assert window_text(replace(cell, valid=False)) == "3.14 INVALID"
    processes = replace(cell, config=replace(cell.config, parallelism="processes", workers=2))
    assert window_text(processes) == "3.14×2 41.2"


def test_a_hung_server_ends_its_comparison_after_the_other_arms_windows_of_the_block(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = fresh_run(tmp_path, **QUICK)
    starts = FakeStarts()
    (comparison,) = comparisons(run.plan.configs)
    pool = fake_pool(run, starts, quick_session())
    pool.arms(comparison)
    stuck = next(s for s in starts.servers if not s.runtime.free_threaded)  # 3.14: two requests wait for ever
    stuck.faults = FaultWatch(faults_dir(tmp_path / "servers" / "server.log"))
    started = time.time_ns() - 30 * 10**9
    monkeypatch.setattr(layer_faults.time, "time_ns", lambda: started)
    table = layer_faults.InFlightTable(stuck.faults.directory)
    table.enter("GET", "/deadlock")
    table.enter("GET", "/deadlock")
    monkeypatch.undo()
    PairedComparison(run, pool, fixed_pairs, [].append).measure(comparison, 1)
    (finished,) = run.record.comparisons
    assert finished.stopping == "server hung" and finished.blocks == 1
    by_interpreter = {i: [c for c in run.record.cells if c.config.interpreter == i] for i in ("3.14", "3.14t")}
    (hung,) = by_interpreter["3.14"]  # one window says it
    assert hung.outcome == "hung" and hung.hang is not None and len(hung.hang.in_flight) == 2
    assert [c.valid for c in by_interpreter["3.14t"]] == [True]  # the other arm's window of the block still ran
    assert len(pool.servers) == 1  # the hung one is replaced for the next comparison
