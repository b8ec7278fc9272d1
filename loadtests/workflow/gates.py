"""CI gates: ``--expect`` on ``check``, and ``diff --fail-above``.

``run`` and ``compare`` take ``--expect`` too: they check the expectations against the
plan they resolve (before anything starts) and judge them on the analysis the run ends
with (``workflow.run``). ``check`` judges a run directory that already exists, without
measuring.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from loadtests.analysis.diff_gate import gate
from loadtests.analysis.expectation_check import evaluate
from loadtests.analysis.figures.diff import DiffGate, RunDiff
from loadtests.analysis.figures.expectations import ExpectationReport
from loadtests.analysis.run_analysis import analyse
from loadtests.core.errors import ConfigError, ResultsError
from loadtests.plan.expectation_scope import check_scope
from loadtests.results.expectation import Expectation
from loadtests.results.records import SummaryRecord
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
    """The gate over ``d``; runs measured under other controlled conditions, or with no configuration in
    common, cannot be gated, which is an error (exit 1) that says why."""
    if d.unlike:
        raise ConfigError(f"runs {d.a.run_id} and {d.b.run_id} were measured under different controlled conditions, "
                          "so --fail-above would judge the conditions, not the change: "
                          + "; ".join(d.unlike) + ". Gate against a run of the same machine and settings "
                          "(see `gil-lab history`).")
    if not d.configs:
        raise ConfigError(f"runs {d.a.run_id} and {d.b.run_id} have no configuration in common, so --fail-above has "
                          "nothing to judge: compare runs of the same preset (see `gil-lab history`)")
    return gate(d, fail_above_pct)
