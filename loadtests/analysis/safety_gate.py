"""``--expect no-races`` judged on a run's summary.json: exit 10 when a race was found (docs/ci.md)."""

from __future__ import annotations

from collections.abc import Iterable

from loadtests.analysis.figures.expectations import EXIT
from loadtests.analysis.figures.safety_gate import SafetyGateResult
from loadtests.core.exit_status import ExitStatus, combined
from loadtests.results.records import SummaryRecord
from loadtests.results.safety_expectation import SafetyExpectation

RACY_ENDPOINTS = ("wrong-without-gil", "wrong-under-concurrency")


def judge_safety(expectation: SafetyExpectation, summary: SummaryRecord) -> SafetyGateResult:
    safety = summary.safety
    if safety is None:
        return SafetyGateResult(expectation, "missing", "the run checked no safety: run `gil-lab safety`, or "
                                "`gil-lab compare` on your app with --locustfile (without --no-safety)")
    errors, races = [], []
    if expectation.scope in ("all", "responses"):
        if safety.responses_error:
            errors.append(f"the response check could not run: {safety.responses_error.splitlines()[0]}")
        elif not safety.responses and expectation.scope == "responses":
            errors.append("the run did not check responses")
        races += sorted({r.endpoint for r in safety.responses if r.classification in RACY_ENDPOINTS})
    if expectation.scope in ("all", "tests"):
        if safety.tests_error:
            errors.append(f"the tests could not run: {safety.tests_error.splitlines()[0]}")
        elif not safety.tests and expectation.scope == "tests":
            errors.append("the run did not run tests (--tests PATH)")
        tests = {t.nodeid for t in safety.tests}
        races += [name for name in safety.races if name in tests]
    if races:
        return SafetyGateResult(expectation, "fail", f"{len(races)} race(s): {', '.join(races[:10])}"
                                + (" ..." if len(races) > 10 else ""))
    if errors:
        return SafetyGateResult(expectation, "missing", "; ".join(errors))
    return SafetyGateResult(expectation, "pass", "no race found")


def judge_all(expectations: Iterable[SafetyExpectation], summary: SummaryRecord
              ) -> tuple[ExitStatus, list[SafetyGateResult]]:
    results = [judge_safety(e, summary) for e in expectations]
    return combined(EXIT[r.status] for r in results), results
