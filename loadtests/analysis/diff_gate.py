"""``gil-lab diff A B --fail-above PCT``: the diff of two runs as an exit status CI can act on.

A configuration present in both runs *regresses* when B's throughput is below A's with
significance (the whole 95% Fieller interval of B ÷ A is below 1) and its point
estimate is more than PCT percent below A (B ÷ A < 1 - PCT/100). This is asv's rule for
``asv continuous --factor``: significant, and larger than the threshold. The figures are
the mean over each run's windows: two runs are never paired with each other.

Invalid cells (not those skipped by design, as for an ``--app-url`` app) in either run's
windows of a compared configuration make the comparison invalid. The exit status is
10 for any regression, else 11 for any invalid cell, else 0.
"""

from __future__ import annotations

from loadtests.analysis.configs import is_counted
from loadtests.analysis.figures.diff import ConfigDiff, DiffGate, InvalidConfig, RunDiff
from loadtests.results.records import RunRecord


def regressed(c: ConfigDiff, fail_above_pct: float) -> bool:
    """B is slower than A with significance, by more than ``fail_above_pct`` percent of A's throughput."""
    s = c.rps
    if s is None or s.high is None or not s.high < 1.0:
        return False
    return (1.0 - s.ratio) * 100.0 > fail_above_pct


def _invalid_windows(run: RunRecord, name: str, config_id: str) -> list[str]:
    return [f"run {name}: {cell.id}: {cell.invalid_reason or 'marked invalid without a reason'}"
            for cell in run.cells
            if cell.config_id == config_id and not is_counted(cell) and cell.outcome != "skipped"]


def gate(d: RunDiff, fail_above_pct: float) -> DiffGate:
    """Judge every configuration of ``d`` against the threshold."""
    invalid = []
    for c in d.configs:
        reasons = _invalid_windows(d.a, "A", c.config_id) + _invalid_windows(d.b, "B", c.config_id)
        if reasons:
            invalid.append(InvalidConfig(c.config_id, tuple(reasons)))
    regressions = tuple(c for c in d.configs if regressed(c, fail_above_pct))
    return DiffGate(fail_above_pct, len(d.configs), regressions, tuple(invalid))
