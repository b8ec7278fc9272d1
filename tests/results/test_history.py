"""history.py: the SQLite index of runs: idempotent recording, back-filling old runs, listing, rendering."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from loadtests.analysis.history_summary import index_document
from loadtests.cli import report_commands as cli_report
from loadtests.core.errors import HistoryCorrupt, HistoryLocked
from loadtests.report.history_text import render_history
from loadtests.results import history
from loadtests.results.history import HistoryEntry, history_path, index_run, list_runs, record_run, sync_history
from loadtests.results.records import RunRecord
from loadtests.results.store import load_run
from tests.fixtures.synthetic_runs import make_run, write_run


def _run(results: Path, run_id: str, created: str, **kw: object) -> Path:
    doc = make_run(run_id=run_id, microbench=False, trap=False, **kw)  # type: ignore[arg-type]
    doc["created_at"] = created
    return write_run(results / run_id, doc)


def _record(run_dir: Path) -> HistoryEntry:
    """Index a run as its command does: from its record and summary document in memory."""
    run = load_run(run_dir)
    return record_run(run_dir, run, index_document(run))


def test_record_is_idempotent_and_keeps_headlines(tmp_path: Path) -> None:
    run_dir = _run(tmp_path, "20261125T120301Z-default-aaaa", "2026-11-25T12:03:01Z", scenarios=("json",))
    first = _record(run_dir)
    again = _record(run_dir)
    assert history_path(tmp_path) == tmp_path / "history.sqlite" and (tmp_path / "history.sqlite").is_file()
    assert first.run_id == again.run_id == "20261125T120301Z-default-aaaa"
    entries = list_runs(tmp_path)
    assert len(entries) == 1
    e = entries[0]
    assert e.preset == "default" and e.git_sha and e.git_sha.startswith("3f2a9c0d") and e.complete
    heads = {(h.scenario, h.server): h for h in e.headlines}
    assert set(heads) == {("json", "uvicorn"), ("json", "granian")}
    assert heads[("json", "uvicorn")].users == 8 and 1.5 < heads[("json", "uvicorn")].ratio < 2.0
    assert heads[("json", "uvicorn")].verdict.endswith("× faster")
    assert e.summary["invalid_cells"] == 1 and e.summary["usable_cores"] == 2


def test_sync_backfills_old_runs_updates_changed_and_forgets_deleted(tmp_path: Path) -> None:
    a = _run(tmp_path, "20261120T080000Z-smoke-0001", "2026-11-20T08:00:00Z", scenarios=("json",), users=(8,))
    b = _run(tmp_path, "20261125T120301Z-default-0002", "2026-11-25T12:03:01Z", scenarios=("compute",), users=(8,))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.json").write_text("{")
    problems = sync_history(tmp_path, index_document)
    assert len(problems) == 1 and problems[0].startswith("broken: ")
    assert [e.run_id for e in list_runs(tmp_path)] == [b.name, a.name]  # newest first
    assert [e.run_id for e in list_runs(tmp_path, limit=1)] == [b.name]
    # a run that changes on disk (e.g. resumed) is re-read
    doc = json.loads((a / "run.json").read_text())
    doc["preset"] = "smoke-resumed"
    (a / "run.json").write_text(json.dumps(doc))
    sync_history(tmp_path, index_document)
    assert {e.run_id: e.preset for e in list_runs(tmp_path)}[a.name] == "smoke-resumed"
    # a deleted run directory leaves the index
    (b / "run.json").unlink()
    sync_history(tmp_path, index_document)
    assert [e.run_id for e in list_runs(tmp_path)] == [a.name]


def test_the_run_just_finished_is_indexed_from_memory_not_read_back(tmp_path: Path) -> None:
    run_dir = _run(tmp_path, "20261125T120301Z-default-aaab", "2026-11-25T12:03:01Z", scenarios=("json",), users=(8,))
    run = load_run(run_dir)
    doc = index_document(run)
    (run_dir / "run.json").write_text("{ not what the run holds")  # what is on disk is never parsed
    entry = record_run(run_dir, dataclasses.replace(run, preset="in-memory"), {**doc, "cells": 99})
    assert entry.preset == "in-memory" and entry.summary["cells"] == 99


def test_rows_from_an_older_lab_are_read(tmp_path: Path) -> None:
    # a row whose JSON summary lacks today's fields (or is not JSON at all) still lists
    db = history_path(tmp_path)
    run_dir = _run(tmp_path, "20261101T000000Z-default-0003", "2026-11-01T00:00:00Z", scenarios=("json",), users=(8,))
    _record(run_dir)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET summary = ?", ("not json",))
    (e,) = list_runs(tmp_path)
    assert e.headlines == [] and e.summary == {}
    assert "20261101T000000Z-default-0003" in render_history([e])


def test_corrupt_database_is_a_clear_error(tmp_path: Path) -> None:
    history_path(tmp_path).write_bytes(b"this is not sqlite" * 100)
    run_dir = _run(tmp_path, "20261101T000000Z-default-0004", "2026-11-01T00:00:00Z", scenarios=("json",), users=(8,))
    with pytest.raises(HistoryCorrupt, match="damaged.*delete it"):
        _record(run_dir)
    warnings: list[str] = []
    run = load_run(run_dir)
    assert index_run(run_dir, run, index_document(run), warnings.append) is None  # a finished run only warns
    assert len(warnings) == 1 and "damaged" in warnings[0] and "locked" not in warnings[0]


@contextmanager
def _held_by_another_process(db: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process (as a second lab would) holds the history's write lock until it is told to stop."""
    code = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.execute('BEGIN IMMEDIATE'); print('holding', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        yield holder
    finally:
        holder.communicate("", timeout=30)


@pytest.mark.slow
def test_a_locked_history_is_a_warning_for_a_finished_run_and_readers_never_wait(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "BUSY_TIMEOUT_S", 0.3)
    first = _run(tmp_path, "20261101T000000Z-smoke-0006", "2026-11-01T00:00:00Z", scenarios=("json",), users=(8,))
    _record(first)
    second = _run(tmp_path, "20261102T000000Z-smoke-0007", "2026-11-02T00:00:00Z", scenarios=("json",), users=(8,))
    warnings: list[str] = []
    with _held_by_another_process(history_path(tmp_path)):
        assert [e.run_id for e in list_runs(tmp_path)] == [first.name]  # WAL: a reader does not wait for a writer
        run = load_run(second)
        assert index_run(second, run, index_document(run), warnings.append) is None
        with pytest.raises(HistoryLocked):
            sync_history(tmp_path, index_document)
    assert len(warnings) == 1 and "locked by another lab" in warnings[0] and "delete" not in warnings[0]
    assert sync_history(tmp_path, index_document) == []  # once the other lab is done, the run is indexed
    assert [e.run_id for e in list_runs(tmp_path)] == [second.name, first.name]


def test_runs_are_read_and_summarised_with_no_lock_held(tmp_path: Path) -> None:
    """sync_history writes in one short transaction after reading: another lab can write while it reads."""
    for n in range(3):
        _run(tmp_path, f"2026110{n + 1}T000000Z-smoke-001{n}", f"2026-11-0{n + 1}T00:00:00Z", scenarios=("json",),
             users=(8,))
    _record(tmp_path / "20261101T000000Z-smoke-0010")
    db, written = history_path(tmp_path), []

    def summarize_while_another_lab_writes(run: RunRecord) -> dict[str, Any]:
        with closing(sqlite3.connect(db, timeout=0, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # raises "database is locked" if sync_history held the lock now
            other.execute("UPDATE runs SET recorded_at = recorded_at")
            other.execute("COMMIT")
        written.append(run.run_id)
        return index_document(run)

    assert sync_history(tmp_path, summarize_while_another_lab_writes) == []
    assert len(written) == 2 and len(list_runs(tmp_path)) == 3


def test_render_and_cli(tmp_path: Path) -> None:
    assert "no runs recorded yet" in render_history([])
    _run(tmp_path, "20261125T120301Z-default-0005", "2026-11-25T12:03:01Z", scenarios=("json",), users=(8,))
    result = CliRunner().invoke(cli_report.history, ["--results", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("date (UTC)") and "2026-11-25 12:03:01  3f2a9c0d  default" in lines[1]
    assert "json/uvicorn" in lines[1] and "× faster" in lines[1]
    result = CliRunner().invoke(cli_report.history, ["--results", str(tmp_path), "--json", "--limit", "5"])
    data = json.loads(result.output)
    assert data[0]["run_id"] == "20261125T120301Z-default-0005" and data[0]["headlines"][0]["scenario"] == "json"
