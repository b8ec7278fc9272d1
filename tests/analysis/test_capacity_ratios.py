"""Capacity ratios and capacity runs compared: MOVER intervals, the pairs a run allows, diff, its gate, --expect."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from loadtests.analysis.capacity_diff import capacity_estimates
from loadtests.analysis.capacity_ratios import capacity_ratios
from loadtests.analysis.diff import diff_runs
from loadtests.analysis.diff_gate import gate
from loadtests.analysis.expectation_check import evaluate
from loadtests.analysis.gated_figures import gated_figures
from loadtests.analysis.ratio_interval import mover_ratio
from loadtests.analysis.run_analysis import analyse
from loadtests.analysis.run_change import changes, regressed
from loadtests.analysis.tuning import Setting
from loadtests.core.exit_status import ExitStatus
from loadtests.results.expectation import parse_expectation
from loadtests.results.records import RunRecord
from loadtests.results.store import load_run
from tests.fixtures.capacity_searches import capacity_run, setting

V4 = Path(__file__).resolve().parents[1] / "fixtures" / "run-json" / "v4" / "capacity-workers.json"


def test_mover_combines_two_independent_intervals_on_the_log_scale() -> None:
    found = mover_ratio(20.0, 18.0, 22.0, 10.0, 9.0, 11.0)
    assert found.ratio == 2.0
    low = math.exp(math.log(2.0) - math.hypot(math.log(20 / 18), math.log(11 / 10)))
    high = math.exp(math.log(2.0) + math.hypot(math.log(22 / 20), math.log(10 / 9)))
    assert found.low == pytest.approx(low) and found.high == pytest.approx(high)
    assert found.low < 2.0 * 18 / 20 / (11 / 10) * 1.2  # narrower than the ends divided crosswise ...
    assert found.low > 18.0 / 11.0  # ... which would add the errors, not combine them
    open_top = mover_ratio(20.0, 18.0, None, 10.0, 9.0, 11.0)
    assert open_top.high is None and open_top.low == pytest.approx(low)


def open_run(settings: list[Setting]) -> RunRecord:
    """The real capacity run of the version 4 fixture (open-loop windows only) holding these searches."""
    run = load_run(V4)
    plan = replace(run.settings.plan, configs=tuple(s.config for s in settings))
    return replace(run, settings=replace(run.settings, plan=plan), capacities=tuple(s.search for s in settings))


def fitted_run() -> RunRecord:
    return open_run([setting("3.14", 8, 6.0, ci=(5.4, 6.6)), setting("3.14t", 8, 13.0, ci=(11.7, 14.3)),
                     setting("3.14", 8, 19.0, workers=2, processes=True, ci=(17.1, 20.9))])


def test_a_run_gives_3_14t_against_every_other_side_with_intervals() -> None:
    ratios = capacity_ratios(fitted_run())
    assert [(r.kind, r.baseline.label) for r in ratios] == [("interpreter", "3.14 uvicorn w1 t8"),
                                                            ("processes", "3.14 uvicorn ×2 proc")]
    interpreter = ratios[0]
    assert interpreter.ratio == pytest.approx(13 / 6, abs=1e-4) and interpreter.bound == "measured"
    assert interpreter.ci_low is not None and interpreter.ci_high is not None
    assert interpreter.ci_low < 13 / 6 < interpreter.ci_high and interpreter.phase == "search"


def test_a_lower_bound_opens_its_side_of_the_ratio() -> None:
    run = capacity_run([setting("3.14", 8, 6.0, ci=(5.4, 6.6)), setting("3.14t", 8, 13.0, limited=True)])
    (ratio,) = capacity_ratios(run)
    assert ratio.bound == "at least" and ratio.ci_high is None and ratio.ci_low is not None


def real_capacity_run():  # type: ignore[no-untyped-def]
    """The real capacity run of the version 4 fixture (open-loop windows, one invalid now), its searches fitted."""
    run = load_run(V4)
    fitted = [replace(s, method="fit", ci_low=s.max_rps_at_slo * 0.9, ci_high=s.max_rps_at_slo * 1.1)  # type: ignore[operator]
              for s in run.capacities if s.max_rps_at_slo]
    cells = (replace(run.cells[0], valid=False, invalid_reason="the load generator did not keep its schedule"),
             *run.cells[1:])
    return replace(run, capacities=tuple(fitted), cells=cells)


def test_a_capacity_run_diffed_against_itself_passes_any_gate_even_with_invalid_step_windows() -> None:
    run = real_capacity_run()
    a = analyse(run)
    assert a.configs == ()  # no closed-loop configuration: the capacities are what diff compares
    d = diff_runs(a, a)
    capacity = [c for c in d.changes if c.a.measure.startswith("capacity")]
    assert len(capacity) == len(d.changes) == 3 + 2 and all(c.change == pytest.approx(1.0) for c in capacity)
    assert all(c.significant is not True for c in capacity)  # an interval holds 1; a lower bound has none
    result = gate(d, 5.0)
    assert result.status == ExitStatus.PASS and result.compared == 5 and not result.invalid


def test_a_lower_capacity_beyond_the_threshold_and_its_interval_regresses() -> None:
    before = analyse(fitted_run())
    worse = open_run([setting("3.14", 8, 6.0, ci=(5.4, 6.6)), setting("3.14t", 8, 9.0, ci=(8.5, 9.5)),
                          setting("3.14", 8, 19.0, workers=2, processes=True, ci=(17.1, 20.9))])
    d = diff_runs(before, analyse(worse))
    result = gate(d, 10.0)
    assert result.status == ExitStatus.FAILED
    labels = {c.a.label for c in result.regressions}
    assert "json 3.14t uvicorn w1 t8" in labels
    assert not any(c.a.label.removeprefix("json ") == "3.14 uvicorn w1 t8" for c in result.regressions)
    assert gate(d, 40.0).status == ExitStatus.PASS  # 31% lower: not beyond 40%


def test_a_change_without_intervals_never_regresses() -> None:
    estimates = capacity_estimates(analyse(open_run([setting("3.14", 8, 6.0), setting("3.14t", 8, 13.0)])))
    assert estimates and all(e.log_se is None for e in estimates)  # searches recorded before intervals
    lower = [replace(e, log_value=e.log_value - 0.7) for e in estimates]
    assert all(not regressed(c, 5.0) and c.low is None for c in changes(estimates, lower))


def test_capacities_are_gated_figures_with_the_error_their_intervals_give() -> None:
    estimates = {e.key: e for e in gated_figures(analyse(fitted_run()))}
    capacity = estimates["json/uvicorn/3.14t/gil-default/w1/t8/u4@search"]
    assert capacity.measure == "capacity" and capacity.value == pytest.approx(13.0)
    assert capacity.log_se is not None and capacity.higher_is_better
    ratio = estimates["interpreter:json/uvicorn/3.14t/gil-default/w1/t8/u4/json/uvicorn/3.14/gil-default/w1/t8/u4@search"]
    assert ratio.measure == "capacity ratio" and ratio.unit == "×" and ratio.value == pytest.approx(13 / 6, abs=1e-3)


def test_expect_judges_a_ratio_of_capacities_on_its_interval() -> None:
    summary = analyse(fitted_run()).summary
    report = evaluate([parse_expectation("json:3.14t/3.14>=1.5"), parse_expectation("json:3.14t/3.14>=2.0"),
                       parse_expectation("json:3.14t/3.14xproc<=0.9"), parse_expectation("json:3.14t/3.14>=3")],
                      summary)
    statuses = [r.status for r in report.results]
    assert statuses == ["pass", "fail", "pass", "fail"]
    assert "capacity at p95 < SLO (3.14t uvicorn w1 t8 / 3.14 uvicorn w1 t8)" in report.results[0].reason
    assert "give the searches more time to narrow it" in report.results[1].reason
    assert report.status == ExitStatus.FAILED
    assert report.results[0].to_json()["measure"] == "capacity"


def test_expect_on_a_tuning_run_takes_the_re_measured_best_settings_unless_a_thread_limit_is_named() -> None:
    run = open_run([setting("3.14", 1, 9.0, ci=(8.0, 10.0), phase="screen"),
                        setting("3.14", 8, 6.0, ci=(5.4, 6.6), phase="screen"),
                        setting("3.14t", 8, 13.0, ci=(11.7, 14.3), phase="screen"),
                        setting("3.14", 1, 8.0, ci=(7.2, 8.8), phase="confirm"),
                        setting("3.14t", 8, 12.0, ci=(10.8, 13.2), phase="confirm")])
    summary = analyse(run).summary
    (best,) = evaluate([parse_expectation("json:3.14t/3.14>=1.2")], summary).results
    assert best.comparison is not None and best.comparison.phase == "confirm"  # type: ignore[union-attr]
    assert best.comparison.ratio == pytest.approx(1.5, abs=1e-3)  # type: ignore[union-attr]
    (equal,) = evaluate([parse_expectation("json@t8:3.14t/3.14>=1.2")], summary).results
    assert equal.comparison is not None and equal.comparison.phase == "screen"  # type: ignore[union-attr]
    tuned = {t.side: t for t in summary.tuned}
    assert tuned["3.14"].confirmed and tuned["3.14"].max_rps_at_slo == 8.0 and tuned["3.14"].screened_rps_at_slo == 9.0
    assert tuned["3.14"].ft_ratio_best == pytest.approx(1.5, abs=1e-3)
    assert tuned["3.14"].ft_ratio_best_ci_low is not None and tuned["3.14"].ft_ratio_equal == pytest.approx(13 / 6,
                                                                                                           abs=1e-3)
