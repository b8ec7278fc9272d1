"""``gil-lab report``, ``history`` and ``diff``, and the summary ``compare`` ends with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from loadtests.analysis.capacity import DEFAULT_SLO_MS
from loadtests.analysis.diff import RunDiff, diff_runs
from loadtests.analysis.history_changes import ChangePoint, change_points
from loadtests.analysis.history_summary import SUMMARY_VERSION, run_summary
from loadtests.analysis.ratio_diff import RatioDiff, ratio_diffs
from loadtests.analysis.summary import summarize_run as summarize
from loadtests.core.errors import ConfigError
from loadtests.core.paths import results_dir
from loadtests.report.build import ReportPaths, write_report
from loadtests.report.terminal import render_terminal
from loadtests.results.history import HistoryEntry, list_runs, sync_history
from loadtests.results.store import RUN_FILE, load_run, save_summary


def newest_run(root: Path | None = None) -> Path:
    """The most recent run directory (run ids start with a UTC timestamp, so names sort by time)."""
    root = root or results_dir()
    runs = sorted(d for d in root.glob("*/") if (d / RUN_FILE).is_file())
    if not runs:
        raise ConfigError(f"no run in {root}; run `make compare` first, or pass RUN_DIR")
    return runs[-1]


def report(run_dir: Path | None, slo_ms: float = DEFAULT_SLO_MS, target_rps: float | None = None) -> ReportPaths:
    """Rewrite a run's report.html, report.md and summary.json from its run.json (the newest run by default)."""
    run_dir = run_dir or newest_run()
    summary = summarize(load_run(run_dir))
    save_summary(run_dir, summary)
    return write_report(run_dir, slo_ms, target_rps, capacity=summary.capacity)


def summarize_run(run_dir: Path | str, slo_ms: float = DEFAULT_SLO_MS, target_rps: float | None = None) -> str:
    """Write the reports for ``run_dir`` and return the terminal summary (table + verdict)."""
    report(Path(run_dir), slo_ms, target_rps)
    return render_terminal(Path(run_dir), slo_ms)


@dataclass(frozen=True)
class History:
    entries: list[HistoryEntry]
    problems: list[str]  # run directories that could not be indexed, with the reason
    change_points: list[ChangePoint]  # at the listed runs, found over every indexed run

    def at(self, run_id: str) -> list[ChangePoint]:
        return [c for c in self.change_points if c.run_id == run_id]


def history(root: Path | None = None, limit: int | None = 20) -> History:
    """Index what is new under ``root`` (results/ by default), then list the newest runs and their change points."""
    root = root or results_dir()
    problems = sync_history(root, run_summary, SUMMARY_VERSION)
    everything = list_runs(root, None)
    listed = everything[:limit] if limit is not None else everything
    shown = {e.run_id for e in listed}
    return History(listed, problems, [c for c in change_points(everything) if c.run_id in shown])


def diff(run_a: Path, run_b: Path) -> tuple[RunDiff, list[RatioDiff]]:
    """B against A per configuration, and how the paired ratios both runs hold moved."""
    d = diff_runs(run_a, run_b)
    return d, ratio_diffs(d.a, d.b)
