"""The "safe to move?" line and what gil-lab safety prints."""

from __future__ import annotations

from loadtests.analysis.figures.memory import MemoryGrowth
from loadtests.report.safety_text import race_lines, safe_to_move, safety_text
from loadtests.results.records.safety import SafetyRecord
from loadtests.results.records.soak import SoakCheck
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


def test_a_soak_whose_memory_grows_answers_no_and_prints_each_interpreters_growth() -> None:
    soak = SoakCheck(source="locustfile.py", server="uvicorn", threads=8, users=8, duration_s=120.0, interval_s=0.5,
                     series=())
    safety = SafetyRecord(app="shop.main:app", responses=None, soak=soak)
    growths = [MemoryGrowth(interpreter=label, measure="RssAnon", requests=9000, slope_mb_per_1000=slope,
                            ci_low=slope - 0.2, ci_high=slope + 0.2, grows=grows, plateau_s=40.0, plateau_mb=70.0,
                            end_mb=90.0, threads_start=13, threads_end=13, readings=(), fitted=())
               for label, slope, grows in (("3.14", 0.0, False), ("3.14t", 4.8, True))]
    line = safe_to_move(safety, growths=growths)
    assert line is not None and line.startswith("Safe to move? No: memory grows on 3.14t: memory under a 120s soak: "
                                                "3.14 does not grow")
    text = safety_text(safety, "/r/run", growths)
    assert "Soak: 120s of locustfile.py on uvicorn (8 users each, 8 threads), both interpreters side by side" in text
    assert "  3.14t grows: +4.80 MB per 1,000 requests after the plateau at 40s" in text
    flat = safe_to_move(safety, growths=growths[:1])
    assert flat is not None and flat.startswith("Safe to move? Nothing found: memory under a 120s soak")
