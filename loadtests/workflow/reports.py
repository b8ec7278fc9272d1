"""``gil-lab compare``, ``report``, ``history`` and ``diff``: a run's analysis, written and shown.

A run directory is read here, once per command: ``report`` and ``diff`` load each
record and analyse it once. ``compare`` reads nothing back: it writes its reports from
the analysis its run ended with (``workflow.finish``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from loadtests.analysis.diff import diff_runs
from loadtests.analysis.figures.analysis import Analysis
from loadtests.analysis.figures.capacity import DEFAULT_SLO_MS
from loadtests.analysis.figures.diff import RunDiff
from loadtests.analysis.figures.history import ChangePoint
from loadtests.analysis.history_changes import change_points, condition_changes
from loadtests.analysis.history_summary import SUMMARY_VERSION, index_document
from loadtests.analysis.run_analysis import analyse
from loadtests.core.errors import ConfigError
from loadtests.core.paths import results_dir
from loadtests.report.build import ReportPaths, write_report
from loadtests.results.history import HistoryEntry, list_runs, sync_history
from loadtests.results.store import RUN_FILE, load_run, save_summary
from loadtests.workflow.run import Progress, RunRequest, RunResult, run


def newest_run(root: Path | None = None) -> Path:
    """The most recent run directory (run ids start with a UTC timestamp, so names sort by time)."""
    root = root or results_dir()
    runs = sorted(d for d in root.glob("*/") if (d / RUN_FILE).is_file())
    if not runs:
        raise ConfigError(f"no run in {root}; run `make compare` first, or pass RUN_DIR")
    return runs[-1]


def load_analysis(run_dir: Path | str, slo_ms: float = DEFAULT_SLO_MS, target_rps: float | None = None) -> Analysis:
    """A run directory's run.json, read once and analysed once."""
    return analyse(load_run(run_dir), slo_ms, target_rps)


def compare(request: RunRequest, progress: Progress, slo_ms: float = DEFAULT_SLO_MS,
            target_rps: float | None = None) -> RunResult:
    """Measure (or resume) a run, then write report.html and report.md beside its run.json.

    ``gil-lab compare`` and ``gil-lab capacity``. The reports come from the analysis the
    run ended with, the one summary.json and the history were written from.
    """
    result = run(request, progress, slo_ms, target_rps)
    return replace(result, report=write_report(result.run_dir, result.analysis))


def report(run_dir: Path | None, slo_ms: float = DEFAULT_SLO_MS, target_rps: float | None = None) -> ReportPaths:
    """Rewrite a run's report.html, report.md and summary.json from its run.json (the newest run by default)."""
    run_dir = run_dir or newest_run()
    a = load_analysis(run_dir, slo_ms, target_rps)
    save_summary(run_dir, a.summary)
    return write_report(run_dir, a)


@dataclass(frozen=True)
class History:
    entries: list[HistoryEntry]
    problems: list[str]  # run directories that could not be indexed, with the reason
    change_points: list[ChangePoint]  # at the listed runs, found over every indexed run
    new_conditions: list[tuple[str, list[str]]] = field(default_factory=list)  # listed runs not pooled, and why

    def at(self, run_id: str) -> list[ChangePoint]:
        return [c for c in self.change_points if c.run_id == run_id]

    def conditions_at(self, run_id: str) -> list[str]:
        return next((why for rid, why in self.new_conditions if rid == run_id), [])


def history(root: Path | None = None, limit: int | None = 20) -> History:
    """Index what is new under ``root`` (results/ by default), then list the newest runs and their change points."""
    root = root or results_dir()
    problems = sync_history(root, index_document, SUMMARY_VERSION)
    everything = list_runs(root, None)
    listed = everything[:limit] if limit is not None else everything
    shown = {e.run_id for e in listed}
    return History(listed, problems, [c for c in change_points(everything) if c.run_id in shown],
                   [(rid, why) for rid, why in condition_changes(everything) if rid in shown])


def diff(run_a: Path, run_b: Path) -> RunDiff:
    """B against A per configuration, and how the paired ratios both runs hold moved."""
    return diff_runs(load_analysis(run_a), load_analysis(run_b))
