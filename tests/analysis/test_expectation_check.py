"""--expect judged on constructed summaries: selection, the interval's ends, invalid and missing comparisons."""

from __future__ import annotations

import pytest

from loadtests.analysis.expectation_check import evaluate, select
from loadtests.analysis.run_analysis import analyse
from loadtests.core.exit_status import ExitStatus
from loadtests.results.expectation import parse_expectation
from loadtests.results.records import SCHEMA_VERSION, ComparisonSummary, ConfigLabel, SummaryRecord, config_label
from loadtests.results.store import parse_run
from tests.fixtures.synthetic_runs import make_run


def side(interpreter: str, *, server: str = "uvicorn", python_gil: str | None = None, parallelism: str = "threads",
         workers: int = 1, threads: int = 8, cpus: tuple[int, ...] | None = None) -> ConfigLabel:
    label = config_label(interpreter, python_gil, server, parallelism, workers, threads, cpus)
    return ConfigLabel(label=label, config_id=label.replace(" ", "/"), interpreter=interpreter, python_gil=python_gil,
                       server=server, parallelism=parallelism, workers=workers, threads=threads,  # type: ignore[arg-type]
                       cpus=cpus)


def entry(ratio: float | None = 1.8, low: float | None = 1.6, high: float | None = 2.0, *, kind: str = "interpreter",
          scenario: str = "json", server: str = "uvicorn", users: int = 4, candidate: ConfigLabel | None = None,
          baseline: ConfigLabel | None = None, invalid_reason: str | None = None) -> ComparisonSummary:
    verdict = "invalid" if ratio is None else "not significant" if low is None or low <= 1 <= (high or 0) else (
        "faster" if ratio > 1 else "slower")
    return ComparisonSummary(
        comparison_id=None, kind=kind, scenario=scenario, server=server, users=users,  # type: ignore[arg-type]
        candidate=candidate or side("3.14t", server=server), baseline=baseline or side("3.14", server=server),
        ratio=ratio, ci_low=low, ci_high=high, paired=True, n_pairs=0 if ratio is None else 1 if low is None else 6,
        precision_reached=None, precision_target=None, stopping="fixed pairs", verdict=verdict,  # type: ignore[arg-type]
        invalid_reason=invalid_reason, efficiency=None, ideal=None, candidate_cv=None, baseline_cv=None,
        candidate_pss_mb=None, baseline_pss_mb=None)


def summary(*entries: ComparisonSummary) -> SummaryRecord:
    return SummaryRecord(schema_version=SCHEMA_VERSION, run_id="run-x", preset="default", created_at="2026-12-02T08:00:00Z",
                         usable_cores=2, comparisons=entries)


def check(text: str, s: SummaryRecord) -> tuple[ExitStatus, list[str], list[str]]:
    report = evaluate([parse_expectation(text)], s)
    return report.status, [r.status for r in report.results], [r.reason for r in report.results]


def test_ge_passes_on_the_lower_end_and_fails_when_only_the_point_estimate_clears_the_bound() -> None:
    status, results, reasons = check("json:3.14t/3.14>=1.5", summary(entry(1.8, 1.6, 2.0)))
    assert status == ExitStatus.PASS and results == ["pass"]
    assert "1.80× (95% CI 1.60–2.00); its lower end 1.60 >= 1.5" in reasons[0]
    status, results, reasons = check("json:3.14t/3.14>=1.5", summary(entry(1.8, 1.4, 2.2)))
    assert status == ExitStatus.FAILED and results == ["fail"]
    assert "its lower end 1.40 is not >= 1.5 (the point estimate is, but the bound applies to the interval" in reasons[0]


def test_le_and_lt_use_the_upper_end() -> None:
    assert check("json:3.14t/3.14<=2.0", summary(entry(1.8, 1.6, 2.0)))[0] == ExitStatus.PASS
    assert check("json:3.14t/3.14<2.0", summary(entry(1.8, 1.6, 2.0)))[0] == ExitStatus.FAILED
    assert check("json:3.14t/3.14>1.6", summary(entry(1.8, 1.6, 2.0)))[0] == ExitStatus.FAILED
    status, _, reasons = check("json:3.14t/3.14<=1.9", summary(entry(1.8, 1.6, 2.0)))
    assert status == ExitStatus.FAILED and "its upper end 2.00 is not <= 1.9" in reasons[0]


def test_a_ratio_without_an_interval_cannot_pass() -> None:
    status, results, reasons = check("json:3.14t/3.14>=1.5", summary(entry(1.8, None, None)))
    assert status == ExitStatus.FAILED and results == ["fail"] and "has no interval" in reasons[0]


def test_an_invalid_comparison_is_exit_11_with_its_reason() -> None:
    bad = entry(None, None, None, invalid_reason="3.14t uvicorn w1 t8: GIL enabled by _yaml")
    status, results, reasons = check("json:3.14t/3.14>=1.5", summary(bad))
    assert status == ExitStatus.INVALID and results == ["invalid"] and "GIL enabled by _yaml" in reasons[0]


def test_a_comparison_the_run_lacks_is_exit_1_and_lists_what_it_has() -> None:
    status, results, reasons = check("json:3.14t/3.14x2proc>=0.9", summary(entry()))
    assert status == ExitStatus.LAB_ERROR and results == ["missing"]
    assert "run run-x has no 3.14t/3.14×2 proc comparison for json: it has interpreter u4 on uvicorn" in reasons[0]
    assert "it has no comparison for image" in check("image:3.14t/3.14>=1", summary(entry()))[2][0]


def test_several_expectations_exit_with_the_gravest_status() -> None:
    s = summary(entry(1.8, 1.6, 2.0), entry(None, None, None, scenario="image", invalid_reason="crashed"))
    good, failing, invalid, missing = ("json:3.14t/3.14>=1.5", "json:3.14t/3.14>=1.7", "image:3.14t/3.14>=1",
                                       "compute:3.14t/3.14>=1")
    status = {texts: evaluate([parse_expectation(t) for t in texts], s).status
              for texts in [(good,), (good, invalid), (good, missing), (missing, invalid), (invalid, failing, missing)]}
    assert list(status.values()) == [ExitStatus.PASS, ExitStatus.INVALID, ExitStatus.LAB_ERROR, ExitStatus.INVALID,
                                     ExitStatus.FAILED]


def test_the_short_form_selects_the_highest_users_on_every_server() -> None:
    s = summary(entry(0.95, 0.9, 1.0, users=1), entry(1.8, 1.6, 2.0, users=4),
                entry(1.7, 1.5, 1.9, server="granian", users=4), entry(0.9, 0.8, 1.0, server="granian", users=1))
    chosen = select(parse_expectation("json:3.14t/3.14>=1"), s)
    assert [(c.server, c.users) for c in chosen] == [("uvicorn", 4), ("granian", 4)]
    assert [(c.server, c.users) for c in select(parse_expectation("json@granian,u1:3.14t/3.14>=1"), s)] == [
        ("granian", 1)]
    status, results, _ = check("json:3.14t/3.14>=1.55", s)
    assert status == ExitStatus.FAILED and results == ["pass", "fail"]  # granian's lower end is 1.5


def test_among_equals_the_default_settings_win_as_in_the_headline() -> None:
    pinned = entry(1.2, 1.1, 1.3, candidate=side("3.14t", cpus=(0, 1)), baseline=side("3.14", cpus=(0, 1)))
    gil0 = entry(1.3, 1.2, 1.4, candidate=side("3.14t", python_gil="0"))
    narrow = entry(1.4, 1.3, 1.5, candidate=side("3.14t", threads=2), baseline=side("3.14", threads=2))
    default = entry(1.8, 1.6, 2.0)
    for order in ([pinned, gil0, narrow, default], [default, narrow, gil0, pinned]):
        (chosen,) = select(parse_expectation("json:3.14t/3.14>=1"), summary(*order))
        assert chosen == default
    (chosen,) = select(parse_expectation("json@t2:3.14t/3.14>=1"), summary(pinned, gil0, narrow, default))
    assert chosen == narrow


def test_processes_and_gil_toggle_forms_select_their_kind() -> None:
    proc2 = entry(0.9, 0.8, 1.0, kind="processes", baseline=side("3.14", parallelism="processes", workers=2))
    proc4 = entry(0.7, 0.6, 0.8, kind="processes", baseline=side("3.14", parallelism="processes", workers=4))
    toggle = entry(0.55, 0.5, 0.6, kind="gil-toggle", candidate=side("3.14t", python_gil="1"),
                   baseline=side("3.14t"))
    s = summary(entry(), proc2, proc4, toggle)
    assert select(parse_expectation("json:3.14t/3.14x2proc>=0.5"), s) == [proc2]
    assert select(parse_expectation("json:3.14t/3.14xproc>=0.5"), s) == [proc4]  # the most processes
    assert select(parse_expectation("json:3.14t/3.14x3proc>=0.5"), s) == []
    assert select(parse_expectation("json:3.14t+PYTHON_GIL=1/3.14t<=0.7"), s) == [toggle]
    assert check("json:3.14t+PYTHON_GIL=1/3.14t<=0.7", s)[0] == ExitStatus.PASS


@pytest.mark.slow
def test_the_short_form_agrees_with_the_reports_headline_on_a_synthetic_run() -> None:
    a = analyse(parse_run(make_run(invalid_crash=False)))
    heads = {(h.scenario, h.server): h for h in a.headlines}
    s = a.summary
    for scenario in ("json", "compute", "image"):
        chosen = select(parse_expectation(f"{scenario}:3.14t/3.14>=1"), s)
        assert len(chosen) == 2
        for c in chosen:
            h = heads[(scenario, c.server)]
            assert (c.candidate.config_id, c.baseline.config_id) == (h.candidate.config_id, h.baseline.config_id)


def test_results_carry_the_figures_in_json() -> None:
    data = evaluate([parse_expectation("json:3.14t/3.14>=1.5")], summary(entry())).to_json()
    (result,) = data["results"]
    assert data["exit_status"] == 0 and data["run_id"] == "run-x"
    assert (result["status"], result["ratio"], result["ci_low"], result["ci_high"], result["bound"]) == (
        "pass", 1.8, 1.6, 2.0, 1.5)
    assert result["candidate"] == "3.14t uvicorn w1 t8" and result["baseline"] == "3.14 uvicorn w1 t8"
