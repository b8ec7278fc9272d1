"""CI gates: ``--expect`` on ``run``, ``compare`` and ``check``, and ``diff --fail-above``.

``run`` and ``compare`` check their expectations against the plan before anything
starts and evaluate them on the run's summary.json once it is written; ``check``
evaluates them on a run directory that already exists, without measuring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from loadtests.analysis.diff import RunDiff
from loadtests.analysis.diff_gate import DiffGate, gate
from loadtests.analysis.expectation_check import ExpectationReport, evaluate
from loadtests.analysis.safety_gate import SafetyGateResult, judge_all
from loadtests.analysis.summary import summarize_run
from loadtests.core.errors import ConfigError, ResultsError
from loadtests.core.exit_status import ExitStatus
from loadtests.plan.expectation_scope import check_scope
from loadtests.results.expectation import Expectation, ExpectationError
from loadtests.results.records import Plan, RunRecord, SummaryRecord
from loadtests.results.safety_expectation import SafetyExpectation
from loadtests.results.store import RUN_FILE, SUMMARY_FILE, load_run, load_summary, summary_is_current
from loadtests.workflow.run import RunRequest, plan_for


def run_request(options: dict[str, Any]) -> RunRequest:
    """The RunRequest in a command's options (``compare`` has a few of its own, such as --slo-ms)."""
    names = {f.name for f in fields(RunRequest)}
    return RunRequest(**{k: v for k, v in options.items() if k in names})


def planned(request: RunRequest) -> Plan:
    """What a run or a resumed run will measure, without starting anything."""
    if request.resume_dir:
        return load_run(Path(request.resume_dir)).settings.plan
    return plan_for(request)[0]


def check_before_run(expectations: Sequence[Expectation], request: RunRequest) -> None:
    """Raise ExpectationError when the plan cannot answer an expectation."""
    if expectations:
        check_scope(expectations, planned(request))


def _summary(run_dir: Path) -> tuple[SummaryRecord, RunRecord | None]:
    """summary.json when the run directory has a current one, else the summary of its run.json; and run.json.

    A summary.json of an older schema is summarised again from run.json (which migrates), so a
    gate on an old run judges what this lab would write.
    """
    run = load_run(run_dir) if (run_dir / RUN_FILE).is_file() else None
    if (run_dir / SUMMARY_FILE).is_file() and (run is None or summary_is_current(run_dir)):
        return load_summary(run_dir), run
    if run is None:
        raise ResultsError(f"{run_dir} holds neither {SUMMARY_FILE} nor {RUN_FILE}: pass a run directory written "
                           "by `gil-lab run` or `gil-lab compare`")
    return summarize_run(run), run


def check_run(run_dir: Path, expectations: Sequence[Expectation]) -> ExpectationReport:
    """Evaluate ``expectations`` on a finished run; what its plan never measured is an ExpectationError."""
    summary, run = _summary(Path(run_dir))
    if run is not None:
        check_scope(expectations, run.settings.plan)
    return evaluate(expectations, summary)


def diff_gate(d: RunDiff, fail_above_pct: float) -> DiffGate:
    """The gate over ``d``; two runs with no configuration in common have nothing to gate, which is an error."""
    if not d.configs:
        raise ConfigError(f"runs {d.a.run_id} and {d.b.run_id} have no configuration in common, so --fail-above has "
                          "nothing to judge: compare runs of the same preset (see `gil-lab history`)")
    return gate(d, fail_above_pct)


def check_safety_before_run(expectations: Sequence[SafetyExpectation], request: RunRequest) -> None:
    """``no-races`` on run or compare needs the response check: a team's app with its Locust file, not skipped."""
    if expectations and (not request.locustfile or not request.safety):
        raise ExpectationError(f"--expect {expectations[0].text}: this run checks no safety. The response check runs "
                               "when compare measures your app with --locustfile (and without --no-safety); "
                               "`gil-lab safety` runs both checks")


def check_safety(run_dir: Path, expectations: Sequence[SafetyExpectation]) -> tuple[str, ExitStatus,
                                                                                   list[SafetyGateResult]]:
    """``no-races`` judged on a finished run: its id, the exit status and one result per expectation."""
    summary, _ = _summary(Path(run_dir))
    status, results = judge_all(expectations, summary)
    return summary.run_id, status, results
