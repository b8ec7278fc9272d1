"""run_writer.py: the run's record in memory, run.json rewritten after every change, --resume from it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.core.errors import ResultsError
from loadtests.results.records import ComparisonRun, GilCulprit, RunRecord, StepFailure, Warmup
from loadtests.results.run_writer import RunWriter
from loadtests.results.store import load_run

PAIRED = Path(__file__).resolve().parents[1] / "fixtures" / "run-json" / "v3" / "smoke-paired.json"
STORED = load_run(PAIRED)


def started(tmp_path: Path) -> RunWriter:
    record = replace(STORED, cells=(), warmups=(), comparisons=(), complete=False, finished_at=None, audit=None,
                     microbench=None, gil_culprits=())
    return RunWriter.create(tmp_path, record)


def on_disk(run: RunWriter) -> RunRecord:
    return load_run(run.run_dir)


def test_a_new_run_is_on_disk_before_any_window(tmp_path: Path) -> None:
    run = started(tmp_path)
    assert on_disk(run) == run.record and on_disk(run).cells == ()
    assert run.plan == STORED.settings.plan


def test_every_addition_is_saved_at_once_in_order(tmp_path: Path) -> None:
    run = started(tmp_path)
    for cell in STORED.cells[:3]:
        run.add_cell(cell)
        assert on_disk(run).cells[-1] == cell  # a cut-off run keeps every finished window
    warmup = Warmup("c", "json/uvicorn/u8/t8", 4.0, True, (10, 11, 11, 11), "2026-01-01T00:00:00Z")
    run.add_warmup(warmup)
    finished = ComparisonRun("json/uvicorn/u8/t8", ("a", "b"), 2, "fixed pairs", None, 12.5)
    run.add_comparison(finished)
    stored = on_disk(run)
    assert stored.cells == STORED.cells[:3] and stored.warmups == (warmup,) and stored.comparisons == (finished,)
    assert run.finished_comparisons() == {"json/uvicorn/u8/t8"}
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # written atomically: no temporary file left


def test_once_per_run_steps_are_stored_and_a_missing_one_leaves_the_other(tmp_path: Path) -> None:
    run = started(tmp_path)
    run.record_step(microbench=StepFailure("no interpreter"))
    culprit = GilCulprit("gil_lab_trap", None, None, None, ("audit",), ())
    run.record_step(gil_culprits=(culprit,))
    stored = on_disk(run)
    assert stored.microbench == StepFailure("no interpreter") and stored.gil_culprits == (culprit,)
    assert stored.audit is None


def test_a_finished_run_is_complete_and_cannot_be_resumed(tmp_path: Path) -> None:
    run = started(tmp_path)
    RunWriter.reopen(tmp_path)  # not complete yet: it can be resumed
    run.finish()
    stored = on_disk(run)
    assert stored.complete and stored.finished_at is not None
    with pytest.raises(ResultsError, match="already complete; nothing to resume"):
        RunWriter.reopen(tmp_path)


def test_an_interrupted_run_reopens_where_it_stopped(tmp_path: Path) -> None:
    run = started(tmp_path)
    first_block = [c for c in STORED.cells if c.block == 0]
    for cell in first_block:
        run.add_cell(cell)
    again = RunWriter.reopen(tmp_path)
    assert again.record == run.record
    comparison_id = first_block[0].comparison_id
    assert comparison_id is not None
    assert again.next_block(comparison_id) == 1 and again.cells_of(comparison_id, block=0) == first_block
    assert again.next_block("another/comparison") == 0


def test_run_json_is_the_record_as_json(tmp_path: Path) -> None:
    run = started(tmp_path)
    run.add_cell(STORED.cells[0])
    document = json.loads((tmp_path / "run.json").read_text())
    assert document == json.loads(json.dumps(run.record.to_json()))
