"""The safety records: they round-trip through JSON, and summary.json's safety object comes from them."""

from __future__ import annotations

import pytest

from loadtests.results.expectation import ExpectationError
from loadtests.results.records.safety import SafetyRecord
from loadtests.results.safety_expectation import parse_safety_expectation
from tests.fixtures.safety_records import record


def test_a_safety_record_round_trips() -> None:
    safety = record()
    assert SafetyRecord.from_json(safety.to_json()) == safety


def test_the_summary_lists_each_endpoint_per_arm_and_each_test_with_its_deciding_pass() -> None:
    summary = record().summary()
    assert [(r.endpoint, r.interpreter, r.mismatches, r.classification) for r in summary.responses][:2] == [
        ("GET /greeting", "3.14t", 12, "wrong-without-gil"), ("GET /greeting", "3.14", 0, "wrong-without-gil")]
    racy, fine = summary.tests
    assert (racy.classification, racy.failures, racy.runs, racy.arm) == ("fails-parallel-ft-only", 3, 4,
                                                                         "parallel 3.14t")
    assert (fine.classification, fine.failures, fine.runs) == ("passes", 0, 2)  # every pass for a test that passes
    assert summary.races == ("GET /greeting", "tests/test_a.py::test_racy")


def test_a_check_that_could_not_run_is_named_in_the_summary() -> None:
    summary = record(racy=False, tests_failed=True).summary()
    assert summary.tests == () and summary.tests_error == "no tests environment" and summary.races == ()


@pytest.mark.parametrize(("text", "scope"), [("no-races", "all"), (" no-races@tests ", "tests"),
                                             ("no-races@responses", "responses")])
def test_no_races_parses_with_its_scope(text: str, scope: str) -> None:
    parsed = parse_safety_expectation(text)
    assert parsed is not None and parsed.scope == scope


def test_other_expressions_are_not_safety_expectations_and_a_bad_scope_is_an_error() -> None:
    assert parse_safety_expectation("json:3.14t/3.14>=1.5") is None
    with pytest.raises(ExpectationError, match="no-races@tests"):
        parse_safety_expectation("no-races@everything")
