"""Each interpreter at its best: the tuned headlines and table in the terminal and the report, each labelled."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.analysis.run_analysis import analyse
from loadtests.analysis.summary import capacity_entries
from loadtests.analysis.tuning import tuned_entries
from loadtests.core.text import text_table
from loadtests.report.build import build_report
from loadtests.report.capacity_text import capacity_row, capacity_tables, ratio_words, tuned_headlines, tuned_row
from loadtests.report.markdown import render_markdown
from loadtests.report.terminal import render_terminal
from tests.fixtures.capacity_searches import FT_JSON, GIL_JSON, capacity_run, setting, sweep

EQUAL = ("json on uvicorn, at equal settings (8 threads): at p95 < 500 ms, one 3.14t process sustains 22.0 rps, "
         "against 11.0 rps on 3.14 (3.14t ÷ 3.14 = 2.00×)")
BEST = ("json on uvicorn, best against best (3.14 at 1 thread, 3.14t at 4 threads): at p95 < 500 ms, one 3.14t "
        "process sustains 22.5 rps, against 13.8 rps on 3.14 (3.14t ÷ 3.14 = 1.63×)")


def test_both_headlines_are_labelled_and_name_each_setting() -> None:
    assert tuned_headlines(tuned_entries(sweep("3.14", GIL_JSON) + sweep("3.14t", FT_JSON))) == [EQUAL, BEST]


def test_the_n_process_side_and_lower_bounds_are_named_in_the_sentences() -> None:
    settings = (sweep("3.14", {2: 13.0, 8: 11.0}) + [setting("3.14", 16, 15.0, limited=True)]
                + sweep("3.14t", {2: 22.2, 8: 22.0}) + sweep("3.14", {2: 25.0, 8: 24.0}, workers=2, processes=True))
    equal, best = tuned_headlines(tuned_entries(settings))
    assert equal.endswith("against 11.0 rps on 3.14 and 24.0 rps on 3.14 × 2 processes "
                          "(3.14t ÷ 3.14 = 2.00×, 3.14t ÷ (3.14 × 2 processes) = 0.92×)")
    assert best.startswith("json on uvicorn, best against best (3.14 at 16 threads (lower bound), 3.14t at 2 threads, "
                           "3.14 × 2 processes at 2 threads): ")
    assert "against at least 15.0 rps on 3.14 and 25.0 rps" in best and "3.14t ÷ 3.14 = at most 1.48×" in best


def test_without_3_14t_the_best_settings_are_still_given() -> None:
    (line,) = tuned_headlines(tuned_entries(sweep("3.14", GIL_JSON)))
    assert line == ("json on uvicorn: no 3.14t search to compare with; the best settings at p95 < 500 ms: "
                    "3.14 at 1 thread")


def test_no_shared_thread_limit_says_there_is_no_equal_setting() -> None:
    equal, best = tuned_headlines(tuned_entries(sweep("3.14t", {2: 20.0, 16: 19.0}) + sweep("3.14", {1: 9.0, 4: 8.0})))
    assert equal == "json on uvicorn, at equal settings: no thread limit was searched on both 3.14t and another side"
    assert best.startswith("json on uvicorn, best against best (3.14 at 1 thread, 3.14t at 2 threads)")


def test_ratio_words_say_when_a_ratio_is_only_a_bound() -> None:
    assert [ratio_words(1.5, b) for b in ("measured", "at least", "at most")] == ["1.50×", "at least 1.50×",
                                                                                  "at most 1.50×"]
    assert "no bound either way" in ratio_words(1.5, "unbounded") and "no ratio" in ratio_words(None, None)


def test_the_table_marks_the_numerator_and_the_unsettled_searches() -> None:
    settings = sweep("3.14", {1: 13.8, 8: 11.0}) + [setting("3.14", 16, 5.0, limited=True)] + sweep("3.14t", FT_JSON)
    gil, ft = (tuned_row(e) for e in tuned_entries(settings))
    assert gil[2:9] == ("3.14", "3.14 uvicorn w1 t1", "13.8 rps", "1, 8, 16", "11.0 rps at 8 threads", "2.00×",
                        "at most 1.63×")
    assert gil[9] == "unsettled, only lower bounds: 3.14 uvicorn w1 t16"
    assert ft[7] == ft[8] == "(3.14t: the numerator)" and ft[9] == "—"


@pytest.mark.slow
def test_terminal_and_report_show_the_tuning_where_the_headline_appears(tmp_path: Path) -> None:
    run = capacity_run(sweep("3.14", GIL_JSON) + sweep("3.14t", FT_JSON)
                       + [setting("3.14", 8, 10.0, scenario="compute"), setting("3.14t", 8, 18.0, scenario="compute")])
    a = analyse(run)
    text = render_terminal(a)
    assert EQUAL in text and BEST in text
    assert "Best setting per side (3.14t ÷ side: at equal settings, and each at its best):" in text
    # a scenario with one setting per side keeps the one-setting headline; the tuned one replaces it for json
    assert "compute on uvicorn: at p95 < 500 ms, one 3.14t process sustains 18.0 rps" in text
    assert "json on uvicorn: at p95" not in text
    md = render_markdown(build_report(a, tmp_path / "charts", tmp_path))
    assert EQUAL in md and BEST in md and "At equal settings" in md and "Best against best" in md
    assert "3.14t ÷ side, equal settings" in md and "3.14t ÷ side, best against best" in md
    # one table, laid out once, in both: every row of it is in the terminal and in the report
    tables = capacity_tables(a)
    assert tables is not None and tables.tuned is not None
    for table in (tables.capacity, tables.tuned):
        assert "\n".join(text_table([table.columns, *table.rows])) in text
        for row in table.rows:
            assert "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" in md


def test_a_search_stopped_before_any_pass_is_unknown_not_none() -> None:
    run = capacity_run([setting("3.14", 8, None, limited=True), setting("3.14", 2, None)])
    stopped, failed = (capacity_row(e) for e in capacity_entries(run))
    assert stopped[3:5] == ("unknown", "stopped: invalid window") and failed[3:5] == ("none", "—")
