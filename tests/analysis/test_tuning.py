"""tuning.py: each side's best setting, and 3.14t against it at equal settings and best against best."""

from __future__ import annotations

import json

import pytest

from loadtests.analysis.run_analysis import analyse
from loadtests.analysis.tuning import equal_threads, sides_of, tuned_entries
from loadtests.results.records import SummaryRecord, TunedSummary
from loadtests.results.store import load_run
from tests.fixtures.capacity_searches import FT_JSON, GIL_JSON, SMOKE_PAIRED, capacity_run, setting, sweep


def by_side(entries: list[TunedSummary]) -> dict[str, TunedSummary]:
    return {e.side: e for e in entries}


def test_each_side_gets_its_best_setting_and_both_ratios_say_which_is_which() -> None:
    entries = by_side(tuned_entries(sweep("3.14", GIL_JSON) + sweep("3.14t", FT_JSON)))
    gil, ft = entries["3.14"], entries["3.14t"]
    assert (gil.best_threads, gil.max_rps_at_slo, gil.best_configuration) == (1, 13.8, "3.14 uvicorn w1 t1")
    assert (ft.best_threads, ft.max_rps_at_slo) == (4, 22.5)
    assert gil.threads_tried == ft.threads_tried == (1, 2, 4, 8, 16)
    # equal settings: both at 8 threads; best against best: 3.14t at 4 against 3.14 at 1
    assert (gil.equal_threads, gil.rps_at_equal, gil.equal_configuration) == (8, 11.0, "3.14 uvicorn w1 t8")
    assert gil.ft_ratio_equal == pytest.approx(22.0 / 11.0, abs=1e-4) and gil.ft_ratio_equal_bound == "measured"
    assert gil.ft_ratio_best == pytest.approx(22.5 / 13.8, abs=1e-4) and gil.ft_ratio_best_bound == "measured"
    assert gil.ft_ratio_best < gil.ft_ratio_equal  # the point of tuning: equal settings flatter 3.14t here
    # 3.14t is the numerator: its own entry carries no ratio
    assert (ft.ft_ratio_equal, ft.ft_ratio_best, ft.equal_threads, ft.rps_at_equal) == (None, None, 8, 22.0)
    assert {e.tuning_id for e in entries.values()} == {"json/uvicorn/u4"}


def test_the_n_process_side_is_tuned_and_compared_on_its_own() -> None:
    procs = sweep("3.14", {1: 20.0, 2: 25.0, 8: 24.0}, workers=2, processes=True)
    entries = by_side(tuned_entries(sweep("3.14", {2: 13.0, 8: 11.0}) + sweep("3.14t", {2: 22.2, 8: 22.0}) + procs))
    n = entries["3.14 × 2 processes"]
    assert (n.best_threads, n.best_workers, n.parallelism, n.max_rps_at_slo) == (2, 2, "processes", 25.0)
    assert n.ft_ratio_equal == pytest.approx(22.0 / 24.0, abs=1e-4)
    assert n.ft_ratio_best == pytest.approx(22.2 / 25.0, abs=1e-4)
    assert list(entries) == ["3.14", "3.14t", "3.14 × 2 processes"]  # display order


def test_ties_go_to_fewer_threads_then_fewer_workers() -> None:
    entries = by_side(tuned_entries(sweep("3.14t", {16: 22.0, 2: 22.0, 8: 22.0}) + sweep("3.14", {2: 13.0, 8: 13.0})))
    assert entries["3.14t"].best_threads == 2 and entries["3.14"].best_threads == 2
    wide = [setting("3.14t", 4, 30.0, workers=2), setting("3.14t", 4, 30.0, workers=1), setting("3.14t", 8, 29.0)]
    (side,) = next(iter(sides_of(wide).values()))
    assert (side.best.config.threads, side.best.config.workers) == (4, 1)


def test_nothing_passed_is_below_any_capacity_and_an_unknown_one_below_that() -> None:
    (side,) = next(iter(sides_of([setting("3.14", 1, None, limited=True), setting("3.14", 2, None),
                                  setting("3.14", 4, 0.8)]).values()))
    assert [s.config.threads for s in side.settings] == [4, 2, 1]


@pytest.mark.parametrize(("ft_threads", "gil_threads", "expected"), [
    ({1, 2, 4, 8, 16}, {1, 2, 4, 8, 16}, 8),  # the lab's default when both measured it
    ({1, 2, 4, 16}, {1, 2, 4, 16}, 4),  # else a tie on how many sides measured it: the closest to 8
    ({2, 4, 8}, {2, 4}, 4),  # 8 only on one side is no equal setting
    ({2, 16}, {1, 4}, None),  # no limit in common: no equal-settings comparison
])
def test_the_equal_setting_is_eight_threads_when_both_have_it(ft_threads: set[int], gil_threads: set[int],
                                                              expected: int | None) -> None:
    sides = next(iter(sides_of(sweep("3.14t", dict.fromkeys(ft_threads, 20.0))
                               + sweep("3.14", dict.fromkeys(gil_threads, 10.0))).values()))
    gil, ft = sides
    assert equal_threads(ft, [gil]) == expected


def test_the_most_common_limit_wins_when_eight_is_missing() -> None:
    settings = (sweep("3.14t", {1: 10.0, 2: 20.0, 4: 20.0}) + sweep("3.14", {1: 9.0, 4: 9.0})
                + sweep("3.14", {1: 15.0, 2: 18.0}, workers=2, processes=True))
    gil, ft, procs = next(iter(sides_of(settings).values()))
    assert equal_threads(ft, [gil, procs]) == 1  # measured by every side
    entries = by_side(tuned_entries(settings))
    assert entries["3.14"].equal_threads == 1 and entries["3.14"].ft_ratio_equal == pytest.approx(10.0 / 9.0, abs=1e-4)


def test_a_missing_interpreter_leaves_the_ratios_out_not_the_best() -> None:
    only_gil = tuned_entries(sweep("3.14", GIL_JSON))
    (gil,) = only_gil
    assert gil.best_threads == 1 and gil.ft_ratio_equal is None and gil.ft_ratio_best is None
    assert gil.equal_threads is None
    only_ft = by_side(tuned_entries(sweep("3.14t", FT_JSON) + sweep("3.14", {1: 20.0, 8: 22.0}, workers=2,
                                                                     processes=True)))
    assert only_ft["3.14 × 2 processes"].ft_ratio_best == pytest.approx(22.5 / 22.0, abs=1e-4)


def test_one_setting_per_side_is_not_a_tuning() -> None:
    assert tuned_entries([setting("3.14", 8, 11.0), setting("3.14t", 8, 22.0)]) == []
    other_scenario = [setting("3.14", 8, 11.0, scenario="compute"), setting("3.14t", 8, 9.0, scenario="compute")]
    entries = tuned_entries(sweep("3.14", GIL_JSON) + sweep("3.14t", FT_JSON) + other_scenario)
    assert {e.scenario for e in entries} == {"json"}


def test_a_lower_bound_that_beats_the_rest_is_the_best_and_says_so() -> None:
    gil = sweep("3.14", {1: 13.8, 8: 11.0}) + [setting("3.14", 16, 15.0, limited=True)]
    entries = by_side(tuned_entries(gil + sweep("3.14t", FT_JSON)))
    best = entries["3.14"]
    assert best.best_threads == 16 and best.lower_bound and best.max_rps_at_slo == 15.0
    assert best.ft_ratio_best == pytest.approx(22.5 / 15.0, abs=1e-4)
    assert best.ft_ratio_best_bound == "at most"  # 3.14 may sustain more than 15: 3.14t's lead may be smaller
    assert best.ft_ratio_equal_bound == "measured"  # both settled at 8 threads


def test_a_lower_bound_below_the_best_is_never_silently_dropped() -> None:
    gil = sweep("3.14", {1: 13.8, 8: 11.0}) + [setting("3.14", 16, 5.0, limited=True)]
    entries = by_side(tuned_entries(gil + sweep("3.14t", FT_JSON)))
    best = entries["3.14"]
    assert best.best_threads == 1 and not best.lower_bound
    assert best.unsettled == ("3.14 uvicorn w1 t16",)  # it may beat 13.8 rps: the best is not settled
    assert best.ft_ratio_best_bound == "at most"


@pytest.mark.parametrize(("ft_limited", "gil_limited", "bound"), [
    (True, False, "at least"), (False, True, "at most"), (True, True, "unbounded"), (False, False, "measured")])
def test_the_equal_settings_ratio_is_a_bound_when_a_side_is(ft_limited: bool, gil_limited: bool, bound: str) -> None:
    settings = [setting("3.14t", 8, 22.0, limited=ft_limited), setting("3.14t", 2, 21.0),
                setting("3.14", 8, 11.0, limited=gil_limited), setting("3.14", 2, 13.0)]
    entries = by_side(tuned_entries(settings))
    assert entries["3.14"].ft_ratio_equal == pytest.approx(2.0) and entries["3.14"].ft_ratio_equal_bound == bound
    assert entries["3.14"].equal_lower_bound is gil_limited and entries["3.14t"].equal_lower_bound is ft_limited


def test_no_ratio_against_nothing() -> None:
    entries = by_side(tuned_entries(sweep("3.14t", {2: 20.0, 8: 20.0}) + sweep("3.14", {2: None, 8: None})))
    assert entries["3.14"].max_rps_at_slo is None and entries["3.14"].ft_ratio_best is None
    assert entries["3.14"].ft_ratio_best_bound is None and entries["3.14"].ft_ratio_equal is None


def test_summary_json_lists_the_tuning_of_a_run() -> None:
    summary = analyse(capacity_run(sweep("3.14", GIL_JSON) + sweep("3.14t", FT_JSON))).summary
    assert [e.side for e in summary.tuned] == ["3.14", "3.14t"] and len(summary.capacity) == 10
    assert summary.tuned[0].ft_ratio_best == pytest.approx(22.5 / 13.8, abs=1e-4)
    assert SummaryRecord.from_json(json.loads(json.dumps(summary.to_json()))) == summary
    assert analyse(load_run(SMOKE_PAIRED)).summary.tuned == ()
