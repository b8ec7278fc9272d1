"""--expect no-races judged on a summary: exit 10 on a race, 1 when the run checked nothing."""

from __future__ import annotations

from dataclasses import replace

from loadtests.analysis.safety_gate import judge_all
from loadtests.core.exit_status import ExitStatus
from loadtests.results.records import SCHEMA_VERSION, SummaryRecord
from loadtests.results.safety_expectation import SafetyExpectation
from tests.fixtures.safety_records import record

EMPTY = SummaryRecord(schema_version=SCHEMA_VERSION, run_id="r", preset="safety", created_at="now", usable_cores=2,
                      comparisons=())


def test_a_race_fails_and_names_it() -> None:
    status, (result,) = judge_all([SafetyExpectation("no-races")], replace(EMPTY, safety=record().summary()))
    assert status == ExitStatus.FAILED and "GET /greeting" in result.reason and "test_racy" in result.reason


def test_a_scope_looks_at_its_check_only() -> None:
    summary = replace(EMPTY, safety=record().summary())
    summary = replace(summary, safety=replace(summary.safety, races=("tests/test_a.py::test_racy",),
                                              responses=()))
    assert judge_all([SafetyExpectation("no-races@responses", "responses")], summary)[0] == ExitStatus.LAB_ERROR
    assert judge_all([SafetyExpectation("no-races@tests", "tests")], summary)[0] == ExitStatus.FAILED


def test_a_clean_run_passes_and_a_run_without_safety_is_missing() -> None:
    clean = replace(EMPTY, safety=record(racy=False).summary())
    assert judge_all([SafetyExpectation("no-races")], clean)[0] == ExitStatus.PASS
    status, (result,) = judge_all([SafetyExpectation("no-races")], EMPTY)
    assert status == ExitStatus.LAB_ERROR and "checked no safety" in result.reason


def test_a_check_that_could_not_run_cannot_pass() -> None:
    summary = replace(EMPTY, safety=record(racy=False, tests_failed=True).summary())
    status, (result,) = judge_all([SafetyExpectation("no-races")], summary)
    assert status == ExitStatus.LAB_ERROR and "tests could not run" in result.reason
