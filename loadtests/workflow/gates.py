"""CI gates: ``--expect`` on ``check``, and ``diff --fail-above``.

``run`` and ``compare`` take ``--expect`` too: they check the expectations against the
plan they resolve (before anything starts) and judge them on the analysis the run ends
with (``workflow.run``). ``check`` judges a run directory that already exists, without
measuring.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loadtests.analysis.diff_gate import gate
from loadtests.analysis.expectation_check import evaluate
from loadtests.analysis.figures.diff import DiffGate, RunDiff
from loadtests.analysis.figures.expectations import ExpectationReport
from loadtests.analysis.figures.safety_gate import SafetyGateResult
from loadtests.analysis.run_analysis import analyse
from loadtests.analysis.safety_gate import judge_all
from loadtests.core.errors import ConfigError, ResultsError
from loadtests.core.exit_status import ExitStatus
from loadtests.plan.expectation_scope import check_scope
from loadtests.results.expectation import Expectation, ExpectationError
from loadtests.results.records import SummaryRecord
from loadtests.results.safety_expectation import SafetyExpectation
from loadtests.results.store import RUN_FILE, SUMMARY_FILE, load_run, load_summary


def _current_summary(run_dir: Path) -> SummaryRecord | None:
    """summary.json, when it is there and of this lab's schema (an older one is rebuilt, not read)."""
    if not (run_dir / SUMMARY_FILE).is_file():
        return None
    try:
        return load_summary(run_dir)
    except ResultsError:
        return None


def check_run(run_dir: Path, expectations: Sequence[Expectation]) -> ExpectationReport:
    """Evaluate ``expectations`` on a finished run; what its plan never measured is an ExpectationError.

    The run's summary.json is judged when it is current; otherwise (a copied run, an older
    lab's summary) run.json, read once, is analysed once and its summary judged, so a
    gate on an old run judges what this lab would write.
    """
    run_dir = Path(run_dir)
    if not (run_dir / RUN_FILE).is_file():
        if not (run_dir / SUMMARY_FILE).is_file():
            raise ResultsError(f"{run_dir} holds neither {SUMMARY_FILE} nor {RUN_FILE}: pass a run directory "
                               "written by `gil-lab run` or `gil-lab compare`")
        return evaluate(expectations, load_summary(run_dir))
    run = load_run(run_dir)
    check_scope(expectations, run.settings.plan)
    summary = _current_summary(run_dir) or analyse(run).summary
    return evaluate(expectations, summary)


def diff_gate(d: RunDiff, fail_above_pct: float) -> DiffGate:
    """The gate over ``d``; runs measured under other controlled conditions, or with no configuration or capacity
    in common, cannot be gated, which is an error (exit 1) that says why."""
    if d.unlike:
        raise ConfigError(f"runs {d.a.run_id} and {d.b.run_id} were measured under different controlled conditions, "
                          "so --fail-above would judge the conditions, not the change: "
                          + "; ".join(d.unlike) + ". Gate against a run of the same machine and settings "
                          "(see `gil-lab history`).")
    if not d.configs and not d.changes:
        raise ConfigError(f"runs {d.a.run_id} and {d.b.run_id} have no configuration or capacity in common, so "
                          "--fail-above has nothing to judge: compare runs of the same preset (see `gil-lab history`)")
    return gate(d, fail_above_pct)



def check_safety_before_run(expectations: Sequence[SafetyExpectation], options: Mapping[str, Any]) -> None:
    """``no-races`` on run or compare needs the response check: a team's app with its Locust file, not skipped."""
    if expectations and (not options.get("locustfile") or not options.get("safety", True)):
        raise ExpectationError(f"--expect {expectations[0].text}: this run checks no safety. The response check runs "
                               "when compare measures your app with --locustfile (and without --no-safety); "
                               "`gil-lab safety` runs both checks")


def check_safety(run_dir: Path, expectations: Sequence[SafetyExpectation]) -> tuple[str, ExitStatus,
                                                                                   list[SafetyGateResult]]:
    """``no-races`` judged on a finished run: its id, the exit status and one result per expectation."""
    run_dir = Path(run_dir)
    summary = _current_summary(run_dir)
    if summary is None:
        if not (run_dir / RUN_FILE).is_file():
            raise ResultsError(f"{run_dir} holds neither {SUMMARY_FILE} nor {RUN_FILE}: pass a run directory "
                               "written by `gil-lab safety`, `run` or `compare`")
        summary = analyse(load_run(run_dir)).summary
    status, results = judge_all(expectations, summary)
    return summary.run_id, status, results
