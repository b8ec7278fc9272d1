"""The "safe to move?" line and what gil-lab safety prints."""

from __future__ import annotations

from loadtests.report.safety_text import race_lines, safe_to_move, safety_text
from tests.fixtures.safety_records import record


def test_races_are_named_with_what_to_change() -> None:
    line = safe_to_move(record())
    assert line is not None and line.startswith("Safe to move? No: 2 races found")
    endpoint, test = race_lines(record())
    assert endpoint.startswith("GET /greeting: wrong only without the GIL (12 of 500 (2.4%) on 3.14t ×8")
    assert endpoint.endswith("→ make the buffer local")
    assert "failed 3 of 4 runs in parallel 3.14t: AssertionError: boom" in test


def test_a_clean_run_says_what_was_checked_and_what_can_still_hide() -> None:
    line = safe_to_move(record(racy=False))
    assert line is not None and line.startswith("Safe to move? No race found: 0 of 2000 answers differed")
    assert "can still hide" in line


def test_nothing_checked_is_said_for_a_team_and_left_out_for_the_lab() -> None:
    assert "Not checked" in str(safe_to_move(None, team_service=True))
    assert safe_to_move(None, team_service=False) is None


def test_the_text_holds_the_tables_the_exclusions_and_the_diffs() -> None:
    text = safety_text(record(), "/r/run")
    assert "GET /health    500" in text and "wrong only without the GIL" in text
    assert "GET /health $.at: marked volatile (you)" in text
    assert '$.greeting: expected "Hello, Ada!", got "Hello, Bob!"' in text
    assert "tests/test_a.py::test_racy" in text and "results: /r/run/run.json" in text
