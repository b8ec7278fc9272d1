"""diff --fail-above on constructed runs: a significant regression beyond PCT, one within it, noise, invalid cells."""

from __future__ import annotations

import copy
import math

import pytest

from loadtests.analysis.diff import diff_runs
from loadtests.analysis.diff_gate import gate
from loadtests.analysis.figures.diff import RunDiff
from loadtests.analysis.figures.stats import PairedRatio
from loadtests.analysis.ratio_diff import change_interval
from loadtests.analysis.run_analysis import analyse
from loadtests.core.errors import ConfigError
from loadtests.core.exit_status import ExitStatus
from loadtests.results.records import RunRecord
from loadtests.results.store import parse_run
from loadtests.workflow.gates import diff_gate
from tests.fixtures.paired_runs import FT_ID, paired_run
from tests.fixtures.synthetic_runs import make_run


def between(a: dict | RunRecord, b: dict | RunRecord) -> RunDiff:
    """``diff_runs`` of two runs (run.json documents are parsed first), each analysed."""
    return diff_runs(*(analyse(r if isinstance(r, RunRecord) else parse_run(r)) for r in (a, b)))


def small(**kw: object) -> dict:
    return make_run(scenarios=("json",), servers=("uvicorn",), users=(8,), trap=False, gil_toggle=False,
                    microbench=False, invalid_crash=False, **kw)  # type: ignore[arg-type]


def ft_id(doc: dict) -> str:
    return next(c["config_id"] for c in doc["cells"] if c["interpreter"] == "3.14t")


def scaled(doc: dict, config_id: str, factors: list[float]) -> dict:
    """A copy of ``doc`` whose windows of ``config_id`` are multiplied by ``factors`` in turn."""
    out = copy.deepcopy(doc)
    cells = [c for c in out["cells"] if c["config_id"] == config_id]
    for cell, factor in zip(cells, factors * len(cells), strict=False):
        cell["rps"] *= factor
    return out


def test_a_significant_regression_beyond_the_threshold_is_exit_10() -> None:
    a = small()
    b = scaled(a, ft_id(a), [0.8])
    g = gate(between(a, b), 10)
    assert g.status == ExitStatus.FAILED and g.compared == 3 and not g.invalid
    (regression,) = g.regressions
    assert regression.key == ft_id(a) and regression.a.measure == "throughput"
    assert regression.ratio == pytest.approx(0.8) and regression.high is not None and regression.high < 1
    assert regression.worse_pct == pytest.approx(20.0)
    assert g.to_json()["exit_status"] == 10 and g.to_json()["regressions"][0]["key"] == ft_id(a)


def test_a_significant_regression_within_the_threshold_passes() -> None:
    a = small()
    b = scaled(a, ft_id(a), [0.8])
    assert gate(between(a, b), 25).status == ExitStatus.PASS
    assert gate(between(a, b), 19.9).status == ExitStatus.FAILED


def test_a_large_drop_that_is_not_significant_passes() -> None:
    a = small()
    b = scaled(a, ft_id(a), [0.4, 1.1, 0.8])  # 23% lower on average, but one window is above A
    d = between(a, b)
    (c,) = [c for c in d.configs if c.config_id == ft_id(a)]
    assert c.rps is not None and c.rps.ratio < 0.8 and c.rps.significant is False
    assert gate(d, 5).status == ExitStatus.PASS


def test_a_faster_b_never_fails() -> None:
    a = small()
    assert gate(between(a, scaled(a, ft_id(a), [1.5])), 0).status == ExitStatus.PASS


def test_invalid_cells_in_either_run_are_exit_11_and_a_regression_still_wins() -> None:
    a = small()
    b = copy.deepcopy(a)
    gil_id = next(c["config_id"] for c in b["cells"] if c["interpreter"] == "3.14" and c["parallelism"] == "threads")
    b["cells"][[c["config_id"] for c in b["cells"]].index(gil_id)].update(valid=False,
                                                                          invalid_reason="server crashed (exit -9)")
    g = gate(between(a, b), 10)
    assert g.status == ExitStatus.INVALID and not g.regressions
    (bad,) = g.invalid
    assert bad.config_id == gil_id and bad.reasons == (f"run B: {gil_id}/r0: server crashed (exit -9)",)
    assert gate(between(b, a), 10).invalid[0].reasons[0].startswith("run A: ")
    assert gate(between(a, scaled(b, ft_id(a), [0.5])), 10).status == ExitStatus.FAILED


def test_cells_skipped_by_design_are_not_invalid() -> None:
    a = small()
    b = copy.deepcopy(a)
    for doc in (a, b):
        cell = doc["cells"][0]
        cell.update(valid=False, invalid_reason="skipped: the --app-url app cannot stand for this cell")
    assert parse_run(b).cells[0].outcome == "skipped"
    assert gate(between(a, b), 10).status == ExitStatus.PASS


def test_runs_under_other_controlled_conditions_are_not_gated_and_the_refusal_says_why() -> None:
    a = small()
    b = copy.deepcopy(a)
    b["machine"]["cpu_model"] = "Intel Xeon"
    with pytest.raises(ConfigError, match="CPU model: AMD EPYC 7B13 64-Core Processor in A, Intel Xeon in B"):
        diff_gate(between(a, b), 10)
    assert gate(between(a, copy.deepcopy(a)), 10).status == ExitStatus.PASS


def test_runs_with_nothing_in_common_cannot_be_gated() -> None:
    a = small()
    b = make_run(scenarios=("compute",), servers=("uvicorn",), users=(8,), trap=False, gil_toggle=False,
                 microbench=False, invalid_crash=False)
    with pytest.raises(ConfigError, match="no configuration or capacity in common"):
        diff_gate(between(a, b), 10)


def test_the_change_of_a_paired_ratio_has_welchs_interval_on_the_logs() -> None:
    a = PairedRatio(2.0, None, None, 5, 0.1)
    b = PairedRatio(1.5, None, None, 5, 0.1)
    # va = vb = 0.01/5; se = sqrt(0.004); Welch df = 8, t(0.975, 8) = 2.306004
    half = 2.306004 * math.sqrt(0.004)
    low, high = change_interval(a, b)
    assert low == pytest.approx(0.75 * math.exp(-half), rel=1e-5)
    assert high == pytest.approx(0.75 * math.exp(half), rel=1e-5)
    assert change_interval(a, PairedRatio(1.5, None, None, 1, None)) == (None, None)


def test_paired_ratios_of_two_runs_show_how_3_14t_over_3_14_moved() -> None:
    a = parse_run(paired_run("a", [(10, 19), (11, 21), (10.5, 20), (9.5, 18.5), (10, 19.5)]))
    b = parse_run(paired_run("b", [(10, 15), (11, 16.5), (10.5, 16), (9.5, 14), (10, 15.5)]))
    (r,) = between(a, b).ratios
    assert (r.kind, r.scenario, r.server, r.users) == ("interpreter", "json", "uvicorn", 8)
    assert r.a.ratio == pytest.approx(1.9, rel=0.02) and r.b.ratio == pytest.approx(1.52, rel=0.02)
    assert r.change == pytest.approx(r.b.ratio / r.a.ratio) and r.significant and r.high is not None and r.high < 1
    # the same windows give a throughput regression of 3.14t, and none of 3.14
    g = gate(between(a, b), 10)
    assert [c.key for c in g.regressions] == [FT_ID] and g.status == ExitStatus.FAILED
    assert between(a, make_run(scenarios=("json",), servers=("uvicorn",), users=(8,))).ratios == ()
