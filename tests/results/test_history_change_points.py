"""Change points in `gil-lab history`: stored series, rows of an older lab re-read, the table and --json."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from loadtests.analysis.history_changes import change_points
from loadtests.analysis.history_summary import SUMMARY_VERSION, index_document
from loadtests.cli import report_commands as cli_report
from loadtests.results.history import history_path, list_runs, sync_history
from loadtests.results.store import load_run
from tests.fixtures.paired_runs import FT_ID, paired_run, write_paired

BASE = [(10.0, 19.0), (11.0, 21.0), (10.5, 20.0), (9.5, 18.5), (10.0, 19.5)]


def history_of(results: Path, ft_levels: list[float], first_day: int = 1) -> list[str]:
    """One paired run a day per level: 3.14 stays put, 3.14t's throughput is scaled by the level."""
    ids = []
    for i, level in enumerate(ft_levels, start=first_day - 1):
        run_id = f"202612{i + 1:02d}T080000Z-smoke-{i:04d}"
        doc = paired_run(run_id, [(g, f * level) for g, f in BASE], created_at=f"2026-12-{i + 1:02d}T08:00:00Z")
        write_paired(results / run_id, doc)
        ids.append(run_id)
    return ids


def test_the_summary_stores_a_series_per_configuration_and_per_paired_ratio(tmp_path: Path) -> None:
    (run_id,) = history_of(tmp_path, [1.0])
    doc = index_document(load_run(tmp_path / run_id))
    assert doc["summary_version"] == SUMMARY_VERSION
    by_key = {s["key"]: s for s in doc["series"]}
    # one instance per side: its 10 windows are the units (df 9); the ratio's 5 pairs (df 4)
    assert by_key[FT_ID]["measure"] == "throughput" and by_key[FT_ID]["df"] == 9 and by_key[FT_ID]["se"] > 0
    (ratio,) = [s for s in doc["series"] if s["measure"] == "paired ratio"]
    assert ratio["key"] == f"interpreter:{FT_ID}:{FT_ID.replace('3.14t', '3.14')}" and ratio["df"] == 4
    assert doc["conditions"]["bytecode of 3.14t"] == "unknown" and "CPU model" in doc["conditions"]


def test_a_step_of_3_14t_is_flagged_in_its_throughput_and_in_the_paired_ratio(tmp_path: Path) -> None:
    ids = history_of(tmp_path, [1.0, 1.0, 1.0, 0.75, 0.75])
    sync_history(tmp_path, index_document, SUMMARY_VERSION)
    points = change_points(list_runs(tmp_path, None))
    assert {(c.measure, c.run_id, c.direction, c.confirmed_by) for c in points} == {
        ("throughput", ids[3], "down", ids[4]), ("paired ratio", ids[3], "down", ids[4])}
    ratio = next(c for c in points if c.measure == "paired ratio")
    assert 1.85 < ratio.before[0] < 1.95 and 1.39 < ratio.after[0] < 1.46 and ratio.before_runs == 3
    assert ratio.change < 0.8


def test_history_shows_change_points_in_the_table_and_in_json(tmp_path: Path) -> None:
    ids = history_of(tmp_path, [1.0, 1.0, 1.0, 1.3])
    result = CliRunner().invoke(cli_report.history, ["--results", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "steps" in lines[0]
    newest = next(line for line in lines if line.endswith(ids[3]))
    assert "2 ↑↑ (2 unconfirmed)" in newest
    assert any(line.startswith(f"  {ids[3]}  paired ratio json 3.14t uvicorn w1 t8 / 3.14 uvicorn w1 t8 u8")
               and "unconfirmed: the next run decides" in line for line in lines)
    data = json.loads(CliRunner().invoke(cli_report.history, ["--results", str(tmp_path), "--json"]).output)
    assert [e["run_id"] for e in data] == ids[::-1]
    assert {c["measure"] for c in data[0]["change_points"]} == {"throughput", "paired ratio"}
    assert all(c["confirmed"] is False and c["direction"] == "up" for c in data[0]["change_points"])
    assert all(e["change_points"] == [] for e in data[1:])
    # the next run decides: at the new level, the step is confirmed
    ids += history_of(tmp_path, [1.3], first_day=5)
    data = json.loads(CliRunner().invoke(cli_report.history, ["--results", str(tmp_path), "--json"]).output)
    step_run = next(e for e in data if e["run_id"] == ids[3])
    assert all(c["confirmed_by"] == ids[4] for c in step_run["change_points"])


def test_rows_indexed_by_an_older_lab_are_read_again(tmp_path: Path) -> None:
    ids = history_of(tmp_path, [1.0, 1.0, 1.0, 0.75, 0.75])
    sync_history(tmp_path, index_document)
    with sqlite3.connect(history_path(tmp_path)) as conn:  # what a lab before change points stored
        for (run_id, summary) in conn.execute("SELECT run_id, summary FROM runs").fetchall():
            old = {k: v for k, v in json.loads(summary).items() if k not in ("series", "summary_version")}
            conn.execute("UPDATE runs SET summary = ? WHERE run_id = ?", (json.dumps(old), run_id))
    assert change_points(list_runs(tmp_path, None)) == []
    sync_history(tmp_path, index_document)  # without a version nothing is re-read
    assert change_points(list_runs(tmp_path, None)) == []
    sync_history(tmp_path, index_document, SUMMARY_VERSION)
    assert {c.run_id for c in change_points(list_runs(tmp_path, None))} == {ids[3]}


def test_runs_under_other_conditions_start_series_of_their_own_and_history_says_why(tmp_path: Path) -> None:
    ids = history_of(tmp_path, [1.0, 1.0, 1.0])
    for i, level in ((3, 0.75), (4, 0.75)):  # the same step, measured on another machine
        run_id = f"202612{i + 1:02d}T080000Z-smoke-{i:04d}"
        doc = paired_run(run_id, [(g, f * level) for g, f in BASE], created_at=f"2026-12-{i + 1:02d}T08:00:00Z")
        doc["machine"]["cpu_model"] = "Intel Xeon"
        write_paired(tmp_path / run_id, doc)
        ids.append(run_id)
    sync_history(tmp_path, index_document, SUMMARY_VERSION)
    assert change_points(list_runs(tmp_path, None)) == []  # never pooled with the other machine's runs
    result = CliRunner().invoke(cli_report.history, ["--results", str(tmp_path)])
    assert f"  {ids[3]}  CPU model: " in result.output and "→ Intel Xeon" in result.output
    data = json.loads(CliRunner().invoke(cli_report.history, ["--results", str(tmp_path), "--json"]).output)
    assert [e["new_conditions"] != [] for e in data] == [False, True, False, False, False]
